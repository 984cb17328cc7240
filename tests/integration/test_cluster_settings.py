"""[cluster]: what the nodes share through the database besides users and bans (README "Shared settings"
and "The audit log in a cluster"): the Manager's audit log of every node, listed by any node; a domain's
shared passive settings changed through one node's Manager and advertised by the other, over each node's
own ports; and the database going away and coming back."""
import re
import signal
import time

import pytest

from conftest import SANITIZED, Server
from helpers import login, wait_for
from postgres import postgres  # noqa: F401 (the module's PostgreSQL fixture)
from test_admin_api import Api, admin_url, make_manager  # noqa: F401 (a fixture)
from test_cluster_users import cluster_table, import_users


@pytest.fixture
def node(make_manager, postgres):  # noqa: F811
    """node(database, name, extra="") -> (Server, Api): ftpsd with the Manager and [cluster] on `database`."""
    def make(database, name, extra=""):
        return make_manager(extra=extra + cluster_table(postgres, database, node=name))
    return make


def ban(api, address):
    status, _, answer = api.call("POST", "/api/v1/bans", token=api.token("op"),
                                 body={"address": address, "duration": "10m"})
    assert status == 201, answer


def audit(api, limit=20):
    """(status, answer) of GET /audit."""
    status, _, answer = api.call("GET", f"/api/v1/audit?limit={limit}", token=api.token("view"))
    assert status == 200, answer
    return answer


def actions(answer):
    return [(e["node"], e["who"], e["action"], e["target"]) for e in answer["entries"]]


def audit_rows(postgres, database):  # noqa: F811
    return postgres.psql("SELECT node, who, action, target FROM audit ORDER BY id", database)


