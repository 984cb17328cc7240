"""The cluster test bed: real clients, a load balancer, ftpsd nodes and PostgreSQL, each in a network
namespace of its own (README "Running a cluster", "The test bed").

    client 198.51.100.10 (.11) ── 198.51.100.1  lb: HAProxy (control ports, PROXY v2 to the nodes)
                                                    nftables (DNAT of each node's passive slice)
                                   10.1.N.1 ── 10.1.N.2  nodeN: ftpsd, [cluster], own passive slice
                                                10.2.0.1N ── 10.2.0.1 (a bridge)  db: PostgreSQL

Every node has a veth link of its own to the LB, its default route: the nodes' replies to the client go
back through it (no masquerading: the nodes see the client's own address on control connections, from
the PROXY header, and on data connections, from the packets). The database is on a network of its own
behind the nodes (a bridge in the db namespace), as in a real deployment: the LB forwards nothing but
the clients' connections. The client reaches the LB's public address and nothing behind it. The nodes share one
folder, the users' roots: on one machine that is simply the same folder; a real cluster mounts NFS or
CephFS there.

The test process itself stays in its own namespace. It runs code inside a namespace on threads that
entered it (setns), so ftplib's data connections and the Manager's HTTPS calls start where they
should: `bed.client.run(fn)`, `bed.nodes[i].api(...)`.

The LB's HAProxy configuration and nftables rules are the ones `ftpsd firewall --cluster` prints from the
nodes table (Bed.load_balancer), as an operator would load them.
"""
import ctypes
import ftplib
import http.client
import io
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "nat"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
from stock_ssl import stock  # noqa: E402 - and from now on every TLS context clears OP_IGNORE_UNEXPECTED_EOF
from netns import Topology, run, wait_for  # noqa: E402

BIN = str(Path(os.environ.get("FTPSD_BIN", REPO / "build" / "ftpsd")).resolve())
PG_BIN = Path(os.environ.get("FTPSD_PG_BIN", "/usr/lib/postgresql/15/bin"))

PUBLIC, CLIENT_IP, CLIENT_IP2 = "198.51.100.1", "198.51.100.10", "198.51.100.11"
DB_IP, DB_PORT = "10.2.0.1", 5433
CONTROL, IMPLICIT, ADMIN_PORT = 21, 990, 8443
SLICE = 20  # passive ports per node: node N has 50000 + (N-1)*20 ... + 19
FIRST_PASSIVE = 50000
USERS = {"alice": "alice-cluster-secret", "bob": "bob-cluster-secret", "carol": "carol-cluster-secret"}
ADMINS = {"root": ("root-cluster-secret", "admin"), "op": ("op-cluster-secret", "operator")}
BACKEND, BACKEND_TLS = f"ftpsd_{CONTROL}", f"ftpsd_{IMPLICIT}"  # HAProxy's names for the two control ports


def lb_address(n):
    """The LB's end of node n's link: the address node n sees HAProxy connect from."""
    return f"10.1.{n}.1"


def node_address(n):
    return f"10.1.{n}.2"


def passive_slice(n):
    first = FIRST_PASSIVE + (n - 1) * SLICE
    return first, first + SLICE - 1


def node_of_port(port):
    """The node whose passive slice holds `port` (1-based), or None."""
    n = (port - FIRST_PASSIVE) // SLICE + 1
    return n if port >= FIRST_PASSIVE else None


