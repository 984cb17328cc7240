"""The Manager's NAT core: a domain's passive settings seen and changed live (GET/PUT
/api/v1/domains/{domain}/passive), its firewall plan, its server-side checks, and the configuration
revisions (list, text, diff, restore). Changes are written to the configuration file the careful way
(only the lines of the keys change), checked as check-config checks, and applied with no restart: new
sessions get the new address and ports at once, running ones keep theirs."""
import os
import re
import socket

import pytest

from conftest import BIN, PASSWORDS
from helpers import Control, TIMEOUT, run
from test_admin_api import make_manager  # noqa: F401 (a fixture)

# Below Linux's ephemeral ports (32768-60999): no other test's connection gets a local port in these
# ranges by chance, so "used by another program" counts only the test's own squatter.
RANGE_A = (30300, 30309)
RANGE_B = (30320, 30329)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def make_nat_manager(make_manager):
    """make_nat_manager(passive=..., listeners=None, extra="", user_options=None) -> (Server, Api): FTP
    listeners on 127.0.0.1 and 127.0.0.7 (any 127/8 address is this machine's), [admin] with HTTPS and the
    accounts root (admin), op (operator) and view (viewer); `extra` follows the [admin] table."""
    def factory(passive=None, listeners=None, extra="", user_options=None):
        if passive is None:
            passive = f'address = "127.0.0.1"\nports = "{RANGE_A[0]}-{RANGE_A[1]}"   # forwarded by the router\n'
        listeners = listeners or '[[listeners]]\naddress = "127.0.0.1:0"\n\n[[listeners]]\naddress = "127.0.0.7:0"\n'
        return make_manager(listeners=listeners, user_options=user_options, server="max_sessions = 8",
                            admin_extra=extra,
                            extra=f"# The NAT settings: the router forwards these to this server.\n[passive]\n{passive}")
    return factory


def pasv_reply(ctl):
    r = ctl.expect("PASV", "227")
    nums = [int(x) for x in re.search(r"\((\d+,\d+,\d+,\d+,\d+,\d+)\)", r).group(1).split(",")]
    return ".".join(map(str, nums[:4])), nums[4] * 256 + nums[5]


def in_range(port, r):
    return r[0] <= port <= r[1]


