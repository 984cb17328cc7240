"""The Manager's users routes: the domain's users file changed line by line (revision kept, a file edited
by hand meanwhile refused), applied at once: a new user logs in with ftplib, a deleted or disabled one
cannot, and the running sessions of a deleted or disabled user end with 421."""
import difflib
import ftplib
import json
import re

import pytest

from conftest import PASSWORDS
from helpers import Control, wait_for
from test_admin_api import TIMEOUT, make_manager  # noqa: F401 (a fixture)

USERS = "/api/v1/domains/default/users"


def expected(srv, name, write):
    return {"name": name, "root": str(srv.root(name)), "write": write, "enabled": True, "max_sessions": None,
            "download_rate": 0, "upload_rate": 0, "tls_required": None, "tls_session_reuse": None,
            "certificate_name": None}


def ftp_login(srv, user, password, source="127.0.0.1"):
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT, source_address=(source, 0))
    ftp.login(user, password)
    return ftp


def refused_login(srv, user, password):
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    with pytest.raises(ftplib.error_perm) as e:
        ftp.login(user, password)
    ftp.close()
    return str(e.value)


@pytest.fixture
def manager(make_manager):
    return make_manager()


def test_a_viewer_lists_and_reads_users_without_their_hashes(manager):
    srv, api = manager
    view = api.token("view")
    status, r, answer = api.call("GET", USERS, token=view)
    assert status == 200, answer
    assert answer == {"domain": "default",
                      "users": [expected(srv, "alice", True), expected(srv, "bob", False)]}
    assert re.fullmatch(r'"[0-9a-f]{16}"', r.getheader("ETag")), r.getheader("ETag")
    status, _, answer = api.call("GET", f"{USERS}/bob", token=view)
    assert (status, answer) == (200, expected(srv, "bob", False))
    status, _, answer = api.call("GET", f"{USERS}/carol", token=view)
    assert (status, answer) == (404, {"error": "no user 'carol' in domain default", "field": None})
    status, _, answer = api.call("GET", "/api/v1/domains/nowhere/users", token=view)
    assert (status, answer) == (404, {"error": "no domain named 'nowhere'", "field": None})
    assert api.call("GET", USERS)[0] == 401


def test_a_user_created_through_the_api_logs_in_at_once_and_lands_in_its_root(manager, tmp_path):
    srv, api = manager
    home = tmp_path / "carol-home"
    home.mkdir()
    (home / "hello.txt").write_text("hi")
    body = {"name": "carol", "password": "carol-pass-1", "root": str(home), "write": True,
            "download_rate": "1M", "max_sessions": 3}
    for who in ("view", "op"):
        status, _, answer = api.call("POST", USERS, token=api.token(who), body=body)
        assert (status, answer) == (403, {"error": "changing users needs the role admin", "field": None})
    root = api.token("root")
    status, _, answer = api.call("POST", USERS, token=root, body=body)
    assert status == 201, answer
    assert answer["user"] == {"name": "carol", "root": str(home), "write": True, "enabled": True,
                              "max_sessions": 3, "download_rate": 1 << 20, "upload_rate": 0,
                              "tls_required": None, "tls_session_reuse": None, "certificate_name": None}
    assert answer["applied"] is True and answer["revision"] == 1, answer
    text = (srv.base / "users.toml").read_text()
    assert re.search(r'\[\[users\]\]\nname = "carol"\npassword_hash = "\$y\$[^"]+"\nroot = "' + re.escape(str(home))
                     + r'"\nwrite = true\nmax_sessions = 3\ndownload_rate = "1M"\n$', text), text
    assert "carol-pass-1" not in text
    kept = srv.base / "users.toml.revisions" / "1.toml"
    assert "carol" not in kept.read_text() and 'name = "alice"' in kept.read_text()
    ftp = ftp_login(srv, "carol", "carol-pass-1")
    assert ftp.pwd() == "/"
    assert ftp.nlst() == ["hello.txt"]
    ftp.quit()
    entry = api.audit(root)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("root", "user.add", "default/carol"), entry
    assert '+ name = "carol"' in entry["diff"] and "$y$" not in entry["diff"], entry
    assert "password_hash = (hidden)" in entry["diff"], entry
    assert "carol-pass-1" not in srv.log() and "$y$" not in srv.log()
    status, _, answer = api.call("GET", f"{USERS}/carol", token=api.token("view"))
    assert status == 200 and answer["max_sessions"] == 3