def missing():
    """Why the bed cannot be built on this machine at all (not root, no network namespaces), or None.
    A missing tool is not a reason to skip: the bed fails with what to install (prerequisites())."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2's ip for network namespaces"
    probe = f"ftpsd-bed-probe-{os.getpid()}"
    r = run("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        return f"no network namespace support: {r.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    return None


def prerequisites():
    """What the bed needs besides namespaces; raises with what is missing."""
    for tool in ("nft", "haproxy", "runuser", "openssl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"the cluster test bed needs {tool}: run scripts/install-deps.sh")
    for tool in ("initdb", "pg_ctl", "psql"):
        if not (PG_BIN / tool).exists():
            raise RuntimeError(f"{PG_BIN / tool} is missing: run scripts/install-deps.sh (Debian's postgresql)")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("no `postgres` system user to run PostgreSQL as (Debian's postgresql makes it)") from None
    if not Path(BIN).exists():
        raise RuntimeError(f"no ftpsd binary at {BIN} (make build, or set FTPSD_BIN)")


# --- running code inside a namespace ---------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def _enter(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


class Inside:
    """Worker threads inside one network namespace: every socket they make is in it."""

    def __init__(self, namespace, workers=6):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=namespace, initializer=_enter,
                                       initargs=(namespace,))

    def submit(self, fn, *args):
        return self.pool.submit(fn, *args)

    def run(self, fn, *args, timeout=60):
        return self.pool.submit(fn, *args).result(timeout)

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


# --- PostgreSQL in the db namespace --------------------------------------------------------------

class Database:
    """A PostgreSQL cluster of the test's own: initdb in a temporary folder owned by `postgres`, the
    server started inside the db namespace on DB_IP:DB_PORT, stopped by its PID."""

    ROLE, NAME = "ftpsd", "ftpsd"

    def __init__(self, topo):
        self.topo = topo
        self.folder = Path(tempfile.mkdtemp(prefix="ftpsd-bed-pg-"))
        self.data, self.socket_dir = self.folder / "data", self.folder / "socket"
        self.log_file = self.folder / "postgres.log"
        self.password = secrets.token_hex(16)
        self.password_file = self.folder / "ftpsd-db-password"
        self.pid = None
        entry = pwd.getpwnam("postgres")
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def _as_postgres(self, args, timeout=120):
        p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                           cwd=self.folder, user=self.uid, group=self.gid, extra_groups=[])
        if p.returncode != 0:
            raise RuntimeError(f"{args!r} exited {p.returncode}:\n{p.stdout}\n{p.stderr}\n{self.log()}")
        return p.stdout

    def create(self):
        self.socket_dir.mkdir()
        self.password_file.write_text(self.password + "\n")
        os.chmod(self.password_file, 0o600)
        for path in (self.folder, self.socket_dir):
            os.chown(path, self.uid, self.gid)
        os.chmod(self.folder, 0o755)
        self._as_postgres([PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                           "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"])
        with open(self.data / "pg_hba.conf", "a") as f:
            f.write("host all all 10.2.0.0/24 scram-sha-256\n")  # the nodes, on the database's network
        self.start()
        self.psql(f"CREATE ROLE {self.ROLE} LOGIN PASSWORD '{self.password}'")
        self.psql(f"CREATE DATABASE {self.NAME} OWNER {self.ROLE}")

    def start(self):
        """pg_ctl inside the db namespace (as root, which `ip netns exec` needs, then as postgres)."""
        options = (f"-p {DB_PORT} -k {self.socket_dir} -c listen_addresses={DB_IP} -c fsync=off "
                   f"-c max_connections=50")
        r = self.topo.sh("db", "runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "start", "-D",
                         str(self.data), "-l", str(self.log_file), "-o", options, "-w", "-t", "60", check=False,
                         timeout=90)
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start exited {r.returncode}: {r.stdout}{r.stderr}\n{self.log()}")
        self.pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def stop(self):
        """Fast shutdown: SIGINT to the postmaster, by its PID, waited for with a bound."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        try:
            wait_for(lambda: not _alive(pid), 30, what="PostgreSQL to stop")
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not _alive(pid), 10, what="PostgreSQL to die")

    def psql(self, sql):
        return self._as_postgres([PG_BIN / "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                                  self.socket_dir, "-p", DB_PORT, "-U", "postgres", "-d", "postgres", "-c",
                                  sql]).strip()

    def url(self):
        return f"postgresql://{self.ROLE}@{DB_IP}:{DB_PORT}/{self.NAME}"

    def log(self):
        try:
            return self.log_file.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


# --- the nodes -----------------------------------------------------------------------------------

