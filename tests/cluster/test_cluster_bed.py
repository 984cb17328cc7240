"""Cluster mode end to end (issue 16): real FTP and FTPS clients reach three ftpsd nodes only through
the load balancer's public address (HAProxy with PROXY v2 and leastconn for the control connections,
nftables DNAT of each node's passive slice for the data connections); the nodes share PostgreSQL
and one storage folder. See bed.py for the picture."""
import ftplib
import io
import socket
import threading
import time

import pytest

from bed import (BACKEND, BACKEND_TLS, BIN, CLIENT_IP, CLIENT_IP2, CONTROL, PUBLIC, Ftp, node_address, passive_slice,
                 port_of, wait_for)

UNAVAILABLE = ("421 The user database is unreachable and your account is not cached on this server; try "
               "again later.")


def one_per_node(bed, user, tls="none", epsv=False, source=CLIENT_IP, password=None):
    """As many connections as there are nodes, opened one after the other and kept open: leastconn gives
    each to the node with the fewest, so each lands on another node. Logged in; returns {node: Ftp}."""
    backend = BACKEND_TLS if tls == "implicit" else BACKEND
    wait_for(lambda: bed.balanced(backend), 20, what=f"HAProxy's {backend} servers to be even")
    clients = []
    try:
        for _ in bed.nodes:
            c = Ftp(tls=tls, epsv=epsv, source=source)
            clients.append(c)
            assert c.open().startswith("220"), c.welcome
            c.sign_in(user, password)
        placed = {c.which_node(): c for c in clients}
        assert sorted(placed) == [n.n for n in bed.nodes], [c.passive_replies for c in clients]
        return placed
    except BaseException:
        for c in clients:
            c.close_quietly()
        raise


def close_all(clients):
    for c in clients:
        c.close_quietly()


def greeting_as(bed, n, client_address):
    """The first reply of node n to a control connection that HAProxy would make for `client_address`:
    a PROXY header from the LB's namespace straight to the node (so the test picks the node)."""
    def go():
        with socket.create_connection((node_address(n), CONTROL), timeout=10) as s:
            s.sendall(f"PROXY TCP4 {client_address} {PUBLIC} 40000 {CONTROL}\r\n".encode())
            return s.makefile("rb").readline().decode().strip()
    return bed.lb.run(go)


def wait_sessions(node, predicate, timeout=20):
    """node's view of the cluster's sessions once predicate(sessions) holds (bounded)."""
    seen = []

    def check():
        seen[:] = node.sessions()
        return predicate(seen)
    try:
        wait_for(check, timeout, what="the sessions list")
    except TimeoutError:
        raise AssertionError(f"sessions as {node.name} lists them: {seen}") from None
    return seen


def content(user, n):
    return f"{user} through the load balancer to node {n}\n".encode() * 2000


