"""Domains ([[domains]]): several FTP sites on one server, chosen by the listener, the TLS server name
(SNI), HOST (RFC 7151) or a user@host login name; each with its own banner, users, roots, certificate,
passive address and passive ports."""
import ftplib
import io
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BIN, PASSWORDS
from helpers import Control, read_reply, recv_all, run, send, wait_for
from stock_ssl import stock
from tls_helpers import ReusingFTP_TLS

ACME_PASSWORD = "acme-alice-pw"
GLOBEX_PASSWORD = "globex-alice-pw"


def _hash(password):
    return subprocess.run(["openssl", "passwd", "-6", password], check=True, capture_output=True,
                          text=True).stdout.strip()


def _users(path, home, entries):
    """A users file with `entries` [(name, password)], each user's root a folder of `home`."""
    out = []
    for name, password in entries:
        root = home / name
        root.mkdir(parents=True, exist_ok=True)
        out.append(f'[[users]]\nname = "{name}"\npassword_hash = "{_hash(password)}"\nroot = "{root}"\n'
                   f'write = true\n')
    path.write_text("\n".join(out))


def _cert(base, name):
    cert, key = base / f"{name}.pem", base / f"{name}.key"
    subprocess.run([BIN, "cert", "self-signed", "--host", name, "--cert", str(cert), "--key", str(key)],
                   check=True, capture_output=True)
    return cert, key


class Sites:
    """A server with the default domain and two more, acme and globex, and what the tests need of them."""

    def __init__(self, make_server, tmp_path, metrics=False, log_format="text", log="", bans="", acme=""):
        """`log`, `bans`: more lines of [log] and [bans]; `acme`: more tables of domain acme."""
        first = random.randrange(21000, 30000, 100)
        self.acme_ports = range(first, first + 10)
        self.globex_ports = range(first + 10, first + 20)
        self.default_ports = range(first + 20, first + 30)
        self.acme_home, self.globex_home = tmp_path / "acme", tmp_path / "globex"
        _users(tmp_path / "acme-users.toml", self.acme_home, [("alice", ACME_PASSWORD)])
        _users(tmp_path / "globex-users.toml", self.globex_home,
               [("alice", GLOBEX_PASSWORD), ("carol@globex.test", "carol-pw")])
        (self.acme_home / "alice" / "acme.txt").write_bytes(b"ACME data")
        (self.globex_home / "alice" / "globex.txt").write_bytes(b"Globex data")
        top_cert, top_key = _cert(tmp_path, "localhost")
        self.acme_cert, acme_key = _cert(tmp_path, "ftp.acme.test")
        self.globex_cert, globex_key = _cert(tmp_path, "ftp.globex.test")
        self.tmp_path = tmp_path
        metrics_table = '[metrics]\naddress = "127.0.0.1:0"\n' if metrics else ""
        self.config = f"""
[[listeners]]
address = "127.0.0.1:0"
tls = "explicit"

[[listeners]]
address = "127.0.0.1:0"
tls = "implicit"

[[listeners]]
address = "127.0.0.1:0"
domain = "globex"

[server]
idle_timeout = "60s"
banner = "Default site"
max_sessions_per_user = 1

[users]
file = "users.toml"

[passive]
ports = "{self.default_ports.start}-{self.default_ports.stop - 1}"

[tls]
certificate = "{top_cert}"
private_key = "{top_key}"

[bans]
login_delay = "0s"
{bans}

[log]
level = "debug"
format = "{log_format}"
{log}
{metrics_table}
[[domains]]
name = "acme"
hosts = ["ftp.acme.test", "acme.test"]
users = "{tmp_path / 'acme-users.toml'}"
banner = "ACME file exchange"
[domains.passive]
address = "127.0.0.3"
ports = "{self.acme_ports.start}-{self.acme_ports.stop - 1}"
[domains.tls]
certificate = "{self.acme_cert}"
private_key = "{acme_key}"
{acme}

[[domains]]
name = "globex"
hosts = ["ftp.globex.test"]
users = "{tmp_path / 'globex-users.toml'}"
banner = "Globex FTP"
[domains.passive]
ports = "{self.globex_ports.start}-{self.globex_ports.stop - 1}"
[domains.tls]
certificate = "{self.globex_cert}"
private_key = "{globex_key}"
"""
        self.srv = make_server(config=self.config)
        self.explicit, self.implicit, self.globex_only = self.srv.ports

    def control(self, port=None):
        return Ctl(port or self.explicit)


class Ctl(Control):
    """A raw control connection that keeps its greeting (which may be a 421) in `greeting`."""

    def __init__(self, port):
        super().__init__("127.0.0.1", port, greet=False)
        self.greeting = self.reply()


