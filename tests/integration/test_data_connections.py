"""PASV, EPSV (1, 2, ALL), PORT and EPRT: active mode only to the control peer on a port >= 1024;
EPRT addresses compared as addresses (0:0:0:0:0:0:0:1 is ::1); PASV on IPv6 is 522; a data connection
from another address is refused; a refused transfer gets exactly one reply and never a stray 226."""
import socket

import pytest

from helpers import Control, recv_all, retr_bytes


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback (::1) on this host")


@pytest.fixture
def ctl(server):
    (server.root() / "f.txt").write_bytes(b"hello data\n")
    c = Control.to(server).login()
    yield c
    c.close()


def listener(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(4)
    s.settimeout(10)
    return s


def port_arg(host, port):
    return ",".join(host.split(".") + [str(port >> 8), str(port & 0xFF)])


def nothing_connects(lst: socket.socket, seconds=0.3) -> bool:
    lst.settimeout(seconds)
    try:
        conn, _ = lst.accept()
        conn.close()
        return False
    except socket.timeout:
        return True


def active_retr(ctl, command, lst, path="f.txt"):
    ctl.expect(command, "200")
    ctl.expect(f"RETR {path}", "150")
    conn, peer = lst.accept()
    out = recv_all(conn)
    assert ctl.reply().startswith("226")
    return out, peer


def test_pasv_and_epsv_on_ipv4(ctl):
    assert retr_bytes(ctl, "f.txt") == b"hello data\n"
    for arg in ("", "1"):
        data = ctl.epsv(arg)
        ctl.expect("RETR f.txt", "150")
        assert recv_all(data) == b"hello data\n"
        assert ctl.reply().startswith("226")
    r = ctl.cmd("EPSV 2")
    assert r.startswith("522") and "(1)" in r, r
    assert ctl.cmd("EPSV 3").startswith("522")
    assert ctl.cmd("EPSV x").startswith("501")


def test_a_second_pasv_replaces_the_first(ctl):
    r = ctl.expect("PASV", "227")
    nums = [int(x) for x in r[r.index("(") + 1:r.index(")")].split(",")]
    first_port = nums[4] * 256 + nums[5]
    assert retr_bytes(ctl, "f.txt") == b"hello data\n"  # its own PASV
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", first_port), timeout=5).recv(1)


def test_epsv_all_allows_only_epsv(ctl):
    ctl.expect("EPSV ALL", "200")
    for cmd in ("PASV", "PORT 127,0,0,1,200,1", "EPRT |1|127.0.0.1|51201|"):
        assert ctl.cmd(cmd).startswith("503"), cmd
    data = ctl.epsv()
    ctl.expect("RETR f.txt", "150")
    assert recv_all(data) == b"hello data\n"
    assert ctl.reply().startswith("226")


def test_port_and_eprt_to_the_control_peer(ctl):
    with listener() as lst:
        out, peer = active_retr(ctl, f"PORT {port_arg('127.0.0.1', lst.getsockname()[1])}", lst)
        assert out == b"hello data\n" and peer[0] == "127.0.0.1"
        out, _ = active_retr(ctl, f"EPRT |1|127.0.0.1|{lst.getsockname()[1]}|", lst)
        assert out == b"hello data\n"
        # Any printable delimiter (RFC 2428), and an IPv4-mapped IPv6 form of the same address.
        out, _ = active_retr(ctl, f"EPRT !1!127.0.0.1!{lst.getsockname()[1]}!", lst)
        assert out == b"hello data\n"
        out, _ = active_retr(ctl, f"EPRT |2|::ffff:127.0.0.1|{lst.getsockname()[1]}|", lst)
        assert out == b"hello data\n"


def test_port_eprt_to_another_address_refused(make_server):
    # Five bounce attempts in a row: bans are off here (the fifth would ban; test_bans.py tests that).
    srv = make_server(extra='[bans]\nmax_failures = 0\nlogin_delay = "0s"\n')
    (srv.root() / "f.txt").write_bytes(b"hello data\n")
    ctl = Control.to(srv).login()
    with listener("127.0.0.2") as other:
        port = other.getsockname()[1]
        for cmd in (f"PORT {port_arg('127.0.0.2', port)}", f"EPRT |1|127.0.0.2|{port}|"):
            r = ctl.cmd(cmd)
            assert r.startswith("501"), r
            r = ctl.cmd("RETR f.txt")
            assert r.startswith("425"), "no data connection was prepared"
            assert ctl.silent_for(0.3)
            assert nothing_connects(other), f"{cmd}: the server connected elsewhere"
    for cmd in ("PORT 10,1,2,3,200,1", "EPRT |1|192.0.2.7|51000|", "EPRT |2|2001:db8::1|51000|"):
        assert ctl.cmd(cmd).startswith("501"), cmd


def low_port_listener(port):
    """A listener on 127.0.0.1:port (< 1024) that a bounce would reach; None when not root or the port is
    taken (the replies are still checked then)."""
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1)
        return s
    except OSError:
        s.close()
        return None


