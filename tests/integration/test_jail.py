"""The jail: `..`, `../..`, absolute paths, and symlinks planted in the root that point to /etc or to a
folder outside it never reach outside; every refusal looks like "not found" (550); the outside folder is
byte-for-byte, mode and mtime unchanged. The read-only user gets 550 for everything that writes."""
import os

import pytest

from helpers import Control, recv_all, retr_bytes, snapshot


@pytest.fixture
def jail(server, tmp_path):
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"top secret\n")
    (outside / "sub" / "deep.txt").write_bytes(b"deep\n")
    os.utime(outside / "secret.txt", (1_000_000_000, 1_000_000_000))
    root = server.root()
    (root / "inside").mkdir()
    (root / "inside" / "ok.txt").write_bytes(b"inside\n")
    os.symlink("/etc", root / "etc_link")
    os.symlink(str(outside), root / "out_link")
    os.symlink(str(outside / "secret.txt"), root / "secret_link")
    os.symlink("../" * 8 + "etc/passwd", root / "rel_link")  # relative, climbing out
    os.symlink("inside", root / "good_link")  # stays inside: works
    before = snapshot(outside)
    etc_before = os.stat("/etc").st_mode, os.stat("/etc/passwd").st_mode, os.stat("/etc/passwd").st_mtime_ns
    yield outside
    assert snapshot(outside) == before, "something outside the root was touched"
    assert (os.stat("/etc").st_mode, os.stat("/etc/passwd").st_mode,
            os.stat("/etc/passwd").st_mtime_ns) == etc_before


@pytest.fixture
def ctl(server, jail):
    c = Control.to(server).login()
    yield c
    c.close()


ESCAPES = ["../outside/secret.txt", "../../outside/secret.txt", "/../outside/secret.txt",
           "inside/../../outside/secret.txt", "/etc/passwd", "../../../../../../etc/passwd",
           "etc_link/passwd", "out_link/secret.txt", "out_link/sub/deep.txt", "secret_link", "rel_link",
           "./etc_link/./passwd", "good_link/../etc_link/passwd"]


@pytest.mark.parametrize("path", ESCAPES)
def test_read_escapes_refused(ctl, path):
    for cmd in ("SIZE", "MDTM", "MLST"):
        r = ctl.cmd(f"{cmd} {path}")
        assert r.startswith("550"), f"{cmd} {path}: {r!r}"
    data = ctl.pasv()
    r = ctl.cmd(f"RETR {path}")
    assert r.startswith("550"), f"RETR {path}: {r!r}"
    data.close()
    assert ctl.silent_for(0.2)
    assert ctl.cmd(f"RNFR {path}").startswith("550")


@pytest.mark.parametrize("path", ["etc_link", "out_link", "out_link/sub", "/etc", "../outside", "rel_link"])
def test_directory_escapes_refused(ctl, path):
    assert ctl.cmd(f"CWD {path}").startswith("550"), path
    assert ctl.cmd("PWD").startswith('257 "/"')
    for cmd in ("LIST", "NLST", "MLSD"):
        data = ctl.pasv()
        r = ctl.cmd(f"{cmd} {path}")
        assert r.startswith("550"), f"{cmd} {path}: {r!r}"
        data.close()
    assert ctl.cmd(f"STAT {path}").startswith("550")


def test_dotdot_stays_at_the_root(server, ctl):
    for path in ("..", "../..", "/..", "inside/../..", "/../../.."):
        r = ctl.cmd(f"CWD {path}")
        assert r.startswith("250") or r.startswith("550"), r
        assert ctl.cmd("PWD").startswith('257 "/"'), path
    ctl.expect("CWD inside", "250")
    ctl.expect("CDUP", "250")
    ctl.expect("CDUP", "250")
    assert ctl.cmd("PWD").startswith('257 "/"')
    data = ctl.pasv()
    ctl.expect("NLST ../..", "150")
    names = {n for n in recv_all(data).decode().split("\r\n") if n}
    assert ctl.reply().startswith("226")
    assert names == set(os.listdir(server.root())), "../.. lists the user's own root"


