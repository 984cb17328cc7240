"""The Manager's REST API ([admin]): HTTPS with the test certificate (verified), bearer tokens, roles,
the live session list, ending a session (the FTP client sees 421), the passive pool in the status,
request limits, and admin.allow refusing a connection before any HTTP is read."""
import ftplib
import io
import http.client
import json
import os
import re
import socket
import ssl
import time
from pathlib import Path

import pytest

from conftest import BIN, PASSWORDS, default_config
from helpers import Control, run, wait_for
from stock_ssl import stock
from tls_helpers import ReusingFTP_TLS, client_context, make_cert

ACCOUNTS = {"root": ("root-secret", "admin"), "op": ("op-secret", "operator"), "view": ("view-secret", "viewer")}
TIMEOUT = 30


def add_admins(base):
    """The admins file, written by `ftpsd admin add` (the password on standard input)."""
    for name, (password, role) in ACCOUNTS.items():
        p = run([BIN, "admin", "add", name, "--role", role, "--file", str(base / "admins.toml")],
                input=(password + "\n").encode())
        assert f"added admin {name} (role {role})" in p.stdout.decode()


class Api:
    """A client of the Manager: HTTPS, the server's certificate verified against the test certificate."""

    def __init__(self, url, cert):
        m = re.fullmatch(r"https?://([0-9.]+):(\d+)", url)
        assert m, url
        self.host, self.port = m.group(1), int(m.group(2))
        self.ctx = stock(ssl.create_default_context(cafile=str(cert)))

    def connection(self, source="127.0.0.1"):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=TIMEOUT,
                                           source_address=(source, 0))

    def call(self, method, path, token=None, body=None, raw=None, headers=None):
        """(status, headers, JSON answer or None)."""
        conn = self.connection()
        try:
            h = dict(headers or {})
            if token:
                h["Authorization"] = f"Bearer {token}"
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            if data is not None:
                h["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
            answer = json.loads(text) if r.getheader("Content-Type", "").startswith("application/json") else None
            return r.status, r, answer
        finally:
            conn.close()

    def token(self, name):
        status, _, answer = self.call("POST", "/api/v1/auth/token",
                                      body={"name": name, "password": ACCOUNTS[name][0]})
        assert status == 200, answer
        assert answer["role"] == ACCOUNTS[name][1]
        assert re.fullmatch(r"[0-9a-f]{64}", answer["token"]), answer
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["expires"]), answer
        return answer["token"]

    def audit(self, token, limit=1):
        """The newest `limit` entries of the audit log, newest first."""
        status, _, answer = self.call("GET", f"/api/v1/audit?limit={limit}", token=token)
        assert status == 200, answer
        return answer["entries"]


def admin_url(srv):
    assert wait_for(lambda: re.search(r"admin on (https?://\S+)", srv.log()), timeout=15), srv.log()[-2000:]
    return re.search(r"admin on (https?://\S+)", srv.log()).group(1)


@pytest.fixture
def make_manager(make_server, tmp_path):
    """make_manager(admin_extra="", extra="", listeners=None, server="", user_options=None) -> (Server,
    Api): a plain FTP listener, [admin] on 127.0.0.1:0 with HTTPS (the test certificate) and the three
    accounts of ACCOUNTS; the other arguments go to make_server. Several servers of one test share the
    certificate and the accounts."""
    def factory(admin_extra="", extra="", listeners=None, server="", user_options=None):
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        if not (tmp_path / "admins.toml").exists():
            cert, key = make_cert(tmp_path)
            add_admins(tmp_path)
        srv = make_server(listeners=listeners, server=server, user_options=user_options, extra=f"""
[tls]
certificate = "{cert}"
private_key = "{key}"
[admin]
address = "127.0.0.1:0"
users_file = "{tmp_path / 'admins.toml'}"
{admin_extra}
{extra}
""")
        return srv, Api(admin_url(srv), cert)
    return factory


