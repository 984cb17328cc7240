"""Files over 4 GiB: a sparse 5 GiB file's SIZE/MLST/LIST, a ranged RETR from REST 4.5 GiB checked byte
for byte (streamed, never held in memory), curl's -r past 4 GiB, and an upload resumed past 4 GiB."""
import os

import pytest

from conftest import PASSWORDS
from helpers import Control, run, stor_bytes

GiB = 1 << 30
SIZE = 5 * GiB
REST = 4 * GiB + GiB // 2


@pytest.fixture
def huge(server):
    """A sparse 5 GiB file with random blocks at and after 4.5 GiB and at its very end."""
    path = server.root() / "huge.bin"
    marks = {REST: os.urandom(65536), REST + 300 * (1 << 20): os.urandom(4096), SIZE - 12345: os.urandom(12345)}
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for off, block in marks.items():
            f.seek(off)
            f.write(block)
    assert os.path.getsize(path) == SIZE
    return path, marks


def expected_slice(marks, start, length):
    """The sparse file's bytes [start, start+length): zeros with the random blocks laid over them."""
    out = bytearray(length)
    for off, block in marks.items():
        lo, hi = max(off, start), min(off + len(block), start + length)
        if lo < hi:
            out[lo - start:hi - start] = block[lo - off:hi - off]
    return out


def test_size_mlst_list_of_5gib_file(server, huge):
    with Control.to(server) as ctl:
        ctl.login()
        assert ctl.cmd("SIZE huge.bin").strip() == f"213 {SIZE}"
        assert f"size={SIZE};" in ctl.cmd("MLST huge.bin")
        assert f" {SIZE} " in ctl.cmd("STAT huge.bin")


def test_ranged_retr_past_4gib_byte_exact(server, huge):
    _, marks = huge
    with Control.to(server) as ctl:
        ctl.login()
        ctl.expect(f"REST {REST}", "350")
        data = ctl.pasv()
        ctl.expect("RETR huge.bin", "150")
        data.settimeout(60)
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        pos = REST
        while n := data.recv_into(view):
            # Compare each piece as it arrives: 512 MiB are never held in memory.
            assert view[:n] == expected_slice(marks, pos, n), f"wrong bytes at offset {pos}"
            pos += n
        data.close()
        assert ctl.reply().startswith("226")
    assert pos == SIZE, "every byte from 4.5 GiB to the end, and no more"


def test_curl_range_past_4gib(server, huge):
    _, marks = huge
    first, last = REST + 300 * (1 << 20), REST + 300 * (1 << 20) + 4095
    p = run(["curl", "-sS", "--max-time", "60", "-u", f"alice:{PASSWORDS['alice']}", "-r", f"{first}-{last}",
             f"ftp://{server.host}:{server.port}/huge.bin"])
    assert p.stdout == marks[first]
    p = run(["curl", "-sS", "--max-time", "60", "-u", f"alice:{PASSWORDS['alice']}", "-r", "-12345",
             f"ftp://{server.host}:{server.port}/huge.bin"])
    assert p.stdout == marks[SIZE - 12345]


def test_upload_resumed_past_4gib(server, huge):
    path, _ = huge
    block = os.urandom(100_000)
    offset = SIZE - 1000
    with Control.to(server) as ctl:
        ctl.login()
        ctl.expect(f"REST {offset}", "350")
        stor_bytes(ctl, "STOR huge.bin", block)
        assert ctl.cmd("SIZE huge.bin").strip() == f"213 {offset + len(block)}"
    assert os.path.getsize(path) == offset + len(block)
    with open(path, "rb") as f:
        f.seek(offset)
        assert f.read() == block
