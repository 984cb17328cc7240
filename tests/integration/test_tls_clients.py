"""Real FTPS clients against ftpsd with tls.session_reuse = "require" (the default): curl (OpenSSL),
lftp and wget (GnuTLS), explicit and implicit, upload, listing and download with byte comparison; and
aioftp (asyncio, which cannot resume TLS sessions: its user has tls_session_reuse = "off")."""
import asyncio
import functools
import os
import subprocess

import aioftp
import pytest

from conftest import PASSWORDS
from tls_helpers import client_context, make_tls_server  # noqa: F401 (fixture)

PW = PASSWORDS["alice"]


def run(cmd, timeout=60):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def test_curl_explicit_and_implicit(make_tls_server, tmp_path):
    srv = make_tls_server()
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024 + 3))
    run(["curl", "-sS", "--ssl-reqd", "-k", "-u", f"alice:{PW}", "-T", str(src), f"ftp://127.0.0.1:{srv.port}/up.bin"])
    assert (srv.root() / "up.bin").read_bytes() == src.read_bytes()
    listing = run(["curl", "-sS", "--ssl-reqd", "-k", "-u", f"alice:{PW}", f"ftp://127.0.0.1:{srv.port}/"])
    assert b" up.bin" in listing
    run(["curl", "-sS", "-k", "-u", f"alice:{PW}", "-o", str(tmp_path / "down.bin"),
         f"ftps://127.0.0.1:{srv.implicit_port}/up.bin"])
    assert (tmp_path / "down.bin").read_bytes() == src.read_bytes()
    assert "not resumed" not in srv.log()


def test_lftp_active_mode_prot_p(make_tls_server, tmp_path):
    # Active mode over TLS: the server connects, then takes the server role in the TLS handshake.
    # (Debian 12's curl 7.88 cannot do active mode over TLS: it fails on its side after accepting.)
    srv = make_tls_server()
    (srv.root() / "f.txt").write_bytes(b"active and private\n")
    run(["lftp", "-c", "set ssl:verify-certificate no; set ftp:ssl-force yes; set ftp:ssl-protect-data yes; "
                       "set ftp:passive-mode no; set net:max-retries 1; "
                       f"open -u alice,{PW} -p {srv.port} 127.0.0.1; get f.txt -o {tmp_path / 'f.txt'}"])
    assert (tmp_path / "f.txt").read_bytes() == b"active and private\n"
    assert "EPRT" in srv.log() or "PORT" in srv.log()
    assert "not resumed" not in srv.log()


def test_lftp_explicit_and_implicit(make_tls_server, tmp_path):
    srv = make_tls_server()
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(1024 * 1024 + 5))
    common = "set ssl:verify-certificate no; set ftp:ssl-force yes; set ftp:ssl-protect-data yes; set net:max-retries 1;"
    run(["lftp", "-c", f"{common} open -u alice,{PW} -p {srv.port} 127.0.0.1; put {src} -o lftp.bin; "
                       f"mkdir d; mv lftp.bin d/moved.bin; get d/moved.bin -o {tmp_path / 'back.bin'}"])
    assert (srv.root() / "d" / "moved.bin").read_bytes() == src.read_bytes()
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
    out = run(["lftp", "-c", f"set ssl:verify-certificate no; set net:max-retries 1; "
                             f"open -u alice,{PW} ftps://127.0.0.1:{srv.implicit_port}; cls -1 d"])
    assert out.strip() == b"d/moved.bin"
    assert "not resumed" not in srv.log()


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_wget_download(make_tls_server, tmp_path, mode):
    srv = make_tls_server()
    data = os.urandom(1024 * 1024 + 7)
    (srv.root() / "w.bin").write_bytes(data)
    port, extra = (srv.port, []) if mode == "explicit" else (srv.implicit_port, ["--ftps-implicit"])
    run(["wget", "-q", "--no-check-certificate", *extra, "-O", str(tmp_path / "w.bin"),
         f"ftps://alice:{PW}@127.0.0.1:{port}/w.bin"])
    assert (tmp_path / "w.bin").read_bytes() == data
    assert "transfer RETR /w.bin bytes=1048583" in srv.log()
    assert "not resumed" not in srv.log()


async def aioftp_round_trip(srv, mode, data):
    """Upload, listing and download with aioftp; returns (names listed, bytes downloaded). aioftp
    finishes the TLS handshake of a data connection before it sends the transfer command."""
    ctx = client_context()
    if mode == "implicit":
        client = aioftp.Client(ssl=ctx, socket_timeout=30)
        await client.connect(srv.host, srv.implicit_port)
        await client.login("alice", PW)
    else:
        # aioftp 0.21 (Debian 12) has no AUTH TLS of its own: the control stream is upgraded here, and
        # its data connections are opened with TLS as in implicit mode.
        client = aioftp.Client(socket_timeout=30)
        await client.connect(srv.host, srv.port)
        await client.command("AUTH TLS", "234")
        await client.stream.writer.start_tls(ctx, server_hostname="localhost")
        client._open_connection = functools.partial(asyncio.open_connection, ssl=ctx)
        await client.login("alice", PW)
        await client.command("PBSZ 0", "200")
        await client.command("PROT P", "200")
    async with client.upload_stream("a.bin") as stream:
        await stream.write(data)
    names = [path.name for path, _ in await client.list()]
    async with client.download_stream("a.bin") as stream:
        got = b"".join([block async for block in stream.iter_by_block()])
    await client.quit()
    return names, got


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_aioftp_upload_list_download(make_tls_server, mode):
    srv = make_tls_server(user_options={"alice": 'tls_session_reuse = "off"'})
    data = os.urandom(512 * 1024 + 3)
    names, got = asyncio.run(asyncio.wait_for(aioftp_round_trip(srv, mode, data), 60))
    assert names == ["a.bin"]
    assert got == data
    assert (srv.root() / "a.bin").read_bytes() == data
    assert "TLS handshake failed" not in srv.log()
