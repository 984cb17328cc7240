"""NAT topologies in network namespaces, the real ftpsd in the server namespace, real clients in the
client namespace. Needs root, iproute2 and nftables (CI has them); skipped otherwise.

The standard topology (`nat` fixture):

    client ns 198.51.100.10 ── 198.51.100.1  router ns  10.0.0.1 ── 10.0.0.2 server ns ── 10.9.0.2
         ("the internet")       DNAT of the control port and the                  │
                                passive range to 10.0.0.2, all else dropped     10.9.0.5 lan ns

The router's firewall is, unless a test says otherwise, the output of
`ftpsd firewall --format nftables --nat-to 10.0.0.2` for the server's configuration.
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from netns import Topology, run, wait_for

REPO = Path(__file__).resolve().parents[2]
BIN = str(Path(os.environ.get("FTPSD_BIN", REPO / "build" / "ftpsd")).resolve())
CLIENT = str(Path(__file__).resolve().parent / "ftp_client.py")
PYTHON = "/usr/bin/python3"
USER, PASSWORD = "alice", "alice-nat-secret"
PUBLIC, ROUTER_IN, SERVER, LAN_SERVER, LAN_CLIENT, CLIENT_IP = (
    "198.51.100.1", "10.0.0.1", "10.0.0.2", "10.9.0.2", "10.9.0.5", "198.51.100.10")
CONTROL_PORT = 2121
PASSIVE = (50000, 50009)


def _missing():
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not Path(BIN).exists():
        return f"no ftpsd binary at {BIN}"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


class NatServer:
    """ftpsd running in the server namespace."""

    def __init__(self, topo, base: Path, config: str):
        self.topo, self.base = topo, base
        (base / "ftpsd.toml").write_text(config)
        self.log_path = base / "ftpsd.log"
        self.proc = topo.spawn("server", [BIN, "run", "--config", str(base / "ftpsd.toml")], self.log_path, cwd=base)
        expected = config.count("[[listeners]]")
        wait_for(lambda: len(re.findall(r"listening on", self.log())) >= expected or self.proc.poll() is not None,
                 what="ftpsd to listen")
        assert self.proc.poll() is None, self.log()

    def log(self):
        return self.log_path.read_text(errors="replace")


class Nat:
    """The standard topology plus helpers to configure and drive it."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.topo = Topology()
        self.server = None
        try:
            self._build()
        except BaseException:
            self.topo.close()  # namespaces made so far go, even when set-up fails half-way
            raise

    def _build(self):
        tmp_path = self.tmp
        t = self.topo
        for role in ("client", "router", "server", "lan"):
            t.add_ns(role)
        self.client_if, self.router_out = t.link("client", f"{CLIENT_IP}/24", "router", f"{PUBLIC}/24")
        self.router_in, self.server_if = t.link("router", f"{ROUTER_IN}/24", "server", f"{SERVER}/24")
        t.link("server", f"{LAN_SERVER}/24", "lan", f"{LAN_CLIENT}/24")
        t.route("client", PUBLIC)
        t.route("server", ROUTER_IN)
        t.forwarding("router")
        # FTP helpers would hide what this suite tests (and cannot read FTPS anyway): off everywhere.
        for role in ("router", "server", "client"):
            t.sysctl(role, "net.netfilter.nf_conntrack_helper", 0, check=False)
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "hello.txt").write_text("hello through NAT\n")
        self.cert, self.key = tmp_path / "cert.pem", tmp_path / "key.pem"
        run(BIN, "cert", "self-signed", "--host", "ftp.example.test", "--host", PUBLIC, "--cert", str(self.cert),
            "--key", str(self.key))
        hashed = run("openssl", "passwd", "-6", PASSWORD).stdout.strip()
        (tmp_path / "users.toml").write_text(
            f'[[users]]\nname = "{USER}"\npassword_hash = "{hashed}"\nroot = "{self.home}"\nwrite = true\n')

    def config(self, passive="", listeners=None, extra=""):
        listeners = listeners or f'[[listeners]]\naddress = "0.0.0.0:{CONTROL_PORT}"\ntls = "explicit"\n'
        return f"""{listeners}
[server]
max_sessions = 50
idle_timeout = "60s"
[passive]
ports = "{PASSIVE[0]}-{PASSIVE[1]}"
connect_timeout = "3s"
{passive}
[active]
connect_timeout = "3s"
[users]
file = "{self.tmp / 'users.toml'}"
[tls]
certificate = "{self.cert}"
private_key = "{self.key}"
[log]
level = "debug"
{extra}
"""

    def firewall(self, config_text, extra_args=("--nat-to", SERVER)):
        path = self.tmp / "fw.toml"
        path.write_text(config_text)
        return run(BIN, "firewall", "--config", str(path), "--format", "nftables", *extra_args).stdout

    def start(self, config_text, router_rules=None):
        """Loads the router firewall (default: ftpsd's own output for this config), then starts ftpsd."""
        self.topo.nft("router", router_rules if router_rules is not None else self.firewall(config_text))
        base = self.tmp / f"srv{len(self.topo.procs)}"
        base.mkdir()
        self.server = NatServer(self.topo, base, config_text)
        return self.server

    def ftp(self, role="client", host=PUBLIC, port=CONTROL_PORT, tls="explicit", mode="pasv", ops=(("list",),),
            trust_pasv=True, timeout=20, user=USER, password=PASSWORD, host_name=None):
        job = {"host": host, "port": port, "user": user, "password": password, "tls": tls, "mode": mode,
               "ops": [list(o) for o in ops], "trust_pasv": trust_pasv, "timeout": timeout, "host_name": host_name}
        r = self.topo.sh(role, PYTHON, CLIENT, json.dumps(job), check=False, timeout=timeout * 4 + 30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    def close(self):
        self.topo.close()


@pytest.fixture
def nat(tmp_path):
    n = Nat(tmp_path)
    try:
        yield n
    finally:
        n.close()


def pasv_ports(replies):
    out = []
    for r in replies:
        m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
        if r.startswith("227") and m:
            out.append(int(m.group(5)) * 256 + int(m.group(6)))
        m = re.search(r"\(\|\|\|(\d+)\|\)", r)
        if r.startswith("229") and m:
            out.append(int(m.group(1)))
    return out


def pasv_addresses(replies):
    return [".".join(m.groups()[:4]) for r in replies if r.startswith("227")
            for m in [re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)] if m]
