"""LIST/NLST (ls -l form, ls-style options, globs), MLSD/MLST facts, STAT <path>, and names with spaces,
leading dashes and UTF-8 that must round-trip unchanged."""
import calendar
import io
import os
import re
import socket
import stat
import struct
import time

import pytest

from helpers import Control, login, recv_all
from tls_helpers import make_tls_server, tls_login  # noqa: F401 (a fixture)

# The Unix `ls -l` form as curl's and FileZilla's parsers read it: type+perms, links, owner, group,
# size, month, day, time-or-year, then the name (everything after one space, spaces included).
LS_RE = re.compile(r"^(?P<type>[-dlp])(?P<perm>[-r][-w][-x][-r][-w][-x][-r][-w][-x])\s+(?P<links>\d+)\s+"
                   r"(?P<owner>\S+)\s+(?P<group>\S+)\s+(?P<size>\d+)\s+"
                   r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(?P<day>\d{1,2})\s+"
                   r"(?P<when>\d{2}:\d{2}|\d{4}) (?P<name>.+)$")

OLD = calendar.timegm((2020, 3, 14, 15, 9, 26))
ODD_NAMES = ["with space  two.txt", "-rf", "--dash name", "héllo wörld ✓.txt", "日本語 ファイル"]


@pytest.fixture
def tree(server):
    root = server.root()
    (root / "plain.txt").write_bytes(b"p" * 100)
    os.utime(root / "plain.txt", (OLD, OLD))
    (root / "recent.bin").write_bytes(b"r" * 12345)
    (root / ".hidden").write_bytes(b"h")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    for n in ODD_NAMES:
        (root / n).write_bytes(n.encode())
    return root


def transfer_text(ctl: Control, command: str) -> list[str]:
    data = ctl.pasv()
    ctl.expect(command, "150")
    body = recv_all(data)
    r = ctl.reply()
    assert r.startswith("226"), r
    assert body == b"" or body.endswith(b"\r\n"), body[-50:]
    return [line for line in body.decode("utf-8").split("\r\n") if line]


def parse_ls(lines):
    out = {}
    for line in lines:
        m = LS_RE.match(line)
        assert m, f"not in ls -l form: {line!r}"
        out[m["name"]] = m
    return out


def test_list_is_parseable_ls_long_format(server, tree):
    with Control.to(server) as ctl:
        ctl.login()
        entries = parse_ls(transfer_text(ctl, "LIST"))
    expected = {"plain.txt", "recent.bin", "sub", ".hidden", *ODD_NAMES}
    assert set(entries) == expected
    for name, m in entries.items():
        st = os.stat(tree / name)
        assert int(m["size"]) == st.st_size, name
        assert m["type"] == ("d" if stat.S_ISDIR(st.st_mode) else "-"), name
        assert m["perm"] == stat.filemode(st.st_mode)[1:], name
        assert int(m["links"]) == st.st_nlink, name
    old = entries["plain.txt"]
    assert (old["month"], old["day"], old["when"]) == ("Mar", "14", "2020")
    recent = entries["recent.bin"]
    t = time.gmtime(os.stat(tree / "recent.bin").st_mtime)
    assert (recent["month"], int(recent["day"]), recent["when"]) == (
        time.strftime("%b", t), t.tm_mday, time.strftime("%H:%M", t))


def test_list_and_nlst_accept_ls_options(server, tree):
    with Control.to(server) as ctl:
        ctl.login()
        all_names = {"plain.txt", "recent.bin", "sub", ".hidden", *ODD_NAMES}
        for opts in ("-a", "-l", "-la", "-al", "-a -l"):
            assert set(parse_ls(transfer_text(ctl, f"LIST {opts}"))) == all_names, opts
        for opts in ("-a", "-la", "-l"):
            assert set(parse_ls(transfer_text(ctl, f"LIST {opts} sub"))) == {"inner.txt"}, opts
        assert set(transfer_text(ctl, "NLST")) == all_names
        assert set(transfer_text(ctl, "NLST -1")) == all_names
        assert set(transfer_text(ctl, "NLST -a")) == all_names
        assert transfer_text(ctl, "NLST -1 sub") == ["inner.txt"]
        # -l turns NLST into the long form, as ls would.
        assert set(parse_ls(transfer_text(ctl, "NLST -l"))) == all_names
        assert set(parse_ls(transfer_text(ctl, "NLST -la sub"))) == {"inner.txt"}
        # A word that is not made of ls option letters is a name, even with leading dashes.
        assert set(parse_ls(transfer_text(ctl, "LIST --dash name"))) == {"--dash name"}
        assert set(parse_ls(transfer_text(ctl, "LIST -rf"))) == {"-rf"}
        assert transfer_text(ctl, "NLST sub/inner.txt") == ["sub/inner.txt"]
        assert set(parse_ls(transfer_text(ctl, "LIST -l sub/inner.txt"))) == {"inner.txt"}


