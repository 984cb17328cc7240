// basic-ftp (npm, pinned in package.json / package-lock.json) against ftpsd, driven by
// tests/interop/test_node.py:
//   node client.js explicit|implicit PORT USER PASSWORD LOCAL REMOTE BACK
// Logs in over TLS (basic-ftp sends PBSZ 0 and PROT P itself), uploads LOCAL as REMOTE, lists the
// current folder, downloads REMOTE into BACK. Prints one JSON line {"names": [...], "tls": "..."};
// on an error prints the error (with the server's reply) and exits with 2.
"use strict";
const ftp = require("basic-ftp");

async function main() {
  const [mode, port, user, password, local, remote, back] = process.argv.slice(2);
  const client = new ftp.Client(30000);
  try {
    await client.access({
      host: "127.0.0.1",
      port: Number(port),
      user,
      password,
      secure: mode === "implicit" ? "implicit" : true,
      secureOptions: { rejectUnauthorized: false }, // self-signed test certificate
    });
    await client.uploadFrom(local, remote);
    const names = (await client.list()).map((f) => f.name).sort();
    await client.downloadTo(back, remote);
    console.log(JSON.stringify({ names, tls: client.ftp.socket.getProtocol() }));
  } catch (err) {
    console.log(`failed: ${err.message}`);
    process.exitCode = 2;
  } finally {
    client.close();
  }
}

main();