@pytest.mark.parametrize("body, status, error, field", [
    ({"name": "alice", "password": "x", "root": "/"}, 409, "user 'alice' already exists in domain default", None),
    ({"password": "x", "root": "/"}, 422, "'name' is required", "name"),
    ({"name": "a b", "password": "x", "root": "/"}, 422,
     "'name' must be 1 to 128 letters, digits or _ - . @", "name"),
    ({"name": "carol", "root": "/"}, 422, "'password' is required", "password"),
    ({"name": "carol", "password": "", "root": "/"}, 422, "'password' must be a string that is not empty",
     "password"),
    ({"name": "carol", "password": "x"}, 422, "'root' is required", "root"),
    ({"name": "carol", "password": "x", "root": "/no/such/folder"}, 422, "'root': no folder /no/such/folder",
     "root"),
    ({"name": "carol", "password": "x", "root": "/", "write": "yes"}, 422, "'write' must be true or false",
     "write"),
    ({"name": "carol", "password": "x", "root": "/", "max_sessions": -1}, 422,
     "'max_sessions' must be a number from 0 to 1000000, or null", "max_sessions"),
    ({"name": "carol", "password": "x", "root": "/", "upload_rate": "fast"}, 422,
     "'upload_rate' must be bytes per second such as \"500k\", \"10M\" or 0, or null", "upload_rate"),
    ({"name": "carol", "password": "x", "root": "/", "tls_required": "always"}, 422,
     "'tls_required' must be \"none\", \"login\" or \"all\", or null", "tls_required"),
    ({"name": "carol", "password": "x", "root": "/", "tls_session_reuse": 1}, 422,
     "'tls_session_reuse' must be \"off\", \"report\" or \"require\", or null", "tls_session_reuse"),
    ({"name": "carol", "password": "x", "root": "/", "password_hash": "$6$x"}, 422,
     "unknown field 'password_hash'", "password_hash"),
])
def test_a_refused_new_user_gets_the_field_at_fault_and_nothing_is_written(manager, body, status, error, field):
    srv, api = manager
    before = (srv.base / "users.toml").read_text()
    got, _, answer = api.call("POST", USERS, token=api.token("root"), body=body)
    assert (got, answer) == (status, {"error": error, "field": field})
    assert (srv.base / "users.toml").read_text() == before
    assert not (srv.base / "users.toml.revisions").exists()


def test_malformed_bodies_and_a_domain_without_users_file(make_manager, tmp_path):
    srv, api = make_manager(extra=f'''[[domains]]
name = "acme"
hosts = ["ftp.acme.test"]
[domains.users]
anonymous = true
anonymous_root = "{tmp_path}"
''')
    root = api.token("root")
    status, _, answer = api.call("POST", USERS, token=root, raw=b"[1]")
    assert (status, answer) == (400, {"error": "the body must be a JSON object", "field": None})
    status, _, answer = api.call("PUT", f"{USERS}/alice", token=root, raw=b"{")
    assert status == 400, answer
    error = "domain acme has no users file (users.file): set one in the configuration first"
    status, _, answer = api.call("GET", "/api/v1/domains/acme/users", token=root)
    assert (status, answer) == (409, {"error": error, "field": None})
    status, _, answer = api.call("POST", "/api/v1/domains/acme/users", token=root,
                                 body={"name": "x", "password": "x", "root": "/"})
    assert (status, answer) == (409, {"error": error, "field": None})


def test_put_changes_only_its_lines_and_a_new_password_works_at_once(manager):
    srv, api = manager
    users = srv.base / "users.toml"
    users.write_text("# our users\n" + users.read_text().replace('name = "alice"', 'name = "alice"  # the boss'))
    root = api.token("root")
    status, r, _ = api.call("GET", USERS, token=root)
    etag = r.getheader("ETag")
    before = users.read_text()
    status, _, answer = api.call("PUT", f"{USERS}/alice", token=root,
                                 body={"write": False, "upload_rate": 2048, "password": "alice-new-1"},
                                 headers={"If-Match": etag})
    assert status == 200, answer
    assert answer["user"]["write"] is False and answer["user"]["upload_rate"] == 2048, answer
    after = users.read_text()
    diff = [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d[0] in "+-"]
    assert [d[:2] + d[2:].split('"')[0] for d in diff] == [
        "- password_hash = ", "+ password_hash = ", "- write = true", "+ write = false", "+ upload_rate = 2048"], diff
    assert diff[1].startswith('+ password_hash = "$y$'), diff
    assert after.startswith("# our users\n") and 'name = "alice"  # the boss' in after
    assert refused_login(srv, "alice", PASSWORDS["alice"]) == "530 Login incorrect."
    ftp_login(srv, "alice", "alice-new-1").quit()
    # A field given as null goes back to its default (its line goes).
    status, _, answer = api.call("PUT", f"{USERS}/alice", token=root, body={"upload_rate": None, "write": None})
    assert status == 200 and answer["user"]["upload_rate"] == 0 and answer["user"]["write"] is False, answer
    assert "upload_rate" not in users.read_text() and "write = false" not in users.read_text().split("bob")[0]
    for body, error, field in (({"name": "alicia"}, "'name' cannot change: add a new user and delete this one",
                                "name"),
                               ({"root": None}, "'root' is required", "root"),
                               ({"password": None}, "'password' must be a string that is not empty", "password")):
        status, _, answer = api.call("PUT", f"{USERS}/alice", token=root, body=body)
        assert (status, answer) == (422, {"error": error, "field": field})
    status, _, answer = api.call("PUT", f"{USERS}/carol", token=root, body={"write": True})
    assert (status, answer) == (404, {"error": "no user 'carol' in domain default", "field": None})
    entry = api.audit(root)[0]
    assert (entry["action"], entry["target"]) == ("user.change", "default/alice"), entry
    assert "alice-new-1" not in srv.log()


