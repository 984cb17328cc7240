"""Privileges (README "Security"): started as root with server.user, ftpsd binds a port below 1024 and
reads its 0600 root-owned key and users file, then runs as that user (uid, gid, no supplementary
groups, no capabilities, NoNewPrivs); with active.source_port below 1024 it keeps only
CAP_NET_BIND_SERVICE. Started unprivileged with an ambient CAP_NET_BIND_SERVICE it binds, then clears
it. An unknown server.user is a configuration error. Root only: a system user is created and removed."""
import ftplib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BIN, Server, password_hash
from helpers import Control, stor_bytes
from tls_helpers import make_cert, tls_login

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: creates a system user, binds ports < 1024")
CAP_NET_BIND_SERVICE = 1 << 10


@pytest.fixture(scope="module")
def service_user():
    name = "ftpsdt" + secrets.token_hex(4)
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    name], check=True, capture_output=True)
    try:
        # A supplementary group of the account: never kept after the drop.
        subprocess.run(["usermod", "-a", "-G", "adm", name], check=False, capture_output=True)
        out = subprocess.run(["id", "-u", name], check=True, capture_output=True, text=True).stdout
        gid = subprocess.run(["id", "-g", name], check=True, capture_output=True, text=True).stdout
        yield name, int(out), int(gid)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)
        subprocess.run(["groupdel", name], check=False, capture_output=True)


def free_low_port():
    for port in range(990, 700, -1):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    pytest.skip("no free port below 1024 on 127.0.0.1")


@pytest.fixture
def base(service_user):
    """A folder outside pytest's 0700 tmp tree, so that the service user can reach the data."""
    path = Path(tempfile.mkdtemp(prefix="ftpsd-priv-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def setup_tree(base, uid, gid):
    home = base / "home" / "alice"
    home.mkdir(parents=True)
    os.chown(home, uid, gid)
    cert, key = make_cert(base)
    os.chmod(key, 0o600)  # root's: readable only before the drop
    users = (f'[[users]]\nname = "alice"\npassword_hash = "{password_hash("alice")}"\n'
             f'root = "{home}"\nwrite = true\n')
    return home, cert, key, users


def config(port, cert, key, server_lines, extra=""):
    return f"""[[listeners]]
address = "127.0.0.1:{port}"
tls = "explicit"
[server]
idle_timeout = "60s"
{server_lines}
[users]
file = "users.toml"
[tls]
certificate = "{cert}"
private_key = "{key}"
[log]
level = "debug"
{extra}
"""


def status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.split()
    return fields


@root_only
def test_root_drops_to_server_user_after_binding(service_user, base):
    name, uid, gid = service_user
    home, cert, key, users = setup_tree(base, uid, gid)
    port = free_low_port()
    srv = Server(base, config(port, cert, key, f'user = "{name}"'), users)
    try:
        os.chmod(base / "users.toml", 0o600)  # read once, before the drop
        st = status(srv.proc.pid)
        assert st["Uid"] == [str(uid)] * 4, st["Uid"]
        assert st["Gid"] == [str(gid)] * 4, st["Gid"]
        assert st["Groups"] == [str(gid)], st["Groups"]
        assert st["NoNewPrivs"] == ["1"]
        assert int(st["CapEff"][0], 16) == 0 and int(st["CapPrm"][0], 16) == 0, st
        assert f"dropped privileges: user {name} (uid {uid})" in srv.log()
        ftp = tls_login(srv)
        ftp.storbinary("STOR up.bin", __import__("io").BytesIO(b"owned by the service user"))
        ftp.quit()
        assert (home / "up.bin").stat().st_uid == uid
        assert (home / "up.bin").read_bytes() == b"owned by the service user"
        assert key.stat().st_uid == 0 and key.stat().st_mode & 0o777 == 0o600
    finally:
        srv.stop()


@root_only
def test_low_active_source_port_keeps_only_bind_service(service_user, base):
    name, uid, gid = service_user
    home, cert, key, users = setup_tree(base, uid, gid)
    port = free_low_port()
    srv = Server(base, config(port, cert, key, f'user = "{name}"', extra="[active]\nsource_port = 20\n"), users)
    try:
        st = status(srv.proc.pid)
        assert st["Uid"] == [str(uid)] * 4
        assert int(st["CapEff"][0], 16) == CAP_NET_BIND_SERVICE, st["CapEff"]
        assert int(st["CapPrm"][0], 16) == CAP_NET_BIND_SERVICE, st["CapPrm"]
        assert int(st["CapAmb"][0], 16) == 0
        assert "keeping CAP_NET_BIND_SERVICE for active.source_port 20" in srv.log()
        # An active-mode upload: the server connects from port 20 as the service user.
        ftp = tls_login(srv)
        ftp.set_pasv(False)
        ftp.storbinary("STOR active.bin", __import__("io").BytesIO(b"active"))
        ftp.quit()
        assert (home / "active.bin").read_bytes() == b"active"
        assert "cannot bind the source port" not in srv.log()
    finally:
        srv.stop()


@root_only
def test_unprivileged_with_ambient_bind_service(service_user, base):
    """The systemd way (User= and AmbientCapabilities=CAP_NET_BIND_SERVICE), emulated with setpriv."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    name, uid, gid = service_user
    home, cert, key, users = setup_tree(base, uid, gid)
    os.chown(key, uid, gid)  # nothing is read as root in this set-up
    os.chown(base, uid, gid)
    port = free_low_port()
    prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=+net_bind_service",
              "--ambient-caps=+net_bind_service", "--"]
    srv = Server(base, config(port, cert, key, ""), users, prefix=prefix)
    try:
        st = status(srv.proc.pid)
        assert st["Uid"] == [str(uid)] * 4
        assert int(st["CapEff"][0], 16) == 0 and int(st["CapAmb"][0], 16) == 0, st
        assert st["NoNewPrivs"] == ["1"]
        ftp = tls_login(srv)
        ftp.storbinary("STOR amb.bin", __import__("io").BytesIO(b"x"))
        ftp.quit()
        assert (home / "amb.bin").stat().st_uid == uid
    finally:
        srv.stop()


def test_root_without_server_user_warns(server):
    if os.geteuid() != 0:
        pytest.skip("the warning is for root")
    assert "RUNNING AS ROOT" in server.log()


def test_unknown_server_user_is_a_configuration_error(tmp_path):
    (tmp_path / "ftpsd.toml").write_text(
        '[[listeners]]\naddress = "127.0.0.1:0"\n[server]\nuser = "no-such-ftpsd-user"\n')
    for args in (["run", "--config"], ["check-config"]):
        r = subprocess.run([BIN, *args, str(tmp_path / "ftpsd.toml")], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert "key 'server.user': no such user 'no-such-ftpsd-user'" in r.stderr + r.stdout, r.stderr
    (tmp_path / "ftpsd.toml").write_text(
        '[[listeners]]\naddress = "127.0.0.1:0"\n[server]\nuser = "root"\ngroup = "no-such-ftpsd-group"\n')
    r = subprocess.run([BIN, "check-config", str(tmp_path / "ftpsd.toml")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "key 'server.group': no such group" in r.stderr, r.stderr
    (tmp_path / "ftpsd.toml").write_text('[[listeners]]\naddress = "127.0.0.1:0"\n[server]\ngroup = "root"\n')
    r = subprocess.run([BIN, "check-config", str(tmp_path / "ftpsd.toml")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "server.group needs server.user" in r.stderr, r.stderr
