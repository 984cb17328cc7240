"""Certificates: reload on SIGHUP and on file change (a broken file keeps the old one), RSA beside
ECDSA, SNI and HOST choosing a certificate, client certificates (missing, untrusted, another user's,
certificate login)."""
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BIN, PASSWORDS
from helpers import read_reply, send, wait_for
from tls_helpers import client_context, make_cert, make_tls_server, tls_config  # noqa: F401 (fixture)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd)


def server_cert_cn(port, server_hostname="localhost", ctx=None, sigalgs=None):
    ctx = ctx or client_context()
    if sigalgs:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(sigalgs)
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                         server_hostname=server_hostname) as s:
        der = s.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-text"], input=pem.encode(), capture_output=True,
                         check=True).stdout.decode()
    return out


def test_sighup_reload_good_then_broken(make_tls_server, tmp_path):
    srv = make_tls_server(tls_extra='reload_check = "0s"')
    assert "CN = localhost" in server_cert_cn(srv.implicit_port)
    # a new certificate with another name, written over the configured files
    subprocess.run([BIN, "cert", "self-signed", "--host", "renewed.test", "--cert", str(srv.cert),
                    "--key", str(tmp_path / "key.pem")], check=True, capture_output=True)
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "TLS certificate reloaded" in srv.log())
    assert "CN = renewed.test" in server_cert_cn(srv.implicit_port)
    # a broken certificate is rejected, the last good one stays
    srv.cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload failed, keeping the previous certificate" in srv.log())
    assert "CN = renewed.test" in server_cert_cn(srv.implicit_port)


def test_reload_when_the_file_changes(make_tls_server, tmp_path):
    srv = make_tls_server(tls_extra='reload_check = "200ms"')
    session = client_context().wrap_socket(socket.create_connection(("127.0.0.1", srv.implicit_port), timeout=10),
                                           server_hostname="localhost")
    sf = session.makefile("rb")
    assert read_reply(sf).startswith("220")
    subprocess.run([BIN, "cert", "self-signed", "--host", "watched.test", "--cert", str(srv.cert),
                    "--key", str(tmp_path / "key.pem")], check=True, capture_output=True)
    assert wait_for(lambda: "CN=watched.test" in srv.log())
    assert "CN = watched.test" in server_cert_cn(srv.implicit_port)
    assert send(session, sf, "NOOP").startswith("200")  # the running session is not dropped


def test_rsa_beside_ecdsa_and_sni(make_tls_server, tmp_path):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.pem", "-days", "2",
            "-subj", "/CN=rsa.test", cwd=tmp_path)
    subprocess.run([BIN, "cert", "self-signed", "--host", "other.test", "--cert", str(tmp_path / "other.pem"),
                    "--key", str(tmp_path / "other.key")], check=True, capture_output=True)
    srv = make_tls_server(tls_extra=f"""
[[tls.certificates]]
certificate = "{tmp_path / 'rsa.pem'}"
private_key = "{tmp_path / 'rsa.key'}"

[[tls.certificates]]
certificate = "{tmp_path / 'other.pem'}"
private_key = "{tmp_path / 'other.key'}"
hosts = ["other.test", "*.wild.test"]
""")
    assert "CN = localhost" in server_cert_cn(srv.implicit_port)          # ECDSA by default
    assert "CN = rsa.test" in server_cert_cn(srv.implicit_port, sigalgs="ECDHE-RSA-AES128-GCM-SHA256")
    assert "CN = other.test" in server_cert_cn(srv.implicit_port, server_hostname="other.test")
    assert "CN = other.test" in server_cert_cn(srv.implicit_port, server_hostname="a.wild.test")
    assert "CN = localhost" in server_cert_cn(srv.implicit_port, server_hostname="unknown.test")
    # RFC 7151 HOST chooses the certificate when the client sends no SNI (explicit FTPS)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    assert send(s, f, "HOST other.test").startswith("220")
    assert send(s, f, "AUTH TLS").startswith("234")
    t = client_context().wrap_socket(s)  # no server_hostname: no SNI
    pem = ssl.DER_cert_to_PEM_cert(t.getpeercert(binary_form=True))
    assert b"CN = other.test" in subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem.encode(),
                                                capture_output=True).stdout


@pytest.fixture
def pki(tmp_path):
    """A CA, a client certificate for alice (signed), one for bob (signed) and a self-signed impostor."""
    d = tmp_path / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA", cwd=d)
    for name in ("alice", "bob"):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", cwd=d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "impostor.key", "-out", "impostor.pem", "-days", "2", "-subj", "/CN=alice", cwd=d)
    return d


def connect_with(srv, pki, who=None):
    ctx = client_context()
    if who:
        ctx.load_cert_chain(pki / f"{who}.pem", pki / f"{who}.key")
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.implicit_port), timeout=10),
                        server_hostname="localhost")
    f = s.makefile("rb")
    return s, f, read_reply(f)


def test_client_certificate_required(make_tls_server, pki):
    srv = make_tls_server(tls_extra=f'client_certificates = "required"\nclient_ca = "{pki / "ca.pem"}"')
    s, f, greeting = connect_with(srv, pki, "alice")
    assert greeting.startswith("220")
    assert send(s, f, "USER alice").startswith("331")
    assert send(s, f, f"PASS {PASSWORDS['alice']}").startswith("230")
    # mapped to another user
    s2, f2, _ = connect_with(srv, pki, "bob")
    reply = send(s2, f2, "USER alice")
    assert reply.startswith("530 ") and "certificate" in reply
    # missing and untrusted certificates: the handshake fails (TLS 1.3 reports it on the first read)
    for who in (None, "impostor"):
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            s3, f3, g3 = connect_with(srv, pki, who)
            if not g3:
                raise ConnectionError("closed")


def test_client_certificate_login_without_password(make_tls_server, pki):
    srv = make_tls_server(tls_extra=f'client_certificates = "optional"\nclient_ca = "{pki / "ca.pem"}"\n'
                                    'certificate_login = true')
    s, f, _ = connect_with(srv, pki, "alice")
    assert send(s, f, "USER alice").startswith("232")
    assert send(s, f, "PWD").startswith('257 "/"')
    # optional: without a certificate, the password still works
    s2, f2, _ = connect_with(srv, pki, None)
    assert send(s2, f2, "USER alice").startswith("331")
    assert send(s2, f2, f"PASS {PASSWORDS['alice']}").startswith("230")
