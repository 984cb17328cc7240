"""Bandwidth limits: limits.download_rate / upload_rate shared by all sessions, and a user's own
download_rate / upload_rate (per session); the stricter applies. 3 MiB at 1 MiB/s take about 3 s
(>= 2.5 s), without a limit far less. Clear downloads (sendfile), ASCII (buffered) and uploads."""
import os
import threading
import time

from helpers import Control, retr_bytes, stor_bytes

SIZE = 3 << 20


def timed(f):
    start = time.monotonic()
    out = f()
    return out, time.monotonic() - start


def test_download_rate_limits_sendfile_downloads(make_server):
    fast = make_server()
    slow = make_server(extra='[limits]\ndownload_rate = "1M"\n')
    payload = os.urandom(SIZE)
    for srv in (fast, slow):
        (srv.root() / "f.bin").write_bytes(payload)
    with Control.to(fast) as c:
        c.login()
        out, took_fast = timed(lambda: retr_bytes(c, "f.bin"))
        assert out == payload
    with Control.to(slow) as c:
        c.login()
        out, took = timed(lambda: retr_bytes(c, "f.bin"))
        assert out == payload
        # Listings are not limited; the session goes on.
        c.expect("NOOP", "200")
    assert took >= 2.5, took
    assert took < 8, took
    assert took_fast < 1.5, took_fast


def test_download_rate_in_ascii_mode(make_server):
    srv = make_server(extra='[limits]\ndownload_rate = "512k"\n')
    (srv.root() / "t.txt").write_bytes(b"line\n" * (1 << 18))  # 1.25 MiB, 1.5 MiB with CRLF
    with Control.to(srv) as c:
        c.login()
        c.expect("TYPE A", "200")
        out, took = timed(lambda: retr_bytes(c, "t.txt"))
    assert out == b"line\r\n" * (1 << 18)
    assert took >= 2.5, took


def test_upload_rate(make_server):
    srv = make_server(extra='[limits]\nupload_rate = "1M"\n')
    payload = os.urandom(SIZE)
    with Control.to(srv) as c:
        c.login()
        _, took = timed(lambda: stor_bytes(c, "STOR up.bin", payload))
    assert (srv.root() / "up.bin").read_bytes() == payload
    assert 2.5 <= took < 8, took


def test_global_limit_is_shared_by_sessions(make_server):
    srv = make_server(extra='[limits]\ndownload_rate = "1M"\n')
    payload = os.urandom(SIZE // 2)
    (srv.root() / "half.bin").write_bytes(payload)
    results = {}

    def one(i):
        with Control.to(srv) as c:
            c.login()
            out, took = timed(lambda: retr_bytes(c, "half.bin"))
            results[i] = (out == payload, took)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    total = time.monotonic() - start
    assert all(ok for ok, _ in results.values()) and len(results) == 2
    # 2 x 1.5 MiB through one 1 MiB/s bucket: about 3 s in all (alone, each would take 1.5 s).
    assert total >= 2.5, (total, results)


def test_per_user_rate_and_the_stricter_applies(make_server):
    srv = make_server(extra='[limits]\ndownload_rate = "8M"\n',
                      user_options={"alice": 'download_rate = "1M"\nupload_rate = "1M"'})
    payload = os.urandom(SIZE)
    (srv.root("alice") / "f.bin").write_bytes(payload)
    (srv.root("bob") / "f.bin").write_bytes(payload)
    with Control.to(srv) as c:
        c.login("alice")
        out, took = timed(lambda: retr_bytes(c, "f.bin"))
        assert out == payload
        _, took_up = timed(lambda: stor_bytes(c, "STOR up.bin", payload))
    with Control.to(srv) as c:
        c.login("bob")  # only the global 8 MiB/s
        out, took_bob = timed(lambda: retr_bytes(c, "f.bin"))
        assert out == payload
    assert took >= 2.5, took
    assert took_up >= 2.5, took_up
    assert took_bob < 1.5, took_bob
