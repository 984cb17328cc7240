"""Failed logins and protocol abuse ([bans]): the growing delay before 530 (a timer: others are served
meanwhile), the ban after bans.max_failures within the window (421 at once, before the greeting and
before TLS, until bans.duration has passed), bans.exempt, bounce attempts and foreign data connections
counted as failures, and the log lines fail2ban matches (examples/fail2ban, checked with fail2ban-regex)."""
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import Control, wait_for

REPO = Path(__file__).resolve().parents[2]


def fail_login(c: Control, user="alice", password="wrong") -> tuple[str, float]:
    c.expect(f"USER {user}", "331")
    start = time.monotonic()
    r = c.cmd(f"PASS {password}")
    return r, time.monotonic() - start


def test_growing_login_delay_never_blocks_others(make_server):
    srv = make_server(extra='[bans]\nmax_failures = 0\nlogin_delay = "500ms"\nmax_login_delay = "1s"\n')
    with Control.to(srv, source="127.0.0.2") as c, Control.to(srv) as other:
        other.login("bob")
        r, took = fail_login(c)
        assert r == "530 Login incorrect.\r\n" and 0.45 <= took < 3, (r, took)
        # During the next (1 s) delay another session is answered at once.
        c.send(b"USER alice\r\n")
        assert c.reply().startswith("331")
        c.send(b"PASS wrong\r\n")
        start = time.monotonic()
        # The failure is logged before its delay starts.
        assert wait_for(lambda: srv.log().count("login failed: client=127.0.0.2") == 2, timeout=5,
                        interval=0.01)
        other.expect("NOOP", "200")
        assert time.monotonic() - start < 0.6, "another session waited for the delay"
        assert c.reply(timeout=5).startswith("530")
        assert time.monotonic() - start >= 0.9
        _, took = fail_login(c)  # capped at max_login_delay
        assert 0.9 <= took < 3, took
        # The count is per address: a new connection from it starts at the longer delay.
    with Control.to(srv, source="127.0.0.2") as c:
        _, took = fail_login(c)
        assert took >= 0.9, took
        c.login()  # a right password is never delayed
    with Control.to(srv, source="127.0.0.3") as c:
        _, took = fail_login(c)
        assert took < 0.9, "another address has its own count"


def test_ban_after_max_failures(make_server):
    srv = make_server(extra='[bans]\nmax_failures = 3\nwindow = "1m"\nduration = "2s"\nlogin_delay = "0s"\n')
    with Control.to(srv, source="127.0.0.2") as c:
        assert fail_login(c)[0].startswith("530")
        assert fail_login(c, user="nobody")[0].startswith("530")
    with Control.to(srv, source="127.0.0.2") as c:
        r, _ = fail_login(c)
        assert r == "421 Too many failed logins from your address; closing.\r\n", r
        assert c.closed_within(5)
    # Refused at accept while banned, before the greeting; other addresses are served.
    banned = Control.to(srv, greet=False, source="127.0.0.2")
    assert banned.reply(timeout=5) == "421 Your address is temporarily banned after failed logins.\r\n"
    assert banned.closed_within(5)
    banned.close()
    with Control.to(srv, source="127.0.0.3") as c:
        c.login()
    def greeted():
        with Control.to(srv, greet=False, source="127.0.0.2") as c:
            return c.reply(timeout=5).startswith("220")

    assert wait_for(greeted, timeout=15, interval=0.1), "the ban never ended"
    with Control.to(srv, source="127.0.0.2") as c:
        c.login()
    log = srv.log()
    assert 'login failed: client=127.0.0.2 user="alice" reason=wrong password' in log
    assert 'login failed: client=127.0.0.2 user="nobody" reason=unknown user' in log
    assert "ban: client=127.0.0.2 for 2s after 3 failures" in log
    assert "connection refused: client=127.0.0.2 reason=banned" in log
    assert log.count("ban: client=") == 1


def test_exempt_networks_are_never_banned(make_server):
    srv = make_server(extra='[bans]\nmax_failures = 2\nlogin_delay = "1s"\nexempt = ["127.0.0.2/32"]\n')
    with Control.to(srv, source="127.0.0.2") as c:
        for _ in range(4):
            r, took = fail_login(c)
            assert r.startswith("530") and took < 0.9, (r, took)
        c.login()
    assert "ban: client=" not in srv.log()


