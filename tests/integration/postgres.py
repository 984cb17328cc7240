"""A PostgreSQL server of the test's own: Debian's initdb and pg_ctl (postgresql-15) on 127.0.0.1, a
free port, a unix socket in its own folder. Never the machine's default cluster (port 5432).

As root (the tests run as root), PostgreSQL runs as the `postgres` system user the package creates,
in a temporary folder that user owns; otherwise as the current user. It is stopped by its PID.

    pg = Postgres.create()         # initdb, start, a role `ftpsd` with a password
    db = pg.new_database()         # an empty database owned by that role
    pg.url(db)                     # "postgresql://ftpsd@127.0.0.1:PORT/DB" (no password in it)
    pg.password_file               # the role's password, for cluster.password_file
    pg.stop(); pg.start()          # the same data, the same port
    pg.destroy()

Tests skip (with the reason) when the binaries are missing; scripts/install-deps.sh installs them.
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import wait_for

PG_BIN = Path(os.environ.get("FTPSD_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT = 60  # seconds: pg_ctl -w waits at most this long


def skip_reason():
    """Why PostgreSQL tests cannot run here, or None."""
    for tool in ("initdb", "pg_ctl", "postgres", "psql"):
        if not (PG_BIN / tool).exists():
            return f"{PG_BIN / tool} is missing (install Debian's postgresql: scripts/install-deps.sh)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no `postgres` system user to run PostgreSQL as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (its parent, pg_ctl, is gone: init reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Postgres:
    ROLE = "ftpsd"

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="ftpsd-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.log_file = self.folder / "postgres.log"
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.password_file = self.folder / "ftpsd-db-password"
        self.pid = None
        self._databases = 0
        self._as_postgres = os.geteuid() == 0

    @classmethod
    def create(cls):
        pg = cls()
        try:
            pg._init()
            pg.start()
            pg.psql(f"CREATE ROLE {cls.ROLE} LOGIN PASSWORD '{pg.password}'")
        except BaseException:
            pg.destroy()
            raise
        return pg

    # --- running the tools as the right user

    def _run(self, args, timeout=60, check=True, input=None):
        kw = {}
        if self._as_postgres:
            kw = {"user": "postgres", "group": "postgres", "extra_groups": []}
        p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                           input=input, cwd=self.folder, **kw)
        if check and p.returncode != 0:
            raise RuntimeError(f"{args!r} exited {p.returncode}:\n{p.stdout}\n{p.stderr}\n{self.log()}")
        return p

    def _init(self):
        self.socket_dir.mkdir()
        self.password_file.write_text(self.password + "\n")
        os.chmod(self.password_file, 0o600)
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            for path in (self.folder, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            os.chmod(self.folder, 0o755)  # ftpsd (root) reads the password file in it
        # Local connections of the superuser (the tests' psql) are trusted; TCP needs a password.
        self._run([PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                   "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"], timeout=120)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    # --- life

    def start(self):
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c max_connections=50")
        self._run([PG_BIN / "pg_ctl", "start", "-D", self.data, "-l", self.log_file, "-o", options, "-w",
                   "-t", START_TIMEOUT], timeout=START_TIMEOUT + 30)
        self.pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def stop(self, timeout=30):
        """Fast shutdown (SIGINT to the postmaster, by its PID), waited for with a bound."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        if wait_for(lambda: not _pid_alive(pid), timeout):
            return
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _pid_alive(pid), 10)

    def destroy(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- use

    def psql(self, sql: str, database="postgres") -> str:
        """Runs `sql` as the superuser over the unix socket; returns the rows, unaligned, tuples only."""
        p = self._run([PG_BIN / "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir,
                       "-p", self.port, "-U", "postgres", "-d", database, "-c", sql])
        return p.stdout.strip()

    def new_database(self) -> str:
        self._databases += 1
        name = f"ftpsd_test_{self._databases}"
        self.psql(f"CREATE DATABASE {name} OWNER {self.ROLE}")
        return name

    def url(self, database: str) -> str:
        return f"postgresql://{self.ROLE}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def postgres():
    """One PostgreSQL for the test module (each test takes a database of its own with new_database())."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    pg = Postgres.create()
    yield pg
    pg.destroy()
