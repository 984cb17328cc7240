"""File and folder commands: STOU, MKD/RMD (257 quoting with doubled quotes), CWD/CDUP/PWD, DELE,
SIZE, MDTM, MFMT, SITE CHMOD and SITE HELP. RNFR/RNTO: tests/session/sequences_test.cpp."""
import calendar
import ftplib
import io
import os
import stat

import pytest

from helpers import login, stor_bytes


def test_stou_picks_unique_names(server, ctl):
    first = stor_bytes(ctl, "STOU", b"one")
    assert first.startswith("150 FILE: ftpsd.upload"), first
    second = stor_bytes(ctl, "STOU", b"two")
    name1, name2 = first.split("FILE: ")[1].strip(), second.split("FILE: ")[1].strip()
    assert name1 != name2
    assert (server.root() / name1).read_bytes() == b"one"
    assert (server.root() / name2).read_bytes() == b"two"
    (server.root() / "report.txt").write_bytes(b"keep me")
    third = stor_bytes(ctl, "STOU report.txt", b"three")
    name3 = third.split("FILE: ")[1].strip()
    assert name3 != "report.txt"
    assert (server.root() / "report.txt").read_bytes() == b"keep me"
    assert (server.root() / name3).read_bytes() == b"three"


def test_stou_final_reply_names_the_file(ctl):
    data = ctl.pasv()
    opening = ctl.expect("STOU", "150")
    data.close()
    final = ctl.reply()
    assert final.startswith("226") and opening.split("FILE: ")[1].strip() in final, final


@pytest.mark.parametrize("name,quoted", [('a"b', '"/a""b"'), ('"', '"/"""'), ('x""y', '"/x""""y"'),
                                         ("with space", '"/with space"'), ("ü ✓", '"/ü ✓"')])
def test_mkd_quotes_doubled(server, ctl, name, quoted):
    r = ctl.cmd(f"MKD {name}")
    assert r.startswith(f"257 {quoted} "), r
    assert (server.root() / name).is_dir()
    ctl.expect(f"CWD {name}", "250")
    r = ctl.cmd("PWD")
    assert r.startswith(f"257 {quoted} "), r
    ctl.expect("CDUP", "250")
    ctl.expect(f"RMD {name}", "250")
    assert not (server.root() / name).exists()


def test_mkd_quoting_parsed_by_ftplib(server):
    ftp = login(server)
    assert ftp.mkd('q"uote') == '/q"uote'
    ftp.cwd('q"uote')
    assert ftp.pwd() == '/q"uote'
    assert ftp.mkd("nested") == '/q"uote/nested'
    ftp.quit()


def test_directories(server, ctl):
    ctl.expect("XMKD a", "257")
    ctl.expect("MKD a/b", "257")
    assert ctl.cmd("MKD a").startswith("550"), "exists"
    assert ctl.cmd("MKD missing/x").startswith("550")
    ctl.expect("XCWD a/b", "250")
    assert ctl.cmd("XPWD").startswith('257 "/a/b"')
    ctl.expect("XCUP", "250")
    assert ctl.cmd("PWD").startswith('257 "/a"')
    ctl.expect("CWD", "250")  # no argument: the root
    assert ctl.cmd("PWD").startswith('257 "/"')
    assert ctl.cmd("CWD nope").startswith("550")
    (server.root() / "file").write_bytes(b"x")
    assert ctl.cmd("CWD file").startswith("550")
    assert ctl.cmd("RMD a").startswith("550"), "not empty"
    assert ctl.cmd("DELE a").startswith("550"), "DELE does not remove folders"
    ctl.expect("XRMD a/b", "250")
    ctl.expect("RMD /a", "250")
    assert ctl.cmd("RMD file").startswith("550")
    assert ctl.cmd("RMD /").startswith("550")
    assert (server.root() / "file").exists()


def test_upload_onto_a_folder_refused(server, ctl):
    (server.root() / "d").mkdir()
    for verb in ("STOR", "APPE"):
        data = ctl.pasv()
        assert ctl.cmd(f"{verb} d").startswith("550")
        data.close()
    data = ctl.pasv()
    assert ctl.cmd("STOR /").startswith("550")
    data.close()
    assert (server.root() / "d").is_dir()


