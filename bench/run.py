#!/usr/bin/env python3
"""The ftpsd benchmark: ftpsd against vsftpd, pure-ftpd and ProFTPD on loopback.

Starts every server (bench/peers/setup.sh must have run), measures each workload
for every server, alternating the servers between repetitions, and prints a
Markdown table of medians (min-max) with the ratio to the best peer. The table
goes to stdout and to BENCHMARKS.md (or $BENCH_OUT). Raw results go to
bench/.work/results/*.jsonl.

Environment:
  BENCH_QUICK=1         small sizes, one repetition (a smoke test)
  BENCH_REPS=N          repetitions of each measurement (default 3; quick: 1)
  BENCH_MEM_REPS=N      repetitions of the idle-memory measurements (default 1)
  BENCH_SERVERS=a,b     servers to run (default ftpsd,vsftpd,pure-ftpd,proftpd)
  BENCH_WORKLOADS=a,b   workload ids to run (default all; see WORKLOADS)
  BENCH_CEILINGS=a,b    ceiling ids to measure (default all; see CEILINGS), or none
  BENCH_CLIENT_CHECK=0  skip the client check (the RETR by curl)
  BENCH_FTPSD_BIN=path  the ftpsd binary (default build-release/ftpsd)
  BENCH_CLIENT=path     the load client (default bench/build-bench/ftpbench)
  BENCH_OUT=path        where to write the Markdown report
  BENCH_WAIT_IDLE_S=N   wait up to N s for other work on the machine to end (default 120)
  BENCH_CONC_RAMP_MS=N  spread the concurrent clients' connects over N ms (default 0)
  BENCH_COMMAND=text    the command shown in the report (default: make bench)
Only Debian's python3 standard library is used. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import datetime
import json
import mmap
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = Path(os.environ.get("BENCH_WORK", BENCH / ".work"))
PEERS = WORK / "peers"
ETC = WORK / "etc"
DATA = WORK / "data"
LOGS = WORK / "logs"
RESULTS = WORK / "results"

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


REPS = env_int("BENCH_REPS", 1 if QUICK else 3)
# A login run stops starting logins after this many seconds (ProFTPD does a few
# per second: its count would otherwise take minutes).
LOGIN_SECONDS = 6
# 0: the concurrent clients all connect at once (a burst of SYNs).
CONC_RAMP_MS = env_int("BENCH_CONC_RAMP_MS", 0)
MEM_REPS = env_int("BENCH_MEM_REPS", 1)

# Sizes: the workloads, or small ones for a smoke test.
SIZES = {
    "big_mb": 64 if QUICK else 1024,
    "conc_mb": 1 if QUICK else 10,
    "conc_clients": 20 if QUICK else 200,
    "small_count": 100 if QUICK else 2000,
    "list_count": 2000 if QUICK else 20000,
    "login_seq": 20 if QUICK else 200,
    "login_par": 64 if QUICK else 640,
    "login_threads": 32,
    "idle_peer": 100 if QUICK else 1000,
    "idle_ftpsd": [100, 500] if QUICK else [1000, 10000],
}


def load_ports() -> dict[str, str]:
    out = {}
    for line in (BENCH / "peers" / "ports.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


CFG = load_ports()
USER = CFG["BENCH_USER"]
PASS = CFG["BENCH_PASS"]
CLIENT = Path(os.environ.get("BENCH_CLIENT", BENCH / "build-bench" / "ftpbench"))
FTPSD_BIN = Path(os.environ.get("BENCH_FTPSD_BIN", REPO / "build-release" / "ftpsd"))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes: everything we start is tracked by PID and stopped by PID.
# --------------------------------------------------------------------------

def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def process_tree(pid: int) -> list[int]:
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss_kib(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total


def cpu_busy(seconds: float = 2.0) -> float:
    """The fraction of the machine's CPU time that was not idle over `seconds`."""
    def sample() -> tuple[int, int]:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(f), f[3] + f[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_greeting(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(3)
                buf = b""
                while b"\n" not in buf:
                    chunk = s.recv(512)
                    if not chunk:
                        break
                    buf += chunk
                # A multi-line greeting is fine: the first line starts with 220.
                if buf.startswith(b"220"):
                    try:
                        s.sendall(b"QUIT\r\n")
                    except OSError:
                        pass
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


@dataclass
class Server:
    name: str
    port: int
    pasv: str
    argv: list[str]
    peer: bool = True
    max_sessions: int = 1 << 30  # a hard limit of the server's own
    proc: Optional[subprocess.Popen] = None
    error: str = ""
    logfile: Optional[Path] = None

    def start(self) -> bool:
        if not Path(self.argv[0]).exists():
            self.error = f"{self.argv[0]} not found"
            return False
        self.logfile = LOGS / f"{self.name}.log"
        out = open(self.logfile, "ab")
        out.write(f"\n=== start {time.ctime()}: {' '.join(self.argv)}\n".encode())
        out.flush()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     start_new_session=True, preexec_fn=raise_nofile, cwd=WORK)
        out.close()
        if not wait_greeting(self.port, 15):
            self.error = f"no 220 greeting on 127.0.0.1:{self.port} (see {self.logfile})"
            self.stop()
            return False
        if self.proc.poll() is not None:
            self.error = f"exited with {self.proc.returncode} (see {self.logfile})"
            return False
        self.error = ""
        return True

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> bool:
        if self.alive():
            return True
        if self.proc is not None:
            log(f"{self.name} is not running (exit {self.proc.returncode}); restarting it")
        return self.start()

    def tree(self) -> list[int]:
        return process_tree(self.proc.pid) if self.alive() else []

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = process_tree(self.proc.pid) if self.proc.poll() is None else []
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        # Session processes of the forking servers that outlived the master.
        for p in pids[1:]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None


def make_servers(names: list[str]) -> list[Server]:
    def rng(key: str) -> str:
        return CFG[key]

    pure_args = [line.strip() for line in (ETC / "pure-ftpd.args").read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
    table = {
        "ftpsd": Server("ftpsd", int(CFG["FTPSD_PORT"]), rng("FTPSD_PASV"),
                        [str(FTPSD_BIN), "run", "--config", str(ETC / "ftpsd.toml")], peer=False),
        # Not a column of its own: the "default durability" rows of the ftpsd column.
        "ftpsd-fsync": Server("ftpsd-fsync", int(CFG["FTPSD_FSYNC_PORT"]), rng("FTPSD_FSYNC_PASV"),
                              [str(FTPSD_BIN), "run", "--config", str(ETC / "ftpsd-fsync.toml")],
                              peer=False),
        "vsftpd": Server("vsftpd", int(CFG["VSFTPD_PORT"]), rng("VSFTPD_PASV"),
                         [str(PEERS / "usr/sbin/vsftpd"), str(ETC / "vsftpd.conf")]),
        "pure-ftpd": Server("pure-ftpd", int(CFG["PUREFTPD_PORT"]), rng("PUREFTPD_PASV"),
                            [str(PEERS / "usr/sbin/pure-ftpd"), *pure_args], max_sessions=500),
        "proftpd": Server("proftpd", int(CFG["PROFTPD_PORT"]), rng("PROFTPD_PASV"),
                          [str(PEERS / "usr/sbin/proftpd"), "-n", "-c", str(ETC / "proftpd.conf")]),
    }
    return [table[n] for n in names]


# --------------------------------------------------------------------------
# The client.
# --------------------------------------------------------------------------

class Failure(Exception):
    pass


def client(srv: Server, workload: str, *args: str, tls: bool = True, timeout: float = 300) -> dict:
    argv = [str(CLIENT), workload, "--port", str(srv.port), "--user", USER, "--pass", PASS,
            *(["--tls"] if tls else []), *args]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, preexec_fn=raise_nofile)
    except subprocess.TimeoutExpired:
        raise Failure(f"{workload}: client timed out after {timeout:.0f} s")
    line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    try:
        res = json.loads(line)
    except json.JSONDecodeError:
        raise Failure(f"{workload}: client exit {r.returncode}: {r.stderr.strip()[:200]}")
    if not res.get("ok"):
        raise Failure(f"{workload}: {res.get('error', 'failed')}")
    # Many-client workloads report errors per client: with no client served,
    # there is no figure.
    if res.get("errors") and not res.get("logins", res.get("bytes", 1)):
        raise Failure(f"{workload}: every client failed: {res.get('first_error', '')}")
    return res


def clean_uploads(srv: Server) -> Path:
    up = DATA / "up" / srv.name
    if up.exists():
        shutil.rmtree(up)
    up.mkdir(parents=True)
    shutil.chown(up, USER, USER)
    up.chmod(0o777)
    return up


# --------------------------------------------------------------------------
# Workloads. Each returns (value, extra-info dict) for one server and one run.
# --------------------------------------------------------------------------

Result = tuple[float, dict]


def w_retr_clear(s: Server) -> Result:
    n = SIZES["big_mb"] << 20
    r = client(s, "get", "--file", f"big-{SIZES['big_mb']}M.bin", "--expect", str(n), tls=False)
    return r["mbps"], r


def w_retr_tls(s: Server) -> Result:
    n = SIZES["big_mb"] << 20
    r = client(s, "get", "--file", f"big-{SIZES['big_mb']}M.bin", "--expect", str(n))
    return r["mbps"], r


def prime_page_cache() -> None:
    """Writes and deletes a file of the upload's size. Each upload then finds the same memory: pages
    just freed, not fresh ones that (on this VM) cost a fault in the host each (see `fresh_memory`).
    Without it an upload right after another server's deleted upload ran up to 3x faster than the
    first upload of a round."""
    path = DATA / "up" / ".prime.bin"
    block = bytes(1 << 20)
    with open(path, "wb") as f:
        for _ in range(SIZES["big_mb"]):
            f.write(block)
    path.unlink()


def w_stor_tls(s: Server) -> Result:
    clean_uploads(s)
    prime_page_cache()
    try:
        r = client(s, "put", "--file", f"up/{s.name}/big.bin", "--size", str(SIZES["big_mb"] << 20))
        got = (DATA / "up" / s.name / "big.bin").stat().st_size
        if got != SIZES["big_mb"] << 20:
            raise Failure(f"STOR stored {got} bytes")
    finally:
        clean_uploads(s)
    return r["mbps"], r


def w_small_retr(s: Server) -> Result:
    n = SIZES["small_count"]
    r = client(s, "small-get", "--dir", f"small-{n}", "--count", str(n))
    return r["files_per_s"], r


def w_small_retr_tls12(s: Server) -> Result:
    n = SIZES["small_count"]
    r = client(s, "small-get", "--dir", f"small-{n}", "--count", str(n), "--tls12")
    return r["files_per_s"], r


def w_small_stor(s: Server) -> Result:
    clean_uploads(s)
    try:
        r = client(s, "small-put", "--dir", f"up/{s.name}", "--count", str(SIZES["small_count"]),
                   "--size", "4096")
    finally:
        clean_uploads(s)
    return r["files_per_s"], r


def w_concurrent(s: Server) -> Result:
    n = SIZES["conc_mb"] << 20
    r = client(s, "concurrent", "--clients", str(SIZES["conc_clients"]), "--file",
               f"conc-{SIZES['conc_mb']}M.bin", "--expect", str(n), "--timeout", "15",
               "--ramp-ms", str(CONC_RAMP_MS), timeout=600)
    return r["mbps"], r


def w_login_seq(s: Server) -> Result:
    r = client(s, "login", "--count", str(SIZES["login_seq"]), "--seconds", str(LOGIN_SECONDS), "--timeout", "20")
    return r["logins_per_s"], r


def w_login_par(s: Server) -> Result:
    r = client(s, "login", "--count", str(SIZES["login_par"]), "--parallel", str(SIZES["login_threads"]),
               "--seconds", str(LOGIN_SECONDS), "--timeout", "20")
    return r["logins_per_s"], r


def w_list(verb: str) -> Callable[[Server], Result]:
    def run(s: Server) -> Result:
        n = SIZES["list_count"]
        r = client(s, "list", "--path", f"list-{n}", "--verb", verb)
        if r["lines"] < n:
            raise Failure(f"{verb} returned {r['lines']} lines for {n} entries")
        return r["ms"], r
    return run


def settle(s: Server, want: int, timeout: float = 120) -> int:
    """Waits until the server's process count falls back to `want`."""
    deadline = time.monotonic() + timeout
    n = len(s.tree())
    while n > want and time.monotonic() < deadline:
        time.sleep(0.25)
        n = len(s.tree())
    return n


def w_memory(sessions_of: Callable[[Server], int], tls: bool) -> Callable[[Server], Result]:
    def run(s: Server) -> Result:
        asked = sessions_of(s)
        sessions = min(asked, s.max_sessions)
        # A fresh server: memory kept from the earlier workloads (and given
        # back while the sessions open) would distort the difference.
        s.stop()
        if not s.start():
            raise Failure(f"restart before the memory test: {s.error}")
        base_procs = len(s.tree())
        argv = [str(CLIENT), "idle", "--port", str(s.port), "--user", USER, "--pass", PASS,
                "--sessions", str(sessions), "--parallel", "16", "--hold", "900", "--timeout", "30",
                "--wait-go", *(["--tls"] if tls else [])]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, preexec_fn=raise_nofile)
        try:
            # The baseline is taken with the client already running: it maps
            # the same libraries as the server, which lowers the server's PSS.
            started, _, _ = select.select([p.stdout], [], [], 60)
            if not started or "started" not in p.stdout.readline():
                raise Failure("idle: the client did not start")
            time.sleep(0.5)
            base = pss_kib(s.tree())
            p.stdin.write("go\n")
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 600)
            if not ready:
                raise Failure("idle: sessions not ready within 600 s")
            line = p.stdout.readline()
            r = json.loads(line) if line.strip() else {"ok": False, "error": p.stderr.read()[:200]}
            if not r.get("ok"):
                raise Failure(f"idle: {r.get('error', 'failed')}")
            if r["sessions"] < sessions * 0.99:
                raise Failure(f"idle: only {r['sessions']} of {sessions} sessions opened "
                              f"({r.get('first_error', '')})")
            time.sleep(2)
            pids = s.tree()
            total = pss_kib(pids)
            r.update(pss_base_kib=base, pss_kib=total, processes=len(pids),
                     capped_at=sessions if sessions < asked else None)
            per = (total - base) / r["sessions"]
        finally:
            try:
                p.stdin.write("\n")
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            settle(s, base_procs)
        return per, r
    return run


