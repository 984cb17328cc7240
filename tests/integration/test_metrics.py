"""The Prometheus endpoint (metrics.address): scraped with curl, numbers move with logins and transfers."""
import ftplib
import io
import re
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BIN
from helpers import Control, retr_bytes, stor_bytes, wait_for
from tls_helpers import client_context, make_cert, make_tls_server, tls_login  # noqa: F401 (fixture)


def scrape(url):
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-", url], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")  # text mode: CRLF became LF
    assert head.startswith("HTTP/1.1 200"), head
    assert "text/plain" in head, head
    samples = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples, body


def metrics_url(srv):
    deadline = time.monotonic() + 10  # logged before the "listening on" lines
    while not (m := re.search(r"metrics on (http://\S+/metrics)", srv.log())) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert m, srv.log()[-2000:]
    return m.group(1)


def test_metrics_move_after_login_and_transfers(make_server):
    srv = make_server(extra='[metrics]\naddress = "127.0.0.1:0"\n[passive]\nports = "40000-40009"\n')
    url = metrics_url(srv)
    before, body = scrape(url)
    for family in ("ftpsd_sessions", "ftpsd_sessions_total", "ftpsd_logins_total", "ftpsd_transfers_total",
                   "ftpsd_transfer_bytes_total", "ftpsd_transfer_duration_seconds", "ftpsd_tls_handshakes_total",
                   "ftpsd_data_connection_failures_total", "ftpsd_passive_ports",
                   "ftpsd_passive_port_exhaustions_total", "ftpsd_active_connects_total", "ftpsd_reloads_total",
                   "ftpsd_connections_refused_total", "ftpsd_protocol_abuse_total", "ftpsd_bans_total",
                   "ftpsd_banned_addresses"):
        assert f"# TYPE {family} " in body, family
    assert before['ftpsd_passive_ports{domain="default",state="capacity"}'] == 10
    assert before['ftpsd_logins_total{result="ok"}'] == 0
    payload = b"x" * 100_000
    with Control.to(srv) as bad:
        bad.expect("USER alice", "331")
        bad.expect("PASS wrong", "530")
    with Control.to(srv) as ctl:
        ctl.login()
        during, _ = scrape(url)
        assert during['ftpsd_sessions{tls="no"}'] == 1
        stor_bytes(ctl, "STOR up.bin", payload)
        assert retr_bytes(ctl, "up.bin") == payload
        data = ctl.pasv()  # held open: one passive port in use at the next scrape
        held, _ = scrape(url)
        assert held['ftpsd_passive_ports{domain="default",state="in_use"}'] == 1
        data.close()
        ctl.expect("ABOR", "225")
    deadline = time.monotonic() + 10
    while True:
        after, _ = scrape(url)
        if after['ftpsd_sessions{tls="no"}'] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert after['ftpsd_sessions{tls="no"}'] == 0
    assert after["ftpsd_sessions_total"] - before["ftpsd_sessions_total"] == 2
    assert after['ftpsd_logins_total{result="ok"}'] == 1
    assert after['ftpsd_logins_total{result="failed"}'] == 1
    assert after['ftpsd_transfers_total{direction="in",status="complete"}'] == 1
    assert after['ftpsd_transfers_total{direction="out",status="complete"}'] == 1
    assert after['ftpsd_transfer_bytes_total{direction="in"}'] == len(payload)
    assert after['ftpsd_transfer_bytes_total{direction="out"}'] == len(payload)
    assert after['ftpsd_transfer_duration_seconds_count{direction="out"}'] == 1
    assert after['ftpsd_transfer_duration_seconds_bucket{direction="out",le="+Inf"}'] == 1
    assert after['ftpsd_passive_ports{domain="default",state="in_use"}'] == 0
    assert after['ftpsd_passive_ports{domain="default",state="cooling"}'] >= 1  # released ports wait out TIME_WAIT