def test_clients_through_the_lb_land_on_every_node_and_share_the_storage(bed):
    # Plain FTP with PASV, explicit FTPS with EPSV, implicit FTPS with PASV; then each the other way.
    kinds = {"alice": ("none", False), "bob": ("explicit", True), "carol": ("implicit", False)}
    every = {f"node{n.n}" for n in bed.nodes}

    def scenario():
        groups = {}
        try:
            for user, (tls, epsv) in kinds.items():
                groups[user] = one_per_node(bed, user, tls=tls, epsv=epsv)
            for user, placed in groups.items():
                for n, c in placed.items():
                    c.put(f"{user}-via-node{n}.txt", content(user, n))
                    assert c.node() == n  # the data connection went to the node of the session
            # Each file read back through another node than the one that wrote it: the shared storage.
            for user, placed in groups.items():
                for n, c in placed.items():
                    m = n % len(placed) + 1
                    assert c.get(f"{user}-via-node{m}.txt") == content(user, m)
                    assert f"{user}-via-node{m}.txt" in c.names()
                    assert c.node() == n
                    c.epsv = not c.epsv
                    assert c.get("welcome.txt") == b"welcome to the cluster\n"
                    c.put(f"{user}-again-{n}.txt", b"x" * 4096)
                    assert c.node() == n
            sessions = wait_sessions(bed.nodes[0], lambda s: all(
                {x["node"] for x in s if x["user"] == user} == every for user in kinds))
            replies = {(user, n): c.passive_replies for user, placed in groups.items() for n, c in placed.items()}
            for placed in groups.values():
                for c in placed.values():
                    c.quit()
            return sessions, replies
        finally:
            for placed in groups.values():
                close_all(placed.values())

    sessions, replies = bed.client.run(scenario, timeout=120)
    # Node 1's Manager lists every session with its node; the client's address came through PROXY v2.
    mine = [s for s in sessions if s["user"] in kinds]
    assert len(mine) == len(kinds) * len(bed.nodes), sessions
    assert {s["client"] for s in mine} == {CLIENT_IP}, mine
    assert {(s["user"], s["tls"] is not None) for s in mine} == {("alice", False), ("bob", True), ("carol", True)}
    # Every passive reply names the LB's address and a port of the session's node: the data connections
    # went through the DNAT of that node's slice.
    for (user, n), rs in replies.items():
        assert {r[:3] for r in rs} == {"227", "229"}, rs
        first, last = passive_slice(n)
        for r in rs:
            assert r[:3] != "227" or "(198,51,100,1," in r, r
            assert first <= port_of(r) <= last, (user, n, r)
    for user in kinds:
        for node in bed.nodes:
            assert (bed.shared / "site" / f"{user}-via-node{node.n}.txt").read_bytes() == content(user, node.n)

    # Behind the LB nothing is reachable from the client: not a node's control port, not its data ports.
    def direct(address, port):
        try:
            with socket.create_connection((address, port), timeout=2):
                return "connected"
        except OSError as e:
            return type(e).__name__
    assert bed.client.run(direct, node_address(1), CONTROL) != "connected"
    assert bed.client.run(direct, node_address(1), passive_slice(1)[0]) != "connected"