def test_banned_before_tls_on_an_implicit_listener(make_server, tmp_path):
    from tls_helpers import make_cert, tls_config
    cert, key = make_cert(tmp_path)
    srv = make_server(config=tls_config(cert, key, extra='[bans]\nmax_failures = 1\nlogin_delay = "0s"\n'))
    with Control.to(srv, source="127.0.0.2") as c:  # explicit listener, a failed login in clear
        r, _ = fail_login(c)
        assert r.startswith("421"), r
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(10)
    s.connect((srv.host, srv.ports[1]))
    data = s.recv(200)
    s.close()
    assert data == b"421 Your address is temporarily banned after failed logins.\r\n", data


def test_bounce_attempts_lead_to_a_ban(make_server):
    srv = make_server(extra='[bans]\nmax_failures = 3\nlogin_delay = "0s"\n')
    with Control.to(srv, source="127.0.0.2") as c:
        c.login()
        assert c.cmd("PORT 127,0,0,3,200,1").startswith("501")
        assert c.cmd("EPRT |1|127.0.0.2|25|").startswith("501")
        r = c.cmd("PORT 127,0,0,2,0,25")
        assert r == "421 Too many refused commands from your address; closing.\r\n", r
        assert c.closed_within(5)
    banned = Control.to(srv, greet=False, source="127.0.0.2")
    assert banned.reply(timeout=5).startswith("421")
    banned.close()
    log = srv.log()
    assert "protocol abuse: client=127.0.0.2 reason=PORT to another address (127.0.0.3)" in log
    assert "protocol abuse: client=127.0.0.2 reason=EPRT to port 25" in log
    assert "ban: client=127.0.0.2 for 900s after 3 failures" in log


def test_foreign_data_connection_counts_against_the_thief(make_server):
    srv = make_server(extra='[bans]\nmax_failures = 1\nlogin_delay = "0s"\n')
    (srv.root() / "f.txt").write_bytes(b"data")
    with Control.to(srv) as c:
        c.login()
        r = c.expect("EPSV", "229")
        port = int(re.search(r"\(\|\|\|(\d+)\|\)", r).group(1))
        thief = socket.socket()
        thief.bind(("127.0.0.3", 0))
        thief.settimeout(5)
        thief.connect((srv.host, port))
        c.send(b"RETR f.txt\r\n")  # the server refuses the thief and goes on waiting for the client
        data = socket.create_connection((srv.host, port), timeout=10)
        assert c.reply().startswith("150")
        got = b""
        while chunk := data.recv(100):
            got += chunk
        data.close()
        assert got == b"data"
        assert c.reply().startswith("226")
        thief.close()
    assert "protocol abuse: client=127.0.0.3 reason=data connection to the passive port of another client" in srv.log()
    banned = Control.to(srv, greet=False, source="127.0.0.3")
    assert banned.reply(timeout=5).startswith("421")
    banned.close()
    with Control.to(srv) as c:  # the victim is not banned
        c.login()


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None, reason="fail2ban-regex is not installed")
def test_fail2ban_filter_matches_the_log(make_server, tmp_path):
    srv = make_server(extra='[bans]\nmax_failures = 3\nlogin_delay = "0s"\n')
    with Control.to(srv, source="127.0.0.2") as c:
        fail_login(c, user='evil login failed: client=6.6.6.6 x')  # an injection attempt via the name
        fail_login(c, user="nobody")
        c.login()
        c.cmd("PORT 127,0,0,9,200,1")
    with Control.to(srv, source="127.0.0.3") as c:
        fail_login(c)
        c.login()  # good logins and other lines do not match
    srv.stop()
    log = tmp_path / "ftpsd.log"
    log.write_text(srv.log())
    out = subprocess.run(["fail2ban-regex", "-v", "--print-all-matched", str(log),
                          str(REPO / "examples/fail2ban/filter.d/ftpsd.conf")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"Failregex: 4 total", out.stdout), out.stdout
    hosts = re.findall(r"^\s*\|\s+(\d+\.\d+\.\d+\.\d+)\s", out.stdout, re.M)
    matched = "\n".join(l for l in out.stdout.splitlines() if "client=" in l)
    assert "6.6.6.6" not in " ".join(hosts), out.stdout
    assert matched.count("client=127.0.0.2") >= 3 and matched.count("client=127.0.0.3") >= 1, out.stdout
