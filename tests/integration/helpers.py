"""Small client helpers shared by the integration tests."""
import ftplib
import socket

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