def test_a_user_added_on_node1_logs_in_on_node2_and_bans_and_disconnects_cross_nodes(bed):
    node1, node2 = bed.nodes[0], bed.nodes[1]
    status, answer = node1.api("POST", "/api/v1/domains/default/users", body={
        "name": "dave", "password": "dave-cluster-secret", "root": str(bed.shared / "site"), "write": True},
        account="root")
    if status != 201:
        # The Manager's user routes still edit the node's users file, not the database (README "What is
        # not there yet"), and these nodes have none: the new user goes into the database with node 1's
        # `ftpsd user add` instead.
        assert status == 409 and "has no users file" in answer["error"], (status, answer)
        added = node1.sh(BIN, "user", "add", "dave", "--root", bed.shared / "site", "--write", "--config",
                         node1.config, input="dave-cluster-secret\n")
        assert "added user dave" in added.stdout and "cluster database" in added.stdout, added.stdout

    def logins():
        return one_per_node(bed, "dave", tls="explicit", password="dave-cluster-secret")
    placed = bed.client.run(logins)
    try:
        on_node2 = placed[2]
        assert bed.client.run(on_node2.pwd) == "/"
        # Node 1's Manager sees dave's session on node 2 and ends it there.
        listed = wait_sessions(node1, lambda s: any(x["user"] == "dave" and x["node"] == "node2" for x in s))
        theirs = next(x for x in listed if x["user"] == "dave" and x["node"] == "node2")
        assert theirs["client"] == CLIENT_IP, theirs
        status, answer = node1.api("DELETE", f"/api/v1/sessions/{theirs['id']}")
        assert (status, answer) == (200, {"id": theirs["id"], "ended": True, "node": "node2"}), answer
        with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
            bed.client.run(on_node2.voidcmd, "NOOP")
        assert bed.client.run(placed[1].pwd) == "/" and bed.client.run(placed[3].pwd) == "/"
        wait_sessions(node1, lambda s: not any(x["user"] == "dave" and x["node"] == "node2" for x in s))
    finally:
        close_all(placed.values())

    # An operator's ban on node 2 is refused by node 1 (and by node 3), from the database.
    assert greeting_as(bed, 1, CLIENT_IP2).startswith("220")
    status, answer = node2.api("POST", "/api/v1/bans", body={"address": CLIENT_IP2, "duration": "15m"})
    assert status == 201 and answer["node"] == "node2", answer
    try:
        for n in (1, 3):
            assert wait_for(lambda: greeting_as(bed, n, CLIENT_IP2).startswith("421"), 10,
                            what=f"node{n} to refuse the banned address"), bed.nodes[n - 1].log()[-3000:]
        assert "banned" in greeting_as(bed, 1, CLIENT_IP2)
        assert greeting_as(bed, 1, CLIENT_IP).startswith("220")  # only that address

        # Through the LB the banned address gets the refusal wherever it lands; the other is served.
        def through_lb(source):
            c = Ftp(source=source)
            try:
                return c.open()
            except ftplib.Error as e:
                return str(e)
            finally:
                c.close_quietly()
        for _ in bed.nodes:
            assert bed.client.run(through_lb, CLIENT_IP2).startswith("421")
        assert bed.client.run(through_lb, CLIENT_IP).startswith("220")
    finally:
        status, answer = node1.api("DELETE", f"/api/v1/bans/{CLIENT_IP2}")
    assert (status, answer) == (200, {"address": CLIENT_IP2, "lifted": True}), answer
    # Lifted on node 1, the ban that node 2 made ends everywhere: every node greets that address again.
    for n in (1, 2, 3):
        assert wait_for(lambda: greeting_as(bed, n, CLIENT_IP2).startswith("220"), 10,
                        what=f"node{n} to serve the address again")
    close_all(bed.client.run(lambda: one_per_node(bed, "alice", source=CLIENT_IP2)).values())


def test_without_postgresql_sessions_go_on_cached_users_log_in_and_others_get_421(bed):
    node1 = bed.nodes[0]
    node1.sh(BIN, "user", "add", "erin", "--root", bed.shared / "site", "--config", node1.config,
             input="erin-cluster-secret\n")
    # alice logs in on every node: each node caches her record. erin never logs in before the outage.
    starts = [node.starts for node in bed.nodes]
    running = bed.client.run(lambda: one_per_node(bed, "alice", tls="explicit"))
    later = {}
    try:
        bed.db.stop()
        try:
            def goes_on():
                for n, c in running.items():
                    c.put(f"during-outage-{n}.txt", b"still here\n")
                    assert c.get(f"during-outage-{n}.txt") == b"still here\n"
                    assert c.node() == n
            bed.client.run(goes_on, timeout=90)
            # New connections: alice from each node's cache, erin refused with 421 on whichever node.
            later.update(bed.client.run(lambda: one_per_node(bed, "alice", tls="implicit"), timeout=90))

            def erin():
                c = Ftp(tls="explicit")
                try:
                    c.open()
                    c.sign_in("erin", "erin-cluster-secret")
                    return "230"
                except ftplib.error_temp as e:
                    return str(e)
                finally:
                    c.close_quietly()
            for _ in bed.nodes:
                assert bed.client.run(erin) == UNAVAILABLE
            for node in bed.nodes:
                assert "cluster: the user database is unreachable" in node.log(), node.log()[-3000:]
            assert all(node.alive() for node in bed.nodes)
        finally:
            bed.db.start()
        # Back without a restart of any node: erin logs in on every node (each reconnects at its next
        # login, at most once a second).
        def erin_everywhere():
            try:
                close_all(one_per_node(bed, "erin", tls="explicit", password="erin-cluster-secret").values())
                return True
            except ftplib.error_temp:
                return False
        assert wait_for(lambda: bed.client.run(erin_everywhere, timeout=90), 30, what="erin to log in everywhere")
        assert [node.starts for node in bed.nodes] == starts and all(node.alive() for node in bed.nodes)
        assert wait_for(lambda: {n["state"] for n in node1.nodes().values()} == {"up"}, 20, what="every node up")
        bed.client.run(lambda: [c.voidcmd("NOOP") for c in running.values()])
    finally:
        close_all(running.values())
        close_all(later.values())


