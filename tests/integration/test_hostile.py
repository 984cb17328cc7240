"""The hostile input suite (README "Security"): each case checks the exact reply, that nothing outside
the user's root is read or touched, and that a well-behaved client is served right after.

Cases tested elsewhere, not repeated here:
- `..`, `../..`, absolute paths, symlinks planted to /etc and outside, a folder swapped for a symlink
  between commands, escapes through RNTO: test_jail.py (its `jail` fixture is reused below);
- NUL and control characters in arguments (501), lines over 4 KiB (500), commands queued during a
  transfer (they wait, the file arrives whole): tests/session (dispatch_test.cpp,
  transfer_control_test.cpp);
- PORT/EPRT to another address and to ports below 1024, a passive data connection from 127.0.0.2
  (refused, the real client still gets its file): test_data_connections.py;
- USER in clear when TLS is required, commands pipelined after AUTH TLS, a stolen passive port under
  PROT P: test_tls.py;
- REST beyond the end of the file (554), RNTO onto a folder (550): tests/session/sequences_test.cpp;
- a stalled data connection ends with 426 after server.data_timeout: test_limits.py;
- Telnet IAC sequences and ABOR with urgent data: test_telnet.py, test_transfer_control.py.
"""
import os
import re
import resource
import selectors
import socket
import threading
import time

import pytest

from conftest import SANITIZED
from helpers import Control, recv_all, retr_bytes, snapshot
from test_data_connections import listener, low_port_listener, nothing_connects, port_arg
from test_jail import jail  # noqa: F401 (fixture: an outside folder, escaping links, checked unchanged)
from tls_helpers import client_context, make_tls_server  # noqa: F401 (fixture)


def assert_served(server):
    """A well-behaved client: logs in, lists, downloads, uploads and deletes, quits."""
    (server.root() / "wellbehaved.txt").write_bytes(b"served\n")
    with Control.to(server, timeout=30) as c:
        c.login()
        assert retr_bytes(c, "wellbehaved.txt") == b"served\n"
        data = c.pasv()
        c.expect("STOR wellbehaved-up.txt", "150")
        data.sendall(b"up")
        data.close()
        assert c.reply().startswith("226")
        c.expect("DELE wellbehaved-up.txt", "250")
        c.expect("QUIT", "221")


def code(reply: str) -> str:
    return reply[:4]


def normalise(path: str) -> str:
    """What the server's VirtualPath makes of an argument from "/": `..` stops at the root."""
    parts = []
    for seg in path.split("/"):
        if seg == "..":
            if parts:
                parts.pop()
        elif seg not in ("", "."):
            parts.append(seg)
    return "/" + "/".join(parts)


# --- Path traversal variants ------------------------------------------------------------------------
# The jail fixture's outside folder is tmp_path/outside; alice's root is tmp_path/srv0/home/alice, so a
# server that let ".." climb would find OUT three levels up. Each variant names OUT/secret.txt (`{f}`);
# written variants name OUT/planted.txt instead. Bytes, so that overlong UTF-8 goes out as it is.
OUT = "../../../outside"
TRAVERSALS = {
    "dotdot": f"{OUT}/{{f}}",
    "dotdot-deep": "../" * 12 + "outside/{f}",
    "absolute-dotdot": f"/{OUT}/{{f}}",
    "inside-then-out": f"inside/../{OUT}/{{f}}",
    "dot-slashes": "./.././/../..//outside/./{f}",
    "backslash": r"..\..\..\outside\{f}",
    "backslash-rooted": r"\..\..\..\outside\{f}",
    "url-encoded": "%2e%2e%2f%2e%2e%2f%2e%2e%2foutside%2f{f}",
    "url-encoded-slash": "..%2f..%2f..%2foutside%2f{f}",
    "url-encoded-dots": "%2e%2e/%2e%2e/%2e%2e/outside/{f}",
    "double-encoded": "%252e%252e%252f%252e%252e%252foutside%252f{f}",
    "overlong-dots": "\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/outside/{f}",
    "overlong-slash": "..\xc0\xaf..\xc0\xaf..\xc0\xafoutside\xc0\xaf{f}",
    "trailing-dots": ".../.../.../outside/{f}",
    "four-dots": "..../..../..../outside/{f}",
    "trailing-dot-name": f"{OUT}./{{f}}.",
    "dotdot-space": ".. /.. /.. /outside/{f}",
    "mixed": "inside/..\\../%2e%2e/../../../outside/\xc0\xae./{f}",
    "etc-passwd": "../../../../../../etc/passwd",
}


