"""[cluster]: the nodes table and the sessions of every node (README "Running a cluster"). Several ftpsd
nodes on loopback share a PostgreSQL the test starts itself (postgres.py); each node's Manager lists
the nodes (GET /api/v1/nodes) and the sessions of all of them, and ends a session on another node.
A node stopped says so at once; a node killed is shown as down once its heartbeat is missing."""
import ftplib
import signal

import pytest

from browser import browser, browser_errors, sign_in, until  # noqa: F401 (a fixture)
from helpers import TIMEOUT, login, wait_for
from postgres import postgres  # noqa: F401 (the module's PostgreSQL fixture)
from test_admin_api import make_manager  # noqa: F401 (a fixture)
from test_cluster_users import cluster_table, import_users

IDS_PER_NODE = 1_000_000_000
DOWN_AFTER = 5  # seconds without a heartbeat (cluster::kDownAfter)


@pytest.fixture
def make_node(make_manager, postgres):  # noqa: F811
    """make_node(name, database) -> (Server, Api): ftpsd with the Manager and [cluster] on `database`."""
    def factory(name, database):
        return make_manager(extra=cluster_table(postgres, database, node=name))
    return factory


def nodes(api, token):
    status, _, answer = api.call("GET", "/api/v1/nodes", token=token)
    assert status == 200, answer
    assert answer["cluster"] is True
    return {n["name"]: n for n in answer["nodes"]}


def sessions(api, token):
    status, _, answer = api.call("GET", "/api/v1/sessions", token=token)
    assert status == 200, answer
    return answer["sessions"]


def session_of(api, token, node, user="alice"):
    """The session of `user` on `node` as `api`'s node lists it, or None."""
    found = [s for s in sessions(api, token) if s.get("node") == node and s["user"] == user]
    return found[0] if found else None


def test_each_node_lists_every_node_and_every_session_and_ends_one_on_another(make_node, postgres):  # noqa: F811
    database = postgres.new_database()
    a, api_a = make_node("node-a", database)
    b, api_b = make_node("node-b", database)
    import_users(a)  # the users' roots are node a's folders: the stand-in for shared storage
    view, op = api_a.token("view"), api_a.token("op")

    listed = nodes(api_a, view)
    assert set(listed) == {"node-a", "node-b"}, listed
    assert listed["node-a"]["this"] is True and listed["node-b"]["this"] is False
    for name, srv in (("node-a", a), ("node-b", b)):
        n = listed[name]
        assert n["state"] == "up" and n["heartbeat_age_seconds"] <= DOWN_AFTER, n
        assert f"127.0.0.1:{srv.port}" in n["listeners"], n
        assert n["version"] and n["started"].endswith("Z"), n
    assert listed["node-a"]["number"] != listed["node-b"]["number"]
    assert nodes(api_b, api_b.token("view"))["node-b"]["this"] is True

    on_a = login(a, "alice")
    on_b = login(b, "alice")
    try:
        # Node b's session reaches node a's list with its next heartbeat.
        assert wait_for(lambda: session_of(api_a, view, "node-b") is not None, 15), sessions(api_a, view)
        theirs = session_of(api_a, view, "node-b")
        ours = session_of(api_a, view, "node-a")
        assert ours is not None
        # Ids are unique across the cluster: each node's come from its own share.
        assert theirs["id"] // IDS_PER_NODE == listed["node-b"]["number"], (theirs, listed)
        assert ours["id"] // IDS_PER_NODE == listed["node-a"]["number"], (ours, listed)
        assert theirs["client"] == "127.0.0.1" and theirs["domain"] == "default"
        assert nodes(api_a, view)["node-b"]["sessions"] == 1

        # Node a's Manager ends the session on node b: its client gets 421.
        status, _, answer = api_a.call("DELETE", f"/api/v1/sessions/{theirs['id']}", token=op)
        assert (status, answer) == (200, {"id": theirs["id"], "ended": True, "node": "node-b"}), answer
        with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
            on_b.voidcmd("NOOP")
        assert wait_for(lambda: session_of(api_a, view, "node-b") is None, 15), sessions(api_a, view)
        entry = api_a.audit(op)[0]
        assert (entry["who"], entry["action"], entry["target"]) == \
            ("op", "session.end", f"session {theirs['id']} on node node-b"), entry
        assert on_a.pwd() == "/"  # the other session goes on

        # An id no node has.
        missing = listed["node-b"]["number"] * IDS_PER_NODE + 999_999
        status, _, answer = api_a.call("DELETE", f"/api/v1/sessions/{missing}", token=op)
        assert (status, answer) == (404, {"error": f"no session {missing}", "field": None})
    finally:
        on_a.close()
        on_b.close()