def test_list_globs(server, tree):
    with Control.to(server) as ctl:
        ctl.login()
        assert sorted(transfer_text(ctl, "NLST *.txt")) == sorted(
            ["plain.txt", "with space  two.txt", "héllo wörld ✓.txt"])
        assert set(parse_ls(transfer_text(ctl, "LIST -la re?ent.*"))) == {"recent.bin"}
        assert transfer_text(ctl, "NLST sub/*.txt") == ["inner.txt"]
        data = ctl.pasv()
        assert ctl.cmd("NLST *.nothing").startswith("550")
        data.close()


def test_list_missing_path_is_550(server, tree):
    with Control.to(server) as ctl:
        ctl.login()
        data = ctl.pasv()
        assert ctl.cmd("LIST nope").startswith("550")
        data.close()
        assert ctl.silent_for(0.3)


def parse_facts(line: str):
    facts, _, name = line.partition(" ")
    out = {}
    for f in facts.rstrip(";").split(";"):
        k, _, v = f.partition("=")
        out[k.lower()] = v
    return out, name


def test_mlsd_facts(server, tree):
    os.link(tree / "recent.bin", tree / "hardlink.bin")
    with Control.to(server) as ctl:
        ctl.login()
        entries = dict(reversed(parse_facts(line)) for line in transfer_text(ctl, "MLSD"))
    assert set(entries) == {"plain.txt", "recent.bin", "hardlink.bin", "sub", ".hidden", *ODD_NAMES}
    for name, facts in entries.items():
        st = os.stat(tree / name)
        assert facts["modify"] == time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime)), name
        if stat.S_ISDIR(st.st_mode):
            assert facts["type"] == "dir" and facts["perm"] == "cdeflmp" and "size" not in facts
        else:
            assert facts["type"] == "file" and facts["perm"] == "adfrw"
            assert int(facts["size"]) == st.st_size
        assert int(facts["unix.mode"], 8) == stat.S_IMODE(st.st_mode)
    assert entries["plain.txt"]["modify"] == "20200314150926"
    uniques = [f["unique"] for n, f in entries.items() if n != "hardlink.bin"]
    assert len(set(uniques)) == len(uniques), "unique must differ between files"
    assert entries["hardlink.bin"]["unique"] == entries["recent.bin"]["unique"], "same inode, same unique"


def test_mlsd_perm_for_read_only_user(server, tree):
    bob = server.root("bob")
    (bob / "f.txt").write_bytes(b"x")
    (bob / "d").mkdir()
    with Control.to(server) as ctl:
        ctl.login("bob")
        entries = dict(reversed(parse_facts(line)) for line in transfer_text(ctl, "MLSD"))
    assert entries["f.txt"]["perm"] == "r"
    assert entries["d"]["perm"] == "el"


def test_mlst(server, tree):
    with Control.to(server) as ctl:
        ctl.login()
        r = ctl.cmd("MLST sub/inner.txt")
        lines = r.splitlines()
        assert lines[0].startswith("250-") and lines[-1].startswith("250 "), r
        assert lines[1].startswith(" "), "the facts line starts with a space (RFC 3659 7.2)"
        facts, name = parse_facts(lines[1][1:])
        assert name == "/sub/inner.txt"
        assert facts["type"] == "file" and facts["size"] == "5" and facts["perm"] == "adfrw"
        facts, name = parse_facts(ctl.cmd("MLST").splitlines()[1][1:])
        assert (facts["type"], name) == ("dir", "/")
        facts, name = parse_facts(ctl.cmd("MLST --dash name").splitlines()[1][1:])
        assert (facts["type"], name, facts["size"]) == ("file", "/--dash name", str(len("--dash name")))
        assert ctl.cmd("MLST nope").startswith("550")
        data = ctl.pasv()
        assert ctl.cmd("MLSD plain.txt").startswith("550"), "MLSD needs a directory"
        data.close()
        ctl.expect("OPTS MLST type;size;", "200")


