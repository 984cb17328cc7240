#!/usr/bin/env python3
"""Cluster mode measured: logins against PostgreSQL, and FTPS throughput of 1, 2 and 3 nodes.

`make bench-cluster` (after the set-up of `make bench`). Starts a PostgreSQL of its own (initdb in a
temporary folder, tests/integration/postgres.py, on 127.0.0.1), loads the benchmark's users file into
it (`ftpsd cluster import`), and measures on this machine:

  logins    the login workloads of bench/run.py (sequential, and 32 in parallel) against one ftpsd
            whose users are in the users file, and the same ftpsd with [cluster] (users in the
            database, the node registry and the shared bans running). The two alternate between
            repetitions; the ratio is database / file (the issue's target: at least 0.8).
  nodes     aggregate FTPS download throughput of 1, 2 and 3 cluster nodes: CLIENTS clients at once
            (BENCH_CLUSTER_CLIENTS, default 3), each downloading the big file once, spread over the
            nodes in turn; the figure is the bytes of all downloads over the time from the first start
            to the last end.

The nodes are ftpsd processes of this machine, each with its own control port and passive range,
sharing the database and the data folder; the clients connect to each node directly (a load balancer
would add its own CPU to the same two cores). Prints a Markdown table of medians and writes it between
the cluster markers of BENCHMARKS.md. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import run  # bench/run.py: servers, client, workloads, sizes

sys.path.insert(0, str(run.REPO / "tests" / "integration"))
from postgres import Postgres, skip_reason  # noqa: E402  (the tests' own PostgreSQL)

CLIENTS = run.env_int("BENCH_CLUSTER_CLIENTS", 3)
NODES = (1, 2, 3)
BEGIN = "<!-- cluster:begin (written by bench/cluster.py) -->"
END = "<!-- cluster:end -->"


def render_config(name: str, port: str, pasv: str, cluster: str | None) -> Path:
    """The benchmark's ftpsd.toml with its own port and passive range, and [cluster] when given."""
    text = (run.ETC / "ftpsd.toml").read_text()
    text = text.replace(f":{run.CFG['FTPSD_PORT']}\"", f":{port}\"")
    text = text.replace(f"\"{run.CFG['FTPSD_PASV']}\"", f"\"{pasv}\"")
    if cluster:
        text += cluster
    path = run.ETC / f"{name}.toml"
    path.write_text(text)
    return path


def server(name: str, index: int, cluster: str | None) -> run.Server:
    port = str(int(run.CFG["FTPSD_CLUSTER_PORT"]) + index)
    first = int(run.CFG["FTPSD_CLUSTER_PASV"].split("-")[0]) + 300 * index
    pasv = f"{first}-{first + 299}"
    config = render_config(name, port, pasv, cluster)
    return run.Server(name, int(port), pasv, [str(run.FTPSD_BIN), "run", "--config", str(config)], peer=False)


def start_all(servers: list[run.Server]) -> None:
    for s in servers:
        if not s.start():
            for t in servers:
                t.stop()
            raise SystemExit(f"{s.name} did not start: {s.error}")


def aggregate_mbps(nodes: list[run.Server]) -> float:
    """CLIENTS downloads of the big file at once, spread over `nodes`; MB/s of them all."""
    size = run.SIZES["big_mb"] << 20
    results: list[dict | Exception] = [None] * CLIENTS  # type: ignore[list-item]

    def one(i: int) -> None:
        try:
            results[i] = run.client(nodes[i % len(nodes)], "get", "--file", f"big-{run.SIZES['big_mb']}M.bin",
                                    "--expect", str(size))
        except run.Failure as e:
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - began
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise run.Failure(f"{len(failed)} of {CLIENTS} downloads failed: {failed[0]}")
    return CLIENTS * size / took / 1e6