class Node:
    """ftpsd in namespace nodeN, with the Manager on its own loopback (127.0.0.1:ADMIN_PORT)."""

    def __init__(self, bed, n):
        self.bed, self.n, self.name = bed, n, f"node{n}"
        self.base = bed.tmp / self.name
        self.base.mkdir()
        self.config = self.base / "ftpsd.toml"
        self.log_path = None
        self.starts = 0
        self.proc = None
        self.inside = None
        self._tokens = {}

    def config_text(self):
        first, last = passive_slice(self.n)
        listeners = "".join(f'[[listeners]]\naddress = "0.0.0.0:{port}"\ntls = "{tls}"\nproxy_protocol = true\n'
                            for port, tls in ((CONTROL, "explicit"), (IMPLICIT, "implicit")))
        return f"""{listeners}
[proxy_protocol]
trusted = ["{lb_address(self.n)}/32"]
[server]
max_sessions = 100
idle_timeout = "120s"
[passive]
address = "{PUBLIC}"
ports = "{first}-{last}"
connect_timeout = "5s"
[tls]
certificate = "{self.bed.cert}"
private_key = "{self.bed.key}"
[admin]
address = "127.0.0.1:{ADMIN_PORT}"
users_file = "{self.bed.tmp / 'admins.toml'}"
audit_file = "{self.base / 'audit.jsonl'}"
rate_limit = 0
[log]
level = "info"
[cluster]
database = "{self.bed.db.url()}"
password_file = "{self.bed.db.password_file}"
node = "{self.name}"
address = "{node_address(self.n)}"
cache_ttl = "10m"
"""

    def start(self):
        self.config.write_text(self.config_text())
        self.starts += 1
        self.log_path = self.base / f"ftpsd-{self.starts}.log"  # a restarted node keeps its earlier log
        self.proc = self.bed.topo.spawn(self.name, [BIN, "run", "--config", str(self.config)], self.log_path,
                                        cwd=self.base)
        if self.inside is None:
            self.inside = Inside(self.bed.topo.namespaces[self.name], workers=2)
        self._tokens = {}

    def wait_ready(self):
        wait_for(lambda: (self.log().count("listening on") >= 2 and "admin on https://" in self.log())
                 or self.proc.poll() is not None, 30, what=f"{self.name} to listen")
        assert self.proc.poll() is None, self.log()[-3000:]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, by PID: no clean stop, no word to the database."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            return ""

    def sh(self, *args, input=None, check=True):
        return self.bed.topo.sh(self.name, *[str(a) for a in args], input=input, check=check, timeout=60)

    # -- the Manager
    def api(self, method, path, body=None, account="op"):
        """(status, JSON answer) of a Manager call made inside the node's namespace."""
        def call():
            ctx = stock(ssl.create_default_context(cafile=str(self.bed.cert)))
            ctx.check_hostname = False  # the certificate names the public address; the CA check stays
            conn = http.client.HTTPSConnection("127.0.0.1", ADMIN_PORT, context=ctx, timeout=20)
            try:
                headers = {}
                if account:
                    headers["Authorization"] = f"Bearer {self._token(conn, account)}"
                data = json.dumps(body).encode() if body is not None else None
                if data is not None:
                    headers["Content-Type"] = "application/json"
                conn.request(method, path, body=data, headers=headers)
                r = conn.getresponse()
                text = r.read()
                return r.status, (json.loads(text) if text else None)
            finally:
                conn.close()
        return self.inside.run(call, timeout=60)

    def _token(self, conn, account):
        if account not in self._tokens:
            body = json.dumps({"name": account, "password": ADMINS[account][0]}).encode()
            conn.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            answer = json.loads(r.read())
            assert r.status == 200, answer
            self._tokens[account] = answer["token"]
        return self._tokens[account]

    def sessions(self, user=None):
        status, answer = self.api("GET", "/api/v1/sessions")
        assert status == 200, answer
        return [s for s in answer["sessions"] if user is None or s["user"] == user]

    def nodes(self):
        status, answer = self.api("GET", "/api/v1/nodes")
        assert status == 200, answer
        return {n["name"]: n for n in answer["nodes"]}


# --- the load balancer ---------------------------------------------------------------------------

def bed_haproxy(generated, stats_socket):
    """The HAProxy configuration `ftpsd firewall --cluster --format haproxy` printed, with what only the
    bed needs: the stats socket the tests watch HAProxy through (`show stat`), and its log on stderr (the
    bed's haproxy.log) instead of /dev/log, which is the host's syslog (a network namespace does not
    have a /dev of its own)."""
    syslog = "    log /dev/log local0\n"
    assert generated.startswith("# ftpsd: generated") and syslog in generated, generated
    ours = f"    log stderr format short local0\n    stats socket {stats_socket} mode 600 level admin\n"
    return generated.replace(syslog, ours, 1)


class BedTopology(Topology):
    """The NAT tests' Topology, its namespaces named ftpsd-bed-RUN-ROLE."""

    def add_ns(self, role):
        name = f"ftpsd-bed-{self.rid}-{role}"
        run("ip", "netns", "add", name)
        self.namespaces[role] = name
        self.sh(role, "ip", "link", "set", "lo", "up")
        return name

    def bridge_port(self, role, bridge, other, other_addr):
        """A veth pair from `other` (with `other_addr`) to a port of `bridge` in `role`."""
        n = self._links
        self._links += 1
        va, vb = f"v{self.rid}{n}a", f"v{self.rid}{n}b"
        run("ip", "link", "add", va, "netns", self.namespaces[role], "type", "veth", "peer", "name", vb, "netns",
            self.namespaces[other])
        self.sh(role, "ip", "link", "set", va, "master", bridge)
        self.sh(role, "ip", "link", "set", va, "up")
        self.sh(other, "ip", "addr", "add", other_addr, "dev", vb)
        self.sh(other, "ip", "link", "set", vb, "up")


