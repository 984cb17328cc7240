"""CCC (RFC 4217 §6) with the clients that use it: the TLS closure in both orders (curl's passive CCC
mode waits for the server's close_notify and sends none, its active mode and lftp send theirs first),
then a listing and a download over protected data connections, under tls.session_reuse = "require"."""
import ftplib
import socket
import ssl

import pytest

from conftest import PASSWORDS
from helpers import read_reply, run, send
from tls_helpers import client_context, make_tls_server  # noqa: F401 (fixture)

PW = PASSWORDS["alice"]
CCC_SERVER = "allow_ccc = true"  # tls.session_reuse stays "require", the default


@pytest.fixture
def ccc_server(make_tls_server):
    srv = make_tls_server(tls_extra=CCC_SERVER)
    (srv.root() / "d").mkdir()
    (srv.root() / "d" / "f.txt").write_bytes(b"after CCC\n" * 1000)
    return srv


@pytest.mark.parametrize("ccc_mode", ["passive", "active"])
def test_curl_ccc_then_listing_and_download(ccc_server, tmp_path, ccc_mode):
    srv = ccc_server
    common = ["curl", "-sS", "--ssl-reqd", "-k", "--ftp-ssl-ccc", "--ftp-ssl-ccc-mode", ccc_mode,
              "-u", f"alice:{PW}"]
    listing = run([*common, f"ftp://127.0.0.1:{srv.port}/d/"], timeout=60).stdout
    assert b" f.txt" in listing, listing
    run([*common, "-o", str(tmp_path / "f.txt"), f"ftp://127.0.0.1:{srv.port}/d/f.txt"], timeout=60)
    assert (tmp_path / "f.txt").read_bytes() == b"after CCC\n" * 1000
    log = srv.log()
    assert log.count("control connection back to clear text (CCC)") == 2, log
    assert "CCC: TLS shutdown failed" not in log
    assert "refused" not in log
    # In its active mode curl ends the TLS session properly and resumes it on its data connections.
    # In the passive mode it frees the session without its own close_notify, which makes OpenSSL
    # mark it not resumable: full handshakes, accepted from the client's own address.
    resumed = "did not resume the TLS session the control connection had before CCC" not in log
    assert resumed == (ccc_mode == "active"), log


def test_lftp_ccc_then_listing_and_download(ccc_server, tmp_path):
    srv = ccc_server
    out = run(["lftp", "-c", "set ssl:verify-certificate no; set ftp:ssl-force yes; set ftp:ssl-protect-data yes; "
                             "set ftp:ssl-use-ccc yes; set net:max-retries 1; set net:timeout 10; "
                             f"open -u alice,{PW} -p {srv.port} 127.0.0.1; cls -1 d; "
                             f"get d/f.txt -o {tmp_path / 'f.txt'}"], timeout=60).stdout
    assert out.strip() == b"d/f.txt"
    assert (tmp_path / "f.txt").read_bytes() == b"after CCC\n" * 1000
    log = srv.log()
    assert "control connection back to clear text (CCC)" in log
    # lftp drops the TLS session with the control connection's TLS: its data connections cannot
    # resume it, and are accepted because they come from the client's own address.
    assert "did not resume the TLS session the control connection had before CCC; accepted" in log
    assert "data connection refused" not in log


def test_after_ccc_a_data_connection_from_another_address_is_still_refused(make_tls_server):
    # passive.require_same_peer = false lets 127.0.0.2 reach the data port; without the control
    # connection's TLS session it gets nothing, CCC or not.
    srv = make_tls_server(tls_extra=CCC_SERVER, extra="[passive]\nrequire_same_peer = false\n")
    (srv.root() / "secret").write_bytes(b"top secret")
    raw = socket.create_connection((srv.host, srv.port), timeout=30)
    f = raw.makefile("rb")
    assert read_reply(f).startswith("220")
    assert send(raw, f, "AUTH TLS").startswith("234")
    t = client_context().wrap_socket(raw, server_hostname="localhost")
    tf = t.makefile("rb")
    for command, code in (("USER alice", "331"), (f"PASS {PW}", "230"), ("PBSZ 0", "200"), ("PROT P", "200"),
                          ("CCC", "200")):
        assert send(t, tf, command).startswith(code), command
    plain = t.unwrap()  # both close_notify, then clear text
    pf = plain.makefile("rb")
    host, port = ftplib.parse227(send(plain, pf, "PASV"))
    thief = socket.create_connection((host, port), timeout=30, source_address=("127.0.0.2", 0))
    assert send(plain, pf, "RETR secret").startswith("150")
    got = b""
    try:
        with client_context().wrap_socket(thief, server_hostname="localhost") as s:
            got = s.recv(100)
    except (ssl.SSLError, OSError):
        pass
    assert b"top secret" not in got
    assert read_reply(pf).startswith("522 Data connection refused: TLS session of the control connection not resumed")
    assert send(plain, pf, "NOOP").startswith("200")