@pytest.fixture
def manager(make_manager):
    return make_manager(extra='[passive]\nports = "40110-40119"\n')


def test_no_token_or_a_bad_one_is_401_with_the_security_headers(manager):
    srv, api = manager
    for token in (None, "0" * 64):
        status, r, answer = api.call("GET", "/api/v1/sessions", token=token)
        assert status == 401, answer
        assert set(answer) == {"error", "field"} and answer["error"], answer
        assert r.getheader("WWW-Authenticate") == "Bearer"
        assert r.getheader("Content-Security-Policy") == "default-src 'self'"
        assert r.getheader("X-Frame-Options") == "DENY"
        assert r.getheader("Cache-Control") == "no-store"
    status, r, _ = api.call("GET", "/api/v1/status", token=api.token("view"))
    assert status == 200
    assert r.getheader("Cache-Control") == "no-store" and r.getheader("X-Frame-Options") == "DENY"
    status, _, answer = api.call("GET", "/api/v1/nothing-here", token=api.token("view"))
    assert (status, answer["error"]) == (404, "no such resource")


def test_a_wrong_password_is_401_counted_and_never_logged(manager):
    srv, api = manager
    for name in ("root", "nobody"):
        status, _, answer = api.call("POST", "/api/v1/auth/token", body={"name": name, "password": "guess-1234"})
        assert (status, answer) == (401, {"error": "wrong name or password", "field": None})
    token = api.token("root")
    status, _, answer = api.call("GET", "/api/v1/status", token=token)
    assert status == 200
    assert answer["manager"]["failed_logins"] == 2
    log = srv.log()
    assert 'failed sign-in as "root" from 127.0.0.1' in log
    assert "guess-1234" not in log and "root-secret" not in log and token not in log


def test_a_failed_sign_in_waits_bans_login_delay(make_manager):
    srv, api = make_manager(extra='[bans]\nlogin_delay = "1500ms"\n')
    started = time.monotonic()
    status, _, _ = api.call("POST", "/api/v1/auth/token", body={"name": "root", "password": "guess"})
    assert status == 401
    assert time.monotonic() - started >= 1.5


def test_sessions_list_shows_a_real_ftp_session_and_delete_ends_it_with_421(manager):
    srv, api = manager
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    view, op = api.token("view"), api.token("op")
    status, _, answer = api.call("GET", "/api/v1/sessions", token=view)
    assert status == 200
    mine = [s for s in answer["sessions"] if s["user"] == "alice"]
    assert len(mine) == 1, answer
    s = mine[0]
    assert s["client"].startswith("127.0.0.1"), s
    assert s["domain"] == "default" and s["tls"] is None and s["transfer"] is None, s
    assert s["listener"].endswith(f":{srv.port}"), s
    assert isinstance(s["idle_seconds"], int) and s["idle_seconds"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s["started"]), s

    # A viewer may look, not end.
    status, _, answer = api.call("DELETE", f"/api/v1/sessions/{s['id']}", token=view)
    assert (status, answer["error"]) == (403, "ending a session needs the role operator or admin")
    assert ftp.voidcmd("NOOP").startswith("200")

    status, _, answer = api.call("DELETE", f"/api/v1/sessions/{s['id'] + 1000}", token=op)
    assert (status, answer["error"]) == (404, f"no session {s['id'] + 1000}")
    status, _, answer = api.call("DELETE", f"/api/v1/sessions/{s['id']}", token=op)
    assert (status, answer) == (200, {"id": s["id"], "ended": True})
    with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
        ftp.voidcmd("NOOP")
    ftp.close()
    assert wait_for(lambda: api.call("GET", "/api/v1/sessions", token=view)[2]["sessions"] == [])
    assert f"admin: op from 127.0.0.1: session.end session {s['id']}" in srv.log()
    # The audit log has it, through the API and in admin.audit_file (beside the admins file).
    status, _, answer = api.call("GET", "/api/v1/audit?limit=5", token=view)
    assert status == 200
    entry = answer["entries"][0]
    assert (entry["who"], entry["address"], entry["action"], entry["target"]) == \
        ("op", "127.0.0.1", "session.end", f"session {s['id']}"), entry
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["time"]), entry
    lines = (srv.base.parent / "audit.jsonl").read_text().splitlines()
    assert json.loads(lines[-1]) == entry
    for bad in ("0", "x", "1001"):
        status, _, answer = api.call("GET", f"/api/v1/audit?limit={bad}", token=view)
        assert (status, answer) == (400, {"error": "limit must be a number from 1 to 1000", "field": "limit"})


