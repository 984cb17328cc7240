"""`ftpsd firewall --cluster` (README "The load balancer"): two nodes with [cluster] on a PostgreSQL the
test starts itself (postgres.py) publish their plans in the nodes table; the command writes the load
balancer's HAProxy configuration and nftables ruleset from them. HAProxy checks the one (`haproxy -c`)
and runs it on loopback in front of the nodes (its health checks pass, a client logs in through it);
nftables checks the other (`nft -c`, as root). The error paths: no [cluster], the database
unreachable, overlapping slices, a node without an address."""
import ftplib
import os
import signal
import socket
import subprocess

import pytest

from conftest import BIN
from helpers import TIMEOUT, run, wait_for
from postgres import free_port, postgres  # noqa: F401 (the module's PostgreSQL fixture)
from test_cluster_users import cluster_table, import_users
from tls_helpers import make_cert

PUBLIC = "127.0.0.1"  # the balancer's public address: loopback, where the test runs HAProxy
# The nodes' slices of the public passive range: node a listens on its public ports, node b on other
# ports that the balancer translates (passive.advertised_ports).
SLICE_A = 'ports = "41700-41709"'
SLICE_B = 'ports = "41720-41729"\nadvertised_ports = "41710-41719"'


def node_config(postgres, database, name, cert, key, passive, address="127.0.0.1"):  # noqa: F811
    cluster_extra = f'address = "{address}"\n' if address else ""
    return f"""[[listeners]]
address = "127.0.0.1:0"
tls = "explicit"
proxy_protocol = true
[[listeners]]
address = "127.0.0.1:0"
tls = "implicit"
proxy_protocol = true
[server]
idle_timeout = "60s"
[users]
file = "users.toml"
[log]
level = "debug"
[bans]
login_delay = "0s"
[tls]
certificate = "{cert}"
private_key = "{key}"
[proxy_protocol]
trusted = ["127.0.0.1"]
[passive]
address = "{PUBLIC}"
{passive}
{cluster_table(postgres, database, cluster_extra, node=name)}"""


@pytest.fixture
def cluster(make_server, postgres, tmp_path):  # noqa: F811
    """cluster(slices=(SLICE_A, SLICE_B), addresses=("127.0.0.1", "127.0.0.1")) -> [Server]: nodes a, b..."""
    cert, key = make_cert(tmp_path)

    def make(slices=(SLICE_A, SLICE_B), addresses=("127.0.0.1", "127.0.0.1")):
        database = postgres.new_database()
        return [make_server(config=node_config(postgres, database, f"node-{chr(ord('a') + i)}", cert, key, s, a))
                for i, (s, a) in enumerate(zip(slices, addresses))]
    return make


def firewall(srv, *args, check=True):
    return run([BIN, "firewall", "--cluster", "--config", str(srv.base / "ftpsd.toml"), *map(str, args)],
               check=check, timeout=60)


def control_ports(nodes, explicit, implicit):
    """--control-port options: every node's explicit listener public as `explicit`, implicit as `implicit`."""
    out = []
    for n in nodes:
        out += ["--control-port", f"{n.ports[0]}={explicit}", "--control-port", f"{n.ports[1]}={implicit}"]
    return out


