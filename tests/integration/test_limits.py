"""Limits and robustness: 200 concurrent sessions, server.max_sessions (421), idle and login timeouts
(421) end to end, and stalled transfers (426). The rules of each timeout (what moves it, what does not;
no idle timeout during a transfer) and of over-long lines and control characters (500, 501) are tested
on the session itself: tests/session (watchdog_test.cpp, dispatch_test.cpp)."""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from helpers import Control, recv_all

SESSIONS = 200


def test_200_concurrent_sessions(server):
    barrier = threading.Barrier(SESSIONS, timeout=120)

    def one(i):
        payload = os.urandom(1000 + i) + f"session {i}".encode()
        with Control.to(server, timeout=60) as c:
            c.login("alice")
            barrier.wait()  # all sessions are logged in at the same time
            data = c.pasv()
            c.expect(f"STOR s{i}.bin", "150")
            data.sendall(payload)
            data.close()
            assert c.reply().startswith("226")
            data = c.pasv()
            c.expect(f"RETR s{i}.bin", "150")
            got = recv_all(data, timeout=60)
            assert c.reply().startswith("226")
            assert c.cmd("QUIT").startswith("221")
        return got == payload

    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        results = list(pool.map(one, range(SESSIONS), timeout=240))
    assert all(results)
    assert len(list(server.root().iterdir())) == SESSIONS
    assert server.log().count("logged in") == SESSIONS


def test_max_sessions_421(make_server):
    srv = make_server(server="max_sessions = 3")
    held = [Control.to(srv) for _ in range(3)]
    try:
        over = Control.to(srv, greet=False)
        r = over.reply(timeout=10)
        assert r.startswith("421"), r
        assert over.closed_within(5)
        over.close()
        for c in held:
            c.expect("NOOP", "200")
        held.pop().close()
        # The freed slot can be used again once the server has seen the close.
        deadline = time.monotonic() + 10
        while True:
            c = Control.to(srv, greet=False)
            r = c.reply(timeout=10)
            if r.startswith("220"):
                held.append(c)
                break
            c.close()
            assert time.monotonic() < deadline, "the slot was never freed"
            time.sleep(0.05)
        held[-1].login()
    finally:
        for c in held:
            c.close()
    assert "server.max_sessions (3) reached" in srv.log()


def test_idle_timeout_421(make_server):
    srv = make_server(server='idle_timeout = "1s"')
    with Control.to(srv) as c:
        c.login()
        start = time.monotonic()
        r = c.reply(timeout=10)
        assert r.startswith("421") and "dle" in r, r
        assert 0.9 <= time.monotonic() - start < 10
        assert c.closed_within(5)


def test_stalled_transfers_end_with_426(make_server):
    srv = make_server(server='data_timeout = "1s"')
    (srv.root() / "f.bin").write_bytes(os.urandom(32 << 20))
    with Control.to(srv) as c:
        c.login()
        data = c.pasv()
        c.expect("RETR f.bin", "150")  # and never read
        r = c.reply(timeout=10)
        assert r.startswith("426") and "stalled" in r, r
        data.close()
        data = c.pasv()
        c.expect("STOR up.bin", "150")
        data.sendall(b"partial")  # then nothing more, without closing
        r = c.reply(timeout=10)
        assert r.startswith("426") and "stalled" in r, r
        data.close()
        c.expect("NOOP", "200")


def test_max_sessions_holds_under_a_burst(make_server):
    srv = make_server(server="max_sessions = 3")
    conns = [Control.to(srv, greet=False) for _ in range(12)]  # all connect before any is answered
    try:
        greetings = [c.reply(timeout=10)[:3] for c in conns]
        assert greetings.count("220") == 3, greetings
        assert greetings.count("421") == 9, greetings
    finally:
        for c in conns:
            c.close()


def test_login_timeout_421(make_server):
    srv = make_server(server='login_timeout = "1s"')
    with Control.to(srv) as c:
        r = c.reply(timeout=10)
        assert r.startswith("421"), r
        assert c.closed_within(5)