@dataclass
class Workload:
    id: str
    label: str
    unit: str
    higher_better: bool
    fn: Callable[[Server], Result]
    servers: Optional[set[str]] = None  # None: all
    reps: Optional[int] = None
    # Measures this server (started when first needed) in the ftpsd column instead of ftpsd.
    ftpsd_variant: Optional[str] = None
    skip: dict[str, str] = field(default_factory=dict)  # server -> reason


def workloads() -> list[Workload]:
    z = SIZES
    big = f"{z['big_mb']} MiB" if z["big_mb"] < 1024 else f"{z['big_mb'] // 1024} GiB"
    wl = [
        # The noisiest line and the cheapest one: twice the repetitions.
        Workload("retr_clear", f"RETR {big}, clear data", "MB/s", True, w_retr_clear, reps=2 * REPS),
        Workload("retr_tls", f"RETR {big}, FTPS PROT P", "MB/s", True, w_retr_tls),
        Workload("stor_tls", f"STOR {big}, FTPS PROT P", "MB/s", True, w_stor_tls),
        # ftpsd's default flushes each upload to the disk (fdatasync, rename, folder fsync) before its
        # 226; the peers never do, so the row above runs ftpsd with storage.fsync = false.
        Workload("stor_tls_fsync", f"STOR {big}, FTPS PROT P, ftpsd default (fdatasync before 226)",
                 "MB/s", True, w_stor_tls, servers={"ftpsd"}, ftpsd_variant="ftpsd-fsync"),
        Workload("small_retr", f"{z['small_count']} × 4 KiB RETR, one FTPS session", "files/s", True,
                 w_small_retr),
        Workload("small_stor", f"{z['small_count']} × 4 KiB STOR, one FTPS session", "files/s", True,
                 w_small_stor),
        Workload("small_stor_fsync", f"{z['small_count']} × 4 KiB STOR, one FTPS session, ftpsd default "
                 "(fdatasync before 226)", "files/s", True, w_small_stor, servers={"ftpsd"},
                 ftpsd_variant="ftpsd-fsync"),
        Workload("small_retr_tls12", f"{z['small_count']} × 4 KiB RETR, one FTPS session, TLS 1.2",
                 "files/s", True, w_small_retr_tls12),
        Workload("concurrent", f"{z['conc_clients']} FTPS clients × {z['conc_mb']} MiB RETR", "MB/s", True,
                 w_concurrent),
        Workload("login_seq", f"FTPS logins, sequential (≤ {z['login_seq']} in ≤ {LOGIN_SECONDS} s)",
                 "logins/s", True, w_login_seq),
        Workload("login_par", f"FTPS logins, {z['login_threads']} in parallel "
                 f"(≤ {z['login_par']} in ≤ {LOGIN_SECONDS} s)", "logins/s", True, w_login_par),
        Workload("list", f"LIST of {z['list_count']} entries (FTPS)", "ms", False, w_list("LIST")),
        Workload("mlsd", f"MLSD of {z['list_count']} entries (FTPS)", "ms", False, w_list("MLSD"),
                 skip={"vsftpd": "no MLSD"}),
    ]
    peer_n = z["idle_peer"]
    small_n, large_n = z["idle_ftpsd"]
    for tls in (False, True):
        mode = "TLS" if tls else "clear"
        wl.append(Workload(f"mem_{mode.lower()}_{peer_n}", f"Idle memory, {peer_n} {mode} sessions",
                           "KiB/session", False, w_memory(lambda s, n=peer_n: n, tls), reps=MEM_REPS))
    for tls in (False, True):
        mode = "TLS" if tls else "clear"
        wl.append(Workload(f"mem_{mode.lower()}_{large_n}", f"Idle memory, {large_n} {mode} sessions",
                           "KiB/session", False, w_memory(lambda s, n=large_n: n, tls),
                           servers={"ftpsd"}, reps=MEM_REPS))
    assert small_n == peer_n
    return wl