def test_put_passive_applies_at_once_to_curl_and_lftp_while_a_download_goes_on(make_nat_manager, tmp_path):
    srv, api = make_nat_manager(user_options={"alice": 'download_rate = "1M"'})
    port_1, port_7 = srv.ports[0], srv.ports[1]
    payload = os.urandom(6 << 20)
    (srv.root() / "big.bin").write_bytes(payload)
    (srv.root() / "small.txt").write_bytes(b"small file\n")
    cfg = srv.base / "ftpsd.toml"
    before = cfg.read_text()
    root = api.token("root")

    # A download through the 127.0.0.1 listener, from range A. The client reads nothing yet: with the
    # 1 MiB/s limit and the socket buffers full, the transfer is still running whatever the machine's speed.
    running = Control("127.0.0.1", port_1).login()
    address, port = pasv_reply(running)
    assert address == "127.0.0.1" and in_range(port, RANGE_A), (address, port)
    data = socket.socket()
    data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    data.settimeout(TIMEOUT)
    data.connect((address, port))
    running.expect("RETR big.bin", "150")
    first = data.recv(65536)
    assert first

    # Before: a session on the 127.0.0.7 listener is told 127.0.0.1 (passive.address).
    with Control("127.0.0.7", port_7).login() as c:
        assert pasv_reply(c)[0] == "127.0.0.1"
        c.expect("ABOR", "225")

    status, r, answer = api.call("PUT", "/api/v1/domains/default/passive", token=root,
                                 body={"address": "127.0.0.7", "ports": f"{RANGE_B[0]}-{RANGE_B[1]}"})
    assert status == 200, answer
    assert answer["applied"] is True and answer["reload_error"] is None, answer
    assert isinstance(answer["revision"], int) and answer["revision"] >= 1, answer
    assert answer["passive"] == {"domain": "default", "address": "127.0.0.7",
                                 "ports": f"{RANGE_B[0]}-{RANGE_B[1]}", "advertised_ports": None,
                                 "overrides": []}, answer
    assert (f'-address = "127.0.0.1"\n-ports = "{RANGE_A[0]}-{RANGE_A[1]}"   # forwarded by the router\n'
            f'+address = "127.0.0.7"\n+ports = "{RANGE_B[0]}-{RANGE_B[1]}"   # forwarded by the router\n'
            ) in answer["diff"], answer["diff"]
    assert answer["diff"].startswith(f"--- {cfg}\n+++ {cfg}\n@@ "), answer["diff"]
    assert any(w.startswith("passive.address: 127.0.0.7 is a loopback address") for w in answer["warnings"]), answer
    assert set(answer["firewall"]) == {"text", "nftables", "iptables", "ufw", "firewalld"}, answer
    assert f"{RANGE_B[0]}-{RANGE_B[1]}" in answer["firewall"]["nftables"], answer["firewall"]
    assert f"{RANGE_B[0]}:{RANGE_B[1]}" in answer["firewall"]["iptables"], answer["firewall"]
    assert r.getheader("ETag"), "the tag of the file's new text"

    # The download is still running.
    sessions = api.call("GET", "/api/v1/sessions", token=root)[2]["sessions"]
    assert [s["transfer"]["path"] for s in sessions if s["transfer"]] == ["/big.bin"], sessions

    # curl and lftp, no restart: PASV carries 127.0.0.7 and a port of range B, and they connect there.
    url = f"ftp://127.0.0.7:{port_7}/small.txt"
    p = run(["curl", "-v", "-sS", "--max-time", "60", "--disable-epsv", "-u", f"alice:{PASSWORDS['alice']}", url])
    assert p.stdout == b"small file\n"
    m = re.search(r"227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", p.stderr.decode())
    assert m, p.stderr.decode()
    assert ".".join(m.groups()[:4]) == "127.0.0.7", m.group(0)
    assert in_range(int(m.group(5)) * 256 + int(m.group(6)), RANGE_B), m.group(0)

    local = tmp_path / "lftp"
    local.mkdir()
    p = run(["lftp", "-d", "-u", f"alice,{PASSWORDS['alice']}", "-p", str(port_7), "127.0.0.7", "-e",
             "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 15; set ftp:ssl-allow no; "
             "set ftp:prefer-epsv no; get small.txt; bye"], cwd=local, timeout=120)
    assert (local / "small.txt").read_bytes() == b"small file\n"
    debug = p.stdout.decode() + p.stderr.decode()
    m = re.search(r"Connecting data socket to \(127\.0\.0\.7\) port (\d+)", debug)
    assert m, debug[-3000:]
    assert in_range(int(m.group(1)), RANGE_B), m.group(0)

    # The earlier download finishes unharmed.
    rest = [first]
    while True:
        chunk = data.recv(1 << 20)
        if not chunk:
            break
        rest.append(chunk)
    data.close()
    assert running.reply(timeout=120).startswith("226")
    assert b"".join(rest) == payload
    running.close()

    # The file changed in the two passive lines only (their comment kept), and a revision holds the old text.
    assert cfg.read_text() == before.replace('address = "127.0.0.1"\nports', 'address = "127.0.0.7"\nports').replace(
        f'ports = "{RANGE_A[0]}-{RANGE_A[1]}"', f'ports = "{RANGE_B[0]}-{RANGE_B[1]}"')
    revisions = api.call("GET", "/api/v1/config/revisions", token=api.token("view"))[2]
    assert revisions["file"] == str(cfg)
    assert [r["number"] for r in revisions["revisions"]] == [answer["revision"]], revisions
    audit = api.audit(root, limit=5)[0]
    assert (audit["who"], audit["action"], audit["target"], audit["diff"]) == \
        ("root", "passive.update", "default", answer["diff"]), audit

    # Restore: new sessions get the old settings again.
    status, _, restored = api.call("POST", f"/api/v1/config/revisions/{answer['revision']}/restore", token=root)
    assert status == 200, restored
    assert restored["applied"] is True and restored["restored"] == answer["revision"], restored
    assert restored["revision"] == answer["revision"] + 1, restored
    assert cfg.read_text() == before
    with Control("127.0.0.1", port_1).login() as c:
        address, port = pasv_reply(c)
        assert address == "127.0.0.1" and in_range(port, RANGE_A), (address, port)
        socket.create_connection((address, port), timeout=TIMEOUT).close()
        c.expect("ABOR", "225")
    with Control("127.0.0.7", port_7).login() as c:
        assert pasv_reply(c)[0] == "127.0.0.1"
    audit = api.audit(root, limit=5)[0]
    assert (audit["action"], audit["target"]) == ("config.restore", f"revision {answer['revision']}"), audit