def test_special_files_refused_without_hanging(server, ctl):
    os.mkfifo(server.root() / "fifo")
    data = ctl.pasv()
    assert ctl.cmd("RETR fifo").startswith("550"), "reading a FIFO would block"
    data.close()
    data = ctl.pasv()
    assert ctl.cmd("STOR fifo").startswith("550")
    data.close()
    assert ctl.cmd("SIZE fifo").startswith("550")
    ctl.expect("NOOP", "200")


def test_dele(server, ctl):
    (server.root() / "f").write_bytes(b"x")
    ctl.expect("DELE f", "250")
    assert not (server.root() / "f").exists()
    assert ctl.cmd("DELE f").startswith("550")
    assert ctl.cmd("DELE").startswith("501")


def test_size_mdtm(server, ctl):
    root = server.root()
    (root / "f.bin").write_bytes(b"z" * 4321)
    when = calendar.timegm((2021, 12, 31, 23, 59, 58))
    os.utime(root / "f.bin", (when, when))
    (root / "d").mkdir()
    assert ctl.cmd("SIZE f.bin").strip() == "213 4321"
    assert ctl.cmd("SIZE d").startswith("550")
    assert ctl.cmd("SIZE nope").startswith("550")
    assert ctl.cmd("MDTM f.bin").strip() == "213 20211231235958"
    assert ctl.cmd("MDTM nope").startswith("550")
    assert ctl.cmd("SIZE").startswith("501")


def test_mfmt(server, ctl):
    root = server.root()
    (root / "f").write_bytes(b"x")
    r = ctl.cmd("MFMT 20200102030405 f")
    assert r.startswith("213") and "Modify=20200102030405" in r, r
    assert os.stat(root / "f").st_mtime == calendar.timegm((2020, 1, 2, 3, 4, 5))
    assert ctl.cmd("MDTM f").strip() == "213 20200102030405"
    ctl.expect("MFMT 19991231235959.123 f", "213")  # fractions are accepted
    assert int(os.stat(root / "f").st_mtime) == calendar.timegm((1999, 12, 31, 23, 59, 59))
    for bad in ("MFMT 2020 f", "MFMT 20201301000000 f", "MFMT 20200102030405", "MFMT x f"):
        assert ctl.cmd(bad).startswith("501"), bad
    assert ctl.cmd("MFMT 20200102030405 nope").startswith("550")
    assert not (root / "nope").exists()


def test_site_chmod(server, ctl):
    root = server.root()
    (root / "f").write_bytes(b"x")
    os.chmod(root / "f", 0o644)
    ctl.expect("SITE CHMOD 600 f", "200")
    assert stat.S_IMODE(os.stat(root / "f").st_mode) == 0o600
    ctl.expect("site chmod 0755 f", "200")
    assert stat.S_IMODE(os.stat(root / "f").st_mode) == 0o755
    ctl.expect("SITE CHMOD 4777 f", "200")
    assert stat.S_IMODE(os.stat(root / "f").st_mode) == 0o777, "setuid/setgid/sticky are never set"
    for bad in ("SITE CHMOD 999 f", "SITE CHMOD rwx f", "SITE CHMOD 644", "SITE CHMOD 17777 f"):
        assert ctl.cmd(bad).startswith("501"), bad
    assert ctl.cmd("SITE CHMOD 644 nope").startswith("550")
    assert ctl.cmd("SITE NOPE").startswith("501")
    r = ctl.cmd("SITE HELP")
    assert r.startswith("214") and "CHMOD" in r


def test_upload_download_in_subfolder_with_ftplib(server):
    ftp = login(server)
    ftp.mkd("x")
    ftp.cwd("x")
    payload = os.urandom(3 << 20)
    ftp.storbinary("STOR data.bin", io.BytesIO(payload))
    out = io.BytesIO()
    ftp.retrbinary("RETR /x/data.bin", out.write)
    assert out.getvalue() == payload
    with pytest.raises(ftplib.error_perm, match="^550"):
        ftp.retrbinary("RETR missing", out.write)
    ftp.quit()
