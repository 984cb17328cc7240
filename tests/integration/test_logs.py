"""Session log (text and JSON, file and stderr, reopened on SIGHUP) and the xferlog transfer log."""
import json
import os
import signal
import socket
import subprocess
import time

from conftest import BIN, PASSWORDS
from helpers import Control, recv_all, retr_bytes, stor_bytes, wait_for

JSON_KEYS = ["time", "level", "session", "client", "user", "domain", "event"]


def log_config(**keys):
    lines = "".join(f'{k} = "{v}"\n' for k, v in keys.items())
    return lines


def make(make_server, **log_keys):
    srv = make_server()
    # The fixture writes [log] level = "debug"; the tests need their own [log] table instead.
    cfg = (srv.base / "ftpsd.toml").read_text()
    srv.stop()
    cfg = cfg.replace('[log]\nlevel = "debug"\n', "[log]\n" + log_config(**log_keys))
    return make_server(config=cfg)


def test_json_session_log_to_a_file_escapes_values(make_server):
    srv = make(make_server, level="trace", format="json", file="session.log")
    weird = 'we"ird\\user'
    with Control.to(srv) as ctl:
        ctl.expect(f"USER {weird}", "331")
        ctl.expect("PASS wrong-password-123", "530")
        ctl.login()
        ctl.expect("QUIT", "221")
    path = srv.base / "session.log"
    assert wait_for(lambda: path.exists() and '"event":"disconnect"' in path.read_text())
    objects = [json.loads(line) for line in path.read_text().splitlines()]  # every line is one object
    assert objects
    for o in objects:
        assert list(o)[: len(JSON_KEYS)] == JSON_KEYS, o
    failed = [o for o in objects if o["event"] == "login_failed"]
    assert failed and failed[0]["user"] == weird and failed[0]["client"] == "127.0.0.1", failed
    assert isinstance(failed[0]["session"], int)
    login = [o for o in objects if o["event"] == "login"]
    assert login and login[0]["user"] == "alice" and login[0]["level"] == "info" and login[0]["domain"] == "default"
    assert any(o["event"] == "server" and o["session"] is None and o["domain"] is None for o in objects)
    # Nothing of the session log went to stderr but the start-up lines before the configuration applied.
    assert "logged in" not in srv.log_path.read_text()


def test_text_log_and_xferlog_parse_back(make_server):
    srv = make(make_server, level="trace", xferlog="xferlog")
    payload = os.urandom(123_457)
    with Control.to(srv) as ctl:
        ctl.login()
        stor_bytes(ctl, "STOR my file.bin", payload)
        assert retr_bytes(ctl, "my file.bin") == payload
        ctl.expect("TYPE A", "200")
        stor_bytes(ctl, "APPE notes.txt", b"line\r\n")
        ctl.expect("QUIT", "221")
    path = srv.base / "xferlog"
    assert wait_for(lambda: path.exists() and len(path.read_text().splitlines()) >= 3)
    lines = path.read_text().splitlines()
    assert len(lines) == 3, lines  # listings are not in the xferlog
    parsed = []
    for line in lines:
        f = line.split()
        assert len(f) == 18, line  # 5 for the date, 13 more: spaces in names became "_"
        time.strptime(" ".join(f[:5]), "%a %b %d %H:%M:%S %Y")
        parsed.append({"seconds": int(f[5]), "host": f[6], "size": int(f[7]), "name": f[8], "type": f[9],
                       "flag": f[10], "direction": f[11], "mode": f[12], "user": f[13], "service": f[14],
                       "auth": f[15], "auth_user": f[16], "status": f[17]})
    up, down, append = parsed
    root = str(srv.root("alice"))
    assert up == {"seconds": up["seconds"], "host": "127.0.0.1", "size": len(payload),
                  "name": f"{root}/my_file.bin", "type": "b", "flag": "_", "direction": "i", "mode": "r",
                  "user": "alice", "service": "ftp", "auth": "0", "auth_user": "*", "status": "c"}
    assert up["seconds"] >= 1
    assert (down["direction"], down["size"], down["status"]) == ("o", len(payload), "c")
    assert (append["type"], append["direction"], append["name"]) == ("a", "i", f"{root}/notes.txt")
    # The text session log: one line per event with the session id, client address and user.
    text = srv.log()
    assert "s=1 127.0.0.1 alice logged in" in text, text[-3000:]
    assert "s=1 127.0.0.1 alice transfer STOR /my file.bin bytes=123457" in text


