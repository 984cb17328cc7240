"""The command line: `ftpsd user add|list|remove` (password on stdin; the added user can log in),
`ftpsd check-config` on good and bad files (exit 2, `file:line: key '...'`), on certificates and keys
that `run` could not load, and its NAT findings (`file:line: warning: key: ...`), `--version`, `--help`."""
import re

import pytest

from conftest import BIN, default_config, password_hash
from helpers import Control, run


def ftpsd(*args, input=None, cwd=None):
    return run([BIN, *args], input=input, check=False, cwd=cwd, timeout=60)


def test_version_and_help():
    p = ftpsd("--version")
    assert p.returncode == 0
    assert re.fullmatch(rb"ftpsd \d+\.\d+\.\d+\S*\n", p.stdout), p.stdout
    p = ftpsd("--help")
    assert p.returncode == 0
    for sub in (b"run", b"check-config", b"user"):
        assert sub in p.stdout
    assert ftpsd().returncode != 0, "a subcommand is required"
    assert ftpsd("frobnicate").returncode != 0


def test_user_add_list_remove_and_login(make_server, tmp_path):
    users = tmp_path / "cli-users.toml"
    home = tmp_path / "carol"
    home.mkdir()
    p = ftpsd("user", "add", "carol", "--root", str(home), "--write", "--file", str(users),
              input=b"carol's pass phrase\n")
    assert p.returncode == 0, p.stderr
    assert b"carol's pass phrase" not in users.read_bytes()
    assert "$y$" in users.read_text(), "yescrypt hash"
    p = ftpsd("user", "add", "dave", "--root", str(home), "--file", str(users), input=b"dave-pw\n")
    assert p.returncode == 0, p.stderr
    p = ftpsd("user", "list", "--file", str(users))
    assert p.returncode == 0
    listing = p.stdout.decode()
    assert re.search(rf"^carol\s+read-write\s+{re.escape(str(home))}$", listing, re.M), listing
    assert re.search(rf"^dave\s+read-only\s+{re.escape(str(home))}$", listing, re.M), listing
    # Adding an existing user, a bad name, or no password fails and changes nothing.
    before = users.read_bytes()
    assert ftpsd("user", "add", "carol", "--root", str(home), "--file", str(users), input=b"x\n").returncode == 1
    assert ftpsd("user", "add", "bad name", "--root", str(home), "--file", str(users),
                 input=b"x\n").returncode == 1
    assert ftpsd("user", "add", "erin", "--root", str(home), "--file", str(users), input=b"").returncode == 2
    assert users.read_bytes() == before

    cfg = f'[[listeners]]\naddress = "127.0.0.1:0"\n[users]\nfile = "{users}"\n'
    srv = make_server(config=cfg)
    with Control.to(srv) as c:
        c.login("carol", "carol's pass phrase")
        c.expect("MKD made-by-carol", "257")
    assert (home / "made-by-carol").is_dir()
    with Control.to(srv) as c:
        c.login("dave", "dave-pw")
        assert c.cmd("MKD no").startswith("550"), "dave is read-only"
    with Control.to(srv) as c:
        c.expect("USER carol", "331")
        assert c.cmd("PASS wrong").startswith("530")

    p = ftpsd("user", "remove", "carol", "--file", str(users))
    assert p.returncode == 0, p.stderr
    assert ftpsd("user", "add", "ghost", "--root", str(tmp_path / "no-such-folder"), "--file", str(users),
                 input=b"boo\n").returncode == 0
    listing = ftpsd("user", "list", "--file", str(users)).stdout.decode()
    assert not re.search(r"^carol\s", listing, re.M) and re.search(r"^dave\s", listing, re.M), listing
    assert ftpsd("user", "remove", "carol", "--file", str(users)).returncode == 1
    srv2 = make_server(config=cfg)
    with Control.to(srv2) as c:
        c.expect("USER carol", "331")
        assert c.cmd("PASS carol's pass phrase").startswith("530")
        c.expect("USER ghost", "331")
        assert c.cmd("PASS boo").startswith("530"), "a user whose root is missing cannot log in"
        c.login("dave", "dave-pw")
    assert "cannot be opened" in srv2.log()


