"""Small client helpers shared by the integration tests."""
import ftplib
import re
import select
import socket
import subprocess
import time

from conftest import PASSWORDS

TIMEOUT = 30


def login(server, user="alice", cls=ftplib.FTP):
    ftp = cls()
    ftp.connect(server.host, server.port, timeout=TIMEOUT)
    ftp.login(user, PASSWORDS[user])
    return ftp


def raw(server, timeout=TIMEOUT):
    """A raw control connection: returns (socket, file) after reading the greeting."""
    s = socket.create_connection((server.host, server.port), timeout=timeout)
    f = s.makefile("rb")
    greeting = read_reply(f)
    assert greeting.startswith("220"), greeting
    return s, f


def read_reply(f) -> str:
    """One whole reply (multi-line aware) as text."""
    line = f.readline().decode("utf-8", "replace")
    if len(line) >= 4 and line[3] == "-":
        code = line[:3]
        lines = [line]
        while True:
            nxt = f.readline().decode("utf-8", "replace")
            if not nxt:
                break
            lines.append(nxt)
            if nxt.startswith(code + " "):
                break
        return "".join(lines)
    return line


def send(s, f, command: str) -> str:
    s.sendall(command.encode("utf-8") + b"\r\n")
    return read_reply(f)


def raw_login(server, user="alice"):
    s, f = raw(server)
    assert send(s, f, f"USER {user}").startswith("331")
    assert send(s, f, f"PASS {PASSWORDS[user]}").startswith("230")
    return s, f


# --- A raw control connection with its own buffer, so that "no further reply arrives" can be checked
# with a bounded wait (a socket.makefile() reader cannot be polled without blocking).

class Control:
    """Raw FTP control connection. reply() reads one whole (multi-line aware) reply."""

    def __init__(self, host, port, timeout=TIMEOUT, greet=True, source=None, preamble=b""):
        """`source`: the local address to connect from (e.g. "127.0.0.2"); `preamble`: bytes sent right
        after connecting, before the greeting is read (a PROXY protocol header)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        if preamble:
            self.sock.sendall(preamble)
        self.host = host
        self.timeout = timeout
        self.buf = b""
        if greet:
            greeting = self.reply()
            assert greeting.startswith("220"), greeting

    @classmethod
    def to(cls, server, **kw):
        return cls(server.host, server.port, **kw)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("control connection closed")
        self.buf += chunk

    def readline(self, timeout=None) -> str:
        while b"\n" not in self.buf:
            self._fill(timeout or self.timeout)
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace") + "\n"

    def reply(self, timeout=None) -> str:
        line = self.readline(timeout)
        if len(line) >= 4 and line[3] == "-":
            lines = [line]
            while not (lines[-1].startswith(line[:3] + " ")):
                lines.append(self.readline(timeout))
            return "".join(lines)
        return line

    def send(self, data: bytes):
        self.sock.sendall(data)

    def cmd(self, command: str) -> str:
        self.send(command.encode("utf-8") + b"\r\n")
        return self.reply()

    def expect(self, command: str, code: str) -> str:
        r = self.cmd(command)
        assert r.startswith(code), f"{command!r}: expected {code}, got {r!r}"
        return r

    def silent_for(self, seconds=0.5) -> bool:
        """True when nothing more arrives on the control connection within `seconds`."""
        if self.buf:
            return False
        r, _, _ = select.select([self.sock], [], [], seconds)
        return not r

    def closed_within(self, seconds) -> bool:
        """True when the server closes the connection within `seconds` (what it sent before is kept)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self._fill(left)
            except (EOFError, ConnectionResetError):
                return True
            except socket.timeout:
                return False

    def flood_without_reading(self, command=b"NOOP", limit=64 << 20) -> int:
        """Sends `command` over and over and reads no reply, until neither side's buffers take more (the
        server is then stuck writing a reply); returns the bytes sent. The socket stays non-blocking."""
        self.sock.setblocking(False)
        sent = 0
        try:
            while sent < limit:
                sent += self.sock.send((command + b"\r\n") * 1000)
        except BlockingIOError:
            pass
        return sent

    def login(self, user="alice", password=None):
        self.expect(f"USER {user}", "331")
        self.expect(f"PASS {password if password is not None else PASSWORDS[user]}", "230")
        return self

    def pasv(self) -> socket.socket:
        """PASV, then a connected data socket."""
        r = self.expect("PASV", "227")
        nums = [int(x) for x in re.search(r"\((\d+,\d+,\d+,\d+,\d+,\d+)\)", r).group(1).split(",")]
        return socket.create_connection((".".join(map(str, nums[:4])), nums[4] * 256 + nums[5]),
                                        timeout=self.timeout)

    def epsv(self, arg="") -> socket.socket:
        """EPSV [arg], then a data socket connected to the control peer's address."""
        r = self.expect(f"EPSV {arg}".strip(), "229")
        port = int(re.search(r"\(\|\|\|(\d+)\|\)", r).group(1))
        return socket.create_connection((self.host, port), timeout=self.timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def recv_all(data: socket.socket, timeout=TIMEOUT) -> bytes:
    data.settimeout(timeout)
    chunks = []
    while True:
        c = data.recv(1 << 20)
        if not c:
            break
        chunks.append(c)
    data.close()
    return b"".join(chunks)


def retr_bytes(ctl: Control, path: str, rest: int | None = None) -> bytes:
    """RETR over PASV; checks the 150 and the 226; returns the bytes."""
    if rest is not None:
        ctl.expect(f"REST {rest}", "350")
    data = ctl.pasv()
    ctl.expect(f"RETR {path}", "150")
    out = recv_all(data)
    r = ctl.reply()
    assert r.startswith("226"), r
    return out


def stor_bytes(ctl: Control, verb_path: str, payload: bytes) -> str:
    """`STOR x` / `APPE x` / `STOU` over PASV; returns the 150 reply after checking the 226."""
    data = ctl.pasv()
    opening = ctl.expect(verb_path, "150")
    data.sendall(payload)
    data.close()
    r = ctl.reply()
    assert r.startswith("226"), r
    return opening


def snapshot(folder) -> dict:
    """Every entry below `folder` (not following links) with its type, size, mode, mtime and content."""
    import os
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            content = open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p) else None
            out[os.path.relpath(p, folder)] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
    st = os.lstat(folder)
    out["."] = (st.st_mode, st.st_mtime_ns)
    return out


def run(args, *, input=None, timeout=120, check=True, **kw):
    """A client program (curl, lftp, ftpsd CLI) with a bounded time; returns CompletedProcess."""
    p = subprocess.run(args, input=input, capture_output=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{args!r} exited {p.returncode}:\nstdout: {p.stdout[-3000:]!r}\n"
                             f"stderr: {p.stderr[-3000:]!r}")
    return p


def wait_for(predicate, timeout=15.0, interval=0.05) -> bool:
    """True as soon as predicate() is true; False after `timeout` seconds (bounded polling)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
