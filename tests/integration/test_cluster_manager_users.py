"""[cluster]: the Manager's user routes work on the database's users table (README "Users in the database"):
a user made through one node's Manager logs in on another node, a change made on that node applies to
the next login everywhere, a disabled or deleted user's sessions end on every node (421), the refusals
are the file's (422 with the field, 404, 409), and a database that is down is a 503 that says so.
Admin accounts made through the Manager sign in on every node; the file's keep working without the
database. Certificate logins and a user's own tls_required before PASS read the database's record."""
import ftplib
import re

import pytest

from helpers import TIMEOUT, Control, send, wait_for
from postgres import postgres  # noqa: F401 (the module's PostgreSQL fixture)
from test_admin_api import make_manager  # noqa: F401 (a fixture)
from test_cluster_nodes import make_node, session_of  # noqa: F401 (a fixture)
from test_cluster_users import cluster_table, import_users
from test_tls_certs import connect_with, pki  # noqa: F401 (a fixture)
from tls_helpers import make_tls_server  # noqa: F401 (a fixture)

USERS = "/api/v1/domains/default/users"
ENDED = "^421 Session ended by the administrator."
UNREACHABLE = "the cluster database is unreachable: "


def ftp_login(srv, user, password):
    ftp = ftplib.FTP()
    ftp.connect(srv.host, srv.port, timeout=TIMEOUT)
    ftp.login(user, password)
    return ftp


def login_refused(srv, user, password):
    ftp = ftplib.FTP()
    ftp.connect(srv.host, srv.port, timeout=TIMEOUT)
    try:
        with pytest.raises(ftplib.error_perm) as e:
            ftp.login(user, password)
    finally:
        ftp.close()
    return str(e.value)


def ended(ftp):
    """True once the session's next command gets the administrator's 421."""
    try:
        ftp.voidcmd("NOOP")
        return False
    except ftplib.error_temp as e:
        assert re.match(ENDED, str(e)), e
        return True


def carol(home, **more):
    return {"name": "carol", "password": "carol-pass-1", "root": str(home), **more}


def test_a_user_made_on_one_node_logs_in_on_another_and_changes_reach_every_node(make_node, postgres,  # noqa: F811
                                                                                  tmp_path):
    database = postgres.new_database()
    a, api_a = make_node("node-a", database)
    b, api_b = make_node("node-b", database)
    root_a, root_b = api_a.token("root"), api_b.token("root")
    home = tmp_path / "carol-home"
    home.mkdir()

    # The users file's alice and bob are not the database's users.
    status, r, answer = api_a.call("GET", USERS, token=api_a.token("view"))
    assert (status, answer) == (200, {"domain": "default", "users": []}), answer
    assert re.fullmatch(r'"d[0-9a-f]{16}"', r.getheader("ETag")), r.getheader("ETag")
    empty_tag = r.getheader("ETag")

    status, r, answer = api_a.call("POST", USERS, token=root_a, body=carol(home, write=True, download_rate="1M"),
                                   headers={"If-Match": empty_tag})
    assert status == 201, answer
    assert answer == {"user": {"name": "carol", "root": str(home), "write": True, "enabled": True,
                               "max_sessions": None, "download_rate": 1 << 20, "upload_rate": 0,
                               "tls_required": None, "tls_session_reuse": None, "certificate_name": None},
                      "applied": True, "revision": None}
    assert re.fullmatch(r'"u\d+"', r.getheader("ETag")), r.getheader("ETag")
    assert postgres.psql('SELECT name, "write", download_rate FROM users', database) == "carol|t|1048576"
    entry = api_a.audit(root_a)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("root", "user.add", "default/carol"), entry
    assert "+ password_hash = (hidden)" in entry["diff"] and "$" not in entry["diff"], entry

    # Node b knows carol at once.
    on_b = ftp_login(b, "carol", "carol-pass-1")
    assert on_b.pwd() == "/"
    on_b.quit()

    # Changed through node b (with the row's ETag): the next login on node a sees it.
    status, r, answer = api_b.call("GET", f"{USERS}/carol", token=root_b)
    assert status == 200 and answer["write"] is True, answer
    row_tag = r.getheader("ETag")
    status, r, answer = api_b.call("PUT", f"{USERS}/carol", token=root_b, headers={"If-Match": row_tag},
                                   body={"password": "carol-pass-2", "download_rate": None})
    assert status == 200, answer
    assert answer["user"]["download_rate"] == 0 and answer["applied"] is True, answer
    assert r.getheader("ETag") != row_tag
    assert login_refused(a, "carol", "carol-pass-1").startswith("530")
    ftp_login(a, "carol", "carol-pass-2").quit()
    entry = api_b.audit(root_b)[0]
    assert (entry["action"], entry["target"]) == ("user.change", "default/carol"), entry
    assert "- download_rate = 1048576\n" in entry["diff"], entry
    assert "+ password_hash = (hidden)\n" in entry["diff"] and "$" not in entry["diff"], entry

    # The ETag read before that change is stale now, and so is the empty list's.
    for method, path, body, tag in (("PUT", f"{USERS}/carol", {"write": False}, row_tag),
                                    ("POST", USERS, carol(home, name="dave"), empty_tag)):
        status, _, answer = api_a.call(method, path, token=root_a, body=body, headers={"If-Match": tag})
        assert (status, answer) == (409, {
            "error": "the users of domain default changed since they were read (by another administrator, or on "
                     "another node); nothing was written: read them again and repeat the change",
            "field": None}), answer

    # Disabled through node b: carol's session on node a ends (node a takes the request at its next
    # heartbeat), and node a refuses her next login.
    on_a = ftp_login(a, "carol", "carol-pass-2")
    try:
        view_b = api_b.token("view")
        assert wait_for(lambda: session_of(api_b, view_b, "node-a", user="carol") is not None, 15)
        status, _, answer = api_b.call("PUT", f"{USERS}/carol", token=root_b, body={"enabled": False})
        assert status == 200 and answer["user"]["enabled"] is False, answer
        assert wait_for(lambda: ended(on_a), 15), "carol's session on node a did not end"
    finally:
        on_a.close()
    assert login_refused(a, "carol", "carol-pass-2").startswith("530")

    # Enabled again, then deleted through node b while she is logged in there: her session ends at once.
    status, _, answer = api_a.call("PUT", f"{USERS}/carol", token=root_a, body={"enabled": True})
    assert status == 200, answer
    on_b = ftp_login(b, "carol", "carol-pass-2")
    try:
        status, r, answer = api_b.call("DELETE", f"{USERS}/carol", token=root_b)
        assert (status, answer) == (200, {"name": "carol", "deleted": True, "applied": True, "revision": None})
        assert wait_for(lambda: ended(on_b), 15)
    finally:
        on_b.close()
    assert login_refused(a, "carol", "carol-pass-2").startswith("530")
    assert postgres.psql("SELECT count(*) FROM users", database) == "0"
    entry = api_b.audit(root_b)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("root", "user.remove", "default/carol"), entry