class SlowUpload(io.RawIOBase):
    """An upload that sends `before` bytes, then waits until `gate` is set (bounded), then ends."""

    def __init__(self, before, gate):
        super().__init__()
        self.left, self.gate, self.waiting = before, gate, threading.Event()

    def readable(self):
        return True

    def read(self, size=-1):
        if self.left > 0:
            n = min(self.left, size if size > 0 else 65536)
            self.left -= n
            return b"u" * n
        self.waiting.set()
        self.gate.wait(60)
        return b""


def test_a_killed_node_leaves_the_lb_and_the_session_list_and_no_partial_file(bed):
    gate = threading.Event()
    body = SlowUpload(256 * 1024, gate)
    site = bed.shared / "site"
    uploader = Ftp(tls="explicit")
    others = []

    def upload():
        uploader.open()
        uploader.sign_in("alice")
        try:
            uploader.storbinary("STOR big.bin", body)
            return "226"
        except (ftplib.Error, OSError, EOFError) as e:
            return f"{type(e).__name__}: {e}"

    running = bed.client.submit(upload)
    try:
        assert body.waiting.wait(30), running.result(timeout=1) if running.done() else "no data sent"
        doomed = bed.nodes[uploader.node() - 1]
        survivors = [n for n in bed.nodes if n is not doomed]
        # The upload writes a hidden temporary beside its target (atomic uploads) while it runs.
        assert wait_for(lambda: [p for p in site.iterdir() if p.name.startswith(".ftpsd-upload.")], 10,
                        what="the upload's temporary")
        assert not (site / "big.bin").exists()
        watcher = survivors[0]
        wait_sessions(watcher, lambda s: any(x["node"] == doomed.name and x["user"] == "alice" for x in s))

        doomed.kill()
        killed = time.monotonic()
        # New connections go to the other nodes. Until the health check has marked the node down (two
        # failed checks a second apart), a connection HAProxy gives it may fail: the client tries again,
        # for a bounded time.
        def lands():
            c = Ftp(timeout=5)
            try:
                c.open()
                c.sign_in("bob")
                node = c.which_node()
            except (ftplib.Error, OSError, EOFError):
                c.close_quietly()
                return None
            others.append(c)
            return node
        first = wait_for(lambda: bed.client.run(lands, timeout=30), 15, what="a new connection to be served")
        print(f"a new connection was served {time.monotonic() - killed:.1f} s after the kill")
        assert first != doomed.n
        assert wait_for(lambda: doomed.name not in bed.servers_up(), 10, what="HAProxy to mark the node down")
        assert wait_for(lambda: bed.servers_up(BACKEND_TLS) == {n.name for n in survivors}, 10)
        print(f"HAProxy marked it down {time.monotonic() - killed:.1f} s after the kill")
        # From then on every new connection is served, by the others.
        for _ in range(4):
            assert bed.client.run(lands, timeout=30) in {n.n for n in survivors}
        # Its sessions leave the list of the others once its heartbeat is missing; the node is down.
        for node in survivors:
            wait_sessions(node, lambda s: not any(x["node"] == doomed.name for x in s), timeout=30)
            assert node.nodes()[doomed.name]["state"] == "down"
        gate.set()
        outcome = running.result(timeout=60)
        assert outcome != "226", outcome
        # No partial file under the final name in the shared storage: the temporary was never renamed.
        assert not (site / "big.bin").exists(), sorted(p.name for p in site.iterdir())
        assert "big.bin" not in bed.client.run(others[0].names)
    finally:
        gate.set()
        close_all([uploader, *others])
