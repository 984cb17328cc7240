"""`ftpsd config set|unset|revisions|restore`: the configuration file changed by a command, only the
lines of the keys that change, checked as `check-config` does before it is written, the previous text
kept as a revision, and applied to new sessions by --reload while running sessions keep theirs."""
import re

from conftest import BIN
from helpers import Control, run, wait_for

PASSIVE = """[passive]
# the router's public address
address = "127.0.0.1"
ports = "41000-41009"   # forwarded by the router
"""


def pasv(ctl):
    reply = ctl.cmd("PASV")
    assert reply.startswith("227"), reply
    h = list(map(int, re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", reply).groups()))
    ctl.expect("ABOR", "2")  # the port goes back to the pool
    return ".".join(map(str, h[:4])), h[4] * 256 + h[5]


def config_cmd(*args, check=True):
    return run([BIN, "config", *map(str, args)], check=check, timeout=60)


def test_set_applies_a_new_passive_address_and_range_to_new_sessions(make_server):
    srv = make_server(server='pid_file = "ftpsd.pid"\n', extra=PASSIVE)
    cfg = srv.base / "ftpsd.toml"
    before = cfg.read_text()
    running = Control.to(srv).login()
    address, port = pasv(running)
    assert address == "127.0.0.1" and 41000 <= port <= 41009, (address, port)

    out = config_cmd("set", "-c", cfg, "passive.address", "127.0.0.9", "passive.ports", "41100-41109", "--reload")
    assert b"written; the previous text is revision 1" in out.stdout, out
    # A unified diff of the file (diff -u).
    assert f"--- {cfg}\n+++ {cfg}\n@@ ".encode() in out.stdout, out
    assert (b'-address = "127.0.0.1"\n-ports = "41000-41009"   # forwarded by the router\n'
            b'+address = "127.0.0.9"\n+ports = "41100-41109"   # forwarded by the router\n') in out.stdout, out
    text = cfg.read_text()
    # only the two values changed: comments and layout stay
    assert text == before.replace('address = "127.0.0.1"', 'address = "127.0.0.9"').replace(
        'ports = "41000-41009"', 'ports = "41100-41109"'), text
    assert wait_for(lambda: "configuration reloaded" in srv.log()), srv.log()[-2000:]

    with Control.to(srv) as fresh:
        fresh.login()
        address, port = pasv(fresh)
        assert address == "127.0.0.9" and 41100 <= port <= 41109, (address, port)
    address, port = pasv(running)  # a running session keeps the settings it started with
    assert address == "127.0.0.1" and 41000 <= port <= 41009, (address, port)
    running.close()

    listing = config_cmd("revisions", "-c", cfg).stdout.decode()
    assert re.search(r"^\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+ bytes\s+.*ftpsd\.toml\.revisions/1\.toml$", listing,
                     re.M), listing
    out = config_cmd("restore", "-c", cfg, 1, "--reload")
    assert b"the previous text is revision 2" in out.stdout, out
    assert cfg.read_text() == before
    assert wait_for(lambda: srv.log().count("configuration reloaded") == 2), srv.log()[-2000:]
    with Control.to(srv) as fresh:
        fresh.login()
        assert pasv(fresh)[0] == "127.0.0.1"


def test_what_check_config_refuses_is_not_written(make_server):
    srv = make_server(extra=PASSIVE)
    cfg = srv.base / "ftpsd.toml"
    before = cfg.read_text()
    bad = config_cmd("set", "-c", cfg, "passive.ports", "70000", check=False)
    assert bad.returncode == 1, bad
    assert b"not written: " in bad.stderr and b"key 'passive.ports'" in bad.stderr, bad
    bad = config_cmd("set", "-c", cfg, "server.threads", "many", check=False)
    assert bad.returncode == 1 and b"key 'server.threads': expected an integer" in bad.stderr, bad
    bad = config_cmd("set", "-c", cfg, "--domain", "nobody", "banner", "x", check=False)
    assert bad.returncode == 1 and b"--domain: no domain is named 'nobody'" in bad.stderr, bad
    bad = config_cmd("set", "-c", cfg, "passive.ports", check=False)
    assert bad.returncode == 2 and b"KEY VALUE pairs" in bad.stderr, bad
    assert cfg.read_text() == before
    assert b"no revisions yet" in config_cmd("revisions", "-c", cfg).stdout


def test_set_and_unset_a_domains_keys(make_server, tmp_path):
    srv = make_server(extra=PASSIVE + '\n[[domains]]\nname = "acme"\nhosts = ["ftp.acme.test"]\n')
    cfg = srv.base / "ftpsd.toml"
    config_cmd("set", "-c", cfg, "--domain", "acme", "passive.ports", "41200-41209", "banner", "ACME files")
    text = cfg.read_text()
    assert 'hosts = ["ftp.acme.test"]\nbanner = "ACME files"\n\n[domains.passive]\nports = "41200-41209"\n' in text, \
        text
    config_cmd("unset", "-c", cfg, "--domain", "acme", "banner")
    assert 'banner = "ACME files"' not in cfg.read_text()
    assert run([BIN, "check-config", str(cfg)]).returncode == 0


def test_init_writes_the_embedded_default_which_names_files_beside_it_and_never_overwrites(tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    cfg = folder / "ftpsd.toml"
    out = config_cmd("init", cfg)
    assert out.stdout.decode() == (f"wrote {cfg} (the embedded default; its relative paths are relative to the "
                                   "file's folder)\n"), out
    text = cfg.read_text()
    assert 'file = "users.toml"' in text and 'certificate = "cert.pem"' in text, text
    # Without the files it names beside it, check-config says which one is missing, in that folder.
    r = run([BIN, "check-config", cfg], check=False, timeout=60)
    assert r.returncode != 0 and str(folder / "users.toml") in (r.stdout + r.stderr).decode(), r
    # With them, it passes as it is.
    run([BIN, "user", "add", "demo", "--root", tmp_path, "--file", folder / "users.toml"], input=b"demo\n",
        timeout=60)
    run([BIN, "admin", "add", "admin", "--role", "admin", "--file", folder / "admins.toml"], input=b"admin\n",
        timeout=60)
    run([BIN, "cert", "self-signed", "--host", "localhost", "--cert", folder / "cert.pem", "--key",
         folder / "key.pem"], timeout=60)
    r = run([BIN, "check-config", cfg], check=False, timeout=60)
    assert r.returncode == 0, r
    # Never over an existing file.
    cfg.write_text(text + "# mine\n")
    r = config_cmd("init", cfg, check=False)
    assert r.returncode == 1, r
    assert r.stderr.decode() == f"ftpsd: {cfg} exists: not overwritten (change it with `ftpsd config set`)\n", r
    assert cfg.read_text() == text + "# mine\n"
