"""TYPE A converts line ends both ways (CRLF on the wire, LF on the disk); TYPE I moves bytes
unchanged; MODE/STRU/TYPE parameters the server does not support get 504."""
import io
import os
import random

from helpers import login, recv_all


def upload(ctl, path, chunks):
    data = ctl.pasv()
    ctl.expect(f"STOR {path}", "150")
    for c in chunks:
        data.sendall(c)
    data.close()
    assert ctl.reply().startswith("226")


def download(ctl, path):
    data = ctl.pasv()
    ctl.expect(f"RETR {path}", "150")
    out = recv_all(data)
    assert ctl.reply().startswith("226")
    return out


def test_type_a_upload_stores_lf(server, ctl):
    ctl.expect("TYPE A", "200")
    upload(ctl, "a.txt", [b"line1\r\nline2\r\n\r\nlone\rcr\r\nno end"])
    assert (server.root() / "a.txt").read_bytes() == b"line1\nline2\n\nlone\rcr\nno end"


def test_type_a_upload_crlf_split_across_packets(server, ctl):
    text = b"".join(b"row %d with some text\r\n" % i for i in range(40_000))
    ctl.expect("TYPE A", "200")
    # Cut so that many CR LF pairs are split between two sends (and between server reads).
    rng = random.Random(7)
    chunks, pos = [], 0
    while pos < len(text):
        step = rng.choice([1, 2, 3, 17, 4096, 65535, 262_143, 262_144, 262_145])
        chunks.append(text[pos:pos + step])
        pos += step
    upload(ctl, "split.txt", chunks)
    assert (server.root() / "split.txt").read_bytes() == text.replace(b"\r\n", b"\n")
    # A trailing CR at the very end of the upload is kept.
    upload(ctl, "cr.txt", [b"abc\r"])
    assert (server.root() / "cr.txt").read_bytes() == b"abc\r"


def test_type_a_upload_crlf_split_between_disk_pieces(server, ctl):
    # The server converts and writes uploads in pieces of 256 KiB of network data: a CR at the end
    # of one piece and its LF at the start of the next are one line end.
    piece = 256 * 1024
    text = b"x" * (piece - 1) + b"\r\n" + b"y" * (piece - 2) + b"\r\n" + b"z\r"
    ctl.expect("TYPE A", "200")
    upload(ctl, "pieces.txt", [text])
    assert (server.root() / "pieces.txt").read_bytes() == text[:-1].replace(b"\r\n", b"\n") + b"\r"


def test_type_a_download_sends_crlf(server, ctl):
    (server.root() / "u.txt").write_bytes(b"a\nb\n\nc")
    (server.root() / "w.txt").write_bytes(b"x\r\ny\n")
    ctl.expect("TYPE A", "200")
    assert download(ctl, "u.txt") == b"a\r\nb\r\n\r\nc"
    assert download(ctl, "w.txt") == b"x\r\ny\r\n", "an existing CR LF is not doubled"
    big = b"".join(b"%d\n" % i for i in range(300_000))  # larger than one read chunk
    (server.root() / "big.txt").write_bytes(big)
    assert download(ctl, "big.txt") == big.replace(b"\n", b"\r\n")
    ctl.expect("TYPE I", "200")
    assert download(ctl, "u.txt") == b"a\nb\n\nc"


def test_type_a_round_trip_with_ftplib(server):
    ftp = login(server)
    lines = ["first", "", "ünïcödé", "last"]
    ftp.storlines("STOR lines.txt", io.BytesIO("\n".join(lines).encode() + b"\n"))
    assert (server.root() / "lines.txt").read_bytes() == "\n".join(lines).encode() + b"\n"
    got = []
    ftp.retrlines("RETR lines.txt", got.append)
    assert got == lines
    ftp.quit()


def test_type_i_is_byte_exact(server, ctl):
    payload = os.urandom(500_000) + b"\r\n\r\r\n\n"
    ctl.expect("TYPE I", "200")
    upload(ctl, "bin", [payload])
    assert (server.root() / "bin").read_bytes() == payload
    assert download(ctl, "bin") == payload


def test_transfer_parameters(ctl):
    for cmd, code in [("TYPE A", "200"), ("TYPE A N", "200"), ("TYPE I", "200"), ("TYPE L 8", "200"),
                      ("TYPE E", "504"), ("TYPE X", "504"), ("MODE S", "200"), ("MODE B", "504"),
                      ("MODE C", "504"), ("STRU F", "200"), ("STRU R", "504"), ("STRU P", "504"),
                      ("ALLO 1000", "202")]:
        assert ctl.cmd(cmd).startswith(code), cmd
    assert ctl.cmd("TYPE").startswith("501")
