"""Real clients against the real server: curl (-T, --ftp-create-dirs, -Q quote commands, --ftp-port
active mode, -r ranges, -C - resume, --list-only, EPSV and PASV) and lftp (put, get, ls, cls, mirror
both ways, pget, mv, rm, mkdir, rmdir, active mode). Every download is compared byte for byte."""
import os
import re
import urllib.parse

import pytest

from conftest import PASSWORDS
from helpers import run

LS_LINE = re.compile(r"^[-dl][-rwx]{9}\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w{3}\s+\d{1,2}\s+[\d:]{4,5} (.+)$")


def curl(server, path="", *args, user="alice"):
    url = f"ftp://{server.host}:{server.port}/{urllib.parse.quote(path)}"
    return run(["curl", "-sS", "--max-time", "60", "-u", f"{user}:{PASSWORDS[user]}", *args, url]).stdout


def lftp(server, script, cwd, user="alice"):
    settings = ("set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 15; set net:reconnect-interval-base 1;"
                " set ftp:ssl-allow no; set xfer:clobber on; ")
    return run(["lftp", "-u", f"{user},{PASSWORDS[user]}", "-p", str(server.port), server.host,
                "-e", settings + script + "; bye"], cwd=cwd, timeout=120).stdout.decode()


@pytest.fixture
def local(tmp_path):
    d = tmp_path / "local"
    d.mkdir()
    return d


def test_curl_upload_list_download_rename_delete(server, local):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    (local / "up.bin").write_bytes(payload)
    curl(server, "deep/er/up.bin", "-T", str(local / "up.bin"), "--ftp-create-dirs")
    assert (server.root() / "deep" / "er" / "up.bin").read_bytes() == payload
    listing = curl(server, "deep/er/").decode()
    lines = [LS_LINE.match(line) for line in listing.splitlines()]
    assert all(lines), listing
    assert [(m[2], int(m[1])) for m in lines] == [("up.bin", len(payload))]
    assert curl(server, "deep/er/", "--list-only").splitlines() == [b"up.bin"]
    assert curl(server, "deep/er/up.bin") == payload
    curl(server, "", "-Q", "RNFR deep/er/up.bin", "-Q", "RNTO deep/renamed.bin", "--list-only")
    assert (server.root() / "deep" / "renamed.bin").read_bytes() == payload
    assert not (server.root() / "deep" / "er" / "up.bin").exists()
    # Quote commands after the transfer ("-" prefix), and a quote command that fails makes curl fail.
    curl(server, "", "-Q", "-DELE deep/renamed.bin", "-Q", "-RMD deep/er", "--list-only")
    assert sorted(p.name for p in (server.root() / "deep").iterdir()) == []
    p = run(["curl", "-sS", "-u", f"alice:{PASSWORDS['alice']}", "-Q", "DELE nope",
             f"ftp://{server.host}:{server.port}/"], check=False)
    assert p.returncode != 0 and b"550" in p.stderr


def test_curl_utf8_and_spaces(server, local):
    name = "dír with space/ünï ✓.txt"
    (local / "x").write_bytes(b"utf8 body")
    curl(server, name, "-T", str(local / "x"), "--ftp-create-dirs")
    assert (server.root() / "dír with space" / "ünï ✓.txt").read_bytes() == b"utf8 body"
    assert curl(server, name) == b"utf8 body"
    assert curl(server, "dír with space/", "--list-only").decode().splitlines() == ["ünï ✓.txt"]


def test_curl_active_mode(server, local):
    payload = os.urandom(500_000)
    (server.root() / "a.bin").write_bytes(payload)
    assert curl(server, "a.bin", "--ftp-port", "127.0.0.1") == payload
    assert curl(server, "a.bin", "--ftp-port", "-", "--disable-eprt") == payload
    (local / "up").write_bytes(payload[::-1])
    curl(server, "up-active.bin", "-T", str(local / "up"), "--ftp-port", "127.0.0.1")
    assert (server.root() / "up-active.bin").read_bytes() == payload[::-1]
    log = server.log()
    assert re.search(r"<- EPRT \|1\|127\.0\.0\.1\|\d+\|", log)
    assert re.search(r"<- PORT 127,0,0,1,\d+,\d+", log)


def test_curl_passive_variants(server):
    payload = os.urandom(100_000)
    (server.root() / "p.bin").write_bytes(payload)
    assert curl(server, "p.bin", "--disable-epsv") == payload
    assert curl(server, "p.bin", "--ftp-skip-pasv-ip", "--disable-epsv") == payload
    log = server.log()
    assert "<- PASV" in log and "<- EPSV" not in log


