"""Login: one generic 530 for a wrong password and an unknown user, 530 for every command that needs a
login, USER/PASS sequence rules, REIN, HOST (RFC 7151) and anonymous login (read-only, only when
enabled)."""
import ftplib
import io

import pytest

from helpers import Control, recv_all, retr_bytes

NEEDS_LOGIN = ["PWD", "XPWD", "CWD /", "CDUP", "LIST", "NLST", "MLSD", "MLST", "RETR x", "STOR x", "APPE x",
               "STOU", "MKD d", "RMD d", "DELE x", "RNFR x", "RNTO y", "SIZE x", "MDTM x",
               "MFMT 20200101000000 x", "PASV", "EPSV", "PORT 127,0,0,1,200,1", "EPRT |1|127.0.0.1|51201|",
               "TYPE I", "MODE S", "STRU F", "REST 0", "ALLO 1", "STAT", "SITE HELP", "SITE CHMOD 644 x", "ABOR"]


def test_wrong_password_and_unknown_user_same_reply(server):
    replies = []
    for user, password in (("alice", "Gu3ss-1"), ("nobody", "Gu3ss-2"), ("bob", "alice-secret"), ("alice", "")):
        with Control.to(server) as c:
            c.expect(f"USER {user}", "331")
            replies.append(c.cmd(f"PASS {password}"))
            assert c.cmd("PWD").startswith("530"), "still not logged in"
    assert all(r == "530 Login incorrect.\r\n" for r in replies), replies
    log = server.log()
    assert "unknown user" in log and "wrong password" in log
    assert "Gu3ss" not in log and "alice-secret" not in log, "passwords are never logged"


def test_failed_login_can_be_retried(server):
    with Control.to(server) as c:
        c.expect("USER alice", "331")
        c.expect("PASS nope", "530")
        c.login("alice")
        assert c.cmd("PWD").startswith('257 "/"')


@pytest.mark.parametrize("command", NEEDS_LOGIN)
def test_commands_before_login_get_530(server, command):
    with Control.to(server) as c:
        r = c.cmd(command)
        assert r.startswith("530"), f"{command}: {r!r}"
        c.expect("USER alice", "331")
        r = c.cmd(command)
        assert r.startswith("530") or command.startswith("PASS"), f"{command} after USER: {r!r}"


def test_commands_allowed_before_login(server):
    with Control.to(server) as c:
        for command, code in (("NOOP", "200"), ("SYST", "215"), ("FEAT", "211"), ("HELP", "214"),
                              ("OPTS UTF8 ON", "200"), ("ACCT x", "202")):
            assert c.cmd(command).startswith(code), command


def test_login_sequence(server):
    with Control.to(server) as c:
        assert c.cmd("PASS x").startswith("503")
        assert c.cmd("USER").startswith("501")
        assert c.cmd("USER " + "a" * 129).startswith("501")
        c.login("alice")
        assert c.cmd("USER bob").startswith("503")
        assert c.cmd("PASS x").startswith("503")


def test_rein_logs_out_and_allows_another_user(server):
    (server.root() / "a.txt").write_bytes(b"alice's")
    (server.root("bob") / "b.txt").write_bytes(b"bob's")
    with Control.to(server) as c:
        c.login("alice")
        c.expect("CWD /", "250")
        c.expect("TYPE A", "200")
        c.expect("RNFR a.txt", "350")
        data = c.pasv()
        c.expect("REIN", "220")
        data.close()
        assert c.cmd("PWD").startswith("530")
        assert c.cmd("RNTO z.txt").startswith("530")
        c.login("bob")
        assert c.cmd("STAT").find("TYPE: BINARY") > 0, "REIN resets the transfer parameters"
        assert retr_bytes(c, "b.txt") == b"bob's"
        assert c.cmd("SIZE a.txt").startswith("550"), "bob sees his own root"
        assert c.cmd("MKD x").startswith("550"), "and has bob's permissions"
    assert (server.root() / "a.txt").exists()


def test_host_before_and_after_login(server):
    with Control.to(server) as c:
        c.expect("HOST ftp.example.com", "220")
        assert c.cmd("HOST other.example.com").startswith("503 HOST was already sent")
        c.expect("USER alice", "331")
        assert c.cmd("HOST late.example.com").startswith("503")
        c.expect("PASS alice-secret", "230")
        assert c.cmd("HOST late.example.com").startswith("503")
        assert c.cmd("PWD").startswith('257 "/"')
    with Control.to(server) as c:
        assert c.cmd("HOST").startswith("501")


def test_quit(server):
    with Control.to(server) as c:
        c.login()
        assert c.cmd("QUIT").startswith("221")
        assert c.closed_within(5)
    with Control.to(server) as c:
        assert c.cmd("QUIT").startswith("221"), "QUIT works before login too"
        assert c.closed_within(5)


@pytest.fixture
def anon(make_server, tmp_path):
    pub = tmp_path / "pub"
    pub.mkdir()
    (pub / "readme.txt").write_bytes(b"public\n")
    srv = make_server(users=f'anonymous = true\nanonymous_root = "{pub}"\n')
    return srv, pub


@pytest.mark.parametrize("name", ["anonymous", "ftp", "ANONYMOUS"])
def test_anonymous_is_read_only(anon, name):
    srv, pub = anon
    with Control.to(srv) as c:
        r = c.cmd(f"USER {name}")
        if name == "ANONYMOUS":
            # Names are case-sensitive: only "anonymous" and "ftp" are the anonymous account.
            assert r.startswith("331")
            assert c.cmd("PASS guest@example.com").startswith("530")
            return
        assert r.startswith("331")
        c.expect("PASS guest@example.com", "230")
        assert retr_bytes(c, "readme.txt") == b"public\n"
        data = c.pasv()
        c.expect("NLST", "150")
        assert recv_all(data) == b"readme.txt\r\n"
        assert c.reply().startswith("226")
        for cmd in ("MKD x", "DELE readme.txt", "RNFR readme.txt", "SITE CHMOD 777 readme.txt",
                    "MFMT 20000101000000 readme.txt"):
            assert c.cmd(cmd).startswith("550"), cmd
        for cmd in ("STOR up.txt", "APPE readme.txt", "STOU"):
            data = c.pasv()
            assert c.cmd(cmd).startswith("550"), cmd
            data.close()
        assert c.cmd("SIZE ../alice/x").startswith("550")
    assert sorted(p.name for p in pub.iterdir()) == ["readme.txt"]
    assert (pub / "readme.txt").read_bytes() == b"public\n"


def test_anonymous_with_ftplib(anon):
    srv, _ = anon
    ftp = ftplib.FTP()
    ftp.connect(srv.host, srv.port, timeout=30)
    ftp.login()  # ftplib's default: anonymous / anonymous@
    out = io.BytesIO()
    ftp.retrbinary("RETR readme.txt", out.write)
    assert out.getvalue() == b"public\n"
    with pytest.raises(ftplib.error_perm, match="^550"):
        ftp.storbinary("STOR x", io.BytesIO(b"x"))
    ftp.quit()


def test_anonymous_disabled_by_default(server):
    with Control.to(server) as c:
        c.expect("USER anonymous", "331")
        assert c.cmd("PASS guest@example.com").startswith("530")
        c.expect("USER ftp", "331")
        assert c.cmd("PASS").startswith("530")