def test_aborted_download_is_incomplete_in_xferlog(make_server):
    srv = make(make_server, level="info", xferlog="xferlog")
    with open(srv.root("alice") / "big.bin", "wb") as f:
        f.truncate(1 << 30)  # sparse
    with Control.to(srv) as ctl:
        ctl.login()
        data = ctl.pasv()
        ctl.expect("RETR big.bin", "150")
        assert data.recv(65536)
        ctl.send(b"ABOR\r\n")
        assert ctl.reply().startswith("426")
        assert ctl.reply().startswith("226")
        recv_all(data, timeout=10)
    path = srv.base / "xferlog"
    assert wait_for(lambda: path.exists() and path.read_text().strip())
    f = path.read_text().split()
    assert (f[8].endswith("/big.bin"), f[11], f[17]) == (True, "o", "i"), f
    assert 0 < int(f[7]) < (1 << 30)


def test_passwords_never_logged_at_trace(make_server):
    srv = make(make_server, level="trace", file="session.log", xferlog="xferlog")
    with Control.to(srv) as ctl:
        ctl.expect("USER alice", "331")
        ctl.expect("PASS not-the-Secret-42", "530")
        ctl.login()
        stor_bytes(ctl, "STOR f", b"x")
        ctl.expect("QUIT", "221")
    path = srv.base / "session.log"
    assert wait_for(lambda: "disconnected" in path.read_text())
    srv.stop()
    logs = {p.name: p.read_bytes() for p in (srv.base / "session.log", srv.base / "xferlog", srv.log_path)}
    assert b"PASS ****" in logs["session.log"]  # the command is logged at trace, its argument is not
    for name, content in logs.items():
        for secret in (PASSWORDS["alice"], "not-the-Secret-42"):
            assert secret.encode() not in content, f"{secret} in {name}"


def test_log_file_reopened_on_sighup(make_server):
    srv = make(make_server, level="info", file="session.log", xferlog="xferlog")
    with Control.to(srv) as ctl:
        ctl.login()
        stor_bytes(ctl, "STOR a", b"1")
    path = srv.base / "session.log"
    xfer = srv.base / "xferlog"
    assert wait_for(lambda: "transfer STOR /a" in path.read_text())
    # What logrotate does: rename, then tell the server.
    os.rename(path, srv.base / "session.log.1")
    os.rename(xfer, srv.base / "xferlog.1")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: path.exists())
    with Control.to(srv) as ctl:
        ctl.login()
        stor_bytes(ctl, "STOR b", b"2")
    assert wait_for(lambda: "transfer STOR /b" in path.read_text())
    assert wait_for(lambda: xfer.exists() and "/b " in xfer.read_text())
    assert "transfer STOR /b" not in (srv.base / "session.log.1").read_text()
    assert "/a " in (srv.base / "xferlog.1").read_text()


def test_syslog_destination_starts_and_serves(make_server):
    srv = make_server()
    cfg = (srv.base / "ftpsd.toml").read_text()
    srv.stop()
    with socket.socket() as probe:  # a free port: nothing on stderr tells which one it listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = cfg.replace('[log]\nlevel = "debug"\n', '[log]\nfile = "syslog"\nformat = "json"\n')
    cfg = cfg.replace("127.0.0.1:0", f"127.0.0.1:{port}")
    (srv.base / "syslog.toml").write_text(cfg)
    with open(srv.base / "syslog-stderr.log", "wb") as err:
        proc = subprocess.Popen([BIN, "run", "--config", str(srv.base / "syslog.toml")], stdout=err,
                                stderr=subprocess.STDOUT, cwd=srv.base)
        try:
            ctl = None
            deadline = time.monotonic() + 20
            while ctl is None and time.monotonic() < deadline:
                try:
                    ctl = Control("127.0.0.1", port)
                except OSError:
                    time.sleep(0.05)
            assert ctl is not None
            with ctl:
                ctl.login()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
    # Everything after the start went to syslog (or nowhere without a syslog daemon).
    assert "logged in" not in (srv.base / "syslog-stderr.log").read_text()


def test_bad_log_settings_are_config_errors(make_server, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n[log]\nformat = "xml"\n')
    r = subprocess.run([BIN, "check-config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{cfg}:4: key 'log.format': expected one of \"text\", \"json\"" in r.stderr, r
    cfg.write_text(f'[[listeners]]\naddress = "127.0.0.1:0"\n[log]\nfile = "{cfg}/x.log"\n')
    r = subprocess.run([BIN, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "log.file" in r.stderr, r