def test_the_database_refuses_as_the_file_does(make_node, postgres, tmp_path):  # noqa: F811
    database = postgres.new_database()
    a, api = make_node("node-a", database)
    root = api.token("root")
    home = tmp_path / "carol-home"
    home.mkdir()
    status, _, answer = api.call("POST", USERS, token=root, body=carol(home))
    assert status == 201, answer
    refusals = [
        ("POST", USERS, carol(home), 409, "user 'carol' already exists in domain default", None),
        ("POST", USERS, carol(home, name="bad name"), 422, "'name' must be 1 to 128 letters, digits or _ - . @",
         "name"),
        ("POST", USERS, carol("relative/home", name="dave"), 422,
         "'root' must be an absolute path (the users of the cluster database have absolute roots)", "root"),
        ("POST", USERS, carol(tmp_path / "nowhere", name="dave"), 422, f"'root': no folder {tmp_path / 'nowhere'}",
         "root"),
        ("POST", USERS, {"name": "dave", "root": str(home)}, 422, "'password' is required", "password"),
        ("PUT", f"{USERS}/carol", {"max_sessions": -1}, 422,
         "'max_sessions' must be a number from 0 to 1000000, or null", "max_sessions"),
        ("PUT", f"{USERS}/carol", {"colour": "blue"}, 422, "unknown field 'colour'", "colour"),
        ("PUT", f"{USERS}/nobody", {"write": True}, 404, "no user 'nobody' in domain default", None),
        ("DELETE", f"{USERS}/nobody", None, 404, "no user 'nobody' in domain default", None),
        ("GET", f"{USERS}/nobody", None, 404, "no user 'nobody' in domain default", None),
        ("GET", "/api/v1/domains/nowhere/users", None, 404, "no domain named 'nowhere'", None),
    ]
    for method, path, body, status, error, field in refusals:
        got, _, answer = api.call(method, path, token=root, body=body)
        assert (got, answer) == (status, {"error": error, "field": field}), (method, path, body)
    assert postgres.psql("SELECT string_agg(name, ',') FROM users", database) == "carol"
    status, _, answer = api.call("POST", USERS, token=api.token("op"), body=carol(home, name="dave"))
    assert (status, answer) == (403, {"error": "changing users needs the role admin", "field": None})