def test_port_eprt_to_privileged_port_refused(ctl):
    low = low_port_listener(1021)
    try:
        for cmd in ("PORT 127,0,0,1,3,253", "EPRT |1|127.0.0.1|1021|", "PORT 127,0,0,1,0,21",
                    "EPRT |1|127.0.0.1|0|"):
            assert ctl.cmd(cmd).startswith("501"), cmd
            assert ctl.cmd("LIST").startswith("425")
        if low is not None:
            assert nothing_connects(low)
    finally:
        if low is not None:
            low.close()


def test_port_eprt_syntax(ctl):
    for cmd in ("PORT 1,2,3", "PORT 256,0,0,1,1,1", "PORT 127,0,0,1,1,1,1", "PORT a,b,c,d,e,f",
                "EPRT |1|127.0.0.1|", "EPRT |1|127.0.0.1|70000|", "EPRT |1|::1|5000|", "EPRT 1|2|3"):
        assert ctl.cmd(cmd).startswith("501"), cmd
    assert ctl.cmd("EPRT |3|127.0.0.1|5000|").startswith("522")


def test_data_connection_from_another_address_is_refused(ctl):
    r = ctl.expect("PASV", "227")
    nums = [int(x) for x in r[r.index("(") + 1:r.index(")")].split(",")]
    port = nums[4] * 256 + nums[5]
    ctl.send(b"RETR f.txt\r\n")
    thief = socket.socket()
    thief.bind(("127.0.0.2", 0))
    thief.settimeout(5)
    thief.connect(("127.0.0.1", port))
    # The server closes the thief's connection without sending it anything.
    try:
        assert thief.recv(100) == b""
    except ConnectionResetError:
        pass
    thief.close()
    data = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert ctl.reply().startswith("150")
    assert recv_all(data) == b"hello data\n"
    assert ctl.reply().startswith("226")


def assert_single_reply(ctl, command, code):
    r = ctl.cmd(command)
    assert r.startswith(code), f"{command}: {r!r}"
    assert ctl.silent_for(0.25), f"{command}: more than one reply"
    ctl.expect("NOOP", "200")


def test_refused_transfers_get_exactly_one_reply(server, ctl):
    (server.root() / "d").mkdir()
    assert_single_reply(ctl, "RETR f.txt", "425")  # no PASV/PORT
    assert_single_reply(ctl, "LIST", "425")
    assert_single_reply(ctl, "STOR new.txt", "425")
    for command, code in (("RETR missing.txt", "550"), ("RETR d", "550"), ("LIST missing", "550"),
                          ("MLSD f.txt", "550"), ("NLST nothing*", "550")):
        data = ctl.pasv()
        assert_single_reply(ctl, command, code)
        data.close()
    assert not (server.root() / "new.txt").exists()
    with Control.to(server) as bob:
        bob.login("bob")
        for command in ("STOR x", "APPE x", "STOU"):
            data = bob.pasv()
            assert_single_reply(bob, command, "550")
            data.close()
    assert not (server.root("bob") / "x").exists()


def test_failed_active_connection_gets_one_reply(ctl):
    with listener() as lst:
        port = lst.getsockname()[1]
    ctl.expect(f"PORT {port_arg('127.0.0.1', port)}", "200")  # nobody listens there any more
    assert_single_reply(ctl, "RETR f.txt", "425")


def test_passive_timeout_gets_one_reply(make_server):
    srv = make_server(extra='[passive]\nconnect_timeout = "1s"\n')
    (srv.root() / "f.txt").write_bytes(b"x")
    with Control.to(srv) as ctl:
        ctl.login()
        ctl.expect("PASV", "227")  # and never connect
        r = ctl.cmd("RETR f.txt")
        assert r.startswith("425"), r
        assert ctl.silent_for(0.5)
        ctl.expect("NOOP", "200")
        assert retr_bytes(ctl, "f.txt") == b"x"


