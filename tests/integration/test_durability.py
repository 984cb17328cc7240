"""Durable, atomic uploads (README "Durability"): with storage.atomic_uploads (the default) STOR and STOU
write a hidden temporary that replaces the target only when the upload is complete and flushed; a
failed, aborted or refused upload leaves the old file (or none) and no temporary; REST/APPE resume in
place; temporaries are hidden and refused as names; disk full is 452, a too large file 552."""
import os
import resource
import subprocess
import time

import pytest

from conftest import Server
from helpers import Control, retr_bytes, stor_bytes

TEMP = ".ftpsd-upload."


def temporaries(folder):
    return sorted(p.name for p in folder.rglob(TEMP + "*"))


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def nlst(ctl, path=""):
    data = ctl.pasv()
    ctl.expect(f"NLST {path}".strip(), "150")
    data.settimeout(10)
    chunks = []
    while chunk := data.recv(65536):
        chunks.append(chunk)
    data.close()
    assert ctl.reply().startswith("226")
    return b"".join(chunks).decode().split()


def start_upload(ctl, command, first=b""):
    """PASV, the upload command (150), and the first bytes; returns the open data socket."""
    data = ctl.pasv()
    ctl.expect(command, "150")
    if first:
        data.sendall(first)
    return data


def test_old_file_stays_until_the_upload_is_complete(server, ctl):
    root = server.root()
    (root / "f.bin").write_bytes(b"old content")
    new = os.urandom(3_000_000)
    data = start_upload(ctl, "STOR f.bin", new[:1_000_000])
    # Meanwhile: the temporary exists on the disk, but clients see and read only the old file.
    wait_for(lambda: temporaries(root), what="the upload's temporary")
    with Control.to(server).login() as other:
        assert retr_bytes(other, "f.bin") == b"old content"
        names = nlst(other)
        assert names == ["f.bin"], names
        for cmd in ("LIST", "MLSD"):
            d = other.pasv()
            other.expect(cmd, "150")
            d.settimeout(10)
            listing = b""
            while chunk := d.recv(65536):
                listing += chunk
            d.close()
            assert other.reply().startswith("226")
            assert TEMP.encode() not in listing, listing
    assert (root / "f.bin").read_bytes() == b"old content"
    data.sendall(new[1_000_000:])
    data.close()
    assert ctl.reply().startswith("226")
    assert (root / "f.bin").read_bytes() == new
    assert temporaries(root) == []


PIECE = 256 * 1024  # what the server writes to the disk at once (src/session/transfer.cpp kChunk)


@pytest.mark.parametrize("fsync", ["true", "false"])
def test_uploads_of_many_pieces_arrive_byte_identical(make_server, fsync):
    # Uploads are written piece by piece while the next piece arrives (and, with fsync, their writeback
    # starts early): every size around the piece boundaries arrives whole, with no temporary left.
    server = make_server(extra=f"[storage]\nfsync = {fsync}\n")
    root = server.root()
    sizes = [0, 1, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 4 * PIECE + 12345]
    with Control.to(server).login() as c:
        for i, size in enumerate(sizes):
            payload = os.urandom(size)
            # Odd pieces from the client too: the server's pieces must not depend on them.
            data = c.pasv()
            c.expect(f"STOR up{i}.bin", "150")
            for pos in range(0, size, 100_003):
                data.sendall(payload[pos:pos + 100_003])
            data.close()
            assert c.reply().startswith("226")
            assert (root / f"up{i}.bin").read_bytes() == payload, f"size {size}"
        # A resume in place (REST) goes through the same pieces from its offset.
        base = os.urandom(PIECE + 7)
        (root / "r.bin").write_bytes(base)
        more = os.urandom(3 * PIECE + 5)
        c.expect(f"REST {PIECE - 3}", "350")
        stor_bytes(c, "STOR r.bin", more)
        assert (root / "r.bin").read_bytes() == base[:PIECE - 3] + more
    assert temporaries(root) == []


@pytest.mark.parametrize("size, written", [(500_000, 0), (5 * PIECE, 2 * PIECE)],
                         ids=["as-soon-as-the-temporary-exists", "after-several-pieces"])
