"""[cluster]: bans shared by the nodes through the database (README "Shared bans"): two ftpsd nodes
on one PostgreSQL (postgres.py), a ban after failed logins or by an operator on one refused by the
other, lifted everywhere from any node, kept across a restart, and the database going away and
coming back. The clients connect from their own loopback addresses (127.0.0.3x), never 127.0.0.1."""
import time

import pytest

from helpers import Control, login, wait_for
from postgres import postgres  # noqa: F401 (the module's PostgreSQL fixture)
from conftest import SANITIZED
from test_admin_api import make_manager  # noqa: F401 (a fixture)
from test_admin_bans import BANNED
from test_cluster_users import cluster_table, import_users

BANS = '[bans]\nmax_failures = 2\nlogin_delay = "0s"\nduration = "10m"\n'
# How long a ban may take to reach the other node: it is written at once and read every second.
SPREAD = 2.0


def state(srv, source):
    """'banned', 'served' (the greeting), or the unexpected first line."""
    c = Control.to(srv, greet=False, source=source)
    try:
        first = c.reply(timeout=10)
        if first == BANNED:
            return "banned" if c.closed_within(10) else "banned, but not closed"
        return "served" if first.startswith("220") else first
    finally:
        c.close()


def fail_logins(srv, source):
    """bans.max_failures (2) wrong passwords from `source`: the second one bans it."""
    with Control.to(srv, source=source) as c:
        c.expect("USER alice", "331")
        c.expect("PASS wrong-1", "530")
        c.expect("USER alice", "331")
        assert c.cmd("PASS wrong-2").startswith("421")


def time_until(predicate, timeout):
    """Seconds until predicate() held (polled), or None after `timeout`."""
    started = time.monotonic()
    if not wait_for(predicate, timeout, interval=0.02):
        return None
    return time.monotonic() - started


@pytest.fixture
def node(make_manager, postgres):  # noqa: F811
    """node(database, name) -> (Server, Api): ftpsd with the Manager, BANS and [cluster] on `database`."""
    def make(database, name):
        return make_manager(extra=BANS + cluster_table(postgres, database, node=name))
    return make


def bans_of(api):
    status, _, answer = api.call("GET", "/api/v1/bans", token=api.token("view"))
    assert status == 200, answer
    return [(b["address"], b["reason"], b.get("node")) for b in answer["bans"]]


def rows(postgres, database):  # noqa: F811
    return postgres.psql("SELECT network, reason, automatic, node FROM bans ORDER BY network", database)


def test_a_failure_ban_on_one_node_is_refused_by_the_other_and_lifted_from_it(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, api_a), (b, api_b) = node(database, "node-a"), node(database, "node-b")
    assert state(b, "127.0.0.31") == "served"
    fail_logins(a, "127.0.0.31")
    delay = time_until(lambda: state(b, "127.0.0.31") == "banned", 30)
    print(f"the ban reached the other node after {delay} s")
    assert delay is not None, b.log()[-3000:]
    if not SANITIZED:
        assert delay < SPREAD + 1.0, delay
    assert rows(postgres, database) == "127.0.0.31|failed logins|t|node-a"
    assert state(b, "127.0.0.32") == "served"
    assert bans_of(api_b) == [("127.0.0.31", "failed logins", "node-a")]
    assert bans_of(api_a) == [("127.0.0.31", "failed logins", "node-a")]
    # Lifted on B, the failure ban that A made ends on A too.
    status, _, answer = api_b.call("DELETE", "/api/v1/bans/127.0.0.31", token=api_b.token("op"))
    assert (status, answer) == (200, {"address": "127.0.0.31", "lifted": True})
    assert state(b, "127.0.0.31") == "served"
    assert wait_for(lambda: state(a, "127.0.0.31") == "served", 30), a.log()[-3000:]
    assert rows(postgres, database) == ""
    assert bans_of(api_a) == [] and bans_of(api_b) == []