def test_user_add_uses_the_users_file_of_config(tmp_path):
    (tmp_path / "ftpsd.toml").write_text('[[listeners]]\naddress = "127.0.0.1:0"\n[users]\nfile = "u.toml"\n')
    p = ftpsd("user", "add", "frank", "--root", str(tmp_path), "--config", str(tmp_path / "ftpsd.toml"),
              input=b"pw\n")
    assert p.returncode == 0, p.stderr
    assert 'name = "frank"' in (tmp_path / "u.toml").read_text()
    assert ftpsd("check-config", str(tmp_path / "ftpsd.toml")).returncode == 0


def test_check_config_good(tmp_path):
    (tmp_path / "users.toml").write_text(
        f'[[users]]\nname = "alice"\npassword_hash = "{password_hash("alice")}"\nroot = "home"\nwrite = true\n')
    (tmp_path / "ftpsd.toml").write_text("""[server]
max_sessions = 100
idle_timeout = "5m"
login_timeout = 30
data_timeout = "250ms"
threads = 2
blocking_threads = 2
banner = "hello"

[[listeners]]
address = "0.0.0.0:2121"

[[listeners]]
address = "[::]:2121"

[passive]
ports = "50000-50099"
address = "192.0.2.1"
connect_timeout = "10s"

[active]
enabled = false
connect_timeout = "1m"

[users]
file = "users.toml"
anonymous = true
anonymous_root = "pub"

[log]
level = "warn"
""")
    p = ftpsd("check-config", str(tmp_path / "ftpsd.toml"))
    assert p.returncode == 0, p.stderr
    assert b"configuration ok" in p.stdout


BAD_CONFIGS = [
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[server]\nbogus = 1\n', 4, "server.bogus", "unknown key"),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[server]\nidle_timeout = "soon"\n', 4, "server.idle_timeout",
     "expected a duration"),
    ('[server]\nmax_sessions = 0\n[[listeners]]\naddress = "127.0.0.1:0"\n', 2, "server.max_sessions",
     "between"),
    ('[[listeners]]\naddress = "nonsense"\n', 2, "listeners[0].address", ""),
    ('[[listeners]]\naddress = "127.0.0.1:0"\ntls = "sometimes"\n', 3, "listeners[0].tls", "expected one of"),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n\n[passive]\nports = "60000-50000"\n', 5, "passive.ports",
     "inverted"),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[passive]\naddress = "bad host name!"\n', 4, "passive.address", ""),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[users]\nanonymous = true\n', 4, "users.anonymous",
     "anonymous_root"),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[log]\nlevel = "loud"\n', 4, "log.level", ""),
    ('[[listeners]]\naddress = "127.0.0.1:0"\ncolour = "blue"\n', 3, "listeners[0].colour", "unknown key"),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[active]\nenabled = "yes"\n', 4, "active.enabled",
     "true or false"),
    # Checked after all tables are read, still at the line of the key.
    ('[[listeners]]\naddress = "127.0.0.1:0"\n\n[[listeners]]\naddress = "127.0.0.1:0"\nproxy_protocol = true\n', 6,
     "listeners[1].proxy_protocol", "[proxy_protocol] trusted"),
    ('[[listeners]]\naddress = "127.0.0.1:0"\n[tls]\nciphers = "HIGH"\nrequired = "login"\n', 5, "tls.required",
     "needs tls.certificate"),
]


@pytest.mark.parametrize("text,line,key,detail", BAD_CONFIGS)
def test_check_config_bad(tmp_path, text, line, key, detail):
    path = tmp_path / "ftpsd.toml"
    path.write_text(text)
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    msg = p.stderr.decode()
    assert msg.startswith(f"{path}:{line}: key '{key}'"), msg
    assert detail in msg, msg
    # `run` refuses the same file with the same message.
    p = ftpsd("run", "--config", str(path))
    assert p.returncode == 2 and f"{path}:{line}: key '{key}'" in p.stderr.decode()