def test_a_port_held_by_a_session_of_the_previous_range_is_not_handed_out_again(make_nat_manager):
    """The range grows from one port to two. The port a running session of the old range listens on (on
    127.0.0.1) is not handed to a new session on the other listener (127.0.0.7), where binding it would
    succeed, until that session lets it go."""
    port = RANGE_A[0]
    srv, api = make_nat_manager(passive=f'ports = "{port}-{port}"\n')
    old = Control("127.0.0.1", srv.ports[0]).login()
    assert pasv_reply(old)[1] == port
    status, _, answer = api.call("PUT", "/api/v1/domains/default/passive", token=api.token("root"),
                                 body={"ports": f"{port}-{port + 1}"})
    assert status == 200 and answer["applied"], answer
    first = Control("127.0.0.7", srv.ports[1]).login()
    assert pasv_reply(first) == ("127.0.0.7", port + 1)
    second = Control("127.0.0.7", srv.ports[1]).login()
    assert second.cmd("PASV").startswith("425"), "the only other port is the old session's"
    old.expect("ABOR", "225")
    old.close()
    assert pasv_reply(second) == ("127.0.0.7", port)
    for c in (first, second):
        c.close()


DOMAINS = """
[[domains]]
name = "acme"
hosts = ["ftp.acme.test"]
[domains.passive]
ports = "40340-40344"
"""


def test_domains_list_and_one_domain(make_nat_manager):
    srv, api = make_nat_manager(extra=DOMAINS)
    view = api.token("view")
    status, _, answer = api.call("GET", "/api/v1/domains", token=view)
    assert status == 200, answer
    assert [d["name"] for d in answer["domains"]] == ["default", "acme"]
    default, acme = answer["domains"]
    assert [(listener["address"], listener["tls"]) for listener in default["listeners"]] == \
        [(f"127.0.0.1:{srv.ports[0]}", "none"), (f"127.0.0.7:{srv.ports[1]}", "none")], default
    assert default["passive"]["ports"] == f"{RANGE_A[0]}-{RANGE_A[1]}" and default["own_ports"] is True
    assert default["tls"]["own_certificate"] is True and default["tls"]["required"] == "none"
    assert acme["hosts"] == ["ftp.acme.test"] and acme["own_ports"] is True
    assert acme["tls"]["own_certificate"] is False
    assert acme["passive"] == {"domain": "acme", "address": "127.0.0.1", "ports": "40340-40344",
                               "advertised_ports": None, "overrides": []}, acme
    status, _, one = api.call("GET", "/api/v1/domains/acme", token=view)
    assert (status, one) == (200, acme)
    status, _, answer = api.call("GET", "/api/v1/domains/nope", token=view)
    assert (status, answer) == (404, {"error": "no domain named 'nope'", "field": None})
    status, _, answer = api.call("GET", "/api/v1/domains")
    assert status == 401, answer