# --------------------------------------------------------------------------
# Ceilings of the machine and the client check.
# --------------------------------------------------------------------------

def ceiling_openssl() -> float:
    r = subprocess.run(["openssl", "speed", "-evp", "aes-128-gcm", "-bytes", "16384", "-seconds",
                        "1" if QUICK else "3"], capture_output=True, text=True, timeout=120)
    m = re.search(r"^AES-128-GCM\s+([\d.]+)k", r.stdout, re.M)
    if not m:
        raise Failure("openssl speed: no result")
    return float(m.group(1)) / 1000.0  # 1000s of bytes per second -> MB/s


def ceiling_iperf3() -> float:
    port = 5299
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.5)
        r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", "2" if QUICK else "5", "-J"],
                           capture_output=True, text=True, timeout=60)
        j = json.loads(r.stdout)
        return j["end"]["sum_received"]["bits_per_second"] / 8 / 1e6
    finally:
        if srv.poll() is None:
            srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def ceiling_client(kind: str, *args: str, key: str = "mbps") -> float:
    argv = [str(CLIENT), kind, *args]
    if kind != "tcp-ceiling":
        argv += ["--cert", str(WORK / "tls/cert.pem"), "--key", str(WORK / "tls/key.pem")]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return json.loads(r.stdout.strip().splitlines()[-1])[key]


