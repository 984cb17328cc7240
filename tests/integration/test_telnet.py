"""Telnet commands in the control connection (RFC 959 §4.1.3, RFC 854): IAC IP / DM / AYT / NOP are
removed from the line, IAC IAC is a data byte 0xFF, option negotiation (WILL/WONT/DO/DONT) and
subnegotiation are ignored without hanging, and ABOR works when sent as `IAC IP IAC DM ABOR` with the
DM as TCP urgent data. ABOR of a running transfer sent that way: test_transfer_control.py
(test_abor_in_the_middle_of_1gib_retr, test_abor_sent_like_ftplib)."""
import socket

import pytest

from helpers import Control, retr_bytes

IAC, IP, DM, AYT, NOP, SB, SE = b"\xff", b"\xf4", b"\xf2", b"\xf6", b"\xf1", b"\xfa", b"\xf0"
WILL, WONT, DO, DONT = b"\xfb", b"\xfc", b"\xfd", b"\xfe"


@pytest.fixture
def ctl(server):
    (server.root() / "f.txt").write_bytes(b"telnet\n")
    c = Control.to(server).login()
    yield c
    c.close()


@pytest.mark.parametrize("line", [IAC + AYT + b"NOOP", b"NO" + IAC + NOP + b"OP", b"NOOP" + IAC + IP,
                                  IAC + IP + IAC + DM + b"NOOP", IAC + IP + IAC + b"NOOP"])
def test_two_byte_commands_removed(ctl, line):
    ctl.send(line + b"\r\n")
    r = ctl.reply()
    assert r.startswith("200 "), f"{line!r}: {r!r}"
    assert ctl.silent_for(0.2), "one reply, nothing for the Telnet commands"


@pytest.mark.parametrize("verb", [WILL, WONT, DO, DONT])
def test_option_negotiation_ignored_without_hanging(ctl, verb):
    # Negotiation alone on a line: an empty command, no reply and no Telnet answer.
    ctl.send(IAC + verb + b"\x01\r\n")
    assert ctl.silent_for(0.3)
    # Negotiation in front of a command: the command runs.
    ctl.send(IAC + verb + b"\x03" + b"PWD\r\n")
    r = ctl.reply()
    assert r.startswith('257 "/"'), r
    assert ctl.silent_for(0.2)


def test_subnegotiation_removed_whole(ctl):
    ctl.send(IAC + SB + b"\x18\x00xterm" + IAC + SE + b"SYST\r\n")
    assert ctl.reply().startswith("215 ")


def test_doubled_iac_is_a_data_byte(server, ctl):
    data = ctl.pasv()
    ctl.send(b"STOR a" + IAC + IAC + b"b.txt\r\n")
    assert ctl.reply().startswith("150")
    data.sendall(b"x")
    data.close()
    assert ctl.reply().startswith("226")
    assert (server.root() / bytes.decode(b"a\xffb.txt", "utf-8", "surrogateescape")).read_bytes() == b"x"


def test_abor_with_urgent_data_mark_outside_a_transfer(ctl):
    # RFC 959 §4.1.3 as BSD ftp sends it: IAC IP, IAC, then DM alone as urgent data, then ABOR.
    ctl.send(IAC + IP + IAC)
    ctl.sock.send(DM, socket.MSG_OOB)
    ctl.send(b"ABOR\r\n")
    r = ctl.reply()
    assert r.startswith("225 "), r  # no transfer to abort
    assert ctl.silent_for(0.3)
    assert retr_bytes(ctl, "f.txt") == b"telnet\n"


def test_urgent_abor_whole_line(ctl):
    # ftplib sends the whole "ABOR\r\n" with MSG_OOB (only its last byte is urgent).
    ctl.sock.send(b"ABOR\r\n", socket.MSG_OOB)
    r = ctl.reply()
    assert r.startswith("225 "), r  # no transfer to abort
    ctl.expect("NOOP", "200")