def test_an_operator_ban_on_one_node_is_refused_by_the_other_and_lifted_there(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, api_a), (b, api_b) = node(database, "node-a"), node(database, "node-b")
    status, _, answer = api_b.call("POST", "/api/v1/bans", token=api_b.token("op"),
                                   body={"address": "127.0.0.32/31", "duration": "15m"})
    assert status == 201 and answer["node"] == "node-b", answer
    assert state(b, "127.0.0.33") == "banned"
    assert wait_for(lambda: state(a, "127.0.0.32") == "banned", 30), a.log()[-3000:]
    assert state(a, "127.0.0.33") == "banned" and state(a, "127.0.0.34") == "served"
    assert bans_of(api_a) == [("127.0.0.32/31", "banned by op", "node-b")]
    # Lifted on A, where it was never made: B lets the client in again.
    status, _, answer = api_a.call("DELETE", "/api/v1/bans/127.0.0.32%2F31", token=api_a.token("op"))
    assert (status, answer) == (200, {"address": "127.0.0.32/31", "lifted": True})
    assert state(a, "127.0.0.32") == "served"
    assert wait_for(lambda: state(b, "127.0.0.32") == "served", 30), b.log()[-3000:]
    assert state(b, "127.0.0.33") == "served"
    status, _, answer = api_b.call("DELETE", "/api/v1/bans/127.0.0.32%2F31", token=api_b.token("op"))
    assert (status, answer) == (404, {"error": "no ban on 127.0.0.32/31", "field": None})
    entries = api_a.audit(api_a.token("view"))
    assert [(e["who"], e["action"], e["target"]) for e in entries] == [("op", "ban.remove", "127.0.0.32/31")]


def test_a_restarted_node_keeps_refusing_a_banned_address(node, postgres):  # noqa: F811
    database = postgres.new_database()
    a, api_a = node(database, "node-a")
    fail_logins(a, "127.0.0.35")
    status, _, _ = api_a.call("POST", "/api/v1/bans", token=api_a.token("op"),
                              body={"address": "127.0.0.36", "duration": "1h"})
    assert status == 201
    assert wait_for(lambda: rows(postgres, database) ==
                    "127.0.0.35|failed logins|t|node-a\n127.0.0.36|banned by op|f|node-a", 15)
    a.stop()
    again, api_again = node(database, "node-a")
    # At once: the bans are read before the first client is accepted.
    assert state(again, "127.0.0.35") == "banned"
    assert state(again, "127.0.0.36") == "banned"
    assert state(again, "127.0.0.37") == "served"
    assert bans_of(api_again) == [("127.0.0.35", "failed logins", "node-a"), ("127.0.0.36", "banned by op", "node-a")]


def test_while_the_database_is_down_bans_apply_locally_and_are_shared_when_it_is_back(node, postgres):  # noqa: F811
    database = postgres.new_database()
    (a, _), (b, _) = node(database, "node-a"), node(database, "node-b")
    # alice logs in on A first: while the database is away A checks her password against its cache, so
    # wrong ones count as failed logins there (an uncached user would get 421, which counts nothing).
    import_users(a)
    login(a, "alice").quit()
    postgres.stop()
    try:
        assert wait_for(lambda: "cluster: the ban database is unreachable" in a.log(), 15), a.log()[-3000:]
        fail_logins(a, "127.0.0.38")
        assert state(a, "127.0.0.38") == "banned"
        assert state(b, "127.0.0.38") == "served"
        assert a.proc.poll() is None and b.proc.poll() is None
    finally:
        postgres.start()
    assert wait_for(lambda: state(b, "127.0.0.38") == "banned", 30), b.log()[-3000:]
    assert state(a, "127.0.0.38") == "banned"
    assert rows(postgres, database) == "127.0.0.38|failed logins|t|node-a"
    log = a.log()
    assert log.count("cluster: the ban database is unreachable") == 1, log[-3000:]
    assert log.count("cluster: the ban database is reachable again; bans made or lifted here meanwhile: 1") == 1, \
        log[-3000:]
    assert wait_for(lambda: "cluster: the ban database is reachable again" in b.log(), 15), b.log()[-3000:]
    assert b.log().count("cluster: the ban database is unreachable") == 1, b.log()[-3000:]