def test_check_config_toml_syntax_error(tmp_path):
    path = tmp_path / "ftpsd.toml"
    path.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n[server\n')
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2
    assert p.stderr.decode().startswith(f"{path}:3: "), p.stderr


def test_check_config_no_listener(tmp_path):
    path = tmp_path / "ftpsd.toml"
    path.write_text('[server]\nmax_sessions = 5\n')
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2
    assert re.match(rf"{re.escape(str(path))}:\d+: key 'listeners'", p.stderr.decode()), p.stderr


def test_check_config_bad_users_file(tmp_path):
    path = tmp_path / "ftpsd.toml"
    path.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n[users]\nfile = "users.toml"\n')
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2 and b"users.toml" in p.stderr, "a missing users file is an error"
    users = tmp_path / "users.toml"
    users.write_text('[[users]]\nname = "x"\npassword_hash = "$6$abc"\nroot = "r"\ncolour = "red"\n')
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2
    assert p.stderr.decode().startswith(f"{users}:5: key 'users.colour'"), p.stderr
    users.write_text('[[users]]\nname = "x"\nroot = "r"\n')
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2 and "password_hash" in p.stderr.decode()


def test_check_config_loads_every_domain_s_users_file_and_certificate(tmp_path):
    """Not only the top level's: a [[domains]] entry's users file and its own certificate are loaded too,
    as `run` loads them (and `ftpsd config set` and the Manager check them the same way)."""
    cert, key = self_signed(tmp_path, "cert")
    (tmp_path / "users.toml").write_text("")
    (tmp_path / "acme-users.toml").write_text("")
    path = tmp_path / "ftpsd.toml"
    template = f"""[[listeners]]
address = "127.0.0.1:0"
tls = "explicit"
[users]
file = "users.toml"
[passive]
ports = "50000-60000"
[tls]
certificate = "{cert}"
private_key = "{key}"
[[domains]]
name = "acme"
hosts = ["ftp.acme.test"]
users = "acme-users.toml"
[domains.tls]
certificate = "{{}}"
private_key = "{key}"
"""
    path.write_text(template.format(cert))
    p = ftpsd("check-config", str(path))
    assert (p.returncode, p.stderr) == (0, b""), p.stderr

    acme_users = tmp_path / "acme-users.toml"
    acme_users.write_text('[[users]]\nname = "x"\npassword_hash = "$6$abc"\nroot = "r"\ncolour = "red"\n')
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2, p.stdout
    assert p.stderr.decode() == f"{acme_users}:5: key 'users.colour': unknown key\n", p.stderr
    acme_users.write_text("")

    path.write_text(template.format(tmp_path / "absent.pem"))
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2, p.stdout
    # As `run` serves it: the domain's certificate is one of the pairs of the shared listener.
    assert p.stderr.decode() == (f"{tmp_path / 'absent.pem'}: cannot read the certificate "
                                 "(tls.certificates[0].certificate): No such file or directory\n"), p.stderr


def test_check_config_missing_file(tmp_path):
    p = ftpsd("check-config", str(tmp_path / "nope.toml"))
    assert p.returncode == 2 and b"nope.toml" in p.stderr


def self_signed(base, name):
    cert, key = base / f"{name}.pem", base / f"{name}-key.pem"
    p = ftpsd("cert", "self-signed", "--host", "localhost", "--cert", str(cert), "--key", str(key))
    assert p.returncode == 0, p.stderr
    return cert, key


# What check-config (exit 2) and run (exit 1, logged after "TLS: ") say about a certificate and key
# that do not load: the file, the key naming it, and why.
TLS_CASES = {
    "missing certificate": lambda c, k, g, o: (g.parent / "absent.pem", k,
                                               f"{g.parent / 'absent.pem'}: cannot read the certificate "
                                               "(tls.certificate): No such file or directory"),
    "missing key": lambda c, k, g, o: (c, g.parent / "absent-key.pem",
                                       f"{g.parent / 'absent-key.pem'}: cannot read the private key "
                                       "(tls.private_key): No such file or directory"),
    "certificate not PEM": lambda c, k, g, o: (g, k, f"{g}: not a PEM certificate chain (tls.certificate): "),
    "key not PEM": lambda c, k, g, o: (c, g, f"{g}: not a PEM private key (tls.private_key): "),
    "key of another certificate": lambda c, k, g, o: (
        c, o, f"{o}: the private key does not match the certificate {c} (tls.private_key)"),
}


@pytest.mark.parametrize("case", TLS_CASES)
def test_check_config_loads_the_certificate_and_key_as_run_does(tmp_path, case):
    cert, key = self_signed(tmp_path, "cert")
    _, other_key = self_signed(tmp_path, "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    path = tmp_path / "ftpsd.toml"
    template = '[[listeners]]\naddress = "127.0.0.1:0"\ntls = "implicit"\n[tls]\ncertificate = "{}"\nprivate_key = "{}"\n'
    path.write_text(template.format(cert, key))
    p = ftpsd("check-config", str(path))
    assert p.returncode == 0, p.stderr

    bad_cert, bad_key, message = TLS_CASES[case](cert, key, garbage, other_key)
    path.write_text(template.format(bad_cert, bad_key))
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr.decode().startswith(message), p.stderr
    assert p.stderr.decode().count("\n") == 1, p.stderr
    p = ftpsd("run", "--config", str(path))
    assert p.returncode == 1, p.stderr
    assert f"TLS: {message}" in p.stderr.decode(), p.stderr


def test_nat_findings_name_the_file_and_line_of_their_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("""[[listeners]]
address = "0.0.0.0:50010"
proxy_protocol = true

[server]
max_sessions = 10

[proxy_protocol]
trusted = ["0.0.0.0/0"]

[passive]
resolve_every = "1m"
ports = "50000-50099"
""")
    p = ftpsd("check-config", str(path))
    assert p.returncode == 2, p.stderr
    lines = p.stderr.decode().splitlines()
    assert f"{path}:13: error: passive.ports: 50000-50099 contains the listener port 50010 (0.0.0.0:50010): " \
           "move the range" in lines, lines
    assert any(line.startswith(f"{path}:9: warning: proxy_protocol.trusted: 0.0.0.0/0 trusts nearly everyone")
               for line in lines), lines
    # passive.address is not written: the line of its table.
    assert any(line.startswith(f"{path}:11: warning: passive.address: empty") for line in lines), lines
    for line in lines:
        assert re.match(rf"{re.escape(str(path))}:\d+: (warning|error): ", line), line


def test_unresolvable_passive_host_name_is_a_warning_at_check_and_an_error_at_start(make_server):
    """A name under .invalid never resolves (and is never sent to a DNS server). check-config passes with a
    warning (the name may resolve where and when the server runs); a starting server logs an error and
    serves, PASV replies carrying the local address until the name resolves."""
    srv = make_server(extra='[passive]\nports = "50000-50099"\naddress = "ftp.invalid"\n', server="max_sessions = 50")
    path = srv.base / "ftpsd.toml"
    line = path.read_text().splitlines().index('address = "ftp.invalid"') + 1
    p = ftpsd("check-config", str(path))
    assert p.returncode == 0, p.stderr
    assert f"{path}:{line}: warning: passive.address: the host name ftp.invalid does not resolve here now " \
           in p.stderr.decode(), p.stderr
    assert re.search(rf" error {re.escape(str(path))}:{line}: passive.address: the host name ftp.invalid does not "
                     r"resolve \(", srv.log()), srv.log()
    with Control.to(srv) as c:
        c.login()
        reply = c.cmd("PASV")
        assert reply.startswith("227") and "(127,0,0,1," in reply, reply
