"""Network namespaces, veth pairs and nftables for the NAT tests.

Every name carries a run id unique to this test process and topology, so parallel runs never collide,
and every namespace a Topology creates is deleted by Topology.close() (the fixtures call it even when
the test fails). Only TEST-NET-2 (198.51.100.0/24, the "internet") and 10.x addresses are used, and
all traffic stays inside these namespaces.
"""
import itertools
import os
import secrets
import shutil
import signal
import subprocess
import time

CMD_TIMEOUT = 30
_counter = itertools.count()


def run(*args, check=True, timeout=CMD_TIMEOUT, input=None):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=timeout, input=input)


class Topology:
    """Namespaces by role: `add_ns("client")`, links between them, nft rules, processes inside."""

    def __init__(self):
        self.rid = f"{os.getpid() % 1000:03d}{next(_counter) % 100:02d}{secrets.token_hex(1)}"
        self.namespaces = {}
        self.procs = []
        self._links = 0
        self._etc = []

    # -- building ---------------------------------------------------------------------------------
    def add_ns(self, role):
        name = f"ftpsd-nat-{self.rid}-{role}"
        run("ip", "netns", "add", name)
        self.namespaces[role] = name
        self.sh(role, "ip", "link", "set", "lo", "up")
        return name

    def link(self, a, a_addr, b, b_addr):
        """A veth pair between namespaces `a` and `b`; addresses as "10.0.0.1/24". Returns the names."""
        n = self._links
        self._links += 1
        va, vb = f"v{self.rid}{n}a", f"v{self.rid}{n}b"
        run("ip", "link", "add", va, "netns", self.namespaces[a], "type", "veth", "peer", "name", vb, "netns",
            self.namespaces[b])
        for role, dev, addr in ((a, va, a_addr), (b, vb, b_addr)):
            self.sh(role, "ip", "addr", "add", addr, "dev", dev)
            self.sh(role, "ip", "link", "set", dev, "up")
        return va, vb

    def route(self, role, via):
        self.sh(role, "ip", "route", "add", "default", "via", via)

    def sysctl(self, role, key, value, check=True):
        """Sets /proc/sys/KEY inside `role` (no dependency on procps' sysctl)."""
        path = "/proc/sys/" + key.replace(".", "/")
        return self.sh(role, "sh", "-c", f"echo {value} > {path}", check=check)

    def forwarding(self, role):
        self.sysctl(role, "net.ipv4.ip_forward", 1)

    def hosts(self, role, text):
        """/etc/hosts as processes in `role` see it (`ip netns exec` mounts /etc/netns/NAME/hosts over
        it). Rewritten in place, so a running process sees the new content. Removed in close()."""
        d = f"/etc/netns/{self.namespaces[role]}"
        os.makedirs(d, exist_ok=True)
        if d not in self._etc:
            self._etc.append(d)
        with open(f"{d}/hosts", "w") as f:
            f.write(text)

    def nft(self, role, ruleset):
        """Loads an nftables ruleset (text for `nft -f`) into a namespace."""
        return self.sh(role, "nft", "-f", "-", input=ruleset)

    # -- running ----------------------------------------------------------------------------------
    def cmd(self, role, *args):
        return ["ip", "netns", "exec", self.namespaces[role], *args]

    def sh(self, role, *args, check=True, timeout=CMD_TIMEOUT, input=None):
        return run(*self.cmd(role, *args), check=check, timeout=timeout, input=input)

    def spawn(self, role, args, log_path, cwd=None):
        """Starts a long-running process inside `role`; stopped (by its PID) in close()."""
        log = open(log_path, "wb")
        proc = subprocess.Popen(self.cmd(role, *args), stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        proc.log_file = log
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        proc.log_file.close()

    def close(self):
        for p in self.procs:
            try:
                self.stop(p)
            except Exception:  # noqa: BLE001 - teardown goes on: the namespaces must go
                pass
        self.procs = []
        for name in self.namespaces.values():
            run("ip", "netns", "del", name, check=False)
        self.namespaces = {}
        for d in self._etc:
            shutil.rmtree(d, ignore_errors=True)
        self._etc = []


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")