def variant(name: str, f: str) -> bytes:
    # latin-1 keeps "\xc0\xae" as the two bytes C0 AE (overlong UTF-8 for "."), not as UTF-8 of U+00C0.
    return TRAVERSALS[name].format(f=f).encode("latin-1")


def raw_cmd(ctl: Control, verb: str, arg: bytes) -> str:
    ctl.send(verb.encode() + b" " + arg + b"\r\n")
    return ctl.reply()


def in_root(server, virtual: bytes):
    return server.root() / os.fsdecode(virtual.lstrip(b"/"))


@pytest.fixture
def hostile(server, jail):  # noqa: F811
    """Alice logged in next to the jail's outside folder; at the end nothing new exists next to her
    root or the server's own files (the jail fixture checks the outside folder and /etc)."""
    home = server.root().parent
    base_names = set(os.listdir(server.base))
    home_before = {k: v for k, v in snapshot(home).items() if not k.startswith("alice")}
    c = Control.to(server).login()
    yield c
    c.close()
    assert {k: v for k, v in snapshot(home).items() if not k.startswith("alice")} == home_before
    assert set(os.listdir(server.base)) == base_names


@pytest.mark.parametrize("name", TRAVERSALS)
def test_traversal_reads_find_nothing(server, hostile, name):
    ctl = hostile
    target = variant(name, "secret.txt")
    for verb in ("SIZE", "MDTM", "MLST", "DELE", "RNFR"):
        r = raw_cmd(ctl, verb, target)
        assert code(r) == "550 ", f"{verb} {target!r}: {r!r}"
    data = ctl.pasv()
    r = raw_cmd(ctl, "RETR", target)
    assert code(r) == "550 ", f"RETR {target!r}: {r!r}"
    data.close()
    folder = variant(name, "sub")
    r = raw_cmd(ctl, "CWD", folder)
    assert code(r) == "550 ", f"CWD {folder!r}: {r!r}"
    assert ctl.cmd("PWD").startswith('257 "/"')
    for verb in ("LIST", "NLST", "MLSD"):
        data = ctl.pasv()
        r = raw_cmd(ctl, verb, folder)
        assert code(r) == "550 ", f"{verb} {folder!r}: {r!r}"
        data.close()
    assert ctl.silent_for(0.2)
    assert_served(server)


@pytest.mark.parametrize("name", TRAVERSALS)
def test_traversal_writes_stay_inside(server, hostile, name):
    """STOR, MKD and RNTO land at the normalised path inside the root, or fail with 550 when its
    folder does not exist there; never outside."""
    ctl = hostile
    root = server.root()
    for verb, ok in (("STOR", "226 "), ("MKD", "257 "), ("RNTO", "250 ")):
        target = variant(name, f"planted-{verb.lower()}")
        where = normalise(target.decode("latin-1")).encode("latin-1")
        parent_exists = in_root(server, where.rsplit(b"/", 1)[0] or b"/").is_dir()
        expected = ok if parent_exists else "550 "
        if verb == "STOR":
            data = ctl.pasv()
            r = raw_cmd(ctl, "STOR", target)
            if r.startswith("150"):
                data.sendall(b"planted")
                data.close()
                r = ctl.reply()
            else:
                data.close()
        elif verb == "MKD":
            r = raw_cmd(ctl, "MKD", target)
        else:
            (root / "inside" / "victim.txt").write_bytes(b"victim")
            ctl.expect("RNFR inside/victim.txt", "350")
            r = raw_cmd(ctl, "RNTO", target)
        assert code(r) == expected, f"{verb} {target!r} (inside: {where!r}): {r!r}"
        created = in_root(server, where)
        assert created.exists() == (expected == ok), created
        if created.is_dir():
            created.rmdir()
        elif created.exists():
            created.unlink()
    assert_served(server)


def test_nul_inside_a_traversal_501(server, hostile):
    for verb in ("RETR", "STOR", "CWD", "MKD", "DELE", "RNFR", "SIZE"):
        r = raw_cmd(hostile, verb, variant("dotdot", "secret.txt") + b"\x00.jpg")
        assert code(r) == "501 ", f"{verb}: {r!r}"
    assert hostile.silent_for(0.2)
    assert_served(server)


