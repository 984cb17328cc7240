"""Timeouts against slow and stalled clients: a TLS handshake that stops half way is dropped at
tls.handshake_timeout (AUTH TLS and implicit); a data connection nobody reads ends with 426 at
server.data_timeout while other sessions are served; active.connect_timeout ends with 425; a client
that stops reading its replies is disconnected after server.data_timeout. Each slow client holds only
its own session. A command line dribbled one byte at a time never extends server.login_timeout:
tests/session/watchdog_test.cpp (on a manual clock)."""
import os
import select
import socket
import time

from helpers import Control, recv_all, retr_bytes, wait_for
from tls_helpers import make_cert, tls_config


def test_tls_handshake_stalled_after_auth_tls(make_server, tmp_path):
    cert, key = make_cert(tmp_path)
    srv = make_server(config=tls_config(cert, key, tls_extra='handshake_timeout = "1s"'))
    with Control.to(srv) as c:
        c.expect("AUTH TLS", "234")
        # The first bytes of a ClientHello record header, then nothing.
        c.send(b"\x16\x03\x01\x02\x00\x01")
        start = time.monotonic()
        assert c.closed_within(8)
        assert 0.9 <= time.monotonic() - start < 8
    with Control.to(srv) as other:
        other.expect("NOOP", "200")
    assert "TLS handshake on the control connection failed: timeout" in srv.log()


def test_tls_handshake_stalled_on_implicit_listener(make_server, tmp_path):
    cert, key = make_cert(tmp_path)
    srv = make_server(config=tls_config(cert, key, tls_extra='handshake_timeout = "1s"'))
    s = socket.create_connection((srv.host, srv.ports[1]), timeout=10)
    start = time.monotonic()
    s.sendall(b"\x16\x03\x01")  # and nothing more
    assert s.recv(100) == b""  # closed without a greeting
    assert 0.9 <= time.monotonic() - start < 8
    s.close()


def test_unread_download_aborted_while_others_are_served(make_server):
    srv = make_server(server='data_timeout = "2s"')
    (srv.root() / "big.bin").write_bytes(os.urandom(32 << 20))
    (srv.root() / "small.bin").write_bytes(b"small file")
    with Control.to(srv) as stuck:
        stuck.login()
        data = stuck.pasv()
        start = time.monotonic()
        stuck.expect("RETR big.bin", "150")  # never read
        with Control.to(srv) as other:
            other.login("alice")
            for _ in range(3):
                assert retr_bytes(other, "small.bin") == b"small file"
            assert time.monotonic() - start < 1.8, "the others were served before the stalled one ended"
        r = stuck.reply(timeout=10)
        assert r.startswith("426"), r
        assert 1.8 <= time.monotonic() - start < 8
        data.close()
        stuck.expect("NOOP", "200")


def what_the_server_did(srv) -> str:
    """The server's log without the command lines of a flood (thousands of them): what it decided, and
    how many commands it had read."""
    log = srv.log()
    lines = [line for line in log.splitlines() if "<- " not in line]
    return f"{log.count('<- ')} command lines logged; the other lines:\n" + "\n".join(lines[-40:])


def test_client_that_stops_reading_its_replies_is_disconnected(make_server):
    """A download nobody reads keeps the session busy (never idle), and a flood of STATs (answered during
    a transfer) whose replies are never read blocks the server's writes, the 426 of the stalled download
    too: without a bound the session would stay for ever. A reply waiting server.data_timeout ends it."""
    srv = make_server(server='data_timeout = "2s"\nidle_timeout = "3s"')
    (srv.root() / "big.bin").write_bytes(os.urandom(32 << 20))
    (srv.root() / "small.bin").write_bytes(b"small file")
    deaf = Control.to(srv).login()
    try:
        data = deaf.pasv()
        data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        deaf.expect("RETR big.bin", "150")  # never read
        deaf.flood_without_reading(b"STAT")
        assert wait_for(lambda: "has not read its replies for 2s: closing" in srv.log(), timeout=20), \
            what_the_server_did(srv)
        assert wait_for(lambda: srv.log().count("disconnected") == 1, timeout=10), what_the_server_did(srv)
        assert "result=426" in srv.log(), what_the_server_did(srv)
        data.close()
        with Control.to(srv) as other:  # the others were never affected
            other.login()
            assert retr_bytes(other, "small.bin") == b"small file"
    finally:
        deaf.close()


def test_a_client_that_reads_no_reply_is_found_out_after_a_bounded_number_of_them(make_server):
    """A client that pipelines commands and reads none of the replies: the kernel takes only a bounded
    amount of replies (the control connection's send buffer) before a write waits and data_timeout runs.
    Left to autotuning, it took about 4 MiB, 300,000 NOOP replies, which a slow build needs tens of
    seconds to produce before the 2 s even start."""
    srv = make_server(server='data_timeout = "2s"\nidle_timeout = "3s"')
    deaf = Control.to(srv).login()
    try:
        deaf.flood_without_reading()
        answered = lambda: srv.log().count("<- NOOP")  # noqa: E731
        # Ends at the disconnect, or as soon as the server has answered more than the bound.
        assert wait_for(lambda: "disconnected" in srv.log() or answered() > 60_000, timeout=60), \
            what_the_server_did(srv)
        assert answered() <= 60_000, what_the_server_did(srv)
        assert "has not read its replies for 2s: closing" in srv.log(), what_the_server_did(srv)
    finally:
        deaf.close()


def test_active_connect_timeout_425(make_server):
    srv = make_server(extra='[active]\nconnect_timeout = "1s"\n')
    (srv.root() / "f.txt").write_bytes(b"x")
    # A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        # The queue is full once the first filler is connected; the others' SYNs are dropped.
        _, connected, _ = select.select([], fillers, [], 10)
        assert connected, "no connection reached the accept queue"
        with Control.to(srv) as c:
            c.login()
            c.expect(f"PORT 127,0,0,1,{port >> 8},{port & 0xff}", "200")
            start = time.monotonic()
            r = c.cmd("RETR f.txt")
            if r.startswith("150"):
                r = c.reply(timeout=10)
            assert r.startswith("425"), r
            assert 0.9 <= time.monotonic() - start < 8
            c.expect("NOOP", "200")
    finally:
        for f in fillers:
            f.close()
        full.close()
    assert "did not answer before active.connect_timeout" in srv.log()
