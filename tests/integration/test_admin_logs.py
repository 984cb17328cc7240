"""The Manager's log routes: the newest session-log and transfer-log lines (GET /api/v1/logs) and the
live stream of new ones (Server-Sent Events, GET /api/v1/logs/stream), seen after real FTP sessions."""
import ftplib
import io
import json
import socket

import pytest

from conftest import PASSWORDS
from helpers import wait_for
from test_admin_api import TIMEOUT, make_manager, manager  # noqa: F401 (fixtures)


def logs(api, token, query):
    status, _, answer = api.call("GET", f"/api/v1/logs?{query}", token=token)
    assert status == 200, answer
    return answer["entries"]


def test_recent_session_and_transfer_lines_with_limit_and_filter(manager):
    srv, api = manager
    view = api.token("view")
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    ftp.storbinary("STOR logged.txt", io.BytesIO(b"x" * 1234))
    ftp.quit()
    assert wait_for(lambda: any("logged.txt" in e["text"] for e in logs(api, view, "kind=transfer")))
    transfer = [e for e in logs(api, view, "kind=transfer") if "logged.txt" in e["text"]][-1]
    # The xferlog line: 18 fields, 1234 bytes, incoming, user alice, complete.
    fields = transfer["text"].split()
    assert len(fields) == 18 and fields[7] == "1234" and fields[11] == "i" and fields[13] == "alice", fields
    assert fields[-1] == "c" and transfer["level"] == "info"

    session = logs(api, view, "kind=session&filter=alice&limit=1000")
    assert any("logged in" in e["text"] for e in session), session
    assert all("alice" in e["text"] for e in session)
    assert [e["seq"] for e in session] == sorted(e["seq"] for e in session)
    assert len(logs(api, view, "limit=2")) == 2
    assert logs(api, view, "filter=no-line-has-this") == []

    for query, error, field in (("kind=audit", 'kind must be "session" or "transfer"', "kind"),
                                ("limit=0", "limit must be a number from 1 to 1000", "limit"),
                                ("limit=abc", "limit must be a number from 1 to 1000", "limit")):
        status, _, answer = api.call("GET", f"/api/v1/logs?{query}", token=view)
        assert (status, answer) == (400, {"error": error, "field": field}), query
    status, _, _ = api.call("GET", "/api/v1/logs")
    assert status == 401


class Stream:
    """A Server-Sent Events client over the Manager's HTTPS, reading events as they come."""

    def __init__(self, api, token, query, last_event_id=None):
        self.conn = api.connection()
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", f"/api/v1/logs/stream?{query}", headers=headers)
        self.response = self.conn.getresponse()

    def events(self, wanted, timeout=TIMEOUT):
        """Events until one whose text contains `wanted`; fails after `timeout` seconds."""
        self.conn.sock.settimeout(timeout)
        got, event = [], {}
        while True:
            line = self.response.fp.readline().decode().rstrip("\r\n")
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and event:
                got.append(event)
                if wanted in event["data"]["text"]:
                    return got
                event = {}

    def close(self):
        self.conn.close()


def test_the_live_stream_sends_new_lines_as_they_are_written_and_resumes_after_last_event_id(manager):
    srv, api = manager
    view = api.token("view")
    stream = Stream(api, view, "kind=session&filter=bob")
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type") == "text/event-stream"
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
        ftp.login("bob", PASSWORDS["bob"])
        got = stream.events("logged in")
        assert all("bob" in e["data"]["text"] for e in got), got
        assert all(e["id"] == e["data"]["seq"] for e in got)
        last = got[-1]["id"]
        ftp.quit()
    finally:
        stream.close()
    # Reconnecting with Last-Event-ID gets what was written meanwhile (the QUIT), nothing older.
    again = Stream(api, view, "kind=session&filter=bob", last_event_id=last)
    try:
        got = again.events("disconnected")
        assert all(e["id"] > last for e in got), got
    finally:
        again.close()


def test_streams_are_limited_and_a_bad_last_event_id_is_400(manager):
    srv, api = manager
    view = api.token("view")
    status, _, answer = api.call("GET", "/api/v1/logs/stream", token=view, headers={"Last-Event-ID": "x"})
    assert (status, answer) == (400, {"error": "Last-Event-ID must be the seq of a line", "field": "Last-Event-ID"})
    streams = [Stream(api, view, "kind=transfer") for _ in range(4)]
    try:
        assert all(s.response.status == 200 for s in streams)
        status, _, answer = api.call("GET", "/api/v1/logs/stream", token=view)
        assert (status, answer["error"]) == (429, "at most 4 live log streams at once: close one first")
        # The other routes still answer while four streams hold their threads.
        assert api.call("GET", "/api/v1/status", token=view)[0] == 200
    finally:
        for s in streams:
            s.close()
    # A closed stream gives its place back (noticed within the stream's poll).
    def a_stream_opens():
        s = Stream(api, view, "kind=transfer")
        s.close()
        return s.response.status == 200
    assert wait_for(a_stream_opens, timeout=TIMEOUT)