# --- Long names ------------------------------------------------------------------------------------
def test_component_of_255_bytes_works_and_256_is_553(server):
    with Control.to(server) as c:
        c.login()
        ok, long = "n" * 255, "n" * 256
        c.expect(f"MKD {ok}", "257")
        data = c.pasv()
        c.expect(f"STOR {ok}/{ok}", "150")
        data.sendall(b"255")
        data.close()
        assert c.reply().startswith("226")
        assert c.cmd(f"SIZE {ok}/{ok}").strip() == "213 3"
        for cmd in (f"MKD {long}", f"MKD {ok}/{long}", f"RNFR {long}", f"SIZE {long}", f"DELE {long}",
                    f"MDTM {long}"):
            r = c.cmd(cmd)
            assert r.startswith("553 File name too long."), f"{cmd[:10]}...: {r!r}"
        # CWD only asks "is it a folder?": its one refusal.
        assert c.cmd(f"CWD {long}").startswith("550 Failed to change directory.")
        data = c.pasv()
        r = c.cmd(f"STOR {long}")
        assert r.startswith("553 File name too long."), r
        data.close()
        c.expect(f"RNFR {ok}/{ok}", "350")
        assert c.cmd(f"RNTO {long}").startswith("553 File name too long.")
    assert sorted(os.listdir(server.root())) == ["n" * 255]
    assert_served(server)