def test_get_passive_and_a_domain_s_put_writes_its_own_table(make_nat_manager):
    srv, api = make_nat_manager(extra=DOMAINS)
    status, _, answer = api.call("GET", "/api/v1/domains/acme/passive", token=api.token("view"))
    assert status == 200, answer
    assert answer["ports"] == "40340-40344"
    status, _, answer = api.call("PUT", "/api/v1/domains/acme/passive", token=api.token("root"),
                                 body={"address": "127.0.0.7", "ports": "40350-40354",
                                       "overrides": [{"networks": ["127.0.0.0/8"], "address": "local"}]})
    assert status == 200, answer
    assert answer["passive"] == {"domain": "acme", "address": "127.0.0.7", "ports": "40350-40354",
                                 "advertised_ports": None,
                                 "overrides": [{"networks": ["127.0.0.0/8"], "address": "local"}]}, answer
    text = (srv.base / "ftpsd.toml").read_text()
    assert ('[domains.passive]\nports = "40350-40354"\naddress = "127.0.0.7"\n'
            'address_overrides = [{ networks = ["127.0.0.0/8"], address = "local" }]\n') in text, text
    assert f'[passive]\naddress = "127.0.0.1"\nports = "{RANGE_A[0]}-{RANGE_A[1]}"' in text, "the default's stay"
    assert api.call("GET", "/api/v1/domains/acme/passive", token=api.token("view"))[2] == answer["passive"]
    # Through HOST, a new session of acme gets its own pool.
    with Control("127.0.0.1", srv.ports[0]) as c:
        c.expect("HOST ftp.acme.test", "220")
        c.login()
        address, port = pasv_reply(c)
        assert 40350 <= port <= 40354 and address == "127.0.0.1", (address, port)  # "local" for 127/8
    # null removes a key: acme's address is the default's again.
    status, _, answer = api.call("PUT", "/api/v1/domains/acme/passive", token=api.token("root"),
                                 body={"address": None, "overrides": None})
    assert status == 200, answer
    assert answer["passive"]["address"] == "127.0.0.1" and answer["passive"]["overrides"] == [], answer


def test_dry_run_writes_nothing_and_if_match_refuses_a_file_edited_since(make_nat_manager):
    srv, api = make_nat_manager()
    cfg = srv.base / "ftpsd.toml"
    before = cfg.read_text()
    root = api.token("root")
    status, r, answer = api.call("PUT", "/api/v1/domains/default/passive?dry_run=1", token=root,
                                 body={"ports": "40360-40369"})
    assert status == 200, answer
    assert answer["applied"] is False and answer["revision"] is None, answer
    assert '+ports = "40360-40369"   # forwarded by the router' in answer["diff"], answer
    assert answer["passive"]["ports"] == "40360-40369"
    assert cfg.read_text() == before
    assert api.call("GET", "/api/v1/config/revisions", token=root)[2]["revisions"] == []
    tag = r.getheader("ETag")
    # Edited by hand after the dry run: the change shown is not the one that would be made.
    cfg.write_text(before + "\n# a note\n")
    status, _, answer = api.call("PUT", "/api/v1/domains/default/passive", token=root,
                                 body={"ports": "40360-40369"}, headers={"If-Match": tag})
    assert (status, answer) == (409, {"error": f"{cfg} changed since you read it (edited by hand meanwhile?); "
                                               "nothing was written: read it again and repeat the change",
                                      "field": None})
    assert cfg.read_text() == before + "\n# a note\n"
    status, _, answer = api.call("PUT", "/api/v1/domains/default/passive", token=root,
                                 body={"ports": "40360-40369"})
    assert status == 200 and answer["applied"], answer