def test_curl_ranges(server):
    payload = os.urandom(1_000_000)
    (server.root() / "r.bin").write_bytes(payload)
    assert curl(server, "r.bin", "-r", "100-199") == payload[100:200]
    assert curl(server, "r.bin", "-r", "999000-") == payload[999000:]
    assert curl(server, "r.bin", "-r", "0-0") == payload[:1]
    assert curl(server, "r.bin", "-r", "-1000") == payload[-1000:]
    assert curl(server, "r.bin", "-r", "262143-262145") == payload[262143:262146]
    # The session handled every aborted range cleanly: a plain download still works.
    assert curl(server, "r.bin") == payload


def test_curl_resume_upload_and_download(server, local):
    payload = os.urandom(2_000_000)
    (server.root() / "partial.bin").write_bytes(payload[:700_000])
    (local / "whole.bin").write_bytes(payload)
    curl(server, "partial.bin", "-T", str(local / "whole.bin"), "-C", "-")
    assert (server.root() / "partial.bin").read_bytes() == payload
    (local / "down.bin").write_bytes(payload[:1_234_567])
    curl(server, "partial.bin", "-C", "-", "-o", str(local / "down.bin"))
    assert (local / "down.bin").read_bytes() == payload
    curl(server, "partial.bin", "-T", str(local / "whole.bin"), "--append")
    assert (server.root() / "partial.bin").read_bytes() == payload + payload


def test_curl_read_only_user_refused(server, local):
    (local / "x").write_bytes(b"x")
    p = run(["curl", "-sS", "-u", f"bob:{PASSWORDS['bob']}", "-T", str(local / "x"),
             f"ftp://{server.host}:{server.port}/x"], check=False)
    assert p.returncode != 0
    assert not (server.root("bob") / "x").exists()
    p = run(["curl", "-sS", "-u", "alice:wrong", f"ftp://{server.host}:{server.port}/"], check=False)
    assert p.returncode == 67, p  # CURLE_LOGIN_DENIED


def test_lftp_put_get_ls_mv_rm(server, local):
    payload = os.urandom(1_500_000)
    (local / "up.bin").write_bytes(payload)
    out = lftp(server, "mkdir -p dir/sub; put up.bin -o dir/sub/up.bin; ls dir/sub; cls -l dir/sub; "
                       "get dir/sub/up.bin -o got.bin; mv dir/sub/up.bin dir/moved.bin; cls -1 dir", local)
    assert (local / "got.bin").read_bytes() == payload
    assert (server.root() / "dir" / "moved.bin").read_bytes() == payload
    ls_lines = [line for line in out.splitlines() if LS_LINE.match(line)]
    assert any(LS_LINE.match(line)[2] == "up.bin" and int(LS_LINE.match(line)[1]) == len(payload)
               for line in ls_lines), out
    assert "dir/moved.bin" in out or "moved.bin" in out
    lftp(server, "rm dir/moved.bin; rmdir dir/sub; rmdir dir", local)
    assert list(server.root().iterdir()) == []


def test_lftp_mirror_both_ways(server, local):
    tree = local / "tree"
    files = {"a.txt": b"A" * 10, "sub/b.bin": os.urandom(300_000), "sub/deeper/c": b"",
             "space name/ü ✓.txt": "unicode".encode(), "-dash": b"dash"}
    for rel, content in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(content)
    lftp(server, "mirror -R tree remote", local)
    for rel, content in files.items():
        assert (server.root() / "remote" / rel).read_bytes() == content, rel
    lftp(server, "mirror remote back", local)
    for rel, content in files.items():
        assert (local / "back" / rel).read_bytes() == content, rel
    # A second mirror with nothing changed transfers nothing and still succeeds.
    lftp(server, "mirror remote back", local)


def test_lftp_pget_and_active_mode(server, local):
    payload = os.urandom(8 << 20)
    (server.root() / "big.bin").write_bytes(payload)
    lftp(server, "pget -n 4 big.bin -o pget.bin", local)
    assert (local / "pget.bin").read_bytes() == payload
    lftp(server, "set ftp:passive-mode off; get big.bin -o active.bin; ls", local)
    assert (local / "active.bin").read_bytes() == payload
    assert re.search(r"<- (EPRT|PORT) ", server.log())