def test_names_of_4_kib(server):
    with Control.to(server) as c:
        c.login()
        line_max = 4096 - len("MKD ")
        deep = ("d" * 254 + "/") * (line_max // 255)  # 16 components of 254 bytes: a 4080-byte path
        assert len(deep) <= line_max
        r = c.cmd(f"MKD {deep}")
        assert r.startswith("550 "), r  # its folders do not exist
        r = c.cmd("CWD " + "/".join(["d" * 254] * 16))
        assert r.startswith("550 "), r
        # Folders 200 bytes long, 19 deep: the current directory grows to 3819 bytes ...
        name = "p" * 200
        (server.root() / "/".join([name] * 19)).mkdir(parents=True)
        for _ in range(19):
            c.expect(f"CWD {name}", "250")
        r = c.cmd("PWD")
        assert r.startswith('257 "/' + "/".join([name] * 19) + '"'), r[:80]
        # ... and a relative name that takes the path over 4096 bytes is refused as a whole.
        r = c.cmd("MKD " + "q" * 250 + "/" + "q" * 250)
        assert r.startswith("501 Path too long."), r
        r = c.cmd("CWD " + "q" * 250 + "/" + "q" * 250)
        assert r.startswith("501 Path too long."), r
        c.expect("CWD /", "250")
        # A single argument of 4092 bytes: parsed, resolved, not found.
        r = c.cmd("SIZE " + "/".join(["s" * 254] * 16)[:4091])
        assert r.startswith("550 "), r
    assert_served(server)


# --- A symlink swapped while operations run --------------------------------------------------------
def test_symlink_swapped_during_operations(server, hostile, jail):  # noqa: F811
    """A thread swaps `race` between a real folder and a link to the outside folder as fast as it can
    while the client reads, lists, sizes and writes through it: every answer is the inside file or a
    550, the outside folder gets nothing (checked by the jail fixture)."""
    ctl = hostile
    root = server.root()
    real = root / "real"
    real.mkdir()
    (real / "secret.txt").write_bytes(b"inside")  # the outside folder has its own secret.txt
    link = root / "race"
    stop = threading.Event()
    swaps = [0]

    def swapper():
        tmp_link, tmp_dir = root / "race.link", root / "race.dir"
        while not stop.is_set():
            os.symlink(str(jail), tmp_link)
            os.replace(tmp_link, link)  # atomic: race is now the escaping link
            os.symlink("real", tmp_dir)
            os.replace(tmp_dir, link)  # atomic: race is now a link inside the root
            swaps[0] += 1

    t = threading.Thread(target=swapper)
    os.symlink("real", link)
    t.start()
    outcomes = {"inside": 0, "refused": 0}
    try:
        deadline = time.monotonic() + (6 if SANITIZED else 3)
        i = 0
        while time.monotonic() < deadline:
            i += 1
            data = ctl.pasv()
            r = ctl.cmd("RETR race/secret.txt")
            if r.startswith("150"):
                got = recv_all(data)
                assert got == b"inside", got
                assert ctl.reply().startswith("226")
                outcomes["inside"] += 1
            else:
                assert r.startswith("550 "), r
                data.close()
                outcomes["refused"] += 1
            r = ctl.cmd("SIZE race/secret.txt")
            assert r.strip() == "213 6" or r.startswith("550 "), r
            data = ctl.pasv()
            r = ctl.cmd(f"STOR race/up{i}.txt")
            if r.startswith("150"):
                data.sendall(b"up")
                data.close()
                assert ctl.reply().startswith("226")
            else:
                assert r.startswith("550 "), r
                data.close()
            r = ctl.cmd("CWD race")
            assert r.startswith("250") or r.startswith("550 "), r
            if r.startswith("250"):
                r = ctl.cmd("SIZE secret.txt")
                assert r.strip() == "213 6" or r.startswith("550 "), r
                ctl.expect("CWD /", "250")
    finally:
        stop.set()
        t.join(10)
    assert swaps[0] > 10 and outcomes["inside"] + outcomes["refused"] > 5, (swaps, outcomes)
    for p in (root / "race.link", root / "race.dir", link):
        if os.path.islink(p):
            os.unlink(p)
    assert_served(server)


# --- Bounce attacks --------------------------------------------------------------------------------
def test_bounce_to_port_25_and_other_hosts_refused(make_server):
    """PORT/EPRT to the SMTP port of the client's own address or to another address: 501, nothing
    connects (other low ports and addresses: test_data_connections.py). Eight bounce attempts in a
    row: bans are off here (the fifth would ban the client; test_bans.py tests that)."""
    server = make_server(extra='[bans]\nmax_failures = 0\nlogin_delay = "0s"\n')
    smtp = low_port_listener(25)
    other = listener("127.0.0.2")
    try:
        with Control.to(server) as c:
            c.login()
            port = other.getsockname()[1]
            for cmd in ("PORT 127,0,0,1,0,25", "EPRT |1|127.0.0.1|25|", "EPRT |2|::ffff:127.0.0.1|25|",
                        f"PORT {port_arg('127.0.0.2', port)}", f"EPRT |1|127.0.0.2|{port}|",
                        f"EPRT |2|::ffff:127.0.0.2|{port}|", "PORT 192,0,2,1,0,25", "EPRT |1|192.0.2.1|25|"):
                r = c.cmd(cmd)
                assert r.startswith("501 "), f"{cmd}: {r!r}"
                assert c.cmd("LIST").startswith("425 "), "no data connection was prepared"
            assert nothing_connects(other)
            if smtp is not None:
                assert nothing_connects(smtp)
    finally:
        other.close()
        if smtp is not None:
            smtp.close()
    assert_served(server)


# --- TLS: commands injected after AUTH TLS (STARTTLS command injection, CVE-2011-0411 class) ------
@pytest.mark.parametrize("injected", [b"QUIT\r\n", b"DELE f.txt\r\nRMD d\r\n", b"NOOP\r\nNOOP\r\nNOOP\r\n",
                                      b"USER alice\r\nPASS alice-secret\r\nDELE f.txt\r\n"])
def test_commands_pipelined_with_auth_tls_are_discarded(make_tls_server, injected):  # noqa: F811
    """The plain bytes that follow AUTH TLS in the same packet are never run, neither before nor
    after the handshake (test_tls.py has the USER/PASS case with its log line)."""
    srv = make_tls_server()
    (srv.root() / "f.txt").write_bytes(b"keep me")
    (srv.root() / "d").mkdir()
    with Control.to(srv, timeout=10) as ctl:
        ctl.send(b"AUTH TLS\r\n" + injected)  # one packet
        assert ctl.reply().startswith("234 ")
        assert ctl.buf == b"", "one reply to the whole packet"
        ctl.sock = client_context().wrap_socket(ctl.sock, server_hostname="localhost")
        # Not logged in (USER/PASS were dropped), still connected (QUIT was dropped).
        assert ctl.cmd("PWD").startswith("530 ")
        ctl.login()
        assert (srv.root() / "f.txt").read_bytes() == b"keep me" and (srv.root() / "d").is_dir()
        ctl.expect("QUIT", "221")
    assert "sent after AUTH TLS" in srv.log()
    with Control.to(srv, timeout=10) as c:  # the well-behaved client, over TLS
        c.expect("AUTH TLS", "234")
        c.sock = client_context().wrap_socket(c.sock, server_hostname="localhost")
        c.login()
        c.expect("QUIT", "221")


# --- Clients that never read ------------------------------------------------------------------------
def test_client_that_never_reads_its_data_connection(make_server):
    """A RETR of 64 MiB that the client never reads and a client that sends commands without ever
    reading a reply: each blocks only itself; others are served at once."""
    srv = make_server()
    (srv.root() / "big.bin").write_bytes(b"\0" * (64 << 20))
    stuck = Control.to(srv).login()
    deaf = Control.to(srv).login()
    try:
        data = stuck.pasv()
        data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.expect("RETR big.bin", "150")
        deaf.flood_without_reading()  # the server is stuck writing its replies
        started = time.monotonic()
        assert_served(srv)
        assert_served(srv)
        assert time.monotonic() - started < (20 if SANITIZED else 10)
        # The stuck client's own control connection still answers STAT; a NOOP is answered after the
        # transfer's final reply.
        assert "Transfer in progress" in stuck.cmd("STAT")
        stuck.send(b"NOOP\r\n")
        data.close()
        r = stuck.reply(timeout=30)
        assert r.startswith("426 "), r
        assert stuck.reply().startswith("200")
    finally:
        stuck.close()
        deaf.close()
    assert_served(srv)


# --- 10,000 connections at once ---------------------------------------------------------------------
CONNECTIONS = 10_000
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux 4.2


def fd_count(pid) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def stable_fd_count(pid) -> int:
    """The count once the last closed session has gone (bounded wait)."""
    last, deadline = fd_count(pid), time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = fd_count(pid)
        if now == last:
            return now
        last = now
    return last


def open_files_limit(pid) -> int:
    for line in open(f"/proc/{pid}/limits"):
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-file limit")


def test_10000_connections_at_once(make_server):
    """10,000 connections from 127.0.0.2 opened at once all get a session (the server raised its
    open-file limit for them); a normal client is served during and after; when they close, the
    server's descriptors return to where they were."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = CONNECTIONS + 1000
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            hard = want
        except (ValueError, OSError):
            pytest.skip(f"the test needs {want} open files, the hard limit is {hard}")
    try:
        # The server starts with a low soft limit, as from a login shell: it must raise it itself.
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        srv = make_server(server=f"max_sessions = {CONNECTIONS + 50}")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    pid = srv.proc.pid
    assert open_files_limit(pid) >= want, "the server raised RLIMIT_NOFILE"
    assert re.search(r"open-file limit \(RLIMIT_NOFILE\): \d+ \(was 1024, hard limit \d+\)", srv.log())
    assert_served(srv)
    baseline = stable_fd_count(pid)
    started = time.monotonic()
    sel = selectors.DefaultSelector()
    socks = []
    greeted = {}
    try:
        for _ in range(CONNECTIONS):
            s = socket.socket()
            s.setblocking(False)
            # The port is picked at connect(), not by a search at bind() that grows with every socket.
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind(("127.0.0.2", 0))
            s.connect_ex((srv.host, srv.port))
            socks.append(s)
            sel.register(s, selectors.EVENT_READ)
        assert_served(srv)  # during the burst
        pending = len(socks)
        deadline = time.monotonic() + (50 if SANITIZED else 40)
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                try:
                    got = key.fileobj.recv(512)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    got = b""
                what = got[:3].decode("ascii", "replace") if got else "closed"
                greeted[what] = greeted.get(what, 0) + 1
                sel.unregister(key.fileobj)
                pending -= 1
        assert pending == 0, f"{pending} connections got no greeting: {greeted}"
        assert greeted.get("220") == CONNECTIONS, greeted
        assert fd_count(pid) >= baseline + CONNECTIONS, "each connection holds a session"
        assert_served(srv)
    finally:
        for s in socks:
            s.close()
        sel.close()
    # Every session notices its close; the descriptors go back to the baseline.
    deadline = time.monotonic() + 30
    while fd_count(pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.2)
    assert fd_count(pid) <= baseline, f"{fd_count(pid)} descriptors open, {baseline} before"
    assert srv.proc.poll() is None
    assert_served(srv)
    assert time.monotonic() - started < 60