def test_any_node_lists_the_audit_entries_of_every_node_newest_first(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (_, api_a), (_, api_b) = node(database, "node-a"), node(database, "node-b")
    ban(api_b, "127.0.0.41")
    ban(api_a, "127.0.0.42")
    ban(api_b, "127.0.0.43")
    expected = [("node-b", "op", "ban.add", "127.0.0.43 for 10m"), ("node-a", "op", "ban.add", "127.0.0.42 for 10m"),
                ("node-b", "op", "ban.add", "127.0.0.41 for 10m")]
    assert wait_for(lambda: actions(audit(api_a)) == expected, 15), audit(api_a)
    answer = audit(api_b)
    assert actions(answer) == expected and "cluster_error" not in answer, answer
    assert actions(audit(api_a, limit=2)) == expected[:2]
    entry = audit(api_a)["entries"][0]
    assert set(entry) == {"time", "who", "address", "action", "target", "diff", "node"}, entry
    assert entry["address"] == "127.0.0.1"
    assert audit_rows(postgres, database) == ("node-b|op|ban.add|127.0.0.41 for 10m\n"
                                              "node-a|op|ban.add|127.0.0.42 for 10m\n"
                                              "node-b|op|ban.add|127.0.0.43 for 10m")


def test_while_the_database_is_down_a_node_lists_its_own_entries_and_writes_them_when_it_is_back(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, api_a), (_, api_b) = node(database, "node-a"), node(database, "node-b")
    ban(api_b, "127.0.0.44")
    ban(api_a, "127.0.0.45")
    assert wait_for(lambda: len(audit(api_a)["entries"]) == 2, 15)
    postgres.stop()
    try:
        ban(api_a, "127.0.0.46")
        answer = audit(api_a)
        assert answer["cluster_error"], answer
        # Only this node's own, each naming it; the file keeps them all.
        assert actions(answer) == [("node-a", "op", "ban.add", "127.0.0.46 for 10m"),
                                   ("node-a", "op", "ban.add", "127.0.0.45 for 10m")], answer
        assert wait_for(lambda: "cluster: the audit database is unreachable" in a.log(), 15), a.log()[-3000:]
    finally:
        postgres.start()
    expected = [("node-a", "op", "ban.add", "127.0.0.46 for 10m"), ("node-a", "op", "ban.add", "127.0.0.45 for 10m"),
                ("node-b", "op", "ban.add", "127.0.0.44 for 10m")]
    # The entry made meanwhile is written once the database is back, and every node lists it.
    assert wait_for(lambda: audit_rows(postgres, database).count("\n") == 2, 30), a.log()[-3000:]
    assert wait_for(lambda: actions(audit(api_b)) == expected, 15), audit(api_b)
    assert "cluster_error" not in audit(api_a)
    assert "cluster: the audit database is reachable again; entries made here meanwhile: 1" in a.log()


# --- shared passive settings

PASSIVE_A = '[passive]\nports = "30430-30434"\n'
PASSIVE_B = '[passive]\nports = "30440-30444"\n'


def pasv_of(srv):
    """The address and port of a PASV reply to a real client (ftplib) logged in on `srv`."""
    ftp = login(srv)
    try:
        reply = ftp.sendcmd("PASV")
        assert reply.startswith("227"), reply
        nums = [int(x) for x in re.search(r"\((\d+,\d+,\d+,\d+,\d+,\d+)\)", reply).group(1).split(",")]
        return ".".join(map(str, nums[:4])), nums[4] * 256 + nums[5]
    finally:
        ftp.close()


def put_passive(api, body, headers=None, query=""):
    status, r, answer = api.call("PUT", f"/api/v1/domains/default/passive{query}", token=api.token("root"),
                                 body=body, headers=headers)
    return status, r.getheader("ETag"), answer


def passive_of(api):
    status, _, answer = api.call("GET", "/api/v1/domains/default/passive", token=api.token("view"))
    assert status == 200, answer
    return answer


def restarted(srv):
    """The same node started again on its own files (a new Server on srv.base) -> (Server, Api)."""
    srv.stop()
    again = Server(srv.base, (srv.base / "ftpsd.toml").read_text(), (srv.base / "users.toml").read_text())
    return again, Api(admin_url(again), srv.base.parent / "cert.pem")


def test_a_shared_address_set_on_one_node_is_advertised_by_the_other_and_kept_there(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, api_a), (b, api_b) = node(database, "node-a", PASSIVE_A), node(database, "node-b", PASSIVE_B)
    import_users(a)
    assert pasv_of(b)[0] == "127.0.0.1"  # the control connection's address: none is set
    file_b = (b.base / "ftpsd.toml").read_text()
    file_a = (a.base / "ftpsd.toml").read_text()
    status, tag, answer = put_passive(api_a, {"address": "127.0.0.7"})
    assert status == 200, answer
    assert answer["applied"] is True and answer["diff"] == "" and tag, answer
    assert answer["shared_changes"] == {"address": {"from": "(this node's file)", "to": '"127.0.0.7"'}}, answer
    assert answer["passive"]["address"] == "127.0.0.7"
    assert answer["passive"]["shared"] == {"address": True, "ports": False, "advertised_ports": False,
                                           "overrides": False}, answer
    assert (a.base / "ftpsd.toml").read_text() == file_a, "a shared key is not written to the node's file"
    assert pasv_of(a)[0] == "127.0.0.7"
    # Node B: within 2 s (its poll runs every second), through its reload path; its file is unchanged.
    started = time.monotonic()
    assert wait_for(lambda: pasv_of(b)[0] == "127.0.0.7", 30), b.log()[-3000:]
    if not SANITIZED:
        assert time.monotonic() - started < 2.0 + 1.0
    address, port = pasv_of(b)
    assert 30440 <= port <= 30444, "B's own ports"
    assert (b.base / "ftpsd.toml").read_text() == file_b
    shown = passive_of(api_b)
    assert (shown["address"], shown["shared"]["address"], shown["shared"]["ports"]) == ("127.0.0.7", True, False)
    assert postgres.psql("SELECT domain, revision, settings::text, node FROM shared_passive", database) == \
        'default|1|{"address": "127.0.0.7"}|node-a'
    # A SIGHUP on B reads its file again and lays the shared values over it.
    b.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: b.log().count("configuration reloaded") >= 2, 30), b.log()[-3000:]
    assert pasv_of(b)[0] == "127.0.0.7"
    # So does a restart, at once.
    b, api_b = restarted(b)
    try:
        assert pasv_of(b)[0] == "127.0.0.7"
        # And while the database is away, a SIGHUP keeps the values last read.
        postgres.stop()
        try:
            b.proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: b.log().count("configuration reloaded") >= 1, 30), b.log()[-3000:]
            assert pasv_of(b)[0] == "127.0.0.7"
        finally:
            postgres.start()
    finally:
        b.stop()