def test_aborted_upload_keeps_the_old_file_and_no_temporary(server, ctl, size, written):
    # The ABOR comes once the temporary holds `written` bytes: at once, or when several pieces are
    # already on the disk in it.
    root = server.root()
    (root / "f.bin").write_bytes(b"old content")
    data = start_upload(ctl, "STOR f.bin", os.urandom(size))
    wait_for(lambda: any((root / t).stat().st_size >= written for t in temporaries(root)),
             what=f"{written} bytes in the upload's temporary")
    ctl.send(b"ABOR\r\n")
    assert ctl.reply().startswith("426")
    assert ctl.reply().startswith("226")
    data.close()
    assert (root / "f.bin").read_bytes() == b"old content"
    assert temporaries(root) == []
    stor_bytes(ctl, "STOR f.bin", b"next")  # the session goes on
    assert (root / "f.bin").read_bytes() == b"next"


def test_lost_control_connection_removes_the_temporary(server):
    root = server.root()
    c = Control.to(server).login()
    data = start_upload(c, "STOR new.bin", os.urandom(300_000))
    wait_for(lambda: temporaries(root), what="the upload's temporary")
    c.close()
    wait_for(lambda: "result=426" in server.log(), what="the aborted transfer's log line")
    data.close()
    wait_for(lambda: not temporaries(root), what="the temporary's removal")
    assert not (root / "new.bin").exists()
    with Control.to(server).login() as other:
        other.expect("NOOP", "200")


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_refused_stor_to_a_new_name_leaves_no_file(make_server, atomic):
    server = make_server(extra=f'[storage]\natomic_uploads = {atomic}\n[passive]\nconnect_timeout = "1s"\n')
    with Control.to(server).login() as c:
        c.expect("PASV", "227")  # nobody connects
        r = c.cmd("STOR never.bin")
        assert r.startswith("425"), r
        assert not (server.root() / "never.bin").exists()
        assert temporaries(server.root()) == []
        c.expect("PASV", "227")
        assert c.cmd("STOU").startswith("425")
        assert list(server.root().iterdir()) == []
        stor_bytes(c, "STOR later.bin", b"x")


def test_stou_is_atomic_and_names_the_file(server, ctl):
    (server.root() / "up").write_bytes(b"taken")
    opening = stor_bytes(ctl, "STOU up", b"unique")
    assert "FILE: up.1" in opening, opening
    assert (server.root() / "up.1").read_bytes() == b"unique"
    assert (server.root() / "up").read_bytes() == b"taken"
    assert temporaries(server.root()) == []


def test_replacing_keeps_the_permission_bits(server, ctl):
    f = server.root() / "script.sh"
    f.write_bytes(b"old")
    f.chmod(0o750)
    stor_bytes(ctl, "STOR script.sh", b"new")
    assert f.read_bytes() == b"new"
    assert f.stat().st_mode & 0o777 == 0o750


def test_rest_and_appe_resume_in_place(server, ctl):
    root = server.root()
    payload = os.urandom(2_000_000)
    (root / "part.bin").write_bytes(payload[:150_000])
    ctl.expect("REST 150000", "350")
    data = start_upload(ctl, "STOR part.bin", payload[150_000:1_000_000])
    # In place: no temporary, and the file grows while the data comes (the server writes 256 KiB
    # at a time).
    wait_for(lambda: (root / "part.bin").stat().st_size >= 150_000 + 256 * 1024, what="the file to grow")
    assert temporaries(root) == []
    data.sendall(payload[1_000_000:1_500_000])
    data.close()
    assert ctl.reply().startswith("226")
    stor_bytes(ctl, "APPE part.bin", payload[1_500_000:])
    assert (root / "part.bin").read_bytes() == payload


def test_symlink_targets_are_written_through_in_place(server, ctl):
    root = server.root()
    (root / "real.txt").write_bytes(b"old")
    os.symlink("real.txt", root / "link.txt")
    stor_bytes(ctl, "STOR link.txt", b"through the link")
    assert (root / "link.txt").is_symlink()
    assert (root / "real.txt").read_bytes() == b"through the link"
    assert temporaries(root) == []


def test_upload_temporary_names_are_refused(server, ctl):
    root = server.root()
    (root / (TEMP + "planted")).write_bytes(b"x")
    (root / "real").write_bytes(b"y")
    for command in (f"DELE {TEMP}planted", f"SIZE {TEMP}planted", f"MDTM {TEMP}planted", f"MKD {TEMP}d",
                    f"CWD {TEMP}d", f"MLST {TEMP}planted", f"STAT {TEMP}planted", f"RNFR {TEMP}planted"):
        r = ctl.cmd(command)
        assert r.startswith("553"), (command, r)
    for command in (f"STOR {TEMP}x", f"RETR {TEMP}planted", f"STOU {TEMP}u", f"APPE sub/{TEMP}x",
                    f"LIST {TEMP}planted", f"MLSD {TEMP}planted"):
        ctl.expect("PASV", "227")
        r = ctl.cmd(command)
        assert r.startswith("553"), (command, r)
        assert ctl.silent_for(0.2), command
    ctl.expect("RNFR real", "350")
    assert ctl.cmd(f"RNTO {TEMP}y").startswith("553")
    assert (root / "real").read_bytes() == b"y"
    assert nlst(ctl) == ["real"]


