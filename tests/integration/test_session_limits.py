"""Session limits: server.max_sessions_per_ip (421 before the greeting and before any TLS handshake,
counted by the real client address, also the one a PROXY header names), server.max_sessions_per_user
and the users file's max_sessions (421 at login, then close). Loopback sources 127.0.0.2/.3 stand for
other clients."""
import socket
import ssl
import time

import pytest

from helpers import Control
from tls_helpers import client_context, make_cert, tls_config


def greeting(c: Control) -> str:
    return c.reply(timeout=10)


def wait_for_220(make, deadline_s=10):
    """A slot is freed once the server has seen the close: retry until the greeting is a 220."""
    deadline = time.monotonic() + deadline_s
    while True:
        c = make()
        r = greeting(c)
        if r.startswith("220"):
            return c
        c.close()
        assert time.monotonic() < deadline, f"the slot was never freed: {r!r}"
        time.sleep(0.05)


def test_max_sessions_per_ip(make_server):
    srv = make_server(server="max_sessions_per_ip = 2")
    held = [Control.to(srv, source="127.0.0.2"), Control.to(srv, source="127.0.0.2")]
    try:
        over = Control.to(srv, greet=False, source="127.0.0.2")
        r = greeting(over)
        assert r == "421 Too many connections from your address; try again later.\r\n", r
        assert over.closed_within(5)
        over.close()
        # Another address is not affected; the held sessions go on.
        other = Control.to(srv, source="127.0.0.3").login("bob")
        held.append(other)
        for c in held:
            c.expect("NOOP", "200")
        held.pop(0).close()
        held.append(wait_for_220(lambda: Control.to(srv, greet=False, source="127.0.0.2")))
        held[-1].login()
    finally:
        for c in held:
            c.close()
    log = srv.log()
    assert "connection refused: client=127.0.0.2 reason=server.max_sessions_per_ip (2) reached" in log
    assert "client=127.0.0.3 reason" not in log


def test_max_sessions_per_ip_exact_under_a_burst(make_server):
    srv = make_server(server="max_sessions_per_ip = 3")
    conns = [Control.to(srv, greet=False, source="127.0.0.2") for _ in range(20)]
    try:
        greetings = [greeting(c)[:3] for c in conns]
        assert greetings.count("220") == 3, greetings
        assert greetings.count("421") == 17, greetings
    finally:
        for c in conns:
            c.close()
    # Every refused or closed session gave its slot back: three new ones fit again, a fourth does not.
    again = [wait_for_220(lambda: Control.to(srv, greet=False, source="127.0.0.2")) for _ in range(3)]
    try:
        extra = Control.to(srv, greet=False, source="127.0.0.2")
        assert greeting(extra).startswith("421")
        extra.close()
    finally:
        for c in again:
            c.close()


def test_max_sessions_per_ip_before_implicit_tls(make_server, tmp_path):
    cert, key = make_cert(tmp_path)
    config = tls_config(cert, key).replace('[server]\n', '[server]\nmax_sessions_per_ip = 1\n')
    srv = make_server(config=config)
    implicit = srv.ports[1]
    first = client_context().wrap_socket(socket.create_connection((srv.host, implicit), timeout=10))
    try:
        assert first.recv(100).startswith(b"220")
        # The second gets a clear-text 421 instead of a TLS handshake, and the connection is closed.
        s = socket.create_connection((srv.host, implicit), timeout=10)
        data = b""
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        s.close()
        assert data == b"421 Too many connections from your address; try again later.\r\n", data
    finally:
        first.close()
    assert "TLS handshake" not in srv.log().split("max_sessions_per_ip (1) reached")[1]


def proxy_v1(client_ip, port=40000):
    return f"PROXY TCP4 {client_ip} 127.0.0.1 {port} 21\r\n".encode()


def test_per_ip_limit_counts_the_proxied_client(make_server):
    srv = make_server(
        server="max_sessions_per_ip = 1\nmax_sessions = 3",
        listeners='[[listeners]]\naddress = "127.0.0.1:0"\nproxy_protocol = true\n',
        extra='[proxy_protocol]\ntrusted = ["127.0.0.0/8"]\n')
    # All connections come from the proxy (127.0.0.1); the limit applies to the clients it names.
    a = Control.to(srv, greet=False, preamble=proxy_v1("203.0.113.7"))
    b = Control.to(srv, greet=False, preamble=proxy_v1("203.0.113.8"))
    try:
        assert greeting(a).startswith("220")
        assert greeting(b).startswith("220")
        again = Control.to(srv, greet=False, preamble=proxy_v1("203.0.113.7", 40001))
        assert greeting(again).startswith("421 Too many connections from your address")
        assert again.closed_within(5)
        again.close()
        a.login()
        b.login("bob")
        # server.max_sessions through the proxy: the log names the real client, not the proxy.
        c = wait_for_220(lambda: Control.to(srv, greet=False, preamble=proxy_v1("198.51.100.9")))
        d = Control.to(srv, greet=False, preamble=proxy_v1("198.51.100.10"))
        assert greeting(d).startswith("421 Too many connections;")
        d.close()
        c.close()
    finally:
        a.close()
        b.close()
    log = srv.log()
    assert "connection refused: client=203.0.113.7 reason=server.max_sessions_per_ip (1) reached" in log
    assert "client=203.0.113.8 reason" not in log
    assert "connection refused: client=198.51.100.10 reason=server.max_sessions (3) reached" in log


def test_max_sessions_per_user(make_server):
    srv = make_server(server="max_sessions_per_user = 1")
    first = Control.to(srv).login()
    try:
        second = Control.to(srv)
        second.expect("USER alice", "331")
        r = second.cmd(f"PASS alice-secret")
        assert r == "421 Too many sessions for this user; try again later.\r\n", r
        assert second.closed_within(5)
        second.close()
        with Control.to(srv) as bob:  # another user is not affected
            bob.login("bob")
            bob.expect("PWD", "257")
        first.expect("PWD", "257")
        # REIN logs out: the slot is free for another session of alice.
        first.expect("REIN", "220")
        with Control.to(srv) as third:
            third.login()
            first.expect("USER alice", "331")
            assert first.cmd("PASS alice-secret").startswith("421")
    finally:
        first.close()
    # After QUIT the slot is free again.
    deadline = time.monotonic() + 10
    while True:
        c = Control.to(srv)
        c.expect("USER alice", "331")
        r = c.cmd("PASS alice-secret")
        c.close()
        if r.startswith("230"):
            break
        assert time.monotonic() < deadline, r
        time.sleep(0.05)
    assert 'reason=max_sessions per user (1) reached' in srv.log()


def test_users_file_max_sessions_overrides_the_default(make_server):
    srv = make_server(server="max_sessions_per_user = 1", user_options={"alice": "max_sessions = 2"})
    sessions = [Control.to(srv).login(), Control.to(srv).login()]
    try:
        third = Control.to(srv)
        third.expect("USER alice", "331")
        assert third.cmd("PASS alice-secret").startswith("421")
        third.close()
        with Control.to(srv) as b1:
            b1.login("bob")
            with Control.to(srv) as b2:  # bob keeps the server-wide limit of 1
                b2.expect("USER bob", "331")
                assert b2.cmd("PASS bob-secret").startswith("421")
    finally:
        for c in sessions:
            c.close()