def test_a_file_edited_by_hand_since_it_was_read_is_not_overwritten(manager):
    srv, api = manager
    users = srv.base / "users.toml"
    root = api.token("root")
    etag = api.call("GET", f"{USERS}/bob", token=root)[1].getheader("ETag")
    users.write_text(users.read_text() + "# edited by hand\n")
    edited = users.read_text()
    for method, path, body in (("PUT", f"{USERS}/bob", {"write": True}), ("DELETE", f"{USERS}/bob", None),
                               ("POST", USERS, {"name": "carol", "password": "x", "root": "/"})):
        status, _, answer = api.call(method, path, token=root, body=body, headers={"If-Match": etag})
        assert (status, answer) == (409, {
            "error": f"{users} changed since it was read (edited by hand meanwhile?); nothing was written: "
                     "read it again and repeat the change", "field": None})
    assert users.read_text() == edited


def test_a_disabled_user_cannot_log_in_and_its_sessions_end(manager):
    srv, api = manager
    running = ftp_login(srv, "alice", PASSWORDS["alice"])
    other = ftp_login(srv, "bob", PASSWORDS["bob"])
    root = api.token("root")
    status, _, answer = api.call("PUT", f"{USERS}/alice", token=root, body={"enabled": False})
    assert status == 200 and answer["user"]["enabled"] is False, answer
    assert "enabled = false" in (srv.base / "users.toml").read_text()
    with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
        running.voidcmd("NOOP")
    running.close()
    assert other.voidcmd("NOOP").startswith("200")
    assert refused_login(srv, "alice", PASSWORDS["alice"]) == "530 This account is disabled."
    # A wrong password of a disabled account says no more than any wrong password.
    assert refused_login(srv, "alice", "guess") == "530 Login incorrect."
    status, _, answer = api.call("PUT", f"{USERS}/alice", token=root, body={"enabled": True})
    assert status == 200 and answer["user"]["enabled"] is True
    ftp_login(srv, "alice", PASSWORDS["alice"]).quit()
    other.quit()


def test_a_deleted_user_s_session_gets_421_and_it_cannot_log_in_again(manager):
    srv, api = manager
    running = ftp_login(srv, "alice", PASSWORDS["alice"])
    # Connected before the change, logging in after it: the users as they are now count.
    waiting = Control.to(srv)
    root = api.token("root")
    status, _, answer = api.call("DELETE", f"{USERS}/alice", token=api.token("op"))
    assert (status, answer) == (403, {"error": "changing users needs the role admin", "field": None})
    status, _, answer = api.call("DELETE", f"{USERS}/alice", token=root)
    assert (status, answer) == (200, {"name": "alice", "deleted": True, "applied": True, "revision": 1})
    with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
        running.voidcmd("NOOP")
    running.close()
    assert refused_login(srv, "alice", PASSWORDS["alice"]) == "530 Login incorrect."
    waiting.expect("USER alice", "331")
    assert waiting.cmd(f"PASS {PASSWORDS['alice']}") == "530 Login incorrect.\r\n"
    waiting.close()
    text = (srv.base / "users.toml").read_text()
    assert "alice" not in text and 'name = "bob"' in text
    ftp_login(srv, "bob", PASSWORDS["bob"]).quit()
    status, _, answer = api.call("DELETE", f"{USERS}/alice", token=root)
    assert (status, answer) == (404, {"error": "no user 'alice' in domain default", "field": None})
    entry = api.audit(root)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("root", "user.remove", "default/alice")
    assert "$6$" not in entry["diff"] and '- name = "alice"' in entry["diff"], entry
    assert wait_for(lambda: api.call("GET", "/api/v1/sessions", token=root)[2]["sessions"] == [])
    assert json.dumps(api.call("GET", USERS, token=root)[2]).count('"name"') == 1
