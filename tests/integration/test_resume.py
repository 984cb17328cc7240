"""A resumed upload and download end to end: an upload broken off, then resumed with SIZE and REST, and
the file downloaded again in two parts. The REST rules themselves (exact offsets for RETR, STOR and
APPE, one transfer only, 554 beyond the end, 501 without a number) are tested on the session:
tests/session/sequences_test.cpp."""
import os

from helpers import retr_bytes, stor_bytes


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