def test_put_passive_errors(make_nat_manager):
    listen = free_port()
    srv, api = make_nat_manager(listeners=f'[[listeners]]\naddress = "127.0.0.1:{listen}"\n')
    cfg = srv.base / "ftpsd.toml"
    before = cfg.read_text()
    root = api.token("root")
    path = "/api/v1/domains/default/passive"
    for who in ("op", "view"):
        status, _, answer = api.call("PUT", path, token=api.token(who), body={"ports": "40370-40379"})
        assert (status, answer) == (403, {"error": "changing the passive settings needs the role admin",
                                          "field": None})
    assert api.call("PUT", path, body={"ports": "40370-40379"})[0] == 401
    status, _, answer = api.call("PUT", "/api/v1/domains/nope/passive", token=root, body={})
    assert (status, answer) == (404, {"error": "no domain named 'nope'", "field": None})
    status, _, answer = api.call("PUT", path, token=root, raw=b"[1]")
    assert (status, answer) == (400, {"error": "the body must be a JSON object", "field": None})
    status, _, answer = api.call("PUT", path, token=root, body={"port": "1-2"})
    assert (status, answer) == (400, {"error": "unknown field 'port': the passive settings are address, ports, "
                                               "advertised_ports and overrides", "field": "port"})
    status, _, answer = api.call("PUT", path, token=root, body={"ports": 40000})
    assert (status, answer) == (400, {"error": "'ports' must be a string or null", "field": "ports"})
    status, _, answer = api.call("PUT", path, token=root, body={"overrides": [{"networks": "10.0.0.0/8"}]})
    assert status == 400 and answer["field"] == "overrides", answer

    # Refused by the loader, with its words (file, line, key) and the field at fault.
    status, _, answer = api.call("PUT", path, token=root, body={"ports": "70000-70010"})
    assert status == 422 and answer["field"] == "ports", answer
    assert re.fullmatch(rf"{re.escape(str(cfg))}:\d+: key 'passive.ports': .*", answer["error"]), answer
    status, _, answer = api.call("PUT", path, token=root, body={"address": "not an address!"})
    assert status == 422 and answer["field"] == "address", answer
    assert answer["error"].endswith("key 'passive.address': expected an IPv4 address or a host name (a 227 reply "
                                    "carries IPv4)"), answer
    status, _, answer = api.call("PUT", path, token=root, body={"advertised_ports": "41000-41001"})
    assert status == 422 and answer["field"] == "advertised_ports", answer
    status, _, answer = api.call("PUT", path, token=root,
                                 body={"overrides": [{"networks": ["10.0.0.0/8"], "address": "nowhere"}]})
    assert status == 422 and answer["field"] == "overrides", answer
    assert "expected an IPv4 address or \"local\"" in answer["error"], answer
    # Refused by the NAT lint: the range contains the listener's port.
    status, _, answer = api.call("PUT", path, token=root, body={"ports": f"{listen}-{listen + 5}"})
    assert (status, answer) == (422, {"error": f"passive.ports: {listen}-{listen + 5} contains the listener port "
                                               f"{listen} (127.0.0.1:{listen}): move the range",
                                      "field": "ports"})
    assert cfg.read_text() == before, "nothing refused is written"


def test_firewall_of_a_domain_in_every_format(make_nat_manager):
    srv, api = make_nat_manager(extra=DOMAINS)
    view = api.token("view")
    status, _, answer = api.call("GET", "/api/v1/domains/acme/firewall?format=nftables", token=view)
    assert status == 200, answer
    assert (answer["domain"], answer["format"]) == ("acme", "nftables"), answer
    # What `ftpsd firewall --domain acme --format nftables` prints, with the ports the listeners are bound to
    # (the file says port 0).
    for port in srv.ports:
        assert f'tcp dport {port} accept comment "FTP control (clear text)"' in answer["rules"], answer["rules"]
    cli = run([BIN, "firewall", "-c", str(srv.base / "ftpsd.toml"), "--domain", "acme", "--format",
               "nftables"]).stdout.decode()
    assert 'tcp dport 40340-40344 accept comment "passive data ports of domain acme"' in cli
    assert 'tcp dport 40340-40344 accept comment "passive data ports of domain acme"' in answer["rules"]
    status, _, answer = api.call("GET", "/api/v1/domains/acme/firewall", token=view)
    assert status == 200 and answer["format"] == "text", answer
    status, _, answer = api.call("GET", "/api/v1/domains/acme/firewall?format=pf", token=view)
    assert (status, answer) == (400, {"error": "unknown format 'pf': use text, nftables, iptables, ufw or firewalld",
                                      "field": "format"})
    status, _, answer = api.call("GET", "/api/v1/domains/nope/firewall", token=view)
    assert status == 404, answer


def test_check_a_domain_from_the_server_s_side(make_nat_manager):
    srv, api = make_nat_manager()
    # Another program listens on a port of the range.
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # over a TIME_WAIT of an earlier test
    squatter.bind(("127.0.0.1", RANGE_A[0]))
    squatter.listen(1)
    try:
        status, _, answer = api.call("POST", "/api/v1/domains/default/check", token=api.token("op"))
    finally:
        squatter.close()
    assert status == 200, answer
    checks = {c["check"]: c for c in answer["checks"]}
    assert answer["domain"] == "default"
    for c in answer["checks"]:
        assert set(c) == {"check", "verdict", "detail", "fix"} and c["verdict"] in ("ok", "warning", "error"), c
    listener = checks[f"listener 127.0.0.1:{srv.ports[0]}"]
    assert (listener["verdict"], listener["detail"]) == ("ok", "listening (clear FTP control connections)")
    ports = checks["passive ports"]
    assert ports["verdict"] == "warning", ports
    assert ports["detail"] == (f"{RANGE_A[0]}-{RANGE_A[1]}: 9 free, 0 in use by sessions, 1 used by another "
                               f"program ({RANGE_A[0]})"), ports
    assert ports["fix"] == "check `ss -ltn` for listeners inside passive.ports and move the range"
    address = checks["passive address"]
    assert address["verdict"] == "warning" and address["detail"].startswith(
        "127.0.0.1 is a loopback address: only clients that can reach it directly"), address
    assert checks["NAT lint: passive.address"]["verdict"] == "warning"

    status, _, answer = api.call("POST", "/api/v1/domains/default/check", token=api.token("view"))
    assert (status, answer) == (403, {"error": "checking a domain needs the role operator or admin", "field": None})
    status, _, answer = api.call("POST", "/api/v1/domains/nope/check", token=api.token("op"))
    assert (status, answer) == (404, {"error": "no domain named 'nope'", "field": None})


