"""The command line: `ftpsd user add|list|remove` (password on stdin; the added user can log in),
`ftpsd check-config` on good and bad files (exit 2, `file:line: key '...'`), `--version`, `--help`."""
import re

import pytest

from conftest import BIN, password_hash
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


def test_check_config_missing_file(tmp_path):
    p = ftpsd("check-config", str(tmp_path / "nope.toml"))
    assert p.returncode == 2 and b"nope.toml" in p.stderr