def test_without_the_database_the_user_routes_answer_503(make_node, postgres, tmp_path):  # noqa: F811
    database = postgres.new_database()
    a, api = make_node("node-a", database)
    root = api.token("root")
    home = tmp_path / "carol-home"
    home.mkdir()
    postgres.stop()
    try:
        for method, path, body in (("GET", USERS, None), ("GET", f"{USERS}/carol", None),
                                   ("POST", USERS, carol(home)), ("PUT", f"{USERS}/carol", {"write": True}),
                                   ("DELETE", f"{USERS}/carol", None)):
            status, _, answer = api.call(method, path, token=root, body=body)
            assert status == 503, (method, path, answer)
            assert answer["error"].startswith(UNREACHABLE) and answer["field"] is None, answer
    finally:
        postgres.start()
    status, _, answer = api.call("POST", USERS, token=root, body=carol(home))
    assert status == 201, answer
    ftp_login(a, "carol", "carol-pass-1").quit()


ADMINS = "/api/v1/admins"
FILE_ADMINS = [{"name": n, "role": r, "source": "file", "created": None, "created_by": None}
               for n, r in (("op", "operator"), ("root", "admin"), ("view", "viewer"))]


def sign_in(api, name, password):
    return api.call("POST", "/api/v1/auth/token", body={"name": name, "password": password})


def test_an_admin_account_made_on_one_node_signs_in_on_another(make_node, postgres):  # noqa: F811
    database = postgres.new_database()
    a, api_a = make_node("node-a", database)
    b, api_b = make_node("node-b", database)
    root_a = api_a.token("root")

    status, _, answer = api_a.call("POST", ADMINS, token=root_a,
                                   body={"name": "carol", "password": "carol-admin-1", "role": "operator"})
    assert (status, answer) == (201, {"admin": {"name": "carol", "role": "operator", "source": "database"}})
    assert postgres.psql("SELECT name, role, created_by FROM admins", database) == "carol|operator|root"
    assert postgres.psql("SELECT password_hash LIKE '$y$%' FROM admins", database) == "t"
    entry = api_a.audit(root_a)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("root", "admin.add", "carol (role operator)")

    # Node b signs carol in, with her role; a wrong password is refused as for any account.
    status, _, answer = sign_in(api_b, "carol", "carol-admin-1")
    assert status == 200 and answer["role"] == "operator", answer
    carol_b = answer["token"]
    status, _, answer = sign_in(api_a, "carol", "carol-admin-1")
    assert status == 200, answer
    carol_a = answer["token"]
    assert api_b.call("GET", "/api/v1/sessions", token=carol_b)[0] == 200
    assert sign_in(api_b, "carol", "wrong-one")[:3:2] == (401, {"error": "wrong name or password", "field": None})

    # Listed on any node after the file's accounts; only for admins.
    status, _, answer = api_b.call("GET", ADMINS, token=api_b.token("root"))
    assert status == 200, answer
    assert answer["cluster"] is True and answer["admins"][:3] == FILE_ADMINS, answer
    listed = answer["admins"][3:]
    assert [(x["name"], x["role"], x["source"], x["created_by"]) for x in listed] == \
        [("carol", "operator", "database", "root")], answer
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed[0]["created"]), listed
    status, _, answer = api_b.call("GET", ADMINS, token=carol_b)
    assert (status, answer) == (403, {"error": "listing admin accounts needs the role admin", "field": None})

    refusals = [
        ({"name": "root", "password": "x", "role": "admin"}, 409, "admin 'root' already exists in admin.users_file",
         None),
        ({"name": "carol", "password": "x", "role": "admin"}, 409, "admin 'carol' already exists", None),
        ({"name": "bad name", "password": "x", "role": "admin"}, 422,
         "'name' must be 1 to 64 letters, digits or _ - . @", "name"),
        ({"name": "dave", "password": "", "role": "admin"}, 422, "'password' must be a string that is not empty",
         "password"),
        ({"name": "dave", "password": "x", "role": "god"}, 422, "'role' must be \"admin\", \"operator\" or \"viewer\"",
         "role"),
        ({"name": "dave", "password": "x", "role": "admin", "colour": 1}, 422, "unknown field 'colour'", "colour"),
    ]
    for body, status, error, field in refusals:
        got, _, answer = api_a.call("POST", ADMINS, token=root_a, body=body)
        assert (got, answer) == (status, {"error": error, "field": field}), body

    # An admin of the database: it may not delete itself, nor the file's accounts; it deletes carol, who is
    # signed out on this node at once and can no longer sign in anywhere.
    status, _, answer = api_a.call("POST", ADMINS, token=root_a,
                                   body={"name": "dave", "password": "dave-admin-1", "role": "admin"})
    assert status == 201, answer
    status, _, answer = sign_in(api_b, "dave", "dave-admin-1")
    assert status == 200 and answer["role"] == "admin", answer
    dave_b = answer["token"]
    for name, status, error in (
            ("dave", 409, "you cannot delete your own account (dave): sign in as another admin"),
            ("root", 409, "admin 'root' is in admin.users_file: remove it there"),
            ("nobody", 404, "no admin account 'nobody'")):
        got, _, answer = api_b.call("DELETE", f"{ADMINS}/{name}", token=dave_b)
        assert (got, answer) == (status, {"error": error, "field": None}), name
    status, _, answer = api_b.call("DELETE", f"{ADMINS}/carol", token=dave_b)
    assert (status, answer) == (200, {"name": "carol", "deleted": True})
    assert api_b.call("GET", "/api/v1/sessions", token=carol_b)[0] == 401
    # Her token from node a is refused too: node a asks the database at each of her requests.
    status, _, answer = api_a.call("GET", "/api/v1/sessions", token=carol_a)
    assert (status, answer) == (401, {"error": "the account 'carol' no longer exists: sign in again", "field": None})
    assert sign_in(api_a, "carol", "carol-admin-1")[0] == 401
    entry = api_b.audit(dave_b)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("dave", "admin.remove", "carol")

    # With the database down the file's accounts still sign in; the database's cannot, and are told why.
    postgres.stop()
    try:
        status, _, answer = sign_in(api_a, "root", "root-secret")
        assert status == 200, answer
        status, _, answer = sign_in(api_a, "dave", "dave-admin-1")
        assert status == 503, answer
        assert answer["error"].startswith("the cluster database is unreachable: ") and answer["error"].endswith(
            "; only the accounts of admin.users_file can sign in until it is back"), answer
        status, _, answer = api_a.call("GET", ADMINS, token=api_a.token("root"))
        assert status == 200 and answer["admins"] == FILE_ADMINS, answer
        assert answer["cluster_error"].startswith("the cluster database is unreachable: "), answer
    finally:
        postgres.start()
    assert sign_in(api_a, "dave", "dave-admin-1")[0] == 200