def main() -> int:
    if os.geteuid() != 0:
        print("cluster.py must run as root (like run.py)", file=sys.stderr)
        return 2
    reason = skip_reason()
    if reason:
        print(f"cluster.py cannot start PostgreSQL: {reason}", file=sys.stderr)
        return 2
    run.raise_nofile()
    run.LOGS.mkdir(parents=True, exist_ok=True)
    pg = Postgres.create()
    servers: list[run.Server] = []
    try:
        db = pg.new_database()
        cluster = (f'\n[cluster]\ndatabase = "{pg.url(db)}"\npassword_file = "{pg.password_file}"\n'
                   'node = "{node}"\n')
        bootstrap = render_config("ftpsd-cluster-import", run.CFG["FTPSD_CLUSTER_PORT"], "18000-18299",
                                  cluster.replace("{node}", "import"))
        imported = subprocess.run([str(run.FTPSD_BIN), "cluster", "import", "--config", str(bootstrap), "--users",
                                   str(run.ETC / "ftpsd-users.toml")], capture_output=True, text=True, timeout=60)
        if imported.returncode != 0:
            raise SystemExit(f"ftpsd cluster import failed: {imported.stderr.strip()}")

        file_srv = server("ftpsd-cluster-file", 0, None)
        nodes = [server(f"ftpsd-cluster-node{i + 1}", i + 1, cluster.replace("{node}", f"node{i + 1}"))
                 for i in range(max(NODES))]
        servers = [file_srv, *nodes]
        start_all(servers)

        logins: dict[tuple[str, str], list[float]] = {}
        login_workloads = [("login_seq", "FTPS logins, sequential", run.w_login_seq),
                           ("login_par", f"FTPS logins, {run.SIZES['login_threads']} in parallel", run.w_login_par)]
        for rep in range(run.REPS):
            order = [("file", file_srv), ("database", nodes[0])]
            if rep % 2:
                order.reverse()
            for wid, _, fn in login_workloads:
                for store, srv in order:
                    run.log(f"{wid} with the users in the {store} (repetition {rep + 1})")
                    value, _ = fn(srv)
                    logins.setdefault((wid, store), []).append(value)

        throughput: dict[int, list[float]] = {}
        for rep in range(run.REPS):
            for n in NODES if rep % 2 == 0 else tuple(reversed(NODES)):
                run.log(f"{CLIENTS} FTPS downloads over {n} node(s) (repetition {rep + 1})")
                throughput.setdefault(n, []).append(aggregate_mbps(nodes[:n]))
    finally:
        for s in servers:
            s.stop()
        pg.destroy()

    big = f"{run.SIZES['big_mb']} MiB" if run.SIZES["big_mb"] < 1024 else f"{run.SIZES['big_mb'] // 1024} GiB"
    lines = [f"Run {time.strftime('%Y-%m-%d')} on this machine ({os.cpu_count()} cores), {run.REPS} repetitions, "
             "medians; `make bench-cluster`.", "",
             "| logins | unit | users file | users in PostgreSQL | database / file |", "|---|---|---|---|---|"]
    for wid, label, _ in login_workloads:
        f = statistics.median(logins[(wid, "file")])
        d = statistics.median(logins[(wid, "database")])
        lines.append(f"| {label} | logins/s | {f:.1f} | {d:.1f} | {d / f:.2f}× |")
    one = statistics.median(throughput[1])
    lines += ["", f"| {CLIENTS} FTPS downloads of {big} at once | unit | " +
              " | ".join(f"{n} node{'s' if n > 1 else ''}" for n in NODES) + " |",
              "|---|---|" + "---|" * len(NODES),
              f"| aggregate, PROT P | MB/s | " + " | ".join(
                  f"{statistics.median(throughput[n]):.1f}" + ("" if n == 1 else
                                                               f" ({statistics.median(throughput[n]) / one:.2f}×)")
                  for n in NODES) + " |"]
    report = "\n".join(lines)
    print(report)
    out = Path(os.environ.get("BENCH_OUT", run.REPO / "BENCHMARKS.md"))
    run.write_report(out, report, BEGIN, END, "## Cluster mode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
