"""REST n before RETR, STOR and APPE resumes at exactly byte n; a REST beyond the end is refused (554)
with no other reply; REST applies to one transfer only."""
import os

import pytest

from helpers import retr_bytes, stor_bytes


@pytest.fixture
def payload(server):
    data = os.urandom(1_000_003)
    (server.root() / "f.bin").write_bytes(data)
    return data


@pytest.mark.parametrize("offset", [0, 1, 123_457, 262_144, 1_000_002, 1_000_003])
def test_retr_resumes_at_exact_byte(ctl, payload, offset):
    assert retr_bytes(ctl, "f.bin", rest=offset) == payload[offset:]


def test_rest_applies_to_one_transfer_only(ctl, payload):
    assert retr_bytes(ctl, "f.bin", rest=500) == payload[500:]
    assert retr_bytes(ctl, "f.bin") == payload


def test_rest_beyond_end_of_file_is_554_and_nothing_else(ctl, payload):
    data = ctl.pasv()
    ctl.expect("REST 1000004", "350")
    r = ctl.cmd("RETR f.bin")
    assert r.startswith("554"), r
    assert ctl.silent_for(0.5), "no 150/226 after a refused RETR"
    data.close()
    ctl.expect("NOOP", "200")


def test_rest_needs_a_number(ctl):
    for arg in ("abc", "-1", "12x", "99999999999999999999999"):
        assert ctl.cmd(f"REST {arg}").startswith("501"), arg
    assert ctl.cmd("REST").startswith("501")


def test_stor_resumes_at_exact_byte(server, ctl, payload):
    tail = os.urandom(300_000)
    ctl.expect("REST 600000", "350")
    stor_bytes(ctl, "STOR f.bin", tail)
    assert (server.root() / "f.bin").read_bytes() == payload[:600_000] + tail


def test_stor_resume_cuts_what_followed(server, ctl, payload):
    ctl.expect("REST 10", "350")
    stor_bytes(ctl, "STOR f.bin", b"0123456789")
    assert (server.root() / "f.bin").read_bytes() == payload[:10] + b"0123456789"


def test_stor_resume_beyond_end_is_554_and_file_unchanged(server, ctl, payload):
    data = ctl.pasv()
    ctl.expect("REST 2000000", "350")
    assert ctl.cmd("STOR f.bin").startswith("554")
    assert ctl.silent_for(0.5)
    data.close()
    assert (server.root() / "f.bin").read_bytes() == payload
    data = ctl.pasv()
    ctl.expect("REST 5", "350")
    assert ctl.cmd("STOR new.bin").startswith("554")
    data.close()
    assert not (server.root() / "new.bin").exists(), "a refused upload creates nothing"


def test_stor_without_rest_replaces(server, ctl, payload):
    stor_bytes(ctl, "STOR f.bin", b"short")
    assert (server.root() / "f.bin").read_bytes() == b"short"


def test_appe_appends_and_creates(server, ctl, payload):
    stor_bytes(ctl, "APPE f.bin", b"more")
    assert (server.root() / "f.bin").read_bytes() == payload + b"more"
    stor_bytes(ctl, "APPE fresh.bin", b"first")
    stor_bytes(ctl, "APPE fresh.bin", b"+second")
    assert (server.root() / "fresh.bin").read_bytes() == b"first+second"


def test_appe_resumes_at_exact_byte(server, ctl, payload):
    # The usual resume: SIZE, then REST <size> APPE <rest of the file>.
    size = int(ctl.expect("SIZE f.bin", "213").split()[1])
    ctl.expect(f"REST {size}", "350")
    stor_bytes(ctl, "APPE f.bin", b"tail")
    assert (server.root() / "f.bin").read_bytes() == payload + b"tail"
    # REST below the end: the data goes at that byte, not at the end.
    ctl.expect("REST 1000", "350")
    stor_bytes(ctl, "APPE f.bin", b"X" * 10)
    assert (server.root() / "f.bin").read_bytes() == payload[:1000] + b"X" * 10


def test_interrupted_upload_then_resume(server, ctl):
    whole = os.urandom(2_000_000)
    # The first attempt breaks off after 700000 bytes (data connection closed early).
    stor_bytes(ctl, "STOR part.bin", whole[:700_000])
    size = int(ctl.expect("SIZE part.bin", "213").split()[1])
    assert size == 700_000
    ctl.expect(f"REST {size}", "350")
    stor_bytes(ctl, "STOR part.bin", whole[size:])
    assert (server.root() / "part.bin").read_bytes() == whole
    # And a download resumed the same way reassembles the file.
    first = retr_bytes(ctl, "part.bin")[:1_234_567]
    assert first + retr_bytes(ctl, "part.bin", rest=len(first)) == whole