def test_425_after_a_refused_foreign_connection_says_so_in_the_log(make_server):
    """Only a connection from another address came to the passive port (and was refused): the 425's log
    line says that, not that nobody connected (which would point at the firewall)."""
    srv = make_server(extra='[passive]\nconnect_timeout = "1s"\n')
    (srv.root() / "f.txt").write_bytes(b"x")
    with Control.to(srv) as ctl:
        ctl.login()
        r = ctl.expect("PASV", "227")
        nums = [int(x) for x in r[r.index("(") + 1:r.index(")")].split(",")]
        port = nums[4] * 256 + nums[5]
        ctl.send(b"RETR f.txt\r\n")
        with socket.socket() as thief:
            thief.bind(("127.0.0.2", 0))
            thief.settimeout(5)
            thief.connect(("127.0.0.1", port))
            try:
                assert thief.recv(100) == b""
            except ConnectionResetError:
                pass
        r = ctl.reply()
        assert r.startswith("425"), r
        # Nobody at all: the usual explanation.
        ctl.expect("PASV", "227")
        assert ctl.cmd("RETR f.txt").startswith("425")
    lines = [line for line in srv.log().splitlines() if "data connection failed" in line]
    assert len(lines) == 2, lines
    assert ("data connection failed: the passive port refused a connection from 127.0.0.2 (the control "
            "connection comes from 127.0.0.1) and no other came before passive.connect_timeout") in lines[0], lines
    assert "nobody connected" not in lines[0] and "not forwarded" not in lines[0], lines[0]
    assert "passive.require_same_peer" in lines[0], lines[0]
    assert "nobody connected to the passive port before passive.connect_timeout" in lines[1], lines[1]


def test_active_mode_can_be_disabled(make_server):
    srv = make_server(extra="[active]\nenabled = false\n")
    with Control.to(srv) as ctl:
        ctl.login()
        assert ctl.cmd("PORT 127,0,0,1,200,1").startswith("502")
        assert ctl.cmd("EPRT |1|127.0.0.1|51201|").startswith("502")
        ctl.pasv().close()


# --- IPv6


@pytest.fixture
def v6(make_server):
    srv = make_server(listeners='[[listeners]]\naddress = "[::1]:0"\n')
    srv.host = "::1"
    (srv.root() / "f.txt").write_bytes(b"over ipv6\n")
    c = Control.to(srv).login()
    yield c
    c.close()


@needs_ipv6
def test_pasv_on_ipv6_is_522_and_epsv_works(v6):
    r = v6.cmd("PASV")
    assert r.startswith("522"), r
    r = v6.cmd("EPSV 1")
    assert r.startswith("522") and "(2)" in r, r
    for arg in ("", "2"):
        data = v6.epsv(arg)
        v6.expect("RETR f.txt", "150")
        assert recv_all(data) == b"over ipv6\n"
        assert v6.reply().startswith("226")


@needs_ipv6
@pytest.mark.parametrize("written", ["::1", "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001",
                                     "::0:1"])
def test_eprt_compares_addresses_not_strings(v6, written):
    with listener("::1") as lst:
        out, peer = active_retr(v6, f"EPRT |2|{written}|{lst.getsockname()[1]}|", lst)
    assert out == b"over ipv6\n" and peer[0] == "::1"


@needs_ipv6
def test_eprt_on_ipv6_to_other_addresses_refused(v6):
    with listener() as lst:
        port = lst.getsockname()[1]
        for cmd in (f"EPRT |1|127.0.0.1|{port}|", f"PORT {port_arg('127.0.0.1', port)}",
                    f"EPRT |2|::2|{port}|", "EPRT |2|::1|1021|"):
            assert v6.cmd(cmd).startswith("501"), cmd
        assert v6.cmd("RETR f.txt").startswith("425")
        assert nothing_connects(lst)


def test_ipv4_and_ipv6_listeners_together(make_server):
    if not ipv6_loopback_available():
        pytest.skip("no IPv6 loopback (::1) on this host")
    srv = make_server(listeners='[[listeners]]\naddress = "127.0.0.1:0"\n[[listeners]]\naddress = "[::1]:0"\n')
    (srv.root() / "f.txt").write_bytes(b"both\n")
    assert len(srv.ports) == 2
    for host, port in (("127.0.0.1", srv.ports[0]), ("::1", srv.ports[1])):
        with Control(host, port) as c:
            c.login()
            data = c.epsv()
            c.expect("RETR f.txt", "150")
            assert recv_all(data) == b"both\n"
            assert c.reply().startswith("226")