def test_without_cluster_admin_accounts_are_the_files(make_manager):  # noqa: F811
    _, api = make_manager()
    root = api.token("root")
    status, _, answer = api.call("GET", ADMINS, token=root)
    assert (status, answer) == (200, {"cluster": False, "admins": FILE_ADMINS})
    status, _, answer = api.call("POST", ADMINS, token=root, body={"name": "carol", "password": "x", "role": "viewer"})
    assert (status, answer) == (409, {"error": "admin accounts are in admin.users_file without [cluster]: add one "
                                               "with `ftpsd admin add`", "field": None})
    status, _, answer = api.call("DELETE", f"{ADMINS}/root", token=root)
    assert (status, answer) == (409, {"error": "you cannot delete your own account (root): sign in as another admin",
                                      "field": None})
    status, _, answer = api.call("DELETE", f"{ADMINS}/view", token=root)
    assert (status, answer) == (409, {"error": "admin 'view' is in admin.users_file: remove it there", "field": None})


def test_certificate_logins_and_tls_required_before_pass_read_the_database(make_tls_server, pki,  # noqa: F811
                                                                           postgres):  # noqa: F811
    database = postgres.new_database()
    srv = make_tls_server(tls_extra=f'client_certificates = "optional"\nclient_ca = "{pki / "ca.pem"}"\n'
                                    'certificate_login = true', extra=cluster_table(postgres, database))
    import_users(srv)
    # The database says: alice's certificate is bob's, and bob logs in over TLS only. The users file
    # says neither.
    postgres.psql("UPDATE users SET certificate_name = 'bob' WHERE name = 'alice'", database)
    postgres.psql("UPDATE users SET tls_required = 'login' WHERE name = 'bob'", database)
    opened = []
    try:
        s, f, _ = connect_with(srv, pki, "bob")
        opened.append(s)
        assert send(s, f, "USER alice").startswith("232")
        assert send(s, f, "PWD").startswith('257 "/"')
        s, f, _ = connect_with(srv, pki, "alice")
        opened.append(s)
        reply = send(s, f, "USER alice")
        assert reply.startswith("530 ") and "certificate" in reply, reply
        with Control.to(srv) as c:  # the explicit TLS listener, still in clear
            assert c.cmd("USER bob").strip() == "530 Login only over TLS: send AUTH TLS first."
            assert c.cmd("USER alice").startswith("331")
        # The database down: a certificate login of a user this node has no record of cannot be decided.
        postgres.stop()
        try:
            s, f, _ = connect_with(srv, pki, "bob")
            opened.append(s)
            assert send(s, f, "USER alice").startswith("421 The user database is unreachable"), srv.log()[-2000:]
        finally:
            postgres.start()
    finally:
        for s in opened:
            s.close()