def test_in_place_uploads_with_atomic_uploads_off(make_server):
    server = make_server(extra="[storage]\natomic_uploads = false\nfsync = false\n")
    root = server.root()
    (root / "f.bin").write_bytes(b"old content")
    with Control.to(server).login() as c:
        data = start_upload(c, "STOR f.bin", b"A" * 1_000_000)
        wait_for(lambda: (root / "f.bin").stat().st_size >= 256 * 1024, what="the file to be written in place")
        assert temporaries(root) == []
        c.send(b"ABOR\r\n")
        assert c.reply().startswith("426")
        assert c.reply().startswith("226")
        data.close()
        # The partial file stays for a REST resume.
        size = (root / "f.bin").stat().st_size
        assert 0 < size <= 1_000_000 and (root / "f.bin").read_bytes() == b"A" * size
        c.expect(f"REST {size}", "350")
        stor_bytes(c, "STOR f.bin", b"A" * (1_500_000 - size))
        assert (root / "f.bin").read_bytes() == b"A" * 1_500_000


def restart(server):
    """A new ftpsd on the same folder, configuration and users as `server` (which has stopped)."""
    return Server(server.base, (server.base / "ftpsd.toml").read_text(), (server.base / "users.toml").read_text())


def test_stale_temporaries_are_removed_at_start(server):
    root = server.root()
    server.stop()
    (root / "sub" / "deeper").mkdir(parents=True)
    hour_ago = time.time() - 3600
    stale = [root / (TEMP + "dead.1"), root / "sub" / "deeper" / (TEMP + "dead.2")]
    for p in stale:
        p.write_bytes(b"half")
        os.utime(p, (hour_ago, hour_ago))
    future = root / "sub" / (TEMP + "other-server.3")  # written after this start: not stale
    future.write_bytes(b"busy")
    os.utime(future, (time.time() + 3600, time.time() + 3600))
    (root / "keep.txt").write_bytes(b"k")
    again = restart(server)
    try:
        wait_for(lambda: "stale upload clean-up: removed 2 temporaries" in again.log(), what="the clean-up")
        assert not any(p.exists() for p in stale)
        assert future.exists() and (root / "keep.txt").exists()
        with Control.to(again).login() as c:
            assert retr_bytes(c, "keep.txt") == b"k"
    finally:
        again.stop()


# --- Disk full and too large files: a real small file system and a real file-size limit.

@pytest.fixture
def small_root(server):
    """alice's root is a 1 MiB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    root = server.root()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.mark.parametrize("verb", ["STOR", "STOU"])
def test_disk_full_is_452_and_keeps_the_old_file(server, small_root, verb):
    old = os.urandom(100_000)
    (small_root / "f.bin").write_bytes(old)
    with Control.to(server).login() as c:
        data = start_upload(c, f"{verb} f.bin")
        try:
            data.sendall(os.urandom(2 * 1024 * 1024))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading once the disk is full
        data.close()
        r = c.reply()
        assert r.startswith("452"), r
        assert (small_root / "f.bin").read_bytes() == old
        assert temporaries(small_root) == []
        assert sorted(p.name for p in small_root.iterdir()) == ["f.bin"]
        # The server keeps serving, this session included.
        stor_bytes(c, "STOR small.bin", b"fits")
        assert retr_bytes(c, "f.bin") == old
    assert (small_root / "small.bin").read_bytes() == b"fits"
    with Control.to(server).login("bob") as other:
        other.expect("NOOP", "200")


def test_file_too_large_is_552(make_server):
    # RLIMIT_FSIZE of 1 MiB for the server (inherited at start): writing past it fails with EFBIG.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, hard))
    try:
        server = make_server()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    root = server.root()
    (root / "f.bin").write_bytes(b"old")
    with Control.to(server).login() as c:
        data = start_upload(c, "STOR f.bin")
        try:
            data.sendall(os.urandom(2 * 1024 * 1024))
        except (BrokenPipeError, ConnectionResetError):
            pass
        data.close()
        r = c.reply()
        assert r.startswith("552"), r
        assert (root / "f.bin").read_bytes() == b"old"
        assert temporaries(root) == []
        stor_bytes(c, "STOR small.bin", b"fits")