def pasv_endpoint(ctl):
    reply = ctl.cmd("PASV")
    assert reply.startswith("227"), reply
    h1, h2, h3, h4, p1, p2 = map(int, re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", reply).groups())
    return f"{h1}.{h2}.{h3}.{h4}", p1 * 256 + p2


def verifying_context(cafile):
    """A client that checks the certificate: chained to `cafile` and naming the host it asked for."""
    ctx = stock(ssl.create_default_context(cafile=str(cafile)))
    ctx.check_hostname = True
    return ctx


@pytest.fixture
def sites(make_server, tmp_path):
    return Sites(make_server, tmp_path)


def test_host_chooses_the_domain_its_banner_users_root_and_passive_settings(sites):
    with sites.control() as ctl:
        assert ctl.greeting.startswith("220 Default site"), ctl.greeting
        assert ctl.cmd("HOST FTP.ACME.test").startswith("220 ACME file exchange")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {ACME_PASSWORD}", "230")
        address, port = pasv_endpoint(ctl)
        assert address == "127.0.0.3" and port in sites.acme_ports, (address, port)
        ctl.expect("SIZE acme.txt", "213 9")
    # alice of acme is not alice of the default site, nor of globex
    with sites.control() as ctl:
        ctl.expect("HOST ftp.acme.test", "220")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {PASSWORDS['alice']}", "530")
    with sites.control() as ctl:
        ctl.expect("HOST ftp.globex.test", "220 Globex FTP")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {GLOBEX_PASSWORD}", "230")
        address, port = pasv_endpoint(ctl)
        assert address == "127.0.0.1" and port in sites.globex_ports, (address, port)
        ctl.expect("SIZE globex.txt", "213 11")
        ctl.expect("SIZE acme.txt", "550")
    # without HOST: the default site
    with sites.control() as ctl:
        ctl.login()
        address, port = pasv_endpoint(ctl)
        assert port in sites.default_ports, port
    log = sites.srv.log()
    assert re.search(r"s=\d+ 127\.0\.0\.1 -@acme domain acme \(by HOST\)", log), log[-3000:]
    assert re.search(r"s=\d+ 127\.0\.0\.1 alice@globex logged in", log), log[-3000:]


def test_ftplib_sends_host_and_transfers_in_its_domain(sites):
    # HOST before AUTH TLS, no SNI (ftplib sends none to an IP address): HOST chooses the certificate
    ctx = verifying_context(sites.acme_cert)
    ctx.check_hostname = False  # chained to acme's certificate is what is checked
    ftp = ReusingFTP_TLS(context=ctx, timeout=30)
    ftp.connect("127.0.0.1", sites.explicit)
    assert ftp.sendcmd("HOST ftp.acme.test").startswith("220 ACME")
    ftp.auth()
    ftp.login("alice", ACME_PASSWORD)
    ftp.prot_p()
    chunks = []
    ftp.retrbinary("RETR acme.txt", chunks.append)
    assert b"".join(chunks) == b"ACME data"
    ftp.storbinary("STOR up.txt", io.BytesIO(b"to acme"))
    ftp.quit()
    assert (sites.acme_home / "alice" / "up.txt").read_bytes() == b"to acme"
    assert not (sites.srv.root("alice") / "up.txt").exists()


def test_host_edge_cases_get_the_replies_rfc_7151_prescribes(sites):
    with sites.control() as ctl:
        assert ctl.cmd("HOST unknown.test").startswith("504 Unknown host"), "a name no domain has"
        ctl.expect("HOST acme.test", "220 ACME")
        assert ctl.cmd("HOST ftp.globex.test").startswith("503 HOST was already sent")
        ctl.expect("USER alice", "331")
        assert ctl.cmd("HOST ftp.acme.test").startswith("503 HOST must come before USER")
        ctl.expect(f"PASS {ACME_PASSWORD}", "230")
        assert ctl.cmd("HOST ftp.acme.test").startswith("503")
        # REIN: back to the start, HOST may choose again
        ctl.expect("REIN", "220")
        ctl.expect("HOST ftp.globex.test", "220 Globex")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {GLOBEX_PASSWORD}", "230")
        ctl.expect("SIZE globex.txt", "213")
    with sites.control() as ctl:
        # an address names no site: the session stays where it is
        assert ctl.cmd("HOST 127.0.0.1").startswith("220 Default site")
        assert ctl.cmd("HOST").startswith("501")
    # a listener tied to a domain: HOST cannot leave it
    with sites.control(sites.globex_only) as ctl:
        assert ctl.greeting.startswith("220 Globex FTP"), ctl.greeting
        assert ctl.cmd("HOST ftp.acme.test").startswith("504 This address serves another site")
        ctl.expect("HOST ftp.globex.test", "220 Globex")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {GLOBEX_PASSWORD}", "230")


def test_sni_chooses_the_domain_and_its_certificate(sites):
    # implicit FTPS: the greeting already comes from the domain the server name chose
    ctx = verifying_context(sites.acme_cert)
    raw = ctx.wrap_socket(socket.create_connection(("127.0.0.1", sites.implicit), timeout=30),
                          server_hostname="ftp.acme.test")
    f = raw.makefile("rb")
    assert read_reply(f).startswith("220 ACME file exchange")
    assert send(raw, f, "USER alice").startswith("331")
    assert send(raw, f, f"PASS {ACME_PASSWORD}").startswith("230")
    raw.close()
    # explicit FTPS: AUTH TLS with globex's name, the certificate checked by ftplib; protected data
    # connections resume the control connection's TLS session (tls.session_reuse = "require")
    ftp = ReusingFTP_TLS(context=verifying_context(sites.globex_cert), timeout=30)
    ftp.connect("127.0.0.1", sites.explicit)
    ftp.host = "ftp.globex.test"  # the name ftplib sends as SNI and checks the certificate against
    ftp.auth()
    ftp.login("alice", GLOBEX_PASSWORD)
    ftp.prot_p()
    chunks = []
    ftp.retrbinary("RETR globex.txt", chunks.append)
    assert b"".join(chunks) == b"Globex data"
    assert "globex.txt" in ftp.nlst()
    ftp.quit()
    # the default certificate for a name no domain has
    with pytest.raises(ssl.SSLCertVerificationError):
        verifying_context(sites.acme_cert).wrap_socket(
            socket.create_connection(("127.0.0.1", sites.implicit), timeout=30), server_hostname="other.test")


def test_host_and_sni_must_agree(sites):
    # HOST first, then a TLS server name of another domain: refused, closed
    with sites.control() as ctl:
        ctl.expect("HOST ftp.acme.test", "220")
        ctl.expect("AUTH TLS", "234")
        ctx = stock(ssl.create_default_context())
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        t = ctx.wrap_socket(ctl.sock, server_hostname="ftp.globex.test")
        f = t.makefile("rb")
        assert read_reply(f).startswith("421 The TLS server name names another site than HOST")
        t.close()
    # the server name first, then a HOST of another domain: 504
    ctx = stock(ssl.create_default_context())
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", sites.implicit), timeout=30),
                        server_hostname="ftp.globex.test")
    f = t.makefile("rb")
    assert read_reply(f).startswith("220 Globex")
    assert send(t, f, "HOST ftp.acme.test").startswith("504 HOST names another site than the TLS server name")
    assert send(t, f, "HOST ftp.globex.test").startswith("220 Globex")
    t.close()
    assert "contradicts the TLS server name" in sites.srv.log()


