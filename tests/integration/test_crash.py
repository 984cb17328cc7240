"""Crash test (README "Durability"): 50 concurrent uploads through real clients, the server killed with
SIGKILL in the middle, then restarted on the same folder. Every upload that got 226 is byte-identical;
every other target is absent, its previous content, or (killed between the rename and the 226 reaching
the client) the complete new content, never a part; no temporary is left after the restart's clean-up.
Bounded: about 10 s (the uploads are throttled by the clients so that the kill finds some running)."""
import ftplib
import os
import random
import re
import signal
import threading
import time

from conftest import PASSWORDS, Server

TEMP = ".ftpsd-upload."
UPLOADS = 50
STALLED = 12  # these stop half-way until after the kill: certainly in the middle of their upload
BLOCK = 64 * 1024


class Payload:
    """A file-like object for storbinary: throttled, optionally stalling half-way."""

    def __init__(self, data, stall: threading.Event | None, reached: threading.Event):
        self.data = data
        self.pos = 0
        self.stall = stall
        self.reached = reached

    def read(self, n):
        if self.stall is not None and self.pos >= len(self.data) // 2:
            self.reached.set()
            self.stall.wait(30)
            self.stall = None
        chunk = self.data[self.pos:self.pos + min(n, BLOCK)]
        self.pos += len(chunk)
        time.sleep(0.004)
        return chunk


def upload(server, name, payload, results):
    try:
        ftp = ftplib.FTP()
        ftp.connect(server.host, server.port, timeout=30)
        ftp.login("alice", PASSWORDS["alice"])
        reply = ftp.storbinary(f"STOR {name}", payload, blocksize=BLOCK)
        results[name] = reply
        ftp.close()
    except (OSError, EOFError, ftplib.Error) as e:
        results.setdefault(name, f"failed: {e!r}")


def test_sigkill_during_50_uploads_loses_no_acknowledged_data(server):
    root = server.root()
    rng = random.Random(5)
    old, new = {}, {}
    for i in range(UPLOADS):
        name = f"file{i:02d}.bin"
        size = rng.choice([rng.randint(1, 4096), rng.randint(4096, 600_000), rng.randint(3_000_000, 6_000_000)])
        new[name] = rng.randbytes(size)
        if i % 2 == 0:  # half of them replace an existing file
            old[name] = rng.randbytes(rng.randint(1, 100_000))
            (root / name).write_bytes(old[name])

    release = threading.Event()
    reached = [threading.Event() for _ in range(STALLED)]
    results = {}
    threads = []
    for i, name in enumerate(new):
        stall = release if i < STALLED else None
        marker = reached[i] if i < STALLED else threading.Event()
        t = threading.Thread(target=upload, args=(server, name, Payload(new[name], stall, marker), results),
                             daemon=True)
        threads.append(t)
        t.start()

    # Kill once a good part is acknowledged while others are still running.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        acked = sum(1 for r in list(results.values()) if r.startswith("226"))
        if acked >= 20 and all(e.is_set() for e in reached):
            break
        time.sleep(0.01)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)
    release.set()
    for t in threads:
        t.join(timeout=20)
    assert not any(t.is_alive() for t in threads)

    acknowledged = {n for n, r in results.items() if r.startswith("226")}
    assert len(acknowledged) >= 20, results
    assert len(acknowledged) <= UPLOADS - STALLED, results

    again = Server(server.base, (server.base / "ftpsd.toml").read_text(),
                   (server.base / "users.toml").read_text())
    try:
        deadline = time.monotonic() + 15
        while "stale upload clean-up: removed" not in again.log() and time.monotonic() < deadline:
            time.sleep(0.02)
        removed = re.search(r"stale upload clean-up: removed (\d+) temporaries", again.log())
        assert removed, again.log()
        assert int(removed.group(1)) >= STALLED  # at least the stalled uploads' temporaries
        left = [p.name for p in root.iterdir() if p.name.startswith(TEMP)]
        assert left == [], left
        assert sorted(p.name for p in root.iterdir()) == sorted(n for n in new if (root / n).exists())
        complete_unacknowledged = 0
        for name, data in new.items():
            path = root / name
            if name in acknowledged:
                assert path.read_bytes() == data, f"{name}: acknowledged with 226 but not identical"
                continue
            if not path.exists():
                assert name not in old, f"{name}: the previous file is gone"
                continue
            content = path.read_bytes()
            if content == data:
                complete_unacknowledged += 1  # renamed, killed before the 226 was read
                continue
            assert name in old and content == old[name], f"{name}: neither the old nor the new content"
        assert complete_unacknowledged <= UPLOADS - STALLED
        # The restarted server serves the acknowledged files.
        ftp = ftplib.FTP()
        ftp.connect(again.host, again.port, timeout=30)
        ftp.login("alice", PASSWORDS["alice"])
        name = sorted(acknowledged)[0]
        chunks = []
        ftp.retrbinary(f"RETR {name}", chunks.append)
        assert b"".join(chunks) == new[name]
        ftp.quit()
    finally:
        again.stop()
