"""The Manager's certificates: what each domain serves (subject, names, issuer, validity, key), and a new
certificate and key installed through the API: checked with OpenSSL first (the field at fault named),
written over the configured files (the previous ones kept as numbered revisions), and served to the next
TLS client at once."""
import ftplib
import re
import ssl
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from stock_ssl import stock
from test_admin_api import TIMEOUT, make_manager  # noqa: F401 (a fixture)
from tls_helpers import make_cert

CERTS = "/api/v1/domains/default/certificates"


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make(cn, serial, key=None, issuer=None, issuer_key=None, days=30, start=None, ca=False):
    """A certificate for `cn` (SANs: cn and 127.0.0.1); self-signed unless issuer/issuer_key are given."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = start or datetime.now(timezone.utc) - timedelta(minutes=5)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    import ipaddress
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(start).not_valid_after(start + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(cn), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


def served_certificate(srv, cafile):
    """The certificate a new FTPS client sees (AUTH TLS on the explicit listener), verified against cafile."""
    ctx = stock(ssl.create_default_context(cafile=str(cafile)))
    ctx.check_hostname = False
    ftp = ftplib.FTP_TLS(context=ctx)
    ftp.connect("127.0.0.1", srv.ports[1], timeout=TIMEOUT)
    ftp.auth()
    der = ftp.sock.getpeercert(binary_form=True)
    ftp.quit()
    return x509.load_der_x509_certificate(der)


@pytest.fixture
def manager(make_manager):
    return make_manager(extra='[[listeners]]\naddress = "127.0.0.1:0"\ntls = "explicit"\n')


def test_get_shows_the_served_certificate(manager, tmp_path):
    srv, api = manager
    status, _, answer = api.call("GET", CERTS, token=api.token("view"))
    assert status == 200, answer
    assert answer["domain"] == "default" and len(answer["certificates"]) == 1, answer
    c = answer["certificates"][0]
    on_disk = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    assert c["subject"] == "CN=localhost" and c["issuer"] == "CN=localhost", c
    assert c["names"] == ["localhost", "127.0.0.1"], c
    assert c["serial"] == format(on_disk.serial_number, "X"), c
    assert c["not_after"] == on_disk.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ"), c
    assert c["not_before"] == on_disk.not_valid_before.strftime("%Y-%m-%dT%H:%M:%SZ"), c
    days = (on_disk.not_valid_after.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)).days
    assert c["days_left"] in (days, days + 1), c
    assert (c["key_type"], c["key_bits"]) == ("EC", 256), c
    assert c["certificate_file"] == str(tmp_path / "cert.pem") and c["private_key_file"] == str(tmp_path / "key.pem")
    assert c["hosts"] == [] and c["chain"] == 1, c
    status, _, answer = api.call("GET", "/api/v1/domains/nowhere/certificates", token=api.token("view"))
    assert (status, answer) == (404, {"error": "no domain named 'nowhere'", "field": None})


def test_a_certificate_installed_through_the_api_is_the_one_the_next_tls_client_sees(manager, tmp_path):
    srv, api = manager
    ca, ca_key = make("Test CA", 77, ca=True)
    leaf, leaf_key = make("new.example.test", 0x5EED, key=rsa.generate_private_key(65537, 2048),
                          issuer=ca, issuer_key=ca_key)
    (tmp_path / "ca.pem").write_text(cert_pem(ca))
    old_cert, old_key = (tmp_path / "cert.pem").read_text(), (tmp_path / "key.pem").read_text()
    body = {"certificate": cert_pem(leaf) + cert_pem(ca), "private_key": key_pem(leaf_key)}
    for who in ("view", "op"):
        status, _, answer = api.call("PUT", CERTS, token=api.token(who), body=body)
        assert (status, answer) == (403, {"error": "installing a certificate needs the role admin", "field": None})
    root = api.token("root")
    status, _, answer = api.call("PUT", CERTS, token=root, body=body)
    assert status == 200, answer
    c = answer["certificates"][0]
    assert (c["subject"], c["issuer"], c["serial"], c["chain"]) == ("CN=new.example.test", "CN=Test CA", "5EED", 2), c
    assert (c["key_type"], c["key_bits"]) == ("RSA", 2048), c
    assert answer["applied"] is True, answer
    assert answer["kept"] == {"certificate": str(tmp_path / "cert.pem.revisions" / "1.pem"),
                              "private_key": str(tmp_path / "key.pem.revisions" / "1.pem")}, answer
    assert (tmp_path / "cert.pem.revisions" / "1.pem").read_text() == old_cert
    assert (tmp_path / "key.pem.revisions" / "1.pem").read_text() == old_key
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
    assert (tmp_path / "key.pem.revisions" / "1.pem").stat().st_mode & 0o077 == 0
    served = served_certificate(srv, tmp_path / "ca.pem")
    assert served.serial_number == 0x5EED
    assert served.subject.rfc4514_string() == "CN=new.example.test"
    assert api.call("GET", CERTS, token=root)[2]["certificates"][0]["serial"] == "5EED"
    entries = api.audit(root)
    assert (entries[0]["who"], entries[0]["action"], entries[0]["target"]) == \
        ("root", "certificate.install", "default"), entries
    assert "5EED" in entries[0]["diff"] and "PRIVATE KEY" not in entries[0]["diff"], entries
    assert "PRIVATE KEY" not in srv.log()
    assert re.search(r"TLS certificate reloaded: .*new\.example\.test", srv.log()), srv.log()[-3000:]


def test_a_certificate_that_does_not_fit_is_422_with_the_field_and_nothing_changes(manager, tmp_path):
    srv, api = manager
    root = api.token("root")
    good, good_key = make("good.example.test", 1)
    other_key = ec.generate_private_key(ec.SECP256R1())
    expired, expired_key = make("old.example.test", 2, start=datetime(2020, 1, 1, tzinfo=timezone.utc), days=1)
    future, future_key = make("soon.example.test", 3, start=datetime(2099, 1, 1, tzinfo=timezone.utc))
    before = (tmp_path / "cert.pem").read_text(), (tmp_path / "key.pem").read_text()
    for body, error, field in (
        ({"private_key": key_pem(good_key)}, "'certificate' is required", "certificate"),
        ({"certificate": cert_pem(good)}, "'private_key' is required", "private_key"),
        ({"certificate": "hello", "private_key": key_pem(good_key)},
         "'certificate' is not a PEM certificate", "certificate"),
        ({"certificate": cert_pem(good), "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
         "'private_key' is not a PEM private key (an encrypted key is not accepted)", "private_key"),
        ({"certificate": cert_pem(good), "private_key": key_pem(other_key)},
         "'private_key' does not belong to the certificate", "private_key"),
        ({"certificate": cert_pem(expired), "private_key": key_pem(expired_key)},
         "'certificate' expired on 2020-01-02T00:00:00Z", "certificate"),
        ({"certificate": cert_pem(future), "private_key": key_pem(future_key)},
         "'certificate' is not valid before 2099-01-01T00:00:00Z", "certificate"),
        ({"certificate": 5, "private_key": key_pem(good_key)}, "'certificate' must be a string", "certificate"),
    ):
        status, _, answer = api.call("PUT", CERTS, token=root, body=body)
        assert (status, answer) == (422, {"error": error, "field": field})
    assert ((tmp_path / "cert.pem").read_text(), (tmp_path / "key.pem").read_text()) == before
    assert not (tmp_path / "cert.pem.revisions").exists()
    status, _, answer = api.call("PUT", CERTS, token=root, raw=b"x")
    assert (status, answer) == (400, {"error": "the body must be a JSON object", "field": None})


def test_a_domain_that_uses_the_default_s_certificate_is_409(make_manager, tmp_path):
    srv, api = make_manager(extra='[[domains]]\nname = "acme"\nhosts = ["ftp.acme.test"]\n')
    root = api.token("root")
    good, good_key = make("good.example.test", 1)
    status, _, answer = api.call("PUT", "/api/v1/domains/acme/certificates", token=root,
                                 body={"certificate": cert_pem(good), "private_key": key_pem(good_key)})
    assert (status, answer) == (409, {
        "error": "domain acme serves the default's certificate: install it on default, or give acme one of "
                 "its own ([domains.tls] certificate and private_key)", "field": None})
    status, _, answer = api.call("GET", "/api/v1/domains/acme/certificates", token=root)
    assert status == 200 and answer["certificates"][0]["subject"] == "CN=localhost", answer
    assert answer["certificates"][0]["certificate_file"] == str(tmp_path / "cert.pem")


def test_without_tls_there_is_no_certificate(make_server, tmp_path):
    from test_admin_api import Api, add_admins, admin_url
    add_admins(tmp_path)
    srv = make_server(extra=f'[admin]\naddress = "127.0.0.1:0"\ntls = false\nusers_file = "{tmp_path / "admins.toml"}"\n')
    api = Api(admin_url(srv), make_cert(tmp_path)[0])
    import http.client
    import json
    conn = http.client.HTTPConnection(api.host, api.port, timeout=TIMEOUT)
    token_body = json.dumps({"name": "root", "password": "root-secret"})
    conn.request("POST", "/api/v1/auth/token", body=token_body)
    token = json.loads(conn.getresponse().read())["token"]
    conn.request("GET", CERTS, headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    assert (r.status, json.loads(r.read())) == (200, {"domain": "default", "certificates": []})
    conn.request("PUT", CERTS, body=json.dumps({"certificate": "x", "private_key": "y"}),
                 headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    assert (r.status, json.loads(r.read())) == (409, {
        "error": "domain default has no certificate (tls.certificate): TLS was not configured at start", "field": None})
    conn.close()
