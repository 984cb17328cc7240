"""Real FTPS clients against ftpsd with tls.session_reuse = "require" (the default): curl (OpenSSL)
and lftp (GnuTLS), explicit and implicit, upload, listing and download with byte comparison."""
import os
import subprocess

from conftest import PASSWORDS
from tls_helpers import make_tls_server  # noqa: F401 (fixture)

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