class Bed:
    """The whole bed (the picture at the top), built at once; close() tears down every part of it, also
    after a failure half-way through building."""

    def __init__(self, tmp, node_count=3):
        prerequisites()
        self.tmp = tmp
        self.topo = BedTopology()
        self.db = None
        self.nodes = []
        self.client = None
        self.lb = None
        self.haproxy = None
        self.node_count = node_count
        self.shared = tmp / "shared"  # the users' roots: every node's view of the same storage
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self):
        t = self.topo
        for role in ("client", "lb", "db", *[f"node{n}" for n in range(1, self.node_count + 1)]):
            t.add_ns(role)
        self.client_if, self.lb_public_if = t.link("client", f"{CLIENT_IP}/24", "lb", f"{PUBLIC}/24")
        t.sh("client", "ip", "addr", "add", f"{CLIENT_IP2}/24", "dev", self.client_if)
        t.route("client", PUBLIC)
        t.sh("db", "ip", "link", "add", "br0", "type", "bridge")
        t.sh("db", "ip", "addr", "add", f"{DB_IP}/24", "dev", "br0")
        t.sh("db", "ip", "link", "set", "br0", "up")
        for n in range(1, self.node_count + 1):
            t.link("lb", f"{lb_address(n)}/24", f"node{n}", f"{node_address(n)}/24")
            t.route(f"node{n}", lb_address(n))
            t.bridge_port("db", "br0", f"node{n}", f"10.2.0.1{n}/24")
        t.forwarding("lb")
        for role in t.namespaces:
            t.sysctl(role, "net.netfilter.nf_conntrack_helper", 0, check=False)
        self.client = Inside(t.namespaces["client"], workers=8)
        self.lb = Inside(t.namespaces["lb"], workers=2)

        self.db = Database(t)
        self.db.create()

        self.cert, self.key = self.tmp / "cert.pem", self.tmp / "key.pem"
        run(BIN, "cert", "self-signed", "--host", "ftp.example.test", "--host", PUBLIC, "--cert", str(self.cert),
            "--key", str(self.key))
        for name, (password, role) in ADMINS.items():
            run(BIN, "admin", "add", name, "--role", role, "--file", str(self.tmp / "admins.toml"),
                input=password + "\n")
        self.shared.mkdir()
        (self.shared / "site").mkdir()
        (self.shared / "site" / "welcome.txt").write_text("welcome to the cluster\n")
        self.nodes = [Node(self, n) for n in range(1, self.node_count + 1)]
        for node in self.nodes:
            node.config.write_text(node.config_text())
        # The schema and the users, from node 1's configuration (inside its namespace: the database is
        # reachable from the nodes only).
        self.nodes[0].sh(BIN, "cluster", "init", "--config", self.nodes[0].config)
        users = self.tmp / "users.toml"
        users.write_text("".join(
            f'[[users]]\nname = "{u}"\npassword_hash = "{hash_of(p)}"\nroot = "{self.shared / "site"}"\n'
            f'write = true\n' for u, p in USERS.items()))
        self.nodes[0].sh(BIN, "cluster", "import", "--config", self.nodes[0].config, "--users", users)
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.wait_ready()
        self.load_balancer()

    def load_balancer(self):
        """The LB's nftables and HAProxy, as `ftpsd firewall --cluster` prints them from the nodes table
        (run in node 1's namespace: the database is reachable from the nodes only)."""
        def generated(fmt):
            return self.nodes[0].sh(BIN, "firewall", "--cluster", "--config", self.nodes[0].config, "--public",
                                    PUBLIC, "--format", fmt).stdout
        rules = self.tmp / "lb.nft"
        rules.write_text(generated("nftables"))
        self.topo.sh("lb", "nft", "-f", str(rules))
        self.stats_socket = self.tmp / "haproxy.sock"
        cfg = self.tmp / "haproxy.cfg"
        cfg.write_text(bed_haproxy(generated("haproxy"), self.stats_socket))
        self.haproxy = self.topo.spawn("lb", ["haproxy", "-db", "-f", str(cfg)], self.tmp / "haproxy.log")
        wait_for(lambda: self.servers_up() == {n.name for n in self.nodes} or self.haproxy.poll() is not None, 30,
                 what="HAProxy to see every node up")
        assert self.haproxy.poll() is None, (self.tmp / "haproxy.log").read_text()

    def haproxy_cmd(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(self.stats_socket))
            s.sendall(command.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def servers(self, backend=None):
        """HAProxy's rows (`show stat`) of the servers of `backend` (default: port 21's), by name."""
        backend = backend or BACKEND
        try:
            lines = self.haproxy_cmd("show stat").splitlines()
        except OSError:
            return {}
        if not lines:
            return {}
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r for r in rows
                if r.get("pxname") == backend and r.get("svname") not in ("FRONTEND", "BACKEND")}

    def servers_up(self, backend=None):
        """The names of the servers HAProxy's health checks find up in `backend`."""
        return {name for name, r in self.servers(backend).items() if r.get("status", "").startswith("UP")}

    def balanced(self, backend=None):
        """True when every node is up and has as many connections as the others: leastconn then gives
        the next len(nodes) connections one to each node."""
        rows = self.servers(backend)
        return (len(rows) == len(self.nodes) and all(r.get("status", "").startswith("UP") for r in rows.values())
                and len({r.get("scur") for r in rows.values()}) == 1)

    def heal(self):
        """Back to full service after a test that broke something (or failed half-way)."""
        if self.db.pid is None:
            self.db.start()
        for node in self.nodes:
            if not node.alive():
                node.start()
                node.wait_ready()
        wait_for(lambda: self.servers_up() == {n.name for n in self.nodes}, 30, what="every node up in HAProxy")

    def close(self):
        for inside in [self.client, self.lb, *[n.inside for n in self.nodes]]:
            if inside is not None:
                inside.close()
        try:
            self.topo.close()  # ftpsd and HAProxy, by PID; then the namespaces
        finally:
            if self.db is not None:
                self.db.destroy()