def test_stat_path_lists_over_control_connection(server, tree):
    with Control.to(server) as ctl:
        ctl.login()
        r = ctl.cmd("STAT sub")
        lines = r.splitlines()
        assert lines[0].startswith("213-") and lines[-1].startswith("213 "), r
        body = [line.strip() for line in lines[1:-1]]
        assert set(parse_ls(body)) == {"inner.txt"}
        assert ctl.cmd("STAT nope").startswith("550")
        r = ctl.cmd("STAT")
        assert r.startswith("211-") and "No data connection" in r and "alice" in r


def test_odd_names_round_trip(server):
    ftp = login(server)
    names = ODD_NAMES + ["a'quote\"d.txt", "semi;colon=eq.txt"]
    for n in names:
        ftp.storbinary(f"STOR {n}", io.BytesIO(n.encode() * 3))
    root = server.root()
    assert {p.name for p in root.iterdir()} == set(names)
    for n in names:
        assert (root / n).read_bytes() == n.encode() * 3
        out = io.BytesIO()
        ftp.retrbinary(f"RETR {n}", out.write)
        assert out.getvalue() == n.encode() * 3, n
        assert ftp.size(n) == len(n.encode()) * 3
    assert set(ftp.nlst()) == set(names)
    assert {n for n, _ in ftp.mlsd()} == set(names)
    ftp.rename("héllo wörld ✓.txt", "Ünïcödé → ✓.txt")
    assert (root / "Ünïcödé → ✓.txt").read_bytes() == "héllo wörld ✓.txt".encode() * 3
    ftp.mkd("dír with space")
    ftp.cwd("dír with space")
    assert ftp.pwd() == "/dír with space"
    ftp.cwd("/")
    ftp.rmd("dír with space")
    ftp.delete("-rf")
    assert not (root / "-rf").exists()
    ftp.quit()


def tls_listing(ftp, command: str) -> bytes:
    out = bytearray()
    ftp.retrbinary(command, out.extend)
    return bytes(out)


def test_large_folder_arrives_complete_and_sorted_over_tls_and_clear(make_tls_server):
    """A folder of 3,000 entries (read by several workers at once, while the data connection's TLS
    handshake runs) comes complete, sorted by name, with the same bytes over PROT P and PROT C."""
    srv = make_tls_server()
    big = srv.root() / "big"
    big.mkdir()
    names = [f"entry {i:05d}{' ünï' if i % 7 == 0 else ''}.dat" for i in range(3000)]
    names += ["with\nnewline", "-dash", ".hidden", "x" * 255]
    for i, n in enumerate(names):
        (big / n).write_bytes(b"z" * (i % 50))
        os.utime(big / n, (OLD + i, OLD + i))
    (big / "a folder").mkdir()
    os.symlink("entry 00001.dat", big / "inside-link")
    os.symlink("/etc/passwd", big / "outside-link")
    expected = sorted(names + ["a folder", "inside-link", "outside-link"], key=lambda n: n.encode())
    ftp = tls_login(srv)
    try:
        nlst = tls_listing(ftp, "NLST big")
        assert nlst.decode().split("\r\n") == expected + [""]
        listing = tls_listing(ftp, "LIST big")
        mlsd = tls_listing(ftp, "MLSD big")
        ftp.prot_c()
        assert tls_listing(ftp, "LIST big") == listing
        assert tls_listing(ftp, "MLSD big") == mlsd
    finally:
        ftp.quit()
    lines = listing.decode().split("\r\n")
    assert lines[-1] == "" and len(lines) == len(expected) + 1
    by_name = {}
    for line, name in zip(lines, expected):
        assert line.endswith(" " + name), (line, name)
        by_name[name] = line
    assert by_name["a folder"].startswith("d")
    assert by_name["inside-link"].startswith("-") and " Mar 14  2020 inside-link" in by_name["inside-link"]
    assert by_name["outside-link"].startswith("l"), "an escaping link is shown, not followed"
    for i, n in enumerate(names):
        m = LS_RE.match(by_name[n].replace("\n", " "))
        assert m and int(m["size"]) == i % 50, by_name[n]
    facts = mlsd.decode().split("\r\n")
    assert len(facts) == len(expected) + 1
    for line, name in zip(facts, expected):
        parsed, shown = parse_facts(line)
        assert shown == name
        st = (os.lstat if name == "outside-link" else os.stat)(big / name)
        assert parsed["modify"] == time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime)), name
        if not stat.S_ISDIR(st.st_mode):
            assert int(parsed["size"]) == st.st_size


