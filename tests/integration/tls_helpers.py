"""TLS fixtures and clients: a server with a fresh self-signed certificate, ftplib clients that do and
do not resume the control connection's TLS session on data connections."""
import ftplib
import socket
import ssl
import subprocess

import pytest

from conftest import BIN, PASSWORDS
from stock_ssl import stock

TIMEOUT = 30


def make_cert(base):
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run([BIN, "cert", "self-signed", "--host", "localhost", "--host", "127.0.0.1", "--cert", str(cert),
                    "--key", str(key)], check=True, capture_output=True)
    return cert, key


def tls_config(cert, key, tls_extra="", extra="", server='idle_timeout = "60s"'):
    return f"""
[[listeners]]
address = "127.0.0.1:0"
tls = "explicit"

[[listeners]]
address = "127.0.0.1:0"
tls = "implicit"

[server]
{server}
[users]
file = "users.toml"
[log]
level = "debug"
[tls]
certificate = "{cert}"
private_key = "{key}"
{tls_extra}
{extra}
"""


@pytest.fixture
def make_tls_server(make_server, tmp_path):
    """make_tls_server(tls_extra="", extra="", server=..., user_options=None) -> Server with .port (explicit)
    and .implicit_port. `server`: the lines of the [server] table; `user_options`: as for make_server."""
    def factory(tls_extra="", extra="", server='idle_timeout = "60s"', user_options=None):
        cert, key = make_cert(tmp_path)
        srv = make_server(config=tls_config(cert, key, tls_extra, extra, server), user_options=user_options)
        srv.implicit_port = srv.ports[1]
        srv.cert = cert
        return srv
    return factory


def client_context(alpn=None):
    ctx = stock(ssl.create_default_context())  # (conftest.py has made it so already: said here too)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS that resumes the control connection's TLS session on each data connection, as curl,
    lftp and FileZilla do (plain ftplib does a full handshake, which ftpsd refuses by default)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


class ImplicitFTP_TLS(ReusingFTP_TLS):
    """Implicit FTPS (TLS from the first byte, which ftplib has no mode for), resuming the session."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        self.host, self.port = host, port
        if timeout != -999:
            self.timeout = timeout
        self.sock = self.context.wrap_socket(socket.create_connection((host, port), self.timeout),
                                             server_hostname=host)
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


def tls_login(server, user="alice", cls=ReusingFTP_TLS, prot_p=True, ctx=None, implicit=False):
    """Logged in over explicit (AUTH TLS) or implicit FTPS, with PROT P unless told otherwise."""
    if implicit:
        cls = ImplicitFTP_TLS
    ftp = cls(context=ctx or client_context(), timeout=TIMEOUT)
    ftp.connect(server.host, server.implicit_port if implicit else server.port)
    if not implicit:
        ftp.auth()
    ftp.login(user, PASSWORDS[user])
    if prot_p:
        ftp.prot_p()
    return ftp
