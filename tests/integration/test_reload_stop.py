"""Configuration reload (SIGHUP, `ftpsd reload`) and graceful stop (SIGTERM)."""
import signal
import socket
import subprocess
import time

import pytest

from conftest import BIN, _hash
from helpers import Control, recv_all, retr_bytes, wait_for

SIZE = 200 << 20  # a 200 MiB download runs across the reload


def big_file(srv, name="big.bin", size=SIZE):
    with open(srv.root("alice") / name, "wb") as f:
        f.truncate(size)  # sparse: nothing to write, all to send


def start_slow_download(ctl, name="big.bin"):
    """RETR with a data socket nobody reads yet: the server blocks once the socket buffers are full."""
    data = ctl.pasv()
    data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    ctl.expect(f"RETR {name}", "150")
    first = data.recv(65536)
    assert first
    return data, len(first)


def add_user(srv, name, password):
    home = srv.base / "home" / name
    home.mkdir(parents=True, exist_ok=True)
    (home / "hello.txt").write_text("hi\n")
    with open(srv.base / "users.toml", "a") as f:
        f.write(f'\n[[users]]\nname = "{name}"\npassword_hash = "{_hash(password)}"\nroot = "{home}"\n')


def test_reload_keeps_a_running_download_and_adds_a_user(make_server):
    srv = make_server(server='pid_file = "ftpsd.pid"\n')
    big_file(srv)
    # Written whole (renamed into place) before the server says it listens: no waiting, never empty.
    assert int((srv.base / "ftpsd.pid").read_text()) == srv.proc.pid
    with Control.to(srv) as ctl:
        ctl.login()
        data, got = start_slow_download(ctl)
        # carol cannot log in yet.
        with Control.to(srv) as other:
            other.expect("USER carol", "331")
            other.expect("PASS carol-pw", "530")
        add_user(srv, "carol", "carol-pw")
        cfg = srv.base / "ftpsd.toml"
        cfg.write_text(cfg.read_text().replace("[server]\n", '[server]\nbanner = "reloaded banner"\n'))
        r = subprocess.run([BIN, "reload", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "configuration ok" in r.stdout, r
        assert wait_for(lambda: "configuration reloaded" in srv.log()), srv.log()[-3000:]
        # New sessions: the new users and the new banner.
        with Control(srv.host, srv.port, greet=False) as carol:
            assert carol.reply().startswith("220 reloaded banner")
            carol.login("carol", "carol-pw")
            assert retr_bytes(carol, "hello.txt") == b"hi\n"
        # The download that started before goes on to its end.
        got += len(recv_all(data, timeout=60))
        assert got == SIZE
        assert ctl.reply().startswith("226")
        ctl.expect("NOOP", "200")  # the old session is still there, with its old snapshot
    assert "s=1 127.0.0.1 alice transfer RETR /big.bin bytes=209715200" in srv.log()


def test_broken_configuration_keeps_the_running_one(make_server):
    srv = make_server(server='pid_file = "ftpsd.pid"\n')
    cfg = srv.base / "ftpsd.toml"
    good = cfg.read_text()
    cfg.write_text(good.replace("[server]\n", "[server]\nbogus_key = 1\n"))
    # `ftpsd reload` checks first: the error names file, line and key; nothing is signalled.
    r = subprocess.run([BIN, "reload", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{cfg}:5: key 'server.bogus_key': unknown key" in r.stderr, r
    assert "SIGHUP received" not in srv.log()
    # A plain SIGHUP with the broken file: logged, the old configuration stays.
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "configuration reload failed" in srv.log())
    assert (f"configuration reload failed, keeping the running configuration: {cfg}:5: key "
            "'server.bogus_key': unknown key") in srv.log()
    with Control.to(srv) as ctl:
        ctl.login("bob")
    # A broken users file is refused the same way.
    cfg.write_text(good)
    (srv.base / "users.toml").write_text("[[users]]\nname = 3\n")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: srv.log().count("configuration reload failed") == 2)
    with Control.to(srv) as ctl:
        ctl.login("alice")
    assert srv.proc.poll() is None


def test_listener_change_needs_a_restart(make_server):
    srv = make_server()
    cfg = srv.base / "ftpsd.toml"
    cfg.write_text(cfg.read_text().replace('address = "127.0.0.1:0"', 'address = "127.0.0.1:1"'))
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "configuration reloaded" in srv.log())
    assert "listening addresses cannot change on reload; restart ftpsd" in srv.log()
    with Control.to(srv) as ctl:  # still on the old port
        ctl.login()


def test_reload_without_pid_file_says_how(make_server):
    srv = make_server()
    r = subprocess.run([BIN, "reload", "--config", str(srv.base / "ftpsd.toml")], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "server.pid_file" in r.stderr, r
    r = subprocess.run([BIN, "reload", "--config", str(srv.base / "ftpsd.toml"), "--pid", str(srv.proc.pid)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    assert wait_for(lambda: "configuration reloaded" in srv.log())


def test_sigterm_lets_a_transfer_finish_then_421(make_server):
    srv = make_server(server='shutdown_timeout = "30s"\npid_file = "ftpsd.pid"\n')
    big_file(srv, size=50 << 20)
    with Control.to(srv) as busy, Control.to(srv) as idle:
        busy.login()
        idle.login("bob")
        data, got = start_slow_download(busy)
        srv.proc.send_signal(signal.SIGTERM)
        # The idle session is closed with 421 at once; no new connections are accepted.
        assert idle.reply(timeout=5).startswith("421")
        assert idle.closed_within(5)
        assert wait_for(lambda: "stopping; running transfers may finish" in srv.log())
        with pytest.raises(OSError):
            socket.create_connection((srv.host, srv.port), timeout=5).recv(1)
        # The running transfer finishes, then its session gets 421 too.
        got += len(recv_all(data, timeout=60))
        assert got == 50 << 20
        assert busy.reply(timeout=10).startswith("226")
        assert busy.reply(timeout=10).startswith("421")
    assert srv.proc.wait(timeout=20) == 0
    assert not (srv.base / "ftpsd.pid").exists()


def test_sigterm_cuts_a_transfer_at_the_shutdown_timeout(make_server):
    srv = make_server(server='shutdown_timeout = "2s"\n')
    big_file(srv, size=50 << 20)
    with Control.to(srv) as ctl:
        ctl.login()
        data, _ = start_slow_download(ctl)
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        assert ctl.reply(timeout=15).startswith("426")  # never read: cut at the deadline
        assert ctl.reply(timeout=5).startswith("421")
        took = time.monotonic() - start
        assert 1.5 < took < 10, took
        data.close()
    assert srv.proc.wait(timeout=20) == 0
    assert "server stopping: transfer aborted at server.shutdown_timeout" in srv.log()


def test_a_second_sigterm_stops_at_once_and_the_cut_sessions_go_cleanly(make_server):
    """The second signal stops the event loops with sessions still on them (two downloads nobody
    reads): they are destroyed with the loops, while the services they use (their registry entry,
    their place under the session limits) still exist. The ASan run checks that nothing is used after
    it went."""
    srv = make_server(server='shutdown_timeout = "60s"\n')
    big_file(srv, size=50 << 20)
    with Control.to(srv) as first, Control.to(srv) as second:
        first.login()
        second.login()
        data_first, _ = start_slow_download(first)
        data_second, _ = start_slow_download(second)
        srv.proc.send_signal(signal.SIGTERM)
        assert wait_for(lambda: "stopping; running transfers may finish" in srv.log()), srv.log()[-3000:]
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=20) == 0, srv.log()[-5000:]
        data_first.close()
        data_second.close()
    log = srv.log()
    assert "received again: stopping now" in log, log[-3000:]
    assert any(line.endswith(" stopped") for line in log.splitlines()), log[-3000:]
