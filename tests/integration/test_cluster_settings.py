"""[cluster]: what the nodes share through the database besides users and bans (README "Shared settings"
and "The audit log in a cluster"): the Manager's audit log of every node, listed by any node, and the
database going away and coming back."""
import pytest

from helpers import wait_for
from postgres import postgres  # noqa: F401 (the module's PostgreSQL fixture)
from test_admin_api import make_manager  # noqa: F401 (a fixture)
from test_cluster_users import cluster_table


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
