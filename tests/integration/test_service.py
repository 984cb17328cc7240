"""Service integration: sd_notify over a real NOTIFY_SOCKET, the systemd unit, make install, the man page,
and every example configuration through `ftpsd check-config`."""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, REPO, default_config, users_file
from helpers import Control


def recv_state(sock, timeout=20.0):
    sock.settimeout(timeout)
    return sock.recv(4096).decode()


@contextlib.contextmanager
def notified_server(tmp_path, listener="127.0.0.1:0", **env):
    """ftpsd run as systemd would: NOTIFY_SOCKET is a datagram socket of the test's (yielded with the
    process); `env` adds to the environment. The process is killed if the test leaves it running."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    (tmp_path / "users.toml").write_text(users_file(tmp_path))
    (tmp_path / "ftpsd.toml").write_text(default_config(listeners=f'[[listeners]]\naddress = "{listener}"\n'))
    environment = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock"), **env)
    environment.pop("WATCHDOG_PID", None)  # unset: any process may notify (set, it must be ftpsd's pid)
    with open(tmp_path / "ftpsd.log", "wb") as log:
        proc = subprocess.Popen([BIN, "run", "--config", str(tmp_path / "ftpsd.toml")], stdout=log,
                                stderr=subprocess.STDOUT, cwd=tmp_path, env=environment)
        try:
            yield proc, sock
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()


def test_sd_notify_ready_reloading_stopping(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with notified_server(tmp_path, listener=f"127.0.0.1:{port}") as (proc, sock):
        assert recv_state(sock) == "READY=1"
        with Control("127.0.0.1", port) as ctl:  # ready means listening
            ctl.login()
        proc.send_signal(signal.SIGHUP)
        reloading = recv_state(sock)
        m = re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=(\d+)", reloading)
        assert m, reloading
        assert abs(int(m.group(1)) / 1e6 - time.monotonic()) < 30  # CLOCK_MONOTONIC
        assert recv_state(sock) == "READY=1"
        proc.send_signal(signal.SIGTERM)
        assert recv_state(sock) == "STOPPING=1"
        assert proc.wait(timeout=20) == 0


def test_sd_notify_watchdog_pings_while_running(tmp_path):
    """With WatchdogSec= (systemd passes WATCHDOG_USEC), WATCHDOG=1 comes every half interval; without
    it none comes (the test above gets exactly its four states)."""
    with notified_server(tmp_path, WATCHDOG_USEC="400000") as (proc, sock):
        states = []
        deadline = time.monotonic() + 20
        while states.count("WATCHDOG=1") < 5 and time.monotonic() < deadline:
            states.append(recv_state(sock, timeout=max(0.1, deadline - time.monotonic())))
        assert "READY=1" in states, states
        assert states.count("WATCHDOG=1") >= 5, states
        assert "systemd watchdog: WATCHDOG=1 every 200 ms" in (tmp_path / "ftpsd.log").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_make_install_into_destdir(tmp_path):
    dest = tmp_path / "stage"
    build = Path(BIN).parent
    r = subprocess.run(["make", "-C", str(REPO), "install", f"DESTDIR={dest}", f"BUILD={build}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    sbin = dest / "usr/local/sbin/ftpsd"
    unit = dest / "usr/local/lib/systemd/system/ftpsd.service"
    man = dest / "usr/local/share/man/man8/ftpsd.8"
    example = dest / "etc/ftpsd/ftpsd.toml.example"
    for f in (sbin, unit, man, example, dest / "usr/local/share/doc/ftpsd/README.md",
              dest / "usr/local/share/doc/ftpsd/examples/internal-only.toml"):
        assert f.is_file(), f
    assert os.access(sbin, os.X_OK)
    assert subprocess.run([str(sbin), "--version"], capture_output=True, text=True).stdout.startswith("ftpsd ")
    text = unit.read_text()
    assert "ExecStart=/usr/local/sbin/ftpsd run --config /etc/ftpsd/ftpsd.toml" in text
    assert "Type=notify" in text and "@SBINDIR@" not in text
    assert oct(unit.stat().st_mode & 0o777) == "0o644"
    if shutil.which("man"):
        page = subprocess.run(["man", "-l", str(man)], capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, MANWIDTH="100"))
        assert page.returncode == 0, page.stderr
        plain = re.sub(r".\x08", "", page.stdout)  # no terminal: bold and underline as overstrikes
        assert "ftpsd reload --config FILE" in plain and "SIGHUP" in plain


def test_unit_file_verifies():
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    with open(REPO / "dist/ftpsd.service.in") as f:
        text = f.read().replace("@SBINDIR@", str(Path(BIN).parent))
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"ftpsd-unit-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    try:
        (tmp / "ftpsd.service").write_text(text)
        # Works without a running systemd; --man=no: the page is not installed here.
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp / "ftpsd.service")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        shutil.rmtree(tmp)


def test_man_page_names_every_command():
    """The man page is written by hand: it must list every subcommand of the CLI."""
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
    commands = re.findall(r"^\s{2}(\S+)\s{2,}", out.split("Subcommands:")[1], re.M)
    assert {"run", "check-config", "reload", "user", "firewall", "doctor", "cert"} <= set(commands), out
    page = (REPO / "docs/ftpsd.8").read_text().replace("\\-", "-")
    for c in commands:
        assert f".B ftpsd {c}" in page or f".B {c}" in page, c


def no_network_prefix():
    """A command prefix that runs a program in a new network namespace: no interface but a down
    loopback, so a DNS lookup fails at once and nothing leaves the machine. unshare as root, or in a
    user namespace of its own otherwise."""
    for prefix in (["unshare", "--net"], ["unshare", "--user", "--map-root-user", "--net"]):
        if shutil.which(prefix[0]) and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    pytest.skip("unshare cannot make a network namespace here (needs root or user namespaces)")


# users.toml is the users file the examples share (cert.pem and key.pem their stand-in pair).
EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.toml") if p.name != "users.toml")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_passes_check_config_as_shipped(example):
    """Each example as it is in the repository, with the users file, certificate and key it names, and
    without a network: a passive.address host name that does not resolve is only a warning here."""
    path = REPO / "examples" / example
    r = subprocess.run([*no_network_prefix(), BIN, "check-config", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}: configuration ok\n"
    for line in r.stderr.splitlines():
        # Findings name the file and the line of their key.
        assert re.match(rf"{re.escape(str(path))}:\d+: warning: ", line), line
    if 'address = "ftp.example.com"' in path.read_text():
        assert re.search(rf"{re.escape(str(path))}:\d+: warning: passive.address: the host name ftp.example.com "
                         r"does not resolve here now", r.stderr), r.stderr


def test_the_examples_are_all_checked():
    assert len(EXAMPLES) >= 5 and "behind-nat.toml" in EXAMPLES, EXAMPLES