def test_ports_set_through_a_node_stay_its_own(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, api_a), (b, api_b) = node(database, "node-a", PASSIVE_A), node(database, "node-b", PASSIVE_B)
    import_users(a)
    status, _, answer = put_passive(api_a, {"ports": "30435-30439", "address": "127.0.0.7"})
    assert status == 200, answer
    assert 'ports = "30435-30439"' in (a.base / "ftpsd.toml").read_text()
    assert '+ports = "30435-30439"' in answer["diff"], answer
    assert 30435 <= pasv_of(a)[1] <= 30439
    assert wait_for(lambda: pasv_of(b)[0] == "127.0.0.7", 30), b.log()[-3000:]
    assert 30440 <= pasv_of(b)[1] <= 30444
    assert passive_of(api_b)["ports"] == "30440-30444"
    assert postgres.psql("SELECT settings::text FROM shared_passive", database) == '{"address": "127.0.0.7"}'
    entry = api_a.audit(api_a.token("view"))[0]
    assert (entry["node"], entry["action"], entry["target"]) == ("node-a", "passive.update", "default"), entry
    assert 'shared passive.address of domain default (all nodes): (this node\'s file) -> "127.0.0.7"' in entry["diff"]
    assert '+ports = "30435-30439"' in entry["diff"], entry


def test_if_match_refuses_a_change_made_on_another_node_since(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, api_a), (b, api_b) = node(database, "node-a", PASSIVE_A), node(database, "node-b", PASSIVE_B)
    status, tag, answer = put_passive(api_a, {"address": "127.0.0.7"}, query="?dry_run=1")
    assert status == 200 and answer["applied"] is False and tag, answer
    assert postgres.psql("SELECT count(*) FROM shared_passive", database) == "0"
    status, _, answer = put_passive(api_b, {"address": "127.0.0.8"})
    assert status == 200, answer
    status, _, answer = put_passive(api_a, {"address": "127.0.0.7"}, headers={"If-Match": tag})
    assert status == 409, answer
    assert answer["error"] == (f"{a.base / 'ftpsd.toml'} or the domain's shared settings changed since you read "
                               "them (edited by hand, or changed on another node?); nothing was written: read them "
                               "again and repeat the change"), answer
    assert postgres.psql("SELECT settings::text, node FROM shared_passive", database) == '{"address": "127.0.0.8"}|node-b'
    # With the tag of now, it goes through.
    status, tag, answer = put_passive(api_a, {"address": "127.0.0.8"}, query="?dry_run=1")
    status, _, answer = put_passive(api_a, {"address": "127.0.0.7"}, headers={"If-Match": tag})
    assert status == 200, answer
    assert answer["passive"]["shared_revision"] == 2
    # A bad value is refused as without [cluster], with nothing written anywhere.
    status, _, answer = put_passive(api_a, {"address": "not an address!"})
    assert status == 422 and answer["field"] == "address", answer
    assert postgres.psql("SELECT revision FROM shared_passive", database) == "2"


def test_while_the_database_is_down_a_put_answers_503_and_changes_nothing(node, postgres):  # noqa: F811
    database = postgres.new_database()
    a, api_a = node(database, "node-a", PASSIVE_A)
    import_users(a)
    before = (a.base / "ftpsd.toml").read_text()
    assert pasv_of(a)[0] == "127.0.0.1"  # alice is in A's cache of logins while the database is away
    postgres.stop()
    try:
        for body in ({"address": "127.0.0.7"}, {"ports": "30435-30439"}):
            status, _, answer = put_passive(api_a, body)
            assert status == 503, answer
            assert answer["error"].startswith("the cluster database is unreachable ("), answer
            assert answer["error"].endswith("); nothing was changed: the passive settings cannot be changed until "
                                            "it is back"), answer
        assert (a.base / "ftpsd.toml").read_text() == before
        assert pasv_of(a)[0] == "127.0.0.1" and 30430 <= pasv_of(a)[1] <= 30434
    finally:
        postgres.start()
    status, _, answer = put_passive(api_a, {"address": "127.0.0.7"})
    assert status == 200, answer