def test_user_at_host_with_curl(sites, tmp_path):
    for login in ("alice@ftp.acme.test", "alice@acme"):
        out = run(["curl", "-sS", "--max-time", "30", "-u", f"{login}:{ACME_PASSWORD}",
                   f"ftp://127.0.0.1:{sites.explicit}/acme.txt"])
        assert out.stdout == b"ACME data", (login, out)
    # a name that exists as written wins over the split
    with sites.control(sites.globex_only) as ctl:
        ctl.expect("USER carol@globex.test", "331")
        ctl.expect("PASS carol-pw", "230")
    # after HOST the name is taken as written
    with sites.control() as ctl:
        ctl.expect("HOST ftp.globex.test", "220")
        ctl.expect("USER alice@acme", "331")
        ctl.expect(f"PASS {ACME_PASSWORD}", "530")
    # an unknown domain after '@': the name as written (no such user)
    bad = run(["curl", "-sS", "--max-time", "30", "-u", f"alice@nowhere.test:{ACME_PASSWORD}",
               f"ftp://127.0.0.1:{sites.explicit}/acme.txt"], check=False)
    assert bad.returncode != 0 and b"530" in bad.stderr + bad.stdout, bad


def test_the_same_name_in_two_domains_is_two_accounts(sites):
    # server.max_sessions_per_user = 1: alice of the default site and alice of acme are two users
    with sites.control() as a, sites.control() as b:
        a.login()
        b.expect("USER alice@acme", "331")
        b.expect(f"PASS {ACME_PASSWORD}", "230")
        with sites.control() as c:
            c.expect("USER alice@acme", "331")
            assert c.cmd(f"PASS {ACME_PASSWORD}").startswith("421 Too many sessions for this user")