def test_metrics_count_data_connection_failures_and_active_connects(make_server):
    srv = make_server(extra='[metrics]\naddress = "127.0.0.1:0"\n[passive]\nconnect_timeout = "1s"\n')
    url = metrics_url(srv)
    with Control.to(srv) as ctl:
        ctl.login()
        ctl.expect("PASV", "227")
        assert ctl.cmd("LIST").startswith("425")  # nobody connects: timeout
        with socket.socket() as closed:  # a port nobody listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        ctl.expect(f"PORT 127,0,0,1,{port >> 8},{port & 255}", "200")
        assert ctl.cmd("LIST").startswith("425")
    s, _ = scrape(url)
    assert s['ftpsd_data_connection_failures_total{cause="timeout"}'] == 1
    assert s['ftpsd_data_connection_failures_total{cause="connect_failed"}'] == 1
    assert s['ftpsd_active_connects_total{result="failed"}'] == 1
    assert s['ftpsd_data_connection_failures_total{cause="tls_reuse_refused"}'] == 0


def test_metrics_address_in_use_is_a_start_error(make_server, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = tmp_path / "m.toml"
        cfg.write_text(f'[[listeners]]\naddress = "127.0.0.1:0"\n[metrics]\naddress = "127.0.0.1:{port}"\n')
        r = subprocess.run([BIN, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "metrics.address" in r.stderr, r
    cfg.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n[metrics]\naddress = "localhost:9120"\n')
    r = subprocess.run([BIN, "check-config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{cfg}:4: key 'metrics.address'" in r.stderr, r


def test_metrics_tls_handshakes_and_sessions(make_tls_server):
    srv = make_tls_server(extra='[metrics]\naddress = "127.0.0.1:0"\n')
    url = metrics_url(srv)
    ftp = tls_login(srv)
    out = io.BytesIO()
    ftp.retrlines("LIST", lambda line: None)
    during, _ = scrape(url)
    assert during['ftpsd_sessions{tls="yes"}'] == 1
    assert during['ftpsd_tls_handshakes_total{channel="control",result="full"}'] == 1
    assert during['ftpsd_tls_handshakes_total{channel="data",result="resumed"}'] == 1
    # plain ftplib does not resume the session on the data connection: refused (tls.session_reuse = require)
    plain = tls_login(srv, cls=ftplib.FTP_TLS)
    try:
        plain.retrbinary("LIST", out.write)
    except ftplib.error_perm:
        pass
    plain.close()
    ftp.quit()
    after, _ = scrape(url)
    assert after['ftpsd_tls_handshakes_total{channel="data",result="full"}'] == 1
    assert after['ftpsd_data_connection_failures_total{cause="tls_reuse_refused"}'] == 1


def test_ban_and_limit_metrics_move(make_server):
    # Two bounce attempts ban the address (bans.max_failures = 2); the next connection is refused at accept.
    srv = make_server(extra='[metrics]\naddress = "127.0.0.1:0"\n[bans]\nmax_failures = 2\nlogin_delay = "0s"\n',
                      server="max_sessions_per_ip = 1")
    url = metrics_url(srv)
    before, _ = scrape(url)
    assert before["ftpsd_protocol_abuse_total"] == 0 and before["ftpsd_bans_total"] == 0
    assert before["ftpsd_banned_addresses"] == 0
    with Control.to(srv) as ctl:
        ctl.login()
        # A second session from the same address while this one is open: over max_sessions_per_ip.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s2:
            assert s2.recv(200).startswith(b"421")
        ctl.expect("PORT 127,0,0,1,0,25", "501")
        ctl.expect("PORT 127,0,0,1,0,26", "421")
    after, _ = scrape(url)
    assert after['ftpsd_connections_refused_total{reason="max_sessions_per_ip"}'] == 1
    assert after["ftpsd_protocol_abuse_total"] == 2
    assert after["ftpsd_bans_total"] == 1
    assert after["ftpsd_banned_addresses"] == 1
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s3:
        assert s3.recv(200).startswith(b"421")
    final, _ = scrape(url)
    assert final['ftpsd_connections_refused_total{reason="banned"}'] == 1


def test_reuse_reported_and_per_user_refusals_are_counted(make_tls_server):
    # session_reuse = "report": plain ftplib's data connections (full handshakes) are accepted and counted.
    srv = make_tls_server(tls_extra='session_reuse = "report"', extra='[metrics]\naddress = "127.0.0.1:0"\n',
                          server="max_sessions_per_user = 1")
    url = metrics_url(srv)
    before, body = scrape(url)
    assert "# TYPE ftpsd_tls_session_reuse_reported_total counter" in body
    assert before["ftpsd_tls_session_reuse_reported_total"] == 0
    assert before['ftpsd_connections_refused_total{reason="max_sessions_per_user"}'] == 0
    ftp = tls_login(srv, cls=ftplib.FTP_TLS)
    assert ftp.nlst() == []
    second = tls_login(srv, user="bob", cls=ftplib.FTP_TLS)  # another user: not refused
    with pytest.raises(ftplib.error_temp, match="^421 Too many sessions for this user"):
        tls_login(srv, cls=ftplib.FTP_TLS)
    second.quit()
    ftp.quit()
    after, _ = scrape(url)
    assert after["ftpsd_tls_session_reuse_reported_total"] == 1
    assert after['ftpsd_connections_refused_total{reason="max_sessions_per_user"}'] == 1
    assert after['ftpsd_data_connection_failures_total{cause="tls_reuse_refused"}'] == 0


def test_help_texts_name_no_tracker_items(make_server):
    srv = make_server(extra='[metrics]\naddress = "127.0.0.1:0"\n')
    _, body = scrape(metrics_url(srv))
    helps = [line for line in body.splitlines() if line.startswith("# HELP ")]
    assert helps
    for line in helps:
        assert not re.search(r"\b(issue|ticket|bug)\s*#?\d", line, re.IGNORECASE), line


def test_session_gauges_return_to_zero_after_failed_handshakes_and_ccc(make_tls_server, tmp_path):
    """Whatever ends a session (a control TLS handshake refused for an untrusted client certificate,
    garbage on the implicit port, AUTH TLS followed by garbage, CCC back to clear text), both gauges read
    0 once every session has ended."""
    (tmp_path / "ca").mkdir()
    (tmp_path / "client").mkdir()
    ca, _ = make_cert(tmp_path / "ca")
    client_cert, client_key = make_cert(tmp_path / "client")  # self-signed: not from `ca`
    srv = make_tls_server(tls_extra=f'allow_ccc = true\nclient_certificates = "optional"\nclient_ca = "{ca}"',
                          extra='[metrics]\naddress = "127.0.0.1:0"\n')
    url = metrics_url(srv)

    def gauges():
        s, _ = scrape(url)
        return s['ftpsd_sessions{tls="yes"}'], s['ftpsd_sessions{tls="no"}']

    def context():
        ctx = client_context()
        ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        return ctx

    # An untrusted client certificate: the handshake fails (TLS 1.3 reports it on the first read).
    for port in (srv.implicit_port, srv.port):
        ctx = context()
        ctx.load_cert_chain(client_cert, client_key)
        raw = socket.create_connection((srv.host, port), timeout=10)
        if port == srv.port:
            f = raw.makefile("rb")
            assert f.readline().startswith(b"220")
            raw.sendall(b"AUTH TLS\r\n")
            assert f.readline().startswith(b"234")
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.recv(100)
        except (ssl.SSLError, OSError):
            pass
        raw.close()
    # Garbage instead of a ClientHello, on the implicit port and after AUTH TLS.
    with socket.create_connection((srv.host, srv.implicit_port), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10)
        try:
            raw.recv(100)
        except OSError:
            pass
    with Control.to(srv) as c:
        c.expect("AUTH TLS", "234")
        c.send(b"\x16\x03\x01\x00\x05garbage" * 10)
        assert c.closed_within(10)
    # CCC: TLS, then clear text again; one session of each kind stays open for a while.
    with Control.to(srv) as c:
        c.expect("AUTH TLS", "234")
        c.sock = context().wrap_socket(c.sock, server_hostname="localhost")
        c.login()
        open_tls = tls_login(srv, ctx=context())
        assert wait_for(lambda: gauges() == (2, 0), timeout=10), gauges()
        c.expect("CCC", "200")
        c.sock = c.sock.unwrap()
        c.expect("PWD", "257")
        assert wait_for(lambda: gauges() == (1, 1), timeout=10), gauges()
        open_tls.quit()
        c.expect("QUIT", "221")
    assert wait_for(lambda: gauges() == (0, 0), timeout=20), gauges()
    log = srv.log()
    assert log.count("TLS handshake on the control connection failed") >= 4, log[-3000:]