def test_listing_cut_short_by_the_client(server):
    """The client closes the data connection without reading a large listing: one final reply, and the
    session goes on."""
    big = server.root() / "big"
    big.mkdir()
    for i in range(3000):
        (big / f"entry-{i:05d}-{'n' * 100}").touch()
    with Control.to(server) as ctl:
        ctl.login()
        for command in ("LIST big", "MLSD big"):
            data = ctl.pasv()
            ctl.expect(command, "150")
            data.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            data.close()  # a reset: the rest cannot be delivered
            r = ctl.reply()
            assert r[:3] in ("226", "426"), r
            assert ctl.silent_for(0.2)
        data = ctl.pasv()
        ctl.expect("NLST big", "150")
        assert len(recv_all(data).split(b"\r\n")) == 3001
        assert ctl.reply().startswith("226")


def fact_line(line: str) -> tuple[dict, str]:
    """RFC 3659 §7.2: `fact=value;` for each fact, a space, the name (no facts: a space and the name)."""
    facts, _, name = line.partition(" ")
    out = {}
    for f in facts.split(";"):
        if f:
            k, _, v = f.partition("=")
            out[k.lower()] = v
    assert facts == "" or facts.endswith(";"), line
    return out, name


def mlst_entry(ctl: Control, path: str) -> tuple[dict, str]:
    lines = ctl.cmd(f"MLST {path}").splitlines()
    assert lines[0].startswith("250-") and lines[-1].startswith("250 "), lines
    assert lines[1].startswith(" "), lines
    return fact_line(lines[1][1:])


def test_opts_mlst_selects_the_facts_sent(server, tree):
    """RFC 3659 §7.9: OPTS MLST names the facts MLST and MLSD send (unknown ones ignored, names in any
    case, an empty list: none); the reply lists the facts now selected; FEAT marks them with *."""
    with Control.to(server) as ctl, Control.to(server) as other:
        ctl.login()
        other.login()
        assert ctl.cmd("OPTS MLST size;") == "200 MLST OPTS size;\r\n"
        assert mlst_entry(ctl, "plain.txt") == ({"size": "100"}, "/plain.txt")
        entries = dict(reversed(fact_line(line)) for line in transfer_text(ctl, "MLSD"))
        assert entries["recent.bin"] == {"size": "12345"}
        assert entries["sub"] == {}, "a folder has no size: no facts at all"
        assert ctl.cmd("OPTS MLST Modify;bogus;TYPE;unix.MODE;") == "200 MLST OPTS type;modify;UNIX.mode;\r\n"
        facts, _ = mlst_entry(ctl, "plain.txt")
        assert facts == {"type": "file", "modify": "20200314150926",
                         "unix.mode": oct(stat.S_IMODE(os.stat(tree / "plain.txt").st_mode))[2:].zfill(4)}
        feat = [line.strip() for line in ctl.cmd("FEAT").splitlines() if line.strip().startswith("MLST ")]
        assert feat == ["MLST type*;size;modify*;perm;unique;UNIX.mode*;"], feat
        assert ctl.cmd("OPTS MLST") == "200 MLST OPTS\r\n"
        assert mlst_entry(ctl, "sub") == ({}, "/sub")
        assert transfer_text(ctl, "MLSD sub") == [" inner.txt"]
        assert ctl.cmd("OPTS MLST type size;").startswith("501"), "facts are separated by ';', not spaces"
        assert mlst_entry(ctl, "sub") == ({}, "/sub"), "a refused OPTS changes nothing"
        # Per session: the other session still gets every fact.
        facts, _ = mlst_entry(other, "plain.txt")
        assert set(facts) == {"type", "size", "modify", "perm", "unique", "unix.mode"}
        # All of them again; REIN goes back to all too.
        assert (ctl.cmd("OPTS MLST type;size;modify;perm;unique;UNIX.mode;")
                == "200 MLST OPTS type;size;modify;perm;unique;UNIX.mode;\r\n")
        assert ctl.cmd("OPTS MLST size") == "200 MLST OPTS size;\r\n", "the last ';' may be left out"
        ctl.expect("REIN", "220")
        ctl.login()
        assert set(mlst_entry(ctl, "plain.txt")[0]) == {"type", "size", "modify", "perm", "unique", "unix.mode"}
