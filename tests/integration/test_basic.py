"""Login, directories and a round trip through Python ftplib."""
import ftplib
import io

import pytest

from helpers import login, raw, raw_login, send


def test_greeting_and_login(server):
    ftp = login(server)
    assert ftp.pwd() == "/"
    assert ftp.sendcmd("SYST").startswith("215 UNIX")
    ftp.quit()


def test_wrong_password_is_generic_530_and_logged(server):
    ftp = ftplib.FTP()
    ftp.connect(server.host, server.port, timeout=10)
    with pytest.raises(ftplib.error_perm, match="^530 Login incorrect"):
        ftp.login("alice", "nope")
    with pytest.raises(ftplib.error_perm, match="^530 Login incorrect"):
        ftp.login("nobody", "nope")
    assert "wrong password" in server.log() and "unknown user" in server.log()
    assert "nope" not in server.log()


def test_commands_before_login_get_530(server):
    s, f = raw(server)
    for cmd in ("PWD", "LIST", "RETR x", "MKD d", "PASV", "CWD /"):
        assert send(s, f, cmd).startswith("530 "), cmd


def test_upload_list_download_rename_delete(server):
    ftp = login(server)
    data = bytes(range(256)) * 4000
    ftp.mkd("docs")
    ftp.cwd("docs")
    ftp.storbinary("STOR file.bin", io.BytesIO(data))
    assert (server.root() / "docs" / "file.bin").read_bytes() == data
    assert ftp.nlst() == ["file.bin"]
    assert ftp.size("file.bin") == len(data)
    out = io.BytesIO()
    ftp.retrbinary("RETR file.bin", out.write)
    assert out.getvalue() == data
    ftp.rename("file.bin", "renamed.bin")
    assert [n for n, _ in ftp.mlsd()] == ["renamed.bin"]
    ftp.delete("renamed.bin")
    ftp.cwd("..")
    ftp.rmd("docs")
    assert not (server.root() / "docs").exists()
    ftp.quit()


def test_unknown_command_500_and_bad_sequence_503(server):
    s, f = raw_login(server)
    assert send(s, f, "XYZZY").startswith("500 ")
    assert send(s, f, "RNTO x").startswith("503 ")
    assert send(s, f, "NOOP").startswith("200 ")