def test_the_generated_haproxy_and_nftables_files_check_and_haproxy_serves_the_nodes(cluster, tmp_path):
    a, b = cluster()
    explicit, implicit = free_port(), free_port()
    ports = control_ports((a, b), explicit, implicit)

    # Everything: the text summary, then the two files with headers saying where they go.
    out = firewall(a, "--public", PUBLIC, *ports)
    text = out.stdout.decode()
    assert out.stderr.decode() == "", out.stderr
    assert "The load balancer in front of the ftpsd cluster (2 nodes: node-a, node-b), TCP only:" in text
    assert (f"balancer   inbound   TCP   {explicit:<22} explicit FTPS control (AUTH TLS): HAProxy, to "
            f"node-a 127.0.0.1:{a.ports[0]}, node-b 127.0.0.1:{b.ports[0]}") in text, text
    assert ("balancer   inbound   TCP   41710-41719            passive data ports of node node-b: forwarded "
            "(DNAT) to 127.0.0.1 ports 41720-41729") in text, text
    assert "\n# ==== HAProxy: /etc/haproxy/haproxy.cfg on the balancer" in text
    assert "\n# ==== nftables: the balancer's ruleset, `nft -f FILE`" in text

    haproxy_cfg = firewall(a, "--public", PUBLIC, "--format", "haproxy", *ports).stdout.decode()
    assert haproxy_cfg in text  # the same part
    assert f"frontend ftpsd_{explicit}\n    bind {PUBLIC}:{explicit}\n" in haproxy_cfg, haproxy_cfg
    assert (f"    default-server send-proxy-v2 check-send-proxy inter 1s fall 2 rise 1\n"
            f"    server node-a 127.0.0.1:{a.ports[0]} check\n"
            f"    server node-b 127.0.0.1:{b.ports[0]} check\n") in haproxy_cfg, haproxy_cfg
    assert (f"    default-server send-proxy-v2 check-send-proxy check-ssl verify none inter 1s fall 2 rise 1\n"
            f"    server node-a 127.0.0.1:{a.ports[1]} check\n") in haproxy_cfg, haproxy_cfg
    cfg_file = tmp_path / "haproxy.cfg"
    cfg_file.write_text(haproxy_cfg)
    checked = run(["haproxy", "-c", "-f", str(cfg_file)], check=False)
    assert checked.returncode == 0, checked

    nft = firewall(a, "--public", PUBLIC, "--format", "nftables", *ports).stdout.decode()
    assert nft.startswith("#!/usr/sbin/nft -f\n"), nft
    assert ('    ip daddr 127.0.0.1 tcp dport 41700-41709 dnat ip to 127.0.0.1 comment "node node-a: passive '
            'data ports"\n') in nft, nft
    assert ("    ip daddr 127.0.0.1 tcp dport 41710-41719 dnat ip to 127.0.0.1 : tcp dport map { 41710 : 41720, "
            "41711 : 41721, ") in nft, nft
    assert f'    ip daddr 127.0.0.1 tcp dport {explicit} accept comment "HAProxy: explicit FTPS control' in nft
    # Active mode is on (the default): only the connections the nodes open are masqueraded.
    assert "    ip saddr { 127.0.0.1 } ct status != dnat masquerade comment" in nft, nft
    nft_file = tmp_path / "lb.nft"
    nft_file.write_text(nft)
    if os.geteuid() == 0:  # nft -c needs CAP_NET_ADMIN; it only checks, the ruleset is not loaded
        checked = run(["nft", "-c", "-f", str(nft_file)], check=False)
        assert checked.returncode == 0, checked

    # HAProxy runs that configuration on loopback: its health checks (a PROXY header, then the 220
    # greeting; for implicit TLS after a handshake) find both nodes up, and a client logs in through it.
    stats = tmp_path / "stats.sock"
    (tmp_path / "stats.cfg").write_text(f"global\n    stats socket {stats} level admin\n")
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg_file), "-f", str(tmp_path / "stats.cfg")],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "haproxy.log", "wb"))
    try:
        def servers_up():
            if not stats.exists():
                return None
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(stats))
                s.sendall(b"show stat\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            lines = data.decode().splitlines()
            names = lines[0].lstrip("# ").split(",")
            rows = [dict(zip(names, line.split(","))) for line in lines[1:] if line]
            servers = {(r["pxname"], r["svname"]): (r["status"], r["check_status"]) for r in rows
                       if r["svname"] not in ("FRONTEND", "BACKEND")}
            return servers if len(servers) == 4 and all(v[0] == "UP" and v[1] == "L7OK" for v in servers.values()) \
                else None
        assert wait_for(servers_up, 30), (tmp_path / "haproxy.log").read_text()
        assert set(servers_up()) == {(f"ftpsd_{p}", n) for p in (explicit, implicit) for n in ("node-a", "node-b")}

        import_users(a)
        ftp = ftplib.FTP()
        ftp.connect(PUBLIC, explicit, timeout=TIMEOUT)
        try:
            ftp.login("alice", "alice-secret")
            assert ftp.pwd() == "/"
        finally:
            ftp.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_stopped_node_is_left_out_and_warnings_go_to_stderr(cluster):
    a, b = cluster()
    b.stop()
    out = firewall(a, "--format", "haproxy")
    h = out.stdout.decode()
    assert "node-b" not in h and f"    server node-a 127.0.0.1:{a.ports[0]} check\n" in h, h
    # Without --public: every address of the balancer.
    assert f"frontend ftpsd_{a.ports[0]}\n    bind :{a.ports[0]}\n" in h, h
    assert out.stderr.decode() == ""
    # passive.address is not the public address given.
    out = firewall(a, "--format", "nftables", "--public", "192.0.2.1")
    assert ("ftpsd: warning: node node-a: passive.address is 127.0.0.1, not the balancer's public address "
            "192.0.2.1: PASV replies send clients there\n") == out.stderr.decode(), out.stderr
    assert "ip daddr 192.0.2.1 tcp dport 41700-41709 dnat ip to 127.0.0.1" in out.stdout.decode()


def test_overlapping_slices_are_refused(cluster):
    a, _ = cluster(slices=(SLICE_A, 'ports = "41705-41714"'))
    out = firewall(a, check=False)
    assert out.returncode == 2, out
    assert out.stdout == b""
    assert out.stderr.decode().endswith(
        "ftpsd: error: the public passive slices overlap: node node-a has 41700-41709, node node-b has "
        "41705-41714: give each node its own passive.ports (or passive.advertised_ports) in its own "
        "configuration\nftpsd: no configuration written: fix the errors above in the nodes' configurations\n")


def test_a_node_without_address_is_refused(cluster):
    a, _ = cluster(addresses=("127.0.0.1", ""))
    out = firewall(a, "--format", "nftables", check=False)
    assert out.returncode == 2, out
    assert out.stdout == b""
    assert ('ftpsd: error: node node-b has no address: set [cluster] address = "..." in its configuration to '
            "the IP address the load balancer reaches it at, and restart it\n") in out.stderr.decode()


def test_without_cluster_or_database_or_with_bad_flags_it_says_why(make_server, postgres, tmp_path):  # noqa: F811
    plain = make_server()
    out = firewall(plain, check=False)
    assert out.returncode == 2
    assert out.stderr.decode() == (
        f"ftpsd: {plain.base / 'ftpsd.toml'} has no [cluster] table: --cluster reads the nodes from the "
        "cluster database; give the configuration of a node\n")

    # A database nobody listens on.
    config = tmp_path / "unreachable.toml"
    port = free_port()
    config.write_text(f'[[listeners]]\naddress = "127.0.0.1:0"\n[cluster]\n'
                      f'database = "postgresql://ftpsd@127.0.0.1:{port}/ftpsd?connect_timeout=5"\n')
    out = run([BIN, "firewall", "--cluster", "--config", str(config)], check=False, timeout=60)
    assert out.returncode == 1
    assert out.stderr.decode().startswith("ftpsd: cannot connect to the cluster database: "), out.stderr
    assert out.stdout == b""

    # An empty database: no node registered.
    empty = tmp_path / "empty.toml"
    empty.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n' +
                     cluster_table(postgres, postgres.new_database()))
    out = run([BIN, "firewall", "--cluster", "--config", str(empty)], check=False, timeout=60)
    assert out.returncode == 1
    assert out.stderr.decode() == ("ftpsd: no node is registered in the cluster database (or every node "
                                   "stopped): start the nodes first\n")

    for args, message in (
            (["--format", "ufw"], "ftpsd: --cluster: unknown format 'ufw': use all (the default), text, haproxy "
                                  "or nftables\n"),
            (["--public", "example.com"], "ftpsd: --public needs the load balancer's public IPv4 address, not "
                                          "'example.com'\n"),
            (["--control-port", "21"], "ftpsd: --control-port '21': expected NODEPORT=PUBLICPORT, such as "
                                       "2121=21\n"),
            (["--nat-to", "10.0.0.2"], "ftpsd: --cluster needs --config (a node's configuration, with [cluster]) "
                                       "and takes neither --nat-to nor --domain\n")):
        out = run([BIN, "firewall", "--cluster", "--config", str(empty), *args], check=False, timeout=60)
        assert (out.returncode, out.stderr.decode()) == (2, message), out
    out = run([BIN, "firewall", "--config", str(empty), "--public", "192.0.2.1"], check=False, timeout=60)
    assert (out.returncode, out.stderr.decode()) == (2, "ftpsd: --public and --control-port go with --cluster\n")