def ceiling_tls_file() -> float:
    prime_page_cache()
    return ceiling_client("tls-ceiling", "--bytes", str(SIZES["big_mb"] << 20),
                          "--to-file", str(DATA / "up" / ".tls-file-ceiling.bin"))


def ceiling_fresh_memory() -> float:
    """First write to fresh anonymous memory, one byte per page, in MB/s of memory made present: what
    every new page-cache page costs the kernel before an upload's bytes land in it."""
    n = SIZES["big_mb"] << 20
    t0 = time.monotonic()
    m = mmap.mmap(-1, n)
    try:
        for off in range(0, n, mmap.PAGESIZE):
            m[off] = 1
        elapsed = time.monotonic() - t0
    finally:
        m.close()
    return n / elapsed / 1e6


def ceiling_disk(sync: bool) -> float:
    """Writes the big file's size into the data folder in 1 MiB writes (then fdatasync), in MB/s."""
    n = SIZES["big_mb"] << 20
    path = DATA / "up" / ".disk-ceiling.bin"
    block = os.urandom(1 << 20)
    t0 = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = n
        while left:
            left -= os.write(fd, block[:min(left, len(block))])
        if sync:
            os.fdatasync(fd)
        elapsed = time.monotonic() - t0
    finally:
        os.close(fd)
        path.unlink()
    return n / elapsed / 1e6


