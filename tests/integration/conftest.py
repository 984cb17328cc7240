"""Fixtures that start the real ftpsd binary on a free loopback port with a temporary tree.

FTPSD_BIN names the binary (make test runs the suite against build/ftpsd and build-asan/ftpsd).
Every server is started and stopped by its own PID; nothing else is ever signalled.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import stock_ssl  # noqa: F401 (every TLS context of the tests behaves like stock CPython's)

REPO = Path(__file__).resolve().parents[2]
BIN = str(Path(os.environ.get("FTPSD_BIN", REPO / "build" / "ftpsd")).resolve())
SANITIZED = os.environ.get("FTPSD_SANITIZED") == "1"

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}


def _hash(password: str) -> str:
    # sha512-crypt from openssl: fast enough for tests, and a crypt(3) format the server must accept.
    return subprocess.run(["openssl", "passwd", "-6", password], check=True, capture_output=True,
                          text=True).stdout.strip()


_HASHES = {}


def password_hash(user):
    if user not in _HASHES:
        _HASHES[user] = _hash(PASSWORDS[user])
    return _HASHES[user]


class Server:
    """A running ftpsd. `root(user)` is that user's folder; `log()` what it wrote so far."""

    def __init__(self, base: Path, config_text: str, users_text: str, prefix=()):
        self.base = base
        (base / "ftpsd.toml").write_text(config_text)
        (base / "users.toml").write_text(users_text)
        self.log_path = base / "ftpsd.log"
        self._log = open(self.log_path, "wb")
        # `prefix`: a command that runs ftpsd (e.g. setpriv with other credentials).
        self.proc = subprocess.Popen([*prefix, BIN, "run", "--config", str(base / "ftpsd.toml")],
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=base)
        self.ports = self._wait_listening()
        self.port = self.ports[0]
        self.host = "127.0.0.1"

    def _wait_listening(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        expected = self.config_listener_count()
        while time.monotonic() < deadline:
            found = re.findall(r"listening on \[?[0-9a-f.:]+\]?:(\d+)", self.log())
            if len(found) >= expected:
                return [int(p) for p in found]
            if self.proc.poll() is not None:
                raise RuntimeError(f"ftpsd exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise TimeoutError(f"ftpsd did not start listening:\n{self.log()}")

    def config_listener_count(self):
        return (self.base / "ftpsd.toml").read_text().count("[[listeners]]")

    def root(self, user="alice") -> Path:
        return self.base / "home" / user

    def log(self) -> str:
        """stderr, followed by session.log when a test sends the session log there (log.file)."""
        text = self.log_path.read_text(errors="replace")
        session_log = self.base / "session.log"
        if session_log.exists():
            text += session_log.read_text(errors="replace")
        return text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        text = self.log()
        assert "AddressSanitizer" not in text and "runtime error:" not in text, text[-5000:]


def default_config(extra: str = "", listeners: str | None = None, server: str = "", users: str = "") -> str:
    """`server` and `users` are extra lines for the [server] and [users] tables, `extra` more tables."""
    listeners = listeners or '[[listeners]]\naddress = "127.0.0.1:0"\n'
    if "idle_timeout" not in server:
        server = 'idle_timeout = "60s"\n' + server
    if "[bans]" not in extra:
        # The growing delay before a 530 (1 s, 2 s, 4 s...) only slows down tests that fail logins on
        # purpose; bans stay on with their defaults. test_bans.py tests the delay itself.
        extra = '[bans]\nlogin_delay = "0s"\n' + extra
    return f"""{listeners}
[server]
{server}
[users]
file = "users.toml"
{users}
[log]
level = "debug"
{extra}
"""


def users_file(base: Path, user_options: dict | None = None) -> str:
    """`user_options`: extra lines per user name, e.g. {"alice": 'max_sessions = 1'}."""
    out = []
    for name, write in (("alice", True), ("bob", False)):
        home = base / "home" / name
        home.mkdir(parents=True, exist_ok=True)
        out.append(f'[[users]]\nname = "{name}"\npassword_hash = "{password_hash(name)}"\n'
                   f'root = "{home}"\nwrite = {"true" if write else "false"}\n'
                   f'{(user_options or {}).get(name, "")}\n')
    return "\n".join(out)


@pytest.fixture
def make_server(tmp_path):
    """make_server(extra="", listeners=None, server="", users="", config=None, user_options=None) -> Server;
    stopped at the end of the test. `config` replaces the whole configuration file; `user_options` adds
    lines to users' entries in the users file."""
    servers = []

    def factory(extra: str = "", listeners: str | None = None, config: str | None = None, server: str = "",
                users: str = "", user_options: dict | None = None):
        base = tmp_path / f"srv{len(servers)}"
        base.mkdir()
        text = config if config is not None else default_config(extra, listeners, server, users)
        srv = Server(base, text, users_file(base, user_options))
        servers.append(srv)
        return srv

    yield factory
    for s in servers:
        s.stop()


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def ctl(server):
    """A control connection to `server`, logged in as alice; closed at the end of the test. A test file
    whose sessions need more (a file in place first, another fixture) defines its own `ctl`."""
    from helpers import Control  # here, not at the top: helpers imports this module

    c = Control.to(server).login()
    yield c
    c.close()
