"""The end of TLS connections (RFC 8446 §6.1: each side sends close_notify before it closes its write
side), with clients that check it as stock CPython does (stock_ssl.py): every data connection and the
control connection end with the server's close_notify, and a client that does not answer holds nothing
for long (the server closes after a short bound, and no reply waits for it)."""
import io
import os
import ftplib
import signal
import socket
import ssl

import pytest

from conftest import PASSWORDS
from helpers import read_reply, send, wait_for
from tls_helpers import client_context, make_tls_server, tls_login  # noqa: F401 (fixture)

DATA_UNANSWERED = "data connection closed without the client's close_notify"
CONTROL_UNANSWERED = "control connection closed without the client's close_notify"


def recv_until_close_notify(conn) -> bytes:
    """Reads a protected data connection to its end; b"" from an SSLSocket means the close_notify came
    (without it, stock CPython raises SSLEOFError)."""
    chunks = []
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_every_transfer_ends_with_both_close_notify(make_tls_server, mode):
    # ftplib unwrap()s each protected data connection after the transfer, before it reads the 226: the
    # server's close_notify must come without waiting for anything else, after uploads too.
    srv = make_tls_server()
    ftp = tls_login(srv, implicit=mode == "implicit")
    data = os.urandom(300_000)
    ftp.storbinary("STOR a.bin", io.BytesIO(data))
    ftp.storbinary("APPE a.bin", io.BytesIO(b"tail"))
    ftp.storlines("STOR t.txt", io.BytesIO(b"one\ntwo\n"))
    assert ftp.storbinary("STOU u", io.BytesIO(b"unique")).startswith("226")
    ftp.storbinary("STOR empty", io.BytesIO(b""))
    assert (srv.root() / "a.bin").read_bytes() == data + b"tail"
    assert (srv.root() / "u").read_bytes() == b"unique"
    out = io.BytesIO()
    ftp.retrbinary("RETR a.bin", out.write)
    assert out.getvalue() == data + b"tail"
    lines = []
    ftp.retrlines("RETR t.txt", lines.append)
    assert lines == ["one", "two"]
    listing = []
    ftp.retrlines("LIST", listing.append)
    assert any(line.endswith(" a.bin") for line in listing), listing
    assert {name for name, _ in ftp.mlsd()} == {"a.bin", "t.txt", "u", "empty"}
    assert sorted(ftp.nlst()) == ["a.bin", "empty", "t.txt", "u"]
    ftp.quit()
    assert DATA_UNANSWERED not in srv.log()


def test_refused_data_connection_ends_cleanly_before_its_522(make_tls_server):
    # A data connection refused after its handshake (no session reuse) ends with close_notify too: the
    # client reads an empty stream and then the 522 that says why, not a TLS error.
    srv = make_tls_server()
    ftp = tls_login(srv, cls=ftplib.FTP_TLS)
    with pytest.raises(ftplib.error_perm, match=r"^522 .*not resumed"):
        ftp.storbinary("STOR x", io.BytesIO(b"never stored"))
    assert not (srv.root() / "x").exists()
    ftp.voidcmd("NOOP")


def test_download_client_that_never_answers_is_closed_after_a_short_bound(make_tls_server):
    srv = make_tls_server()
    (srv.root() / "f.bin").write_bytes(b"x" * 100_000)
    ftp = tls_login(srv)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR f.bin")
    assert recv_until_close_notify(conn) == b"x" * 100_000
    # The client neither sends its close_notify nor closes. The 226 does not wait for it...
    assert ftp.voidresp().startswith("226")
    assert DATA_UNANSWERED not in srv.log()
    # ...and the server closes the connection on its own after its short wait.
    assert wait_for(lambda: DATA_UNANSWERED in srv.log())
    ftp.voidcmd("NOOP")
    conn.close()
    ftp.quit()


def test_upload_whose_client_reads_nothing_more_gets_its_226_at_once(make_tls_server):
    # The client sends its close_notify and reads neither the server's nor closes: the server answers
    # with its close_notify, closes, and replies.
    srv = make_tls_server()
    ftp = tls_login(srv)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR up.bin")
    conn.sendall(b"y" * 50_000)
    conn.setblocking(False)
    with pytest.raises(ssl.SSLWantReadError):
        conn.unwrap()  # sends our close_notify; the server's has not been read yet
    assert ftp.voidresp().startswith("226")
    assert (srv.root() / "up.bin").read_bytes() == b"y" * 50_000
    conn.setblocking(True)
    conn.settimeout(10)
    conn.unwrap()  # the server's close_notify is there (stock CPython: SSLEOFError if it is not)
    conn.close()
    ftp.quit()


def tls_control(srv, implicit=False):
    """A raw TLS control connection, logged in as alice: (SSLSocket, its reader)."""
    raw = socket.create_connection((srv.host, srv.implicit_port if implicit else srv.port), timeout=30)
    if not implicit:
        f = raw.makefile("rb")
        assert read_reply(f).startswith("220")
        assert send(raw, f, "AUTH TLS").startswith("234")
    s = client_context().wrap_socket(raw, server_hostname="localhost")
    f = s.makefile("rb")
    if implicit:
        assert read_reply(f).startswith("220")
    assert send(s, f, "USER alice").startswith("331")
    assert send(s, f, f"PASS {PASSWORDS['alice']}").startswith("230")
    return s, f


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_quit_ends_the_control_connection_with_close_notify(make_tls_server, mode):
    srv = make_tls_server()
    s, f = tls_control(srv, implicit=mode == "implicit")
    assert send(s, f, "QUIT").startswith("221")
    s.unwrap()  # stock CPython: SSLEOFError if the server closed without close_notify
    s.close()
    assert wait_for(lambda: "disconnected" in srv.log())
    assert CONTROL_UNANSWERED not in srv.log()


def test_idle_timeout_421_ends_with_close_notify(make_tls_server):
    srv = make_tls_server(server='idle_timeout = "1s"')
    s, f = tls_control(srv)
    assert read_reply(f).startswith("421 Idle timeout")
    s.unwrap()
    s.close()


def test_server_stop_421_ends_with_close_notify(make_tls_server):
    srv = make_tls_server()
    s, f = tls_control(srv, implicit=True)
    srv.proc.send_signal(signal.SIGTERM)
    assert read_reply(f).startswith("421 Server shutting down")
    s.unwrap()
    s.close()
    srv.proc.wait(timeout=30)


def test_control_client_that_never_answers_is_closed_after_a_short_bound(make_tls_server):
    srv = make_tls_server()
    s, f = tls_control(srv)
    assert send(s, f, "QUIT").startswith("221")
    # No close_notify and no close from the client: the session still ends.
    assert wait_for(lambda: CONTROL_UNANSWERED in srv.log() and "disconnected" in srv.log())
    s.close()


def test_client_that_ends_the_control_connection_first_gets_close_notify_in_answer(make_tls_server):
    srv = make_tls_server()
    s, f = tls_control(srv)
    s.unwrap()  # our close_notify first, no QUIT; then the server's (stock CPython: SSLEOFError without)
    s.close()
    assert wait_for(lambda: "disconnected" in srv.log())
    assert CONTROL_UNANSWERED not in srv.log()
