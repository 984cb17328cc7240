"""The Manager's bans: the server's own ban list (the one failed FTP logins feed), addresses and networks
banned and lifted through the API, and DELETE /sessions/{id}?ban= that ends a session and bans its
client. A banned address's next FTP connection gets the usual 421 before the greeting."""
import ftplib
import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import PASSWORDS
from helpers import Control, wait_for
from test_admin_api import TIMEOUT, make_manager  # noqa: F401 (a fixture)

BANNED = "421 Your address is temporarily banned after failed logins.\r\n"


def refused(srv, source):
    c = Control.to(srv, greet=False, source=source)
    try:
        return c.reply(timeout=10) == BANNED and c.closed_within(10)
    finally:
        c.close()


def served(srv, source):
    with Control.to(srv, greet=False, source=source) as c:
        return c.reply(timeout=10).startswith("220")


def until_in(answer, minutes):
    until = datetime.strptime(answer["until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    left = until - datetime.now(timezone.utc)
    return timedelta(minutes=minutes) - timedelta(minutes=1) < left <= timedelta(minutes=minutes, seconds=1)


@pytest.fixture
def manager(make_manager):
    return make_manager()


def test_an_operator_bans_an_address_the_next_connection_gets_421_and_delete_lifts_it(manager):
    srv, api = manager
    view, op = api.token("view"), api.token("op")
    assert api.call("GET", "/api/v1/bans", token=view)[2] == {"bans": []}
    body = {"address": "127.0.0.2", "duration": "15m"}
    status, _, answer = api.call("POST", "/api/v1/bans", token=view, body=body)
    assert (status, answer) == (403, {"error": "managing bans needs the role operator or admin", "field": None})
    status, _, answer = api.call("POST", "/api/v1/bans", token=op, body=body)
    assert status == 201, answer
    assert answer["address"] == "127.0.0.2" and answer["reason"] == "banned by op" and until_in(answer, 15), answer
    assert refused(srv, "127.0.0.2")
    assert served(srv, "127.0.0.1")
    status, _, answer = api.call("GET", "/api/v1/bans", token=view)
    assert status == 200 and [(b["address"], b["reason"]) for b in answer["bans"]] == [("127.0.0.2", "banned by op")]
    assert until_in(answer["bans"][0], 15)
    status, _, answer = api.call("DELETE", "/api/v1/bans/127.0.0.2", token=view)
    assert status == 403, answer
    status, _, answer = api.call("DELETE", "/api/v1/bans/127.0.0.2", token=op)
    assert (status, answer) == (200, {"address": "127.0.0.2", "lifted": True})
    assert served(srv, "127.0.0.2")
    status, _, answer = api.call("DELETE", "/api/v1/bans/127.0.0.2", token=op)
    assert (status, answer) == (404, {"error": "no ban on 127.0.0.2", "field": None})
    entries = api.audit(view, limit=2)
    assert [(e["who"], e["action"], e["target"]) for e in entries] == \
        [("op", "ban.remove", "127.0.0.2"), ("op", "ban.add", "127.0.0.2 for 15m")], entries


def test_a_network_ban_refuses_its_addresses_and_is_lifted_url_encoded(manager):
    srv, api = manager
    op = api.token("op")
    status, _, answer = api.call("POST", "/api/v1/bans", token=op,
                                 body={"address": "127.0.0.0/30", "duration": "1h"})
    assert status == 201 and answer["address"] == "127.0.0.0/30" and until_in(answer, 60), answer
    assert refused(srv, "127.0.0.2") and refused(srv, "127.0.0.3")
    assert served(srv, "127.0.0.5")
    status, _, answer = api.call("DELETE", "/api/v1/bans/127.0.0.0%2F30", token=op)
    assert (status, answer) == (200, {"address": "127.0.0.0/30", "lifted": True})
    assert served(srv, "127.0.0.2")


@pytest.mark.parametrize("body, error, field", [
    ({"duration": "15m"}, "'address' is required", "address"),
    ({"address": "ftp.example.com", "duration": "15m"}, "'address' must be an IP address or a network such as "
                                                        "203.0.113.0/24", "address"),
    ({"address": "127.0.0.1/33", "duration": "15m"}, "'address' must be an IP address or a network such as "
                                                     "203.0.113.0/24", "address"),
    ({"address": "127.0.0.2"}, "'duration' is required", "duration"),
    ({"address": "127.0.0.2", "duration": "soon"}, "'duration' must be a duration such as \"30s\", \"15m\" or "
                                                   "\"1h\", more than 0", "duration"),
    ({"address": "127.0.0.2", "duration": "0s"}, "'duration' must be a duration such as \"30s\", \"15m\" or "
                                                 "\"1h\", more than 0", "duration"),
])
def test_a_bad_address_or_duration_is_422_and_bans_nothing(manager, body, error, field):
    srv, api = manager
    status, _, answer = api.call("POST", "/api/v1/bans", token=api.token("op"), body=body)
    assert (status, answer) == (422, {"error": error, "field": field})
    assert api.call("GET", "/api/v1/bans", token=api.token("view"))[2] == {"bans": []}


def test_malformed_requests_are_400(manager):
    srv, api = manager
    op = api.token("op")
    status, _, answer = api.call("POST", "/api/v1/bans", token=op, raw=b"nope")
    assert (status, answer) == (400, {"error": "the body must be a JSON object", "field": None})
    status, _, answer = api.call("DELETE", "/api/v1/bans/no-address", token=op)
    assert (status, answer) == (400, {"error": "'no-address' is not an IP address or a network", "field": None})


def test_failed_ftp_logins_show_in_the_list_and_delete_lifts_that_ban(make_manager):
    srv, api = make_manager(extra='[bans]\nmax_failures = 2\nlogin_delay = "0s"\nduration = "10m"\n')
    with Control.to(srv, source="127.0.0.2") as c:
        c.expect("USER alice", "331")
        c.expect("PASS wrong-1", "530")
        c.expect("USER alice", "331")
        assert c.cmd("PASS wrong-2").startswith("421")
    view = api.token("view")
    answer = api.call("GET", "/api/v1/bans", token=view)[2]
    assert [(b["address"], b["reason"]) for b in answer["bans"]] == [("127.0.0.2", "failed logins")], answer
    assert until_in(answer["bans"][0], 10)
    assert refused(srv, "127.0.0.2")
    status, _, answer = api.call("DELETE", "/api/v1/bans/127.0.0.2", token=api.token("op"))
    assert (status, answer) == (200, {"address": "127.0.0.2", "lifted": True})
    assert served(srv, "127.0.0.2")
    assert api.call("GET", "/api/v1/bans", token=view)[2] == {"bans": []}


def test_ending_a_session_with_ban_kicks_it_and_bans_its_client(manager):
    srv, api = manager
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT, source_address=("127.0.0.2", 0))
    ftp.login("alice", PASSWORDS["alice"])
    op = api.token("op")
    sessions = api.call("GET", "/api/v1/sessions", token=op)[2]["sessions"]
    (s,) = [s for s in sessions if s["user"] == "alice"]
    status, _, answer = api.call("DELETE", f"/api/v1/sessions/{s['id']}?ban=forever", token=op)
    assert (status, answer) == (422, {"error": "'ban' must be a duration such as \"30s\", \"15m\" or \"1h\", "
                                               "more than 0", "field": "ban"})
    assert ftp.voidcmd("NOOP").startswith("200")
    status, _, answer = api.call("DELETE", f"/api/v1/sessions/{s['id']}?ban=30m", token=op)
    assert status == 200, answer
    assert answer["id"] == s["id"] and answer["ended"] is True, answer
    assert answer["ban"]["address"] == "127.0.0.2" and until_in(answer["ban"], 30), answer
    with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
        ftp.voidcmd("NOOP")
    ftp.close()
    assert refused(srv, "127.0.0.2")
    assert served(srv, "127.0.0.1")
    bans = api.call("GET", "/api/v1/bans", token=op)[2]["bans"]
    assert [(b["address"], b["reason"]) for b in bans] == [("127.0.0.2", f"banned by op (session {s['id']})")]
    entries = api.audit(op, limit=2)
    assert [(e["action"], e["target"]) for e in entries] == \
        [("ban.add", "127.0.0.2 for 30m"), ("session.end", f"session {s['id']}")], entries
    assert wait_for(lambda: api.call("GET", "/api/v1/sessions", token=op)[2]["sessions"] == [])
    assert re.search(r"connection refused: client=127.0.0.2 reason=banned", srv.log())