def test_revisions_list_text_diff_and_their_errors(make_nat_manager):
    srv, api = make_nat_manager()
    cfg = srv.base / "ftpsd.toml"
    original = cfg.read_text()
    root, view = api.token("root"), api.token("view")
    for ports in ("40380-40389", "40390-40399"):
        status, _, answer = api.call("PUT", "/api/v1/domains/default/passive", token=root, body={"ports": ports})
        assert status == 200, answer
    listed = api.call("GET", "/api/v1/config/revisions", token=view)[2]["revisions"]
    assert [r["number"] for r in listed] == [1, 2], listed
    assert listed[0]["size"] == len(original.encode())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed[0]["saved"]), listed
    status, _, answer = api.call("GET", "/api/v1/config/revisions/1", token=view)
    assert status == 200 and answer["text"] == original and answer["number"] == 1, answer
    status, _, answer = api.call("GET", "/api/v1/config/diff?from=1&to=2", token=view)
    assert status == 200, answer
    assert answer["diff"].startswith(f"--- {cfg} (revision 1)\n+++ {cfg} (revision 2)\n@@ "), answer
    assert f'-ports = "{RANGE_A[0]}-{RANGE_A[1]}"' in answer["diff"] and '+ports = "40380-40389"' in answer["diff"]
    status, _, answer = api.call("GET", "/api/v1/config/diff?from=1&to=current", token=view)
    assert '+ports = "40390-40399"   # forwarded by the router' in answer["diff"], answer
    assert api.call("GET", "/api/v1/config/diff?from=1", token=view)[2] == answer

    for query, error, field in (("", "from must be a revision number", "from"),
                                ("?from=x", "from must be a revision number", "from"),
                                ("?from=1&to=next", 'to must be a revision number or "current"', "to")):
        status, _, answer = api.call("GET", f"/api/v1/config/diff{query}", token=view)
        assert (status, answer) == (400, {"error": error, "field": field}), query
    status, _, answer = api.call("GET", "/api/v1/config/diff?from=9", token=view)
    assert (status, answer) == (404, {"error": f"no revision 9 of {cfg}", "field": "from"})
    status, _, answer = api.call("GET", "/api/v1/config/revisions/9", token=view)
    assert (status, answer) == (404, {"error": f"no revision 9 of {cfg}", "field": None})
    assert api.call("GET", "/api/v1/config/revisions")[0] == 401

    status, _, answer = api.call("POST", "/api/v1/config/revisions/1/restore", token=api.token("op"))
    assert (status, answer) == (403, {"error": "restoring a revision needs the role admin", "field": None})
    status, _, answer = api.call("POST", "/api/v1/config/revisions/9/restore", token=root)
    assert (status, answer) == (404, {"error": f"no revision 9 of {cfg}", "field": None})
    # A revision that no longer passes the check (its users file is gone) is refused with the check's words.
    (srv.base / "users.toml").rename(srv.base / "users.moved")
    status, _, answer = api.call("POST", "/api/v1/config/revisions/1/restore", token=root)
    assert status == 422 and str(srv.base / "users.toml") in answer["error"], answer
    (srv.base / "users.moved").rename(srv.base / "users.toml")
    status, _, answer = api.call("POST", "/api/v1/config/revisions/1/restore", token=root)
    assert status == 200 and answer["applied"] and answer["revision"] == 3, answer
    assert cfg.read_text() == original