def test_a_stopped_node_says_so_and_a_killed_one_is_down_without_its_sessions(make_node, postgres):  # noqa: F811
    database = postgres.new_database()
    a, api_a = make_node("node-a", database)
    b, _ = make_node("node-b", database)
    c, _ = make_node("node-c", database)
    import_users(a)
    view = api_a.token("view")
    on_c = login(c, "alice")
    try:
        assert wait_for(lambda: session_of(api_a, view, "node-c") is not None, 15), sessions(api_a, view)
        b.stop()  # SIGTERM: the node records that it stopped
        stopped = nodes(api_a, view)["node-b"]
        assert stopped["state"] == "stopped" and stopped["sessions"] == 0, stopped

        c.proc.send_signal(signal.SIGKILL)
        c.proc.wait(timeout=TIMEOUT)
        # Up until its heartbeat is DOWN_AFTER seconds old, then down, and its sessions leave the list.
        assert wait_for(lambda: nodes(api_a, view)["node-c"]["state"] == "down", DOWN_AFTER + 20)
        down = nodes(api_a, view)["node-c"]
        assert down["heartbeat_age_seconds"] >= DOWN_AFTER and down["sessions"] == 0, down
        assert session_of(api_a, view, "node-c") is None
        assert nodes(api_a, view)["node-a"]["state"] == "up"
    finally:
        on_c.close()


def test_without_the_database_the_manager_says_so_and_the_heartbeat_resumes(make_node, postgres):  # noqa: F811
    database = postgres.new_database()
    a, api_a = make_node("node-a", database)
    import_users(a)
    view = api_a.token("view")
    ftp = login(a, "alice")
    try:
        postgres.stop()
        try:
            status, _, answer = api_a.call("GET", "/api/v1/nodes", token=view)
            assert status == 503, answer
            assert answer["error"].startswith("the cluster database is unreachable: "), answer
            # The node's own sessions are still listed, with why the others are not.
            status, _, answer = api_a.call("GET", "/api/v1/sessions", token=view)
            assert status == 200, answer
            assert [(s["node"], s["user"]) for s in answer["sessions"]] == [("node-a", "alice")], answer
            assert answer["cluster_error"].startswith("the cluster database is unreachable: "), answer
            assert ftp.pwd() == "/"  # service goes on
            assert wait_for(lambda: "cluster: node node-a cannot reach the database" in a.log(), 15)
        finally:
            postgres.start()
        assert wait_for(lambda: "cluster: node node-a reaches the database again" in a.log(), 20), a.log()[-3000:]
        assert nodes(api_a, view)["node-a"]["state"] == "up"
        log = a.log()
        assert log.count("cluster: node node-a cannot reach the database") == 1, log
    finally:
        ftp.close()


def test_the_console_shows_the_nodes_and_disconnects_a_session_on_another_node(make_node, postgres,  # noqa: F811
                                                                              browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    database = postgres.new_database()
    a, api_a = make_node("node-a", database)
    b, _ = make_node("node-b", database)
    import_users(a)
    browser.get_log("browser")  # what earlier tests left
    on_b = login(b, "alice")
    try:
        sign_in(browser, api_a)  # root: an admin may disconnect
        until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
        browser.find_element(By.LINK_TEXT, "Nodes").click()

        def rows(d):
            return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                    for tr in d.find_elements(By.CSS_SELECTOR, "#page tbody tr")]
        until(browser, lambda d: [r[:3] for r in rows(d)] == [["node-a (this node)", "up", "0"], ["node-b", "up", "1"]],
              "both nodes up, node b with its session")
        browser.find_element(By.LINK_TEXT, "Sessions").click()
        until(browser, lambda d: any(r[1:3] == ["node-b", "alice"] for r in rows(d)), "node b's session listed")
        headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#page thead th")]
        assert headers[:3] == ["ID", "Node", "User"], headers
        theirs = next(r for r in rows(browser) if r[1] == "node-b")
        browser.find_element(By.CSS_SELECTOR, f'button[data-session="{theirs[0]}"][data-action="end"]').click()
        until(browser, lambda d: f"Session {theirs[0]} ended." in d.find_element(By.ID, "page").text,
              "the success message")
        with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
            on_b.voidcmd("NOOP")
        assert browser_errors(browser) == []
    finally:
        on_b.close()


def test_without_cluster_the_nodes_list_is_empty(make_manager):  # noqa: F811
    _, api = make_manager()
    status, _, answer = api.call("GET", "/api/v1/nodes", token=api.token("view"))
    assert (status, answer) == (200, {"cluster": False, "nodes": []})
