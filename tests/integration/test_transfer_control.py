"""The control connection during a transfer, end to end: ABOR (426 then 226) in the middle of a 1 GiB
RETR with the Synch as TCP urgent data and as ftplib sends it; a NOOP pipelined behind a refused PROT P
upload answers after its 522; a closed control connection ends the transfer. The rules themselves (ABOR
without a transfer or while the data connection is awaited, during STOR; STAT during RETR and STOR; NOOP
and every other command answered after the transfer's final reply, in order; QUIT letting the transfer
finish) are tested on the session: tests/session/transfer_control_test.cpp."""
import io
import re
import socket
import ssl

import pytest

from helpers import Control, login, recv_all, retr_bytes, wait_for
from tls_helpers import client_context, make_tls_server  # noqa: F401 (a fixture)

GiB = 1 << 30
TELNET_IP = b"\xff\xf4"
TELNET_DM = b"\xff\xf2"


@pytest.fixture
def big(server):
    path = server.root() / "big.bin"
    with open(path, "wb") as f:
        f.truncate(GiB)  # sparse: created at once, read back as zeros
    (server.root() / "small.txt").write_bytes(b"still usable\n")
    return path


def start_retr(ctl: Control, path="big.bin", first=1 << 20):
    """RETR over PASV; reads `first` bytes, then leaves the data socket unread (the server blocks)."""
    data = ctl.pasv()
    r = ctl.expect(f"RETR {path}", "150")
    got = 0
    while got < first:
        got += len(data.recv(min(65536, first - got)))
    return data, r


def test_abor_in_the_middle_of_1gib_retr(server, big):
    with Control.to(server) as ctl:
        ctl.login()
        data, opening = start_retr(ctl)
        assert f"({GiB} bytes)" in opening
        # RFC 959 4.1.3: Telnet IP, then Synch (IAC DM as urgent data), then ABOR.
        ctl.send(TELNET_IP + b"\xff")
        ctl.sock.send(b"\xf2", socket.MSG_OOB)
        ctl.send(b"ABOR\r\n")
        first, second = ctl.reply(), ctl.reply()
        assert first.startswith("426 "), first
        assert second.startswith("226 "), second
        assert ctl.silent_for(0.3), "exactly two replies to ABOR"
        rest = recv_all(data, timeout=10)  # the server closed the data connection
        assert len(rest) < GiB - (1 << 20)
        # The session goes on.
        ctl.expect("NOOP", "200")
        assert retr_bytes(ctl, "small.txt") == b"still usable\n"
    log = server.log()
    assert re.search(r"transfer RETR /big\.bin bytes=\d+ duration=\d+ms result=426", log), log[-2000:]


def test_abor_sent_like_ftplib(server, big):
    ftp = login(server)
    conn = ftp.transfercmd("RETR big.bin")
    assert len(conn.recv(65536)) > 0
    resp = ftp.abort()  # "ABOR" with the last byte urgent
    assert resp.startswith("426"), resp
    assert ftp.getresp().startswith("226")
    conn.close()
    assert ftp.sendcmd("NOOP").startswith("200")
    out = io.BytesIO()
    ftp.retrbinary("RETR small.txt", out.write)
    assert out.getvalue() == b"still usable\n"
    ftp.quit()


def tls_control(srv) -> Control:
    """A Control over explicit FTPS, logged in as alice with PBSZ 0 and PROT P."""
    ctl = Control.to(srv)
    ctl.expect("AUTH TLS", "234")
    ctx = client_context()
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    ctl.sock = ctx.wrap_socket(ctl.sock, server_hostname="localhost")
    ctl.login()
    ctl.expect("PBSZ 0", "200")
    ctl.expect("PROT P", "200")
    return ctl


def test_refused_protected_upload_answers_before_a_pipelined_noop(make_tls_server):
    """A PROT P data connection that does not resume the control connection's TLS session is refused
    with 522 after the 150 (tls.session_reuse = "require"): a NOOP sent right after the STOR gets its
    200 after that 522, every time."""
    srv = make_tls_server()
    with tls_control(srv) as ctl:
        for _ in range(3):
            data = ctl.pasv()
            ctl.send(b"STOR up.bin\r\nNOOP\r\n")
            assert ctl.reply().startswith("150")
            ctl.silent_for(1.0)  # a server that answers the NOOP early does it now
            ctx = client_context()  # a fresh context: a full handshake, no resumption
            ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
            try:
                with ctx.wrap_socket(data, server_hostname="localhost") as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass
            data.close()
            first, second = ctl.reply(), ctl.reply()
            assert (first[:3], second[:3]) == ("522", "200"), (first, second)


def test_closing_the_control_connection_ends_the_transfer(server, big):
    ctl = Control.to(server)
    ctl.login()
    data, _ = start_retr(ctl)
    ctl.close()
    # the session logs the aborted transfer, then its end: wait for both (ASan on a busy machine is slow)
    assert wait_for(lambda: "result=426" in server.log() and "disconnected" in server.log()), \
        server.log()[-2000:]
    recv_all(data, timeout=10)  # the data connection is closed too