def test_logs_and_metrics_carry_the_domain(make_server, tmp_path):
    from test_metrics import metrics_url, scrape

    sites = Sites(make_server, tmp_path, metrics=True)
    url = metrics_url(sites.srv)
    with sites.control() as ctl:
        ctl.expect("HOST ftp.acme.test", "220")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {ACME_PASSWORD}", "230")
        samples, body = scrape(url)
        assert samples['ftpsd_domain_sessions{domain="acme"}'] == 1
        assert samples['ftpsd_domain_sessions{domain="globex"}'] == 0
        assert samples['ftpsd_domain_logins_total{domain="acme",result="ok"}'] == 1
        assert samples['ftpsd_passive_ports{domain="acme",state="capacity"}'] == 10
        assert samples['ftpsd_passive_ports{domain="default",state="capacity"}'] == 10
    with sites.control(sites.globex_only) as ctl:
        ctl.expect("USER alice", "331")
        ctl.expect("PASS wrong", "530")
    samples, _ = scrape(url)
    assert samples['ftpsd_domain_logins_total{domain="globex",result="failed"}'] == 1


def test_json_log_has_the_domain(make_server, tmp_path):
    import json

    sites = Sites(make_server, tmp_path, log_format="json")
    with sites.control() as ctl:
        ctl.expect("HOST ftp.globex.test", "220")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {GLOBEX_PASSWORD}", "230")
    assert wait_for(lambda: '"event":"login"' in sites.srv.log())
    lines = [json.loads(line) for line in sites.srv.log().splitlines() if '"event":"login"' in line]
    assert lines and lines[-1]["domain"] == "globex" and lines[-1]["user"] == "alice", lines


def test_reload_adds_and_removes_domains_without_dropping_sessions(sites):
    running = sites.control(sites.globex_only)
    running.expect("USER alice", "331")
    running.expect(f"PASS {GLOBEX_PASSWORD}", "230")
    # globex goes: the listener tied to it stays (listeners change on restart only), with no site
    # and initech comes, with acme's users
    text = sites.config.split("[[domains]]\nname = \"globex\"")[0]
    text += f"""
[[domains]]
name = "initech"
hosts = ["ftp.initech.test"]
users = "{sites.tmp_path / 'acme-users.toml'}"
banner = "Initech"
"""
    (sites.srv.base / "ftpsd.toml").write_text(text.replace('domain = "globex"\n', ""))
    sites.srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "configuration reloaded" in sites.srv.log()), sites.srv.log()[-3000:]
    running.expect("SIZE globex.txt", "213 11")  # the running session goes on in its domain
    with sites.control(sites.globex_only) as late:
        pass
    assert late.greeting.startswith("421 This site is no longer served here"), late.greeting
    with sites.control() as ctl:
        assert ctl.cmd("HOST ftp.globex.test").startswith("504")
        ctl.expect("HOST ftp.acme.test", "220 ACME")
    with sites.control() as ctl:
        ctl.expect("HOST ftp.initech.test", "220 Initech")
        ctl.expect("USER alice", "331")
        ctl.expect(f"PASS {ACME_PASSWORD}", "230")
    running.expect("NOOP", "200")
    running.close()


def test_lftp_connecting_by_name_gets_its_domain(sites, tmp_path):
    # lftp sends HOST on its own when FEAT lists it; the names resolve to loopback through lftp's own
    # dns:name setting (no system resolver, no other address).
    script = (f"set dns:name/ftp.acme.test 127.0.0.1; set dns:name/ftp.globex.test 127.0.0.1; "
              f"set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 20; "
              f"open -u alice,{ACME_PASSWORD} ftp://ftp.acme.test:{sites.explicit}; cat acme.txt; "
              f"open -u alice,{GLOBEX_PASSWORD} ftp://ftp.globex.test:{sites.explicit}; cat globex.txt")
    out = run(["lftp", "-d", "-c", script], timeout=120, check=False)
    assert out.returncode == 0, out
    assert out.stdout == b"ACME dataGlobex data", out
    assert b"---> HOST ftp.acme.test" in out.stderr and b"<--- 220 ACME file exchange" in out.stderr, out.stderr


def test_a_domain_whose_users_file_cannot_be_read_stops_the_start_with_the_reason(make_server, tmp_path):
    config = f"""
[[listeners]]
address = "127.0.0.1:0"
[users]
file = "users.toml"
[[domains]]
name = "acme"
hosts = ["ftp.acme.test"]
users = "{tmp_path / 'missing-users.toml'}"
"""
    with pytest.raises(RuntimeError) as failed:
        make_server(config=config)
    assert "domain acme: " in str(failed.value) and "missing-users.toml" in str(failed.value), failed.value


