"""What an idle logged-in session holds: its socket, and a share of its user's root folder handle (one
handle per folder, however many sessions use it), and a few KiB of memory (no coroutine frames: the
session parks between commands). Checked through the server's /proc/PID/fd and smaps_rollup."""
import os
import signal
import statistics

import pytest

from conftest import SANITIZED
from helpers import Control, retr_bytes, wait_for


def fd_count(srv) -> int:
    return len(os.listdir(f"/proc/{srv.proc.pid}/fd"))


def private_kib(srv) -> int:
    """The memory the server wrote (Private_Dirty: its heap, stacks and written data pages). Neither Pss
    nor Private_Clean: the binary's and the libraries' pages are shared with every other ftpsd running
    (a second pytest worker's), and move between shared and private as those start and stop."""
    with open(f"/proc/{srv.proc.pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    raise AssertionError("no Private_Dirty line in smaps_rollup")


@pytest.mark.skipif(SANITIZED, reason="AddressSanitizer pads every allocation")
def test_an_idle_session_holds_a_few_kib(server):
    # Sessions that were parked, woken by a command and parked again: the memory of the control loop's
    # coroutines (about 5 KiB a session) is gone between commands. A parked session holds about 3.6 KiB
    # (its context, its entry in the live-session registry, Asio's state); with the frames it would be
    # 8 or more. The growth is measured over four batches and the median taken: a one-off cost (a
    # worker's first arena pages, a table that doubles) lands in one batch only. (make bench measures
    # the figure.)
    warm = [Control.to(server).login() for _ in range(100)]  # pools, caches, the first arena pages
    batch = 100
    grown, sessions = [], []
    try:
        for _ in range(4):
            before = private_kib(server)
            new = [Control.to(server).login() for _ in range(batch)]
            for c in new[::50]:
                c.expect("NOOP", "200")
            grown.append((private_kib(server) - before) / batch)
            sessions += new
        per_session = statistics.median(grown)
        assert per_session < 6.0, f"{per_session:.2f} KiB per idle session (batches: {grown})"
        for c in sessions[::40]:  # and every one of them still answers
            assert c.cmd("PWD").startswith('257 "/"')
    finally:
        for c in warm + sessions:
            c.close()


def test_sessions_of_one_user_share_one_root_handle(server):
    (server.root("alice") / "hello.txt").write_bytes(b"hi\n")
    with Control.to(server) as warm:  # whatever the first login opens for good (logs, caches)
        warm.login()
    assert wait_for(lambda: server.log().count("disconnected") >= 1)
    before = fd_count(server)
    n = 40
    alices = [Control.to(server).login() for _ in range(n)]
    bobs = [Control.to(server).login("bob") for _ in range(5)]
    try:
        # One socket per session, one root handle per folder (alice's and bob's): not 2 per session.
        grown = fd_count(server) - before
        assert n + 5 <= grown <= n + 5 + 2, grown
        # The shared handle serves every session: what one creates, the others see.
        alices[0].expect("MKD shared", "257")
        alices[-1].expect("CWD shared", "250")
        alices[-1].expect("CWD /", "250")
        assert retr_bytes(alices[n // 2], "hello.txt") == b"hi\n"
        bobs[0].expect("CWD shared", "550")  # bob's root is another folder
        # Jailed as before: nothing above the root through the shared handle.
        alices[1].expect("CWD ..", "250")
        assert alices[1].cmd("PWD").startswith('257 "/"')
        alices[1].expect("SIZE ../bob", "550")
    finally:
        for c in alices + bobs:
            c.close()
    # The last session of a folder closes its handle.
    assert wait_for(lambda: fd_count(server) <= before), (fd_count(server), before)


def test_a_root_replaced_on_disk_applies_to_new_sessions(server):
    home = server.root("alice")
    (home / "old.txt").write_bytes(b"old\n")
    with Control.to(server) as first:
        first.login()
        home.rename(home.with_name("alice-moved"))
        home.mkdir()
        (home / "new.txt").write_bytes(b"new\n")
        with Control.to(server) as second:
            second.login()
            assert retr_bytes(second, "new.txt") == b"new\n"
            second.expect("SIZE old.txt", "550")
        # The session that had the folder keeps it, wherever it moved.
        assert retr_bytes(first, "old.txt") == b"old\n"
        first.expect("SIZE new.txt", "550")


def test_reload_with_another_root_applies_to_new_sessions(make_server):
    srv = make_server()
    (srv.root("alice") / "a.txt").write_bytes(b"a\n")
    other = srv.base / "home" / "alice-2"
    other.mkdir()
    (other / "b.txt").write_bytes(b"b\n")
    with Control.to(srv) as before:
        before.login()
        users = srv.base / "users.toml"
        text = users.read_text()
        old_line = f'root = "{srv.root("alice")}"'
        assert old_line in text
        users.write_text(text.replace(old_line, f'root = "{other}"'))
        srv.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "configuration reloaded" in srv.log()), srv.log()[-3000:]
        with Control.to(srv) as after:
            after.login()
            assert retr_bytes(after, "b.txt") == b"b\n"
            after.expect("SIZE a.txt", "550")
        assert retr_bytes(before, "a.txt") == b"a\n"  # a running session keeps its root