STREAM = str((1 if QUICK else 4) << 30)
CEILINGS = [
    ("openssl", "AES-128-GCM, one core (`openssl speed -evp aes-128-gcm -bytes 16384`)", "MB/s",
     ceiling_openssl),
    ("iperf3", "Loopback TCP, iperf3 (one stream)", "MB/s", ceiling_iperf3),
    ("tcp", "Loopback TCP, `ftpbench tcp-ceiling` (send() → recv(MSG_TRUNC))", "MB/s",
     lambda: ceiling_client("tcp-ceiling", "--bytes", STREAM)),
    ("tls", "Loopback TLS 1.3 AES-128-GCM stream, `ftpbench tls-ceiling`", "MB/s",
     lambda: ceiling_client("tls-ceiling", "--bytes", STREAM)),
    ("tls_file", f"The same stream, {SIZES['big_mb']} MiB written into a file in the data folder by the "
     "receiver (`--to-file`, page cache primed as before a STOR): a plain blocking server's upload", "MB/s",
     ceiling_tls_file),
    ("hs13", "Resumed TLS 1.3 handshakes carrying 4 KiB, `ftpbench handshake-ceiling` (no FTP)",
     "connections/s", lambda: ceiling_client("handshake-ceiling", "--count", "2000", key="per_s")),
    ("hs12", "The same with TLS 1.2 (abbreviated handshake, no key exchange)", "connections/s",
     lambda: ceiling_client("handshake-ceiling", "--count", "2000", "--tls12", key="per_s")),
    ("disk", f"Disk: write {SIZES['big_mb']} MiB into the data folder, then `fdatasync`", "MB/s",
     lambda: ceiling_disk(True)),
    ("disk_cache", "The same without `fdatasync` (page cache and dirty-page throttling)", "MB/s",
     lambda: ceiling_disk(False)),
    ("fresh_memory", f"First write to {SIZES['big_mb']} MiB of fresh memory (anonymous `mmap`, a byte per page)",
     "MB/s", ceiling_fresh_memory),
]


def curl_retr(s: Server, tls: bool) -> float:
    """The RETR of the big file by curl into /dev/null, in MB/s."""
    url = f"ftp://127.0.0.1:{s.port}/big-{SIZES['big_mb']}M.bin"
    r = subprocess.run(["curl", "-s", *(["-k", "--ssl-reqd"] if tls else []), "-o", "/dev/null",
                        "-w", "%{speed_download} %{size_download}", "--max-time", "120",
                        "--user", f"{USER}:{PASS}", url], capture_output=True, text=True, timeout=150)
    if r.returncode != 0:
        raise Failure(f"curl exit {r.returncode}")
    speed, size = r.stdout.split()
    if int(size) != SIZES["big_mb"] << 20:
        raise Failure(f"curl received {size} bytes")
    return float(speed) / 1e6


# --------------------------------------------------------------------------
# Statistics and the report.
# --------------------------------------------------------------------------

def fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def summary(vals: list[float]) -> str:
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(vals))}–{fmt(max(vals))})"


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    osr = ""
    try:
        osr = re.search(r'PRETTY_NAME="([^"]*)"', Path("/etc/os-release").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return [f"- CPU: {cpu}, `nproc` = {os.cpu_count()}, memory {mem}",
            f"- Kernel: {platform.release()} ({osr})",
            f"- {ossl}"]


def peer_versions() -> list[str]:
    out = []
    for deb in sorted((WORK / "debs").glob("*.deb")):
        out.append(deb.name.rsplit("_", 1)[0].replace("_", " "))
    return out


def main() -> int:
    if os.geteuid() != 0:
        print("run.py must run as root (the peers need it)", file=sys.stderr)
        return 2
    if not CLIENT.exists():
        print(f"the load client {CLIENT} is missing: build it first (make bench)", file=sys.stderr)
        return 2
    raise_nofile()
    RESULTS.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw_path = RESULTS / f"run-{stamp}{'-quick' if QUICK else ''}.jsonl"
    raw = open(raw_path, "w")
    t_start = time.monotonic()
    # Other work on the machine makes every figure noisy: wait a little for it.
    wait_idle = env_int("BENCH_WAIT_IDLE_S", 0 if QUICK else 120)
    deadline = time.monotonic() + wait_idle
    load_start = cpu_busy()
    while load_start > 0.15 and time.monotonic() < deadline:
        log(f"the machine is {load_start:.0%} busy with other work; waiting (BENCH_WAIT_IDLE_S={wait_idle})")
        time.sleep(8)
        load_start = cpu_busy()

    names = [n.strip() for n in os.environ.get("BENCH_SERVERS", "ftpsd,vsftpd,pure-ftpd,proftpd").split(",")
             if n.strip()]
    servers = make_servers(names)
    only = {w.strip() for w in os.environ.get("BENCH_WORKLOADS", "").split(",") if w.strip()}
    wls = [w for w in workloads() if not only or w.id in only]
    only_c = {c.strip() for c in os.environ.get("BENCH_CEILINGS", "").split(",") if c.strip()}
    ceilings_wanted = [c for c in CEILINGS if not only_c or c[0] in only_c]
    # Variants of ftpsd some rows measure in its column (started when first needed).
    variants = {v.name: v for v in make_servers(sorted({w.ftpsd_variant for w in wls if w.ftpsd_variant}))}

    # Warm the page cache with the files the transfers read.
    for f in (DATA / f"big-{SIZES['big_mb']}M.bin", DATA / f"conc-{SIZES['conc_mb']}M.bin"):
        if not f.exists():
            print(f"{f} is missing: run bench/peers/setup.sh with the same BENCH_QUICK", file=sys.stderr)
            return 2
        with open(f, "rb") as fh:
            while fh.read(8 << 20):
                pass

    def shutdown(*_a) -> None:
        for s in [*servers, *variants.values()]:
            s.stop()
        sys.exit(130)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    results: dict[str, dict[str, list[float]]] = {}
    infos: dict[str, dict[str, list[dict]]] = {}
    errors: dict[str, dict[str, str]] = {}
    ceilings: dict[str, list[float]] = {c[0]: [] for c in ceilings_wanted}
    checks: dict[str, dict[str, list[float]]] = {}
    try:
        for s in servers:
            if s.start():
                log(f"{s.name} listening on 127.0.0.1:{s.port} (pid {s.proc.pid})")
            else:
                log(f"{s.name} FAILED to start: {s.error}")

        # Ceilings: once per repetition, before the servers are loaded.
        for rep in range(REPS):
            for cid, _label, unit, fn in ceilings_wanted:
                try:
                    v = fn()
                    ceilings.setdefault(cid, []).append(v)
                    raw.write(json.dumps({"ceiling": cid, "rep": rep, "value": v}) + "\n")
                    log(f"ceiling {cid}: {fmt(v)} {unit}")
                except (Failure, OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
                    log(f"ceiling {cid} failed: {e}")

        # Client check: the same RETR with ftpbench and with curl, alternating,
        # to show that the load client is not what limits the figure.
        pairs = (("clear", w_retr_clear, lambda x: curl_retr(x, False)),
                 ("tls", w_retr_tls, lambda x: curl_retr(x, True)))
        for rep in range(min(REPS, 2) if env_int("BENCH_CLIENT_CHECK", 1) else 0):
            for s in servers:
                for mode, ours, curl in pairs:
                    if not s.ensure():
                        continue
                    for who, fn in (("ftpbench", lambda x: ours(x)[0]), ("curl", curl)):
                        try:
                            v = fn(s)
                            checks.setdefault(s.name, {}).setdefault(f"{who}_{mode}", []).append(v)
                            raw.write(json.dumps({"check": f"{who}_{mode}", "server": s.name, "mbps": v}) + "\n")
                        except (Failure, ValueError, subprocess.SubprocessError) as e:
                            log(f"client check {s.name} {who} {mode} failed: {e}")
        log("client check done")

        for w in wls:
            reps = w.reps or REPS
            for rep in range(reps):
                order = servers[rep % len(servers):] + servers[:rep % len(servers)]
                for s in order:
                    if w.servers is not None and s.name not in w.servers:
                        continue
                    if s.name in w.skip:
                        errors.setdefault(w.id, {})[s.name] = w.skip[s.name]
                        continue
                    target = variants[w.ftpsd_variant] if w.ftpsd_variant and s.name == "ftpsd" else s
                    if not target.ensure():
                        errors.setdefault(w.id, {})[s.name] = f"server failed: {target.error}"
                        continue
                    try:
                        v, info = w.fn(target)
                    except Exception as e:  # noqa: BLE001 - one failed measurement must not end the run
                        errors.setdefault(w.id, {})[s.name] = str(e)[:300]
                        log(f"{w.id} {s.name} rep {rep + 1}: FAILED {e}")
                        raw.write(json.dumps({"workload": w.id, "server": s.name, "rep": rep,
                                              "error": str(e)}) + "\n")
                        continue
                    results.setdefault(w.id, {}).setdefault(s.name, []).append(v)
                    infos.setdefault(w.id, {}).setdefault(s.name, []).append(info)
                    raw.write(json.dumps({"workload": w.id, "server": s.name, "rep": rep, "value": v,
                                          "info": info}) + "\n")
                    raw.flush()
                    extra = f" errors={info['errors']}" if info.get("errors") else ""
                    log(f"{w.id} {s.name} rep {rep + 1}/{reps}: {fmt(v)} {w.unit}{extra}")
    finally:
        for s in [*servers, *variants.values()]:
            s.stop()
        raw.close()

    elapsed = time.monotonic() - t_start
    load = (load_start, cpu_busy())
    report = render(servers, wls, results, infos, errors, ceilings, checks, elapsed, raw_path, load)
    print(report)
    out = Path(os.environ.get("BENCH_OUT", "") or
               (RESULTS / "BENCHMARKS-quick.md" if QUICK else REPO / "BENCHMARKS.md"))
    write_report(out, report)
    log(f"report written to {out}; raw results in {raw_path}; {elapsed / 60:.1f} min")
    return 0


def render(servers, wls, results, infos, errors, ceilings, checks, elapsed, raw_path, load) -> str:
    names = [s.name for s in servers]
    peers = [s.name for s in servers if s.peer]
    lines = []
    cmd = os.environ.get("BENCH_COMMAND", "make bench")
    lines.append(f"Run of {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, `{cmd}`"
                 f"{' (BENCH_QUICK=1: small sizes, not the real figures)' if QUICK else ''}; "
                 f"{REPS} repetitions (clear RETR: {2 * REPS}, idle memory: {MEM_REPS}), servers alternating; "
                 f"{elapsed / 60:.1f} minutes.")
    lines.append("")
    lines += machine()
    busy = max(load) > 0.15
    lines.append(f"- CPU used by other work, sampled for 2 s before and after the run: "
                 f"{load[0]:.0%} and {load[1]:.0%} of the machine"
                 f"{' (busy: the figures are noisier than on an idle machine)' if busy else ''}")
    lines.append(f"- Peers (Debian packages, unpacked): {', '.join(peer_versions())}")
    lines.append(f"- ftpsd: `{FTPSD_BIN.relative_to(REPO) if FTPSD_BIN.is_relative_to(REPO) else FTPSD_BIN}`"
                 f"{'' if FTPSD_BIN.exists() else ' (missing)'}")
    lines.append("")
    lines.append("Each cell: median (min–max) over the repetitions, then the ratio to the best peer "
                 "on that line (×1.00 = as good as the best peer; above 1 is better, for every unit). "
                 "`client CPU` is the load client's CPU time over wall time (1.0 = one core), median "
                 "over all servers.")
    lines.append("")
    head = "| Workload | Unit | " + " | ".join(names) + " | client CPU |"
    lines.append(head)
    lines.append("|" + "---|" * (len(names) + 3))
    for w in wls:
        row = results.get(w.id, {})
        meds = {n: statistics.median(v) for n, v in row.items() if v}
        peer_meds = [meds[p] for p in peers if p in meds]
        best = (max(peer_meds) if w.higher_better else min(peer_meds)) if peer_meds else None
        cells = []
        for n in names:
            if w.servers is not None and n not in w.servers:
                cells.append("")
                continue
            if n not in meds:
                why = errors.get(w.id, {}).get(n, "not run")
                cells.append("n/a" if "no MLSD" in why else "failed")
                continue
            c = summary(row[n])
            if best and meds[n] > 0:
                ratio = meds[n] / best if w.higher_better else best / meds[n]
                c += f" ×{ratio:.2f}"
            runs = infos.get(w.id, {}).get(n, [])
            errs = [i.get("errors", 0) for i in runs]
            if any(errs):
                c += f"; {statistics.median(errs):g} errors/run"
            capped = [i["capped_at"] for i in runs if i.get("capped_at")]
            if capped:
                c += f" (at {capped[0]} sessions, its maximum)"
            cells.append(c)
        cpus = [i.get("client_cpu", 0.0) for per in infos.get(w.id, {}).values() for i in per
                if "client_cpu" in i]
        cpu = f"{statistics.median(cpus):.2f}" if cpus else ""
        lines.append(f"| {w.label} | {w.unit} | " + " | ".join(cells) + f" | {cpu} |")
    lines.append("")

    if ceilings:
        lines.append("Ceilings of this machine, same run:")
        lines.append("")
        lines.append("| Ceiling | Unit | Median (min–max) |")
        lines.append("|---|---|---|")
        for cid, label, unit, _fn in CEILINGS:
            if cid in ceilings:
                lines.append(f"| {label} | {unit} | {summary(ceilings[cid])} |")
        lines.append("")

    if checks:
        lines.append("Client check: the RETR of the first two lines, by ftpbench and by curl "
                     "(`curl -o /dev/null`, `--ssl-reqd` for FTPS), alternating; MB/s, median (min–max). "
                     "A server that curl drives faster than ftpbench would mean the client limits "
                     "the figure.")
        lines.append("")
        lines.append("| Server | ftpbench clear | curl clear | ftpbench FTPS | curl FTPS |")
        lines.append("|---|---|---|---|---|")
        for n in names:
            c = checks.get(n, {})
            cols = [summary(c[k]) if k in c else "failed"
                    for k in ("ftpbench_clear", "curl_clear", "ftpbench_tls", "curl_tls")]
            lines.append(f"| {n} | " + " | ".join(cols) + " |")
        lines.append("")

    # Details: TLS negotiated, session reuse on data connections, errors.
    det = []
    for n in names:
        tls = next((i.get("tls") for i in infos.get("retr_tls", {}).get(n, [])), None)
        reuse = ""
        for wid, tag in (("small_retr", ""), ("small_retr_tls12", " with TLS 1.2")):
            sm = infos.get(wid, {}).get(n, [])
            if sm:
                reuse += (", " if reuse else "") + (f"{sm[0]['data_resumed']}/{sm[0]['data_connections']} "
                                                    f"data connections resumed{tag}")
        conc = infos.get("concurrent", {}).get(n, [])
        cerr = (f"concurrent: {sum(i.get('errors', 0) for i in conc)} errors in {len(conc)} runs"
                if conc else "")
        mem = []
        for w in wls:
            if w.id.startswith("mem_") and n in infos.get(w.id, {}):
                i = infos[w.id][n][-1]
                mem.append(f"{w.id}: {i['processes']} processes, PSS {i['pss_base_kib']:,} → "
                           f"{i['pss_kib']:,} KiB")
        det.append(f"- {n}: " + "; ".join(x for x in [tls or "", reuse, cerr, *mem] if x))
    lines.append("Details (TLS negotiated by the load client, TLS session reuse on the data "
                 "connections of the 4 KiB RETR run, concurrent-run errors, idle-memory totals):")
    lines.append("")
    lines += det
    grouped: dict[tuple[str, str], list[str]] = {}
    for w, d in errors.items():
        for n, e in d.items():
            if "no MLSD" not in e:
                grouped.setdefault((n, e), []).append(w)
    if grouped:
        lines.append("")
        lines.append("Failures (a failed repetition is left out of the figures):")
        lines.append("")
        for (n, e), ws in grouped.items():
            lines.append(f"- {n}, {', '.join(ws)}: {e}")
    lines.append("")
    lines.append(f"Raw results: `{raw_path.relative_to(REPO) if raw_path.is_relative_to(REPO) else raw_path}` "
                 "(not committed).")
    return "\n".join(lines)


BEGIN = "<!-- bench:begin (written by bench/run.py) -->"
END = "<!-- bench:end -->"


def write_report(path: Path, report: str, begin: str = BEGIN, end: str = END, heading: str = "") -> None:
    """Replaces the part of `path` between `begin` and `end`, keeping any text around it; without
    them, appends the part (under `heading`, a Markdown line, when given)."""
    block = f"{begin}\n{report}\n{end}\n"
    if path.exists():
        text = path.read_text()
        if begin in text and end in text:
            pre = text[:text.index(begin)]
            post = text[text.index(end) + len(end):].lstrip("\n")
            path.write_text(pre + block + ("\n" + post if post else ""))
            return
        path.write_text(text.rstrip("\n") + "\n\n" + (f"{heading}\n\n" if heading else "") + block)
        return
    path.write_text("# Benchmarks\n\n" + (f"{heading}\n\n" if heading else "") + block)


if __name__ == "__main__":
    sys.exit(main())