def hash_of(password):
    return run("openssl", "passwd", "-6", password).stdout.strip()


def port_of(reply):
    """The port of a 227 or 229 reply."""
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", reply)
    if m:
        return int(m.group(5)) * 256 + int(m.group(6))
    return int(re.search(r"\(\|\|\|(\d+)\|\)", reply).group(1))


# --- clients ---------------------------------------------------------------------------------------

class Ftp(ftplib.FTP_TLS):
    """An FTP client for the client namespace: plain FTP, explicit FTPS (AUTH TLS) or implicit FTPS;
    passive mode by PASV or EPSV (`self.epsv`); PROT P data connections resume the control connection's
    TLS session, as ftpsd requires. Records the 227/229 replies: their ports name the node. Every call
    that opens a data connection must run on a client-namespace thread (Bed.client)."""

    def __init__(self, tls="none", epsv=False, source=CLIENT_IP, timeout=20):
        ctx = stock(ssl.create_default_context())
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        super().__init__(context=ctx, timeout=timeout)
        self.tls, self.epsv, self.source = tls, epsv, source
        self.passive_replies = []
        self.trust_server_pasv_ipv4_address = True  # the 227 address is the LB's: it must be right

    def open(self):
        """Connects to the LB (port 990 for implicit FTPS) and reads the greeting; TLS first if implicit."""
        port = IMPLICIT if self.tls == "implicit" else CONTROL
        self.host, self.port = PUBLIC, port
        self.sock = socket.create_connection((PUBLIC, port), self.timeout, source_address=(self.source, 0))
        self.af = self.sock.family
        if self.tls == "implicit":
            self.sock = self.context.wrap_socket(self.sock, server_hostname=PUBLIC)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome

    def sign_in(self, user, password=None):
        if self.tls == "explicit":
            self.auth()
        ftplib.FTP.login(self, user, password if password is not None else USERS[user])
        if self.tls != "none":
            self.prot_p()
        return self

    def makepasv(self):
        if self.epsv:
            reply = self.sendcmd("EPSV")
            self.passive_replies.append(reply)
            return ftplib.parse229(reply, self.sock.getpeername())
        reply = self.sendcmd("PASV")
        self.passive_replies.append(reply)
        host, port = ftplib.parse227(reply)
        return host, port

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=PUBLIC, session=self.sock.session)
        return conn, size

    def node(self):
        """The node of the last passive reply (its port is in that node's slice)."""
        return node_of_port(port_of(self.passive_replies[-1]))

    def which_node(self):
        """Asks for a passive port (and drops it with ABOR-free means: a new PASV replaces it)."""
        reply = self.sendcmd("EPSV" if self.epsv else "PASV")
        self.passive_replies.append(reply)
        return self.node()

    def put(self, name, data):
        self.storbinary(f"STOR {name}", io.BytesIO(data))

    def get(self, name):
        buf = io.BytesIO()
        self.retrbinary(f"RETR {name}", buf.write)
        return buf.getvalue()

    def names(self):
        lines = []
        self.retrlines("LIST", lines.append)
        return [line.split()[-1] for line in lines]

    def close_quietly(self):
        try:
            self.close()
        except OSError:
            pass