def test_status_shows_version_sessions_and_the_passive_pool_of_each_domain(make_manager):
    # acme has passive ports of its own; globex shares the default's pool (not listed again).
    srv, api = make_manager(extra="""[passive]
ports = "30500-30509"
[[domains]]
name = "acme"
hosts = ["ftp.acme.test"]
[domains.passive]
ports = "30520-30524"
[[domains]]
name = "globex"
hosts = ["ftp.globex.test"]
""")
    token = api.token("view")
    status, _, answer = api.call("GET", "/api/v1/status", token=token)
    assert status == 200
    version = run([BIN, "--version"]).stdout.decode().split()[-1]
    assert answer["version"] == version
    assert answer["uptime_seconds"] >= 0 and answer["sessions"] == 0
    assert answer["passive_ports"] == [{"domain": "default", "capacity": 10, "in_use": 0, "cooling": 0, "free": 10},
                                       {"domain": "acme", "capacity": 5, "in_use": 0, "cooling": 0, "free": 5}]
    assert answer["transfers"] == 0
    with Control.to(srv) as ctl:
        ctl.expect("HOST ftp.acme.test", "220")
        ctl.login()
        data = ctl.pasv()  # held open: one port of acme's pool in use
        answer = api.call("GET", "/api/v1/status", token=token)[2]
        assert answer["sessions"] == 1
        assert [p["in_use"] for p in answer["passive_ports"]] == [0, 1], answer
        assert [p["free"] for p in answer["passive_ports"]] == [10, 4], answer
        sessions = api.call("GET", "/api/v1/sessions", token=token)[2]["sessions"]
        assert [(s["domain"], s["user"]) for s in sessions] == [("acme", "alice")], sessions
        data.close()
        ctl.expect("ABOR", "225")


def test_oversized_and_malformed_bodies_get_4xx_and_ftp_goes_on(manager):
    srv, api = manager
    status, _, answer = api.call("POST", "/api/v1/auth/token", raw=b"x" * (256 * 1024))
    assert (status, answer["error"]) == (413, "request too large")
    status, _, answer = api.call("POST", "/api/v1/auth/token", raw=b'{"name": "root", "password":')
    assert status == 400 and answer["error"].startswith("the body must be a JSON object"), answer
    status, _, answer = api.call("POST", "/api/v1/auth/token", body={"name": "root", "password": 5})
    assert (status, answer) == (400, {"error": "'password' must be a string", "field": "password"})
    status, _, answer = api.call("POST", "/api/v1/auth/token", body=["root"])
    assert status == 400, answer
    # A request line that is no HTTP at all.
    with socket.create_connection((api.host, api.port), timeout=TIMEOUT) as raw:
        with api.ctx.wrap_socket(raw, server_hostname=api.host) as tls:
            tls.sendall(b"HELLO\r\n\r\n")
            assert tls.recv(1024).startswith(b"HTTP/1.1 400")
    with Control.to(srv) as ctl:
        ctl.login()
        ctl.expect("NOOP", "200")
    assert api.call("GET", "/api/v1/status", token=api.token("root"))[0] == 200