def test_a_domain_that_wants_tls_for_logins_refuses_user_at_host_in_clear(make_server, tmp_path):
    _users(tmp_path / "strict-users.toml", tmp_path / "strict", [("alice", ACME_PASSWORD)])
    cert, key = _cert(tmp_path, "localhost")
    srv = make_server(config=f"""
[[listeners]]
address = "127.0.0.1:0"
tls = "explicit"
[users]
file = "users.toml"
[tls]
certificate = "{cert}"
private_key = "{key}"
[[domains]]
name = "strict"
hosts = ["ftp.strict.test"]
users = "{tmp_path / 'strict-users.toml'}"
[domains.tls]
required = "login"
""")
    with Control("127.0.0.1", srv.port) as ctl:
        assert ctl.cmd("USER alice@strict").startswith("530 Login only over TLS"), "no password in clear"
    with Control("127.0.0.1", srv.port) as ctl:
        assert ctl.cmd("HOST ftp.strict.test").startswith("220")
        assert ctl.cmd("USER alice").startswith("530 Login only over TLS")
    with Control("127.0.0.1", srv.port) as ctl:
        ctl.login()  # the default domain asks for no TLS
    assert "USER refused on a clear control connection: tls.required" in srv.log(), srv.log()[-2000:]


def _doctor(url, password, *extra):
    env = dict(__import__("os").environ, FTPSD_PASSWORD=password)
    p = run([BIN, "doctor", url, "--ports", "1", "--connect-to", "127.0.0.1", *extra], check=False, timeout=120,
            env=env)
    return p.returncode, p.stdout.decode()


def test_doctor_checks_that_a_host_name_is_served_by_its_domain(sites):
    code, out = _doctor(f"ftps://alice@ftp.globex.test:{sites.explicit}", GLOBEX_PASSWORD)
    assert code == 0, out
    assert "TCP connect to 127.0.0.1:" in out and "(for ftp.globex.test)" in out, out
    assert "[PASS] HOST ftp.globex.test: 220 Globex FTP" in out, out
    assert "[WARN] certificate: self-signed certificate" in out, out  # globex's, and its names match
    assert "All checks passed." in out, out
    # a name no domain has
    code, out = _doctor(f"ftps://alice@ftp.unknown.test:{sites.explicit}", GLOBEX_PASSWORD)
    assert code == 1 and "[FAIL] HOST ftp.unknown.test: " in out and "504" in out, out
    # a host of acme that acme's certificate does not name
    code, out = _doctor(f"ftps://alice@acme.test:{sites.explicit}", ACME_PASSWORD)
    assert code == 1 and "[PASS] HOST acme.test: 220 ACME file exchange" in out, out
    assert "[FAIL] certificate: the server's certificate is for ftp.acme.test, not acme.test" in out, out


def test_a_domains_bandwidth_limit_and_its_xferlog_lines(make_server, tmp_path):
    # acme: 256 KiB/s for all its downloads together; the default and globex: no limit
    sites = Sites(make_server, tmp_path, log='xferlog = "xferlog"', acme='[domains.limits]\ndownload_rate = "256k"')
    payload = os.urandom(768 << 10)
    (sites.acme_home / "alice" / "big.bin").write_bytes(payload)
    with sites.control() as ctl:
        ctl.expect("USER alice@acme", "331")
        ctl.expect(f"PASS {ACME_PASSWORD}", "230")
        start = time.monotonic()
        data = ctl.epsv()  # acme's 227 names 127.0.0.3, where nothing listens here
        ctl.expect("RETR big.bin", "150")
        assert recv_all(data) == payload
        assert ctl.reply().startswith("226")
        took = time.monotonic() - start
    assert took >= 2.0, took  # 768 KiB at 256 KiB/s: about 3 s (a limit only ever makes it longer)
    assert re.search(r" alice@acme ftp 0 \* c$", (sites.srv.base / "xferlog").read_text(), re.M), \
        (sites.srv.base / "xferlog").read_text()


def test_a_ban_of_an_address_applies_to_every_domain(make_server, tmp_path):
    sites = Sites(make_server, tmp_path, bans="max_failures = 2")
    for _ in range(2):
        with sites.control() as ctl:
            ctl.expect("HOST ftp.acme.test", "220")
            ctl.expect("USER alice", "331")
            assert ctl.cmd("PASS wrong").startswith(("530", "421"))
    with sites.control(sites.globex_only) as ctl:
        assert ctl.greeting.startswith("421"), ctl.greeting
