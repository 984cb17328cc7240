#!/usr/bin/env python3
"""The Manager under load: does work on the Manager slow FTP down?

`make bench-manager` (after the set-up of `make bench`). Starts one ftpsd with its Manager on
(the benchmark's ftpsd.toml plus [admin] on 127.0.0.1, HTTPS) and measures three FTP workloads of
bench/run.py under three conditions, alternating them between repetitions:
  idle      the Manager serves nothing;
  api       BENCH_API_RATE (default 1000) API calls a second (GET /api/v1/sessions and
            /api/v1/status in turn, bearer token, keep-alive HTTPS) from API_PROCS processes;
  elsewhere the control of api: the same calls to the Manager of a second ftpsd (its own ports),
            so that the machine does the same work, but none of it in the measured server;
  browsers  slow browsers holding every thread of the Manager: 4 live log streams that are
            never read, and 4 connections sending a request head one byte a second.
Prints a Markdown table of medians and the ratio of each condition to idle, and writes it
between the manager markers of BENCHMARKS.md. The load generators are processes of this
machine: with 2 cores they take CPU from the FTP server and the FTP client too, which the
table shows as the cost of the load itself; api against elsewhere is what serving the calls in
the measured process costs beyond that (the "API calls served" line says how much was served).
All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import run  # bench/run.py: servers, client, workloads, sizes

ADMIN_PORT = int(run.CFG["FTPSD_MANAGER_ADMIN_PORT"])
OTHER_ADMIN_PORT = int(run.CFG["FTPSD_MANAGER2_ADMIN_PORT"])
API_RATE = run.env_int("BENCH_API_RATE", 1000)
API_PROCS = 2
WARM_UP = 2.0  # seconds between starting the load and the measurement
BROWSERS = 8  # as many as the Manager has threads: half live log streams, half endless request heads
ADMIN, ADMIN_PASS = "bench", "bench-admin-secret"
BEGIN = "<!-- manager:begin (written by bench/manager.py) -->"
END = "<!-- manager:end -->"


def render_config(name: str, ftp_port: str, pasv: str, admin_port: int) -> Path:
    """ftpsd.toml of the benchmark with its own ports and the Manager on."""
    text = (run.ETC / "ftpsd.toml").read_text()
    text = text.replace(f":{run.CFG['FTPSD_PORT']}\"", f":{ftp_port}\"")
    text = text.replace(f"\"{run.CFG['FTPSD_PASV']}\"", f"\"{pasv}\"")
    admins = run.ETC / f"{name}-admins.toml"
    admins.unlink(missing_ok=True)
    subprocess.run([str(run.FTPSD_BIN), "admin", "add", ADMIN, "--role", "admin", "--file", str(admins)],
                   input=(ADMIN_PASS + "\n").encode(), check=True, capture_output=True)
    audit = run.WORK / "logs" / f"{name}-audit.jsonl"
    text += (f'\n[admin]\naddress = "127.0.0.1:{admin_port}"\nusers_file = "{admins}"\n'
             f'audit_file = "{audit}"\n'
             "rate_limit = 100000\nrate_burst = 100000\n")  # the load is the point here
    path = run.ETC / f"{name}.toml"
    path.write_text(text)
    return path


def context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the benchmark's self-signed certificate; loopback only
    return ctx


def token(port: int) -> str:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context(), timeout=30)
    conn.request("POST", "/api/v1/auth/token", body=json.dumps({"name": ADMIN, "password": ADMIN_PASS}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    if r.status != 200:
        raise SystemExit(f"cannot sign in to the Manager: {r.status} {body}")
    return body["token"]


def api_load(port: int, tok: str, rate: float, stop, out) -> None:
    """Paced calls on one keep-alive connection until `stop` is set; puts (seconds, calls by status)
    in `out`."""
    paths = ["/api/v1/sessions", "/api/v1/status"]
    headers = {"Authorization": f"Bearer {tok}"}
    statuses: dict[int, int] = {}
    conn = None
    start = time.monotonic()
    n = 0
    while not stop.is_set():
        due = start + n / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        try:
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=context(), timeout=10)
            conn.request("GET", paths[n % 2], headers=headers)
            r = conn.getresponse()
            r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            statuses[0] = statuses.get(0, 0) + 1
            conn = None
        n += 1
    out.put((time.monotonic() - start, statuses))


class Load:
    """A condition's load, started before a measurement and stopped after it."""

    def __init__(self, kind: str, tokens: dict[int, str]):
        self.kind, self.tok = kind, tokens[ADMIN_PORT]
        self.tokens = tokens
        self.procs: list[multiprocessing.Process] = []
        self.socks: list[socket.socket] = []
        self.queue: multiprocessing.Queue = multiprocessing.Queue()
        self.stop = multiprocessing.Event()  # also stops the dribble thread
        self.rate = 0.0  # API calls served a second (api), after the load stopped
        self.statuses: dict[int, int] = {}

    def __enter__(self):
        if self.kind in ("api", "elsewhere"):
            port = ADMIN_PORT if self.kind == "api" else OTHER_ADMIN_PORT
            for _ in range(API_PROCS):
                p = multiprocessing.Process(target=api_load, args=(port, self.tokens[port], API_RATE / API_PROCS,
                                                                   self.stop, self.queue))
                p.start()
                self.procs.append(p)
            time.sleep(WARM_UP)  # the generators are running before the measurement starts
        elif self.kind == "browsers":
            ctx = context()
            for i in range(BROWSERS):
                try:
                    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=10))
                except OSError as e:
                    run.log(f"  slow browser {i + 1}: {e}")
                    continue
                if i < BROWSERS // 2:  # a live log stream whose reader never reads
                    s.sendall(f"GET /api/v1/logs/stream HTTP/1.1\r\nHost: x\r\n"
                              f"Authorization: Bearer {self.tok}\r\n\r\n".encode())
                else:  # a request head that comes one byte a second and never ends
                    s.sendall(b"GET /api/v1/status HTTP/1.1\r\nX: ")
                self.socks.append(s)
            self.ticker = threading.Thread(target=self.dribble, daemon=True)
            self.ticker.start()
        return self

    def dribble(self) -> None:
        while not self.stop.wait(1.0):
            for s in self.socks[BROWSERS // 2:]:
                try:
                    s.sendall(b"x")
                except OSError:
                    pass

    def __exit__(self, *exc):
        self.stop.set()
        for _ in self.procs:
            secs, statuses = self.queue.get(timeout=60)
            self.rate += sum(statuses.values()) / secs
            for k, v in statuses.items():
                self.statuses[k] = self.statuses.get(k, 0) + v
        for p in self.procs:
            p.join(10)
        for s in self.socks:
            s.close()
        return False


def measure(fn, srv, load: Load) -> tuple[float, dict]:
    with load:
        value, info = fn(srv)
    if load.kind in ("api", "elsewhere"):
        info = dict(info, api_rate=load.rate, api_statuses=load.statuses)
    return value, info


WORKLOADS = [
    ("retr_tls", "RETR of the big file, FTPS PROT P", "MB/s", run.w_retr_tls),
    ("small_retr", "4 KiB RETRs, one FTPS session", "files/s", run.w_small_retr),
    ("login_seq", "FTPS logins, sequential", "logins/s", run.w_login_seq),
]
CONDITIONS = ["idle", "api", "elsewhere", "browsers"]


def main() -> int:
    if os.geteuid() != 0:
        print("manager.py must run as root (like run.py)", file=sys.stderr)
        return 2
    run.raise_nofile()
    run.LOGS.mkdir(parents=True, exist_ok=True)
    servers = []
    for name, port, pasv, admin in (("ftpsd-manager", "FTPSD_MANAGER_PORT", "FTPSD_MANAGER_PASV", ADMIN_PORT),
                                    ("ftpsd-manager2", "FTPSD_MANAGER2_PORT", "FTPSD_MANAGER2_PASV",
                                     OTHER_ADMIN_PORT)):
        config = render_config(name, run.CFG[port], run.CFG[pasv], admin)
        server = run.Server(name, int(run.CFG[port]), run.CFG[pasv],
                            [str(run.FTPSD_BIN), "run", "--config", str(config)], peer=False)
        if not server.start():
            print(f"{name} (ftpsd with the Manager) did not start: {server.error}", file=sys.stderr)
            for s in servers:
                s.stop()
            return 1
        servers.append(server)
    srv = servers[0]
    results: dict[tuple[str, str], list[float]] = {}
    api_rates: dict[str, list[float]] = {}
    try:
        tok = {ADMIN_PORT: token(ADMIN_PORT), OTHER_ADMIN_PORT: token(OTHER_ADMIN_PORT)}
        for rep in range(run.REPS):
            for wid, _, _, fn in WORKLOADS:
                # Alternate the order of the conditions between repetitions.
                order = CONDITIONS if rep % 2 == 0 else list(reversed(CONDITIONS))
                for cond in order:
                    run.log(f"{wid} with the Manager {cond} (repetition {rep + 1})")
                    value, info = measure(fn, srv, Load(cond, tok))
                    if "api_rate" in info:
                        api_rates.setdefault(cond, []).append(info["api_rate"])
                        run.log(f"  API calls served meanwhile: {info['api_rate']:.0f}/s {info['api_statuses']}")
                    results.setdefault((wid, cond), []).append(value)
    finally:
        for s in servers:
            s.stop()
    lines = [f"Run {time.strftime('%Y-%m-%d')} on this machine ({os.cpu_count()} cores), "
             f"{run.REPS} repetitions, medians; `make bench-manager`.", "",
             f"| workload | unit | Manager idle | {API_RATE:,} API calls/s | the same calls to another ftpsd | "
             "slow browsers |", "|---|---|---|---|---|---|"]
    for wid, label, unit, _ in WORKLOADS:
        idle = statistics.median(results[(wid, "idle")])
        cells = [f"{idle:.1f}"]
        for cond in CONDITIONS[1:]:
            v = statistics.median(results[(wid, cond)])
            cells.append(f"{v:.1f} ({v / idle:.2f}×)")
        lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    if api_rates:
        served = ", ".join(f"{statistics.median(v):.0f}/s ({'this' if cond == 'api' else 'another'} ftpsd)"
                           for cond, v in api_rates.items())
        lines += ["", f"API calls served meanwhile, medians: {served}; target {API_RATE}/s."]
    report = "\n".join(lines)
    print(report)
    out = Path(os.environ.get("BENCH_OUT", run.REPO / "BENCHMARKS.md"))
    run.write_report(out, report, BEGIN, END, "## The Manager under load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