@pytest.mark.parametrize("path", ["out_link/new.txt", "../outside/new.txt", "out_link/sub/new.txt",
                                  "secret_link", "etc_link/ftpsd-test"])
def test_write_escapes_refused(ctl, path):
    for verb in ("STOR", "APPE"):
        data = ctl.pasv()
        r = ctl.cmd(f"{verb} {path}")
        assert r.startswith("550"), f"{verb} {path}: {r!r}"
        data.close()


def test_modifying_escapes_refused(ctl):
    for cmd in ("DELE out_link/secret.txt", "DELE ../outside/secret.txt", "DELE secret_link/x",
                "RMD out_link/sub", "MKD out_link/newdir", "MKD ../outside/newdir", "RMD ../outside/sub",
                "MFMT 20000101000000 out_link/secret.txt", "MFMT 20000101000000 secret_link",
                "SITE CHMOD 777 out_link/secret.txt", "SITE CHMOD 777 secret_link",
                "SITE CHMOD 777 out_link", "MFMT 20000101000000 out_link", "RNFR out_link/secret.txt"):
        r = ctl.cmd(cmd)
        assert r.startswith("550"), f"{cmd}: {r!r}"
    ctl.expect("RNFR inside/ok.txt", "350")
    assert ctl.cmd("RNTO out_link/moved.txt").startswith("550")
    ctl.expect("RNFR inside/ok.txt", "350")
    assert ctl.cmd("RNTO ../outside/moved.txt").startswith("550")


def test_symlink_inside_the_root_works(server, ctl):
    assert retr_bytes(ctl, "good_link/ok.txt") == b"inside\n"
    ctl.expect("CWD good_link", "250")
    assert ctl.cmd("SIZE ok.txt").strip() == "213 7"


def test_escaping_links_are_listed_but_not_followed(server, ctl):
    data = ctl.pasv()
    ctl.expect("LIST", "150")
    lines = recv_all(data).decode().split("\r\n")
    assert ctl.reply().startswith("226")
    by_name = {line.split()[-1]: line for line in lines if line}
    for name in ("etc_link", "out_link", "secret_link", "rel_link"):
        assert by_name[name].startswith("l"), by_name[name]
    assert by_name["good_link"].startswith("d"), "a link inside the root shows what it points to"


def test_rename_swap_race_cannot_escape(server, ctl, jail):
    """A folder replaced by a symlink to the outside between commands is not followed."""
    root = server.root()
    (root / "swap").mkdir()
    ctl.expect("CWD swap", "250")
    os.rmdir(root / "swap")
    os.symlink(str(jail), root / "swap")
    assert ctl.cmd("SIZE secret.txt").startswith("550")
    assert ctl.cmd("DELE secret.txt").startswith("550")
    data = ctl.pasv()
    assert ctl.cmd("RETR secret.txt").startswith("550")
    data.close()
    data = ctl.pasv()
    assert ctl.cmd("STOR planted.txt").startswith("550")
    data.close()


def test_read_only_user_cannot_write(server):
    home = server.root("bob")
    (home / "f.txt").write_bytes(b"bob's\n")
    (home / "d").mkdir()
    before = snapshot(home)
    with Control.to(server) as bob:
        bob.login("bob")
        for cmd in ("MKD new", "XMKD new", "RMD d", "XRMD d", "DELE f.txt", "RNFR f.txt", "RNTO g.txt",
                    "MFMT 20000101000000 f.txt", "SITE CHMOD 777 f.txt"):
            r = bob.cmd(cmd)
            assert r.startswith("550"), f"{cmd}: {r!r}"
        for cmd in ("STOR f.txt", "STOR new.txt", "APPE f.txt", "STOU"):
            data = bob.pasv()
            assert bob.cmd(cmd).startswith("550"), cmd
            data.close()
        # Reading works.
        assert retr_bytes(bob, "f.txt") == b"bob's\n"
        assert bob.cmd("SIZE f.txt").strip() == "213 6"
    assert snapshot(home) == before