def test_an_address_outside_admin_allow_gets_no_http_answer(make_manager):
    srv, api = make_manager(admin_extra='allow = ["127.0.0.1/32"]')
    conn = api.connection(source="127.0.0.2")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        conn.request("GET", "/api/v1/status")
        conn.getresponse()
    conn.close()
    assert wait_for(lambda: "refused a connection from 127.0.0.2: not in admin.allow" in srv.log())
    assert api.call("POST", "/api/v1/auth/token", body={"name": "root", "password": "x"})[0] == 401
    assert "GET /api/v1/status" not in srv.log()


def test_plain_http_refuses_an_address_outside_admin_allow_with_403(make_manager):
    srv, api = make_manager(admin_extra='tls = false\nallow = ["127.0.0.1/32"]')
    assert admin_url(srv).startswith("http://")
    for source, expected in (("127.0.0.2", 403), ("127.0.0.1", 401)):
        conn = http.client.HTTPConnection(api.host, api.port, timeout=TIMEOUT, source_address=(source, 0))
        conn.request("GET", "/api/v1/status")
        r = conn.getresponse()
        answer = json.loads(r.read())
        conn.close()
        assert r.status == expected, answer
    assert answer["error"].startswith("sign in first")


def test_admin_add_refuses_a_bad_role_and_a_duplicate(tmp_path):
    file = str(tmp_path / "admins.toml")
    p = run([BIN, "admin", "add", "x", "--role", "boss", "--file", file], input=b"pw\n", check=False)
    assert p.returncode == 2
    assert p.stderr.decode() == "ftpsd: --role must be admin, operator or viewer, not 'boss'\n"
    run([BIN, "admin", "add", "x", "--role", "viewer", "--file", file], input=b"pw\n")
    p = run([BIN, "admin", "add", "x", "--role", "admin", "--file", file], input=b"pw\n", check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == f"ftpsd: admin 'x' already exists in {file}\n"
    p = run([BIN, "admin", "add", "y", "--role", "admin", "--file", file], input=b"", check=False)
    assert (p.returncode, p.stderr.decode()) == (2, "ftpsd: no password on standard input\n")


def test_check_config_and_run_report_a_broken_admins_file(tmp_path):
    (tmp_path / "admins.toml").write_text('[[admins]]\nname = "a"\npassword_hash = "$6$x$y"\nrole = "king"\n')
    (tmp_path / "users.toml").write_text("")
    (tmp_path / "ftpsd.toml").write_text(default_config(extra='[admin]\naddress = "127.0.0.1:0"\ntls = false\n'
                                                            'users_file = "admins.toml"\n'))
    expected = (f"{tmp_path / 'admins.toml'}:4: key 'admins.role': expected one of \"admin\", \"operator\", "
                f"\"viewer\"\n")
    p = run([BIN, "check-config", str(tmp_path / "ftpsd.toml")], check=False)
    assert (p.returncode, p.stderr.decode()) == (2, expected)
    p = run([BIN, "run", "--config", str(tmp_path / "ftpsd.toml")], check=False, timeout=60)
    assert p.returncode == 1
    assert expected.strip() in p.stderr.decode()


def test_a_transfer_of_a_file_name_that_is_not_utf8_is_listed_with_replacement_characters(manager):
    srv, api = manager
    with Control.to(srv) as ctl:
        ctl.login()
        data = ctl.pasv()
        ctl.send(b"STOR caf\xe9.bin\r\n")  # Latin-1, as an old client sends it
        assert ctl.reply().startswith("150")
        data.sendall(b"x" * 1000)
        assert wait_for(lambda: (api.call("GET", "/api/v1/sessions", token=api.token("view"))[2] or {})
                        .get("sessions", [{}])[0].get("transfer") is not None)
        status, _, answer = api.call("GET", "/api/v1/sessions", token=api.token("view"))
        assert status == 200, answer
        assert answer["sessions"][0]["transfer"]["path"] == "/caf\ufffd.bin", answer
        data.close()
        assert ctl.reply().startswith("226")


def test_the_openapi_document_is_served_without_sign_in_and_is_the_repository_s(manager):
    _, api = manager
    status, r, answer = api.call("GET", "/api/v1/openapi.json")
    assert status == 200
    assert r.getheader("Content-Type") == "application/json"
    with open(Path(__file__).resolve().parents[2] / "docs" / "openapi.json") as f:
        assert answer == json.load(f)
    assert answer["openapi"].startswith("3.") and "/api/v1/sessions/{id}" in answer["paths"]


def test_status_counts_transfers_bytes_logins_and_tls_session_reuse(make_manager):
    srv, api = make_manager(listeners='[[listeners]]\naddress = "127.0.0.1:0"\ntls = "explicit"\n')
    srv.root("alice").joinpath("status.bin").write_bytes(b"s" * 70000)
    token = api.token("view")
    before = api.call("GET", "/api/v1/status", token=token)[2]
    ftp = ReusingFTP_TLS(context=client_context(), timeout=TIMEOUT)
    ftp.connect("127.0.0.1", srv.port)
    ftp.auth()
    ftp.login("alice", PASSWORDS["alice"])
    ftp.prot_p()
    got = bytearray()
    ftp.retrbinary("RETR status.bin", got.extend)
    ftp.storbinary("STOR up.bin", io.BytesIO(b"u" * 1000))
    ftp.quit()
    assert len(got) == 70000
    after = api.call("GET", "/api/v1/status", token=token)[2]
    assert after["bytes"]["sent"] - before["bytes"]["sent"] == 70000, (before, after)
    assert after["bytes"]["received"] - before["bytes"]["received"] == 1000
    assert after["transfers_total"]["complete"] - before["transfers_total"]["complete"] == 2
    assert after["logins"]["ok"] - before["logins"]["ok"] == 1
    tls_before, tls_after = before["tls"], after["tls"]
    assert tls_after["control_handshakes"]["full"] - tls_before["control_handshakes"]["full"] == 1
    assert tls_after["data_handshakes"]["resumed"] - tls_before["data_handshakes"]["resumed"] == 2, after
    assert tls_after["data_reuse_refused"] == tls_before["data_reuse_refused"]
    # A client that does not resume its session on the data connection is refused, and counted.
    plain = ftplib.FTP_TLS(context=client_context(), timeout=TIMEOUT)
    plain.connect("127.0.0.1", srv.port)
    plain.auth()
    plain.login("alice", PASSWORDS["alice"])
    plain.prot_p()
    with pytest.raises((ftplib.error_temp, ftplib.error_perm, OSError)):
        plain.retrbinary("RETR status.bin", lambda _: None)
    plain.close()
    assert wait_for(lambda: api.call("GET", "/api/v1/status", token=token)[2]["tls"]["data_reuse_refused"]
                    == tls_before["data_reuse_refused"] + 1)


def test_failed_sign_ins_feed_the_ban_list_and_a_banned_address_is_refused_at_once(make_manager):
    # One failure bans (bans.max_failures = 1), after bans.login_delay; then the address is refused at
    # once by both sign-in routes, and by FTP too: it is the server's one ban list.
    srv, api = make_manager(extra='[bans]\nmax_failures = 1\nlogin_delay = "2s"\n')
    started = time.monotonic()
    status, _, answer = api.call("POST", "/api/v1/auth/session", body={"name": "root", "password": "guess"})
    assert time.monotonic() - started >= 2
    assert (status, answer) == (403, {"error": "too many failed sign-ins from 127.0.0.1: banned for 900 seconds",
                                      "field": None})
    for path in ("/api/v1/auth/token", "/api/v1/auth/session"):
        started = time.monotonic()
        status, _, answer = api.call("POST", path, body={"name": "root", "password": ACCOUNTS["root"][0]})
        assert time.monotonic() - started < 2, "a banned address does not wait"
        assert status == 403, answer
        assert re.fullmatch(r"too many failed sign-ins from 127\.0\.0\.1: banned for \d+ more seconds",
                            answer["error"]), answer
    log = srv.log()
    assert 'login failed: client=127.0.0.1 user="root" reason=wrong password via=manager' in log
    assert "ban: client=127.0.0.1 for 900s after 1 failures" in log
    with pytest.raises((EOFError, ConnectionError, ftplib.Error, OSError)):
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
        ftp.login("alice", PASSWORDS["alice"])
    # Another address is not banned.
    conn = api.connection(source="127.0.0.2")
    conn.request("POST", "/api/v1/auth/token", body=json.dumps({"name": "root", "password": "root-secret"}),
                 headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()


def test_api_requests_are_rate_limited_per_address_with_429_and_retry_after(make_manager):
    srv, api = make_manager(admin_extra="rate_limit = 1\nrate_burst = 3")
    answers = []
    for _ in range(30):  # 3 at once, then 1 a second: a 429 long before 30 requests (each takes far less than 1 s)
        status, r, answer = api.call("GET", "/api/v1/openapi.json")
        answers.append(status)
        if status == 429:
            break
    assert answers[:3] == [200, 200, 200] and answers[-1] == 429, answers
    assert r.getheader("Retry-After") == "1"
    assert answer == {"error": "too many requests from 127.0.0.1 (admin.rate_limit): try again in 1 s",
                      "field": None}
    conn = api.connection(source="127.0.0.2")
    conn.request("GET", "/api/v1/openapi.json")
    assert conn.getresponse().status == 200, "each address has a bucket of its own"
    conn.close()
    assert wait_for(lambda: api.call("GET", "/api/v1/openapi.json")[0] == 200, timeout=10)


def test_status_history_has_a_sample_now_and_status_the_counters_of_the_dashboard(manager):
    srv, api = manager
    token = api.token("view")
    with Control.to(srv) as ctl:
        ctl.login()
        data = ctl.pasv()
        ctl.send(b"STOR up.bin\r\n")
        assert ctl.reply().startswith("150")
        data.sendall(b"x" * 5000)
        assert wait_for(lambda: api.call("GET", "/api/v1/status", token=token)[2]["transfers"] == 1)
        assert api.call("GET", "/api/v1/status", token=token)[2]["bans"] == 0
        data.close()
        assert ctl.reply().startswith("226")
    cert = api.call("GET", "/api/v1/status", token=token)[2]["certificates"]
    assert [c["domain"] for c in cert] == ["default"] and cert[0]["days_left"] >= 29, cert
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cert[0]["not_after"]), cert
    status, _, history = api.call("GET", "/api/v1/status/history", token=token)
    assert status == 200
    assert history["interval_seconds"] == 10
    assert len(history["samples"]) >= 1, "the first sample is taken at the start"
    for s in history["samples"] + [history["now"]]:
        assert set(s) == {"time", "sessions", "transfers", "sent_per_second", "received_per_second"}, s
    assert api.call("GET", "/api/v1/status/history")[0] == 401


def test_one_connection_serves_many_requests_and_the_manager_yields_the_cpu_to_ftp(manager):
    srv, api = manager
    token = api.token("view")
    conn = api.connection()
    try:
        conn.request("GET", "/api/v1/status", headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
        first = conn.sock
        for _ in range(60):  # more than cpp-httplib's default of 5 requests a connection
            conn.request("GET", "/api/v1/status", headers={"Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200 and r.getheader("Connection", "").lower() != "close"
        assert conn.sock is first
    finally:
        conn.close()
    # The Manager's threads run at nice 10, FTP's at the server's own priority.
    nice = []
    for tid in os.listdir(f"/proc/{srv.proc.pid}/task"):
        with open(f"/proc/{srv.proc.pid}/task/{tid}/stat") as f:
            nice.append(int(f.read().rsplit(")", 1)[1].split()[16]))
    assert nice.count(10) >= 9, nice  # the listening thread and the pool of 8
    assert nice.count(0) >= 2, nice  # the main thread and the FTP event loop(s)
