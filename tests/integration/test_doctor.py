"""`ftpsd doctor` on loopback: with a host name in the URL it sends HOST right after the greeting (RFC
7151) and judges the reply, sends the name by SNI, and checks it against the certificate's names. A
small scripted server stands in for servers that answer HOST otherwise than ftpsd does."""
import os
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import BIN, PASSWORDS
from helpers import run
from tls_helpers import make_tls_server  # noqa: F401 (fixture)


def doctor(url, *extra):
    env = dict(os.environ, FTPSD_PASSWORD=PASSWORDS["alice"])
    p = run([BIN, "doctor", url, "--ports", "1", *extra], check=False, timeout=120, env=env)
    return p.returncode, p.stdout.decode()


def test_doctor_sends_host_and_checks_the_certificate_names(make_tls_server):
    srv = make_tls_server()  # its certificate is for localhost and 127.0.0.1
    code, out = doctor(f"ftps://alice@localhost:{srv.port}")
    assert code == 0, out
    lines = out.splitlines()
    greeting = next(i for i, line in enumerate(lines) if line.startswith("[PASS] greeting"))
    assert lines[greeting + 1] == "[PASS] HOST localhost: 220 ftpsd ready.", out  # the banner (no domains)
    assert lines[greeting + 2].startswith("[PASS] TLS handshake"), out  # HOST before AUTH TLS
    assert "[WARN] certificate: self-signed certificate" in out, out  # the names match: only the trust warns
    assert "All checks passed." in out, out


def test_doctor_sends_no_host_for_an_ip_address_or_with_no_host(make_tls_server):
    srv = make_tls_server()
    for url, extra in ((f"ftps://alice@127.0.0.1:{srv.port}", ()), (f"ftps://alice@localhost:{srv.port}",
                                                                   ("--no-host",))):
        code, out = doctor(url, *extra)
        assert code == 0, out
        assert "HOST" not in out, out
        assert "[WARN] certificate: self-signed certificate" in out, out


def test_doctor_fails_a_certificate_for_another_name(make_server, tmp_path):
    cert, key = tmp_path / "other.pem", tmp_path / "other.key"
    run([BIN, "cert", "self-signed", "--host", "ftp.other.test", "--host", "*.other.test", "--host",
         "127.0.0.1", "--cert", str(cert), "--key", str(key)])
    srv = make_server(extra=f'[tls]\ncertificate = "{cert}"\nprivate_key = "{key}"\n',
                      listeners='[[listeners]]\naddress = "127.0.0.1:0"\ntls = "explicit"\n')
    code, out = doctor(f"ftps://alice@localhost:{srv.port}")
    assert code == 1, out
    assert "[FAIL] certificate: the server's certificate is for ftp.other.test, *.other.test, not localhost\n" \
           in out, out
    assert "fix: clients connecting to localhost will refuse it" in out, out
    assert "[PASS] login: as alice" in out, out  # the other checks still run
    assert "1 check(s) failed." in out, out


class ScriptedServer:
    """One FTP session on loopback: the greeting, then `host_reply` to HOST, AUTH TLS with `cert` (the SNI
    name is recorded), 530 to USER, and the end. `commands` holds what the client sent."""

    def __init__(self, host_reply, cert=None):
        self.host_reply, self.cert = host_reply, cert
        self.commands, self.sni = [], []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(60)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        conn.settimeout(60)
        f = conn.makefile("rwb", buffering=0)
        f.write(b"220 Scripted.\r\n")
        while line := f.readline():
            cmd = line.decode().strip()
            self.commands.append(cmd)
            verb = cmd.split(" ")[0].upper()
            if verb == "HOST":
                f.write(self.host_reply.encode() + b"\r\n")
            elif verb == "AUTH" and self.cert:
                f.write(b"234 Go ahead.\r\n")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
                ctx.load_cert_chain(*self.cert)
                ctx.sni_callback = lambda s, name, c: self.sni.append(name)
                conn = ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rwb", buffering=0)
            elif verb == "USER":
                f.write(b"530 Not here.\r\n")
                break
            else:
                f.write(b"502 No.\r\n")
        conn.close()

    def close(self):
        self.thread.join(timeout=60)
        self.sock.close()


@pytest.mark.parametrize("reply,verdict,detail", [
    ("502 Command not implemented.", "WARN",
     "the server does not know HOST: 502 Command not implemented."),
    ("500 Unknown command.", "WARN", "the server does not know HOST: 500 Unknown command."),
    ("504 Unknown host.", "FAIL", "the server serves no domain named localhost: 504 Unknown host."),
    ("220 Acme FTP ready.", "PASS", "220 Acme FTP ready."),
])
def test_doctor_judges_the_reply_to_host(reply, verdict, detail):
    srv = ScriptedServer(reply)
    code, out = doctor(f"ftp://alice@localhost:{srv.port}")
    srv.close()
    assert srv.commands[0] == "HOST localhost", srv.commands  # right after the greeting
    assert f"[{verdict}] HOST localhost: {detail}\n" in out, out
    if verdict == "WARN":
        assert "fix: this server cannot tell domains apart by name" in out, out
    if verdict == "FAIL":
        assert 'fix: add "localhost" to the hosts of its [[domains]] entry' in out, out
    assert "[FAIL] login" in out and code == 1, out  # the scripted server refuses every login


def test_doctor_sends_the_host_name_by_sni(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    run([BIN, "cert", "self-signed", "--host", "localhost", "--cert", str(cert), "--key", str(key)])
    srv = ScriptedServer("220 Acme FTP ready.", cert=(str(cert), str(key)))
    code, out = doctor(f"ftps://alice@localhost:{srv.port}")
    srv.close()
    assert srv.commands[:2] == ["HOST localhost", "AUTH TLS"], srv.commands
    assert srv.sni == ["localhost"], (srv.sni, out)
    assert "[WARN] certificate: self-signed certificate" in out, out
