"""The Manager's web console: browser sessions (the cookie, its CSRF token), the pages compiled into
the binary, and the pages themselves in Debian's chromium driven by Selenium (headless): sign in,
change the passive settings from Domains -> default -> Services -> FTP/S and see a real FTP client use
them, disconnect a live FTP session, and text from the server shown as text, never as HTML."""
import ftplib
import http.client
import json
import re
import socket
from pathlib import Path

import pytest

from conftest import PASSWORDS
from helpers import Control
from browser import browser, browser_errors, by_label, sign_in, until  # noqa: F401 (a fixture)
from test_admin_api import ACCOUNTS, TIMEOUT, make_manager  # noqa: F401 (a fixture)

WEB = Path(__file__).resolve().parents[2] / "web"
CSRF_ERROR = ("a change made with the session cookie needs the header X-CSRF-Token with the session's csrf "
              "token (GET /api/v1/auth/session)")


def open_session(api, name="root"):
    """Signs in as the browser does; (cookie header value, answer)."""
    status, r, answer = api.call("POST", "/api/v1/auth/session",
                                 body={"name": name, "password": ACCOUNTS[name][0]})
    assert status == 200, answer
    cookie = r.getheader("Set-Cookie")
    m = re.fullmatch(r"ftpsd_session=([0-9a-f]{64}); Path=/; Max-Age=(\d+); HttpOnly; SameSite=Strict(; Secure)?",
                     cookie)
    assert m, cookie
    return f"ftpsd_session={m.group(1)}", r, answer


def get(api, path):
    """(status, response, body bytes) of a GET without credentials."""
    conn = api.connection()
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r, r.read()
    finally:
        conn.close()


@pytest.fixture
def manager(make_manager):  # noqa: F811 (the fixture imported above)
    return make_manager()


def test_a_browser_session_is_a_strict_http_only_secure_cookie_with_a_csrf_token(manager):
    srv, api = manager
    cookie, r, answer = open_session(api, "op")
    assert r.getheader("Set-Cookie").endswith("; Secure"), "HTTPS: the cookie is Secure"
    assert set(answer) == {"name", "role", "expires", "csrf"}, answer
    assert (answer["name"], answer["role"]) == ("op", "operator")
    assert re.fullmatch(r"[0-9a-f]{64}", answer["csrf"]) and answer["csrf"] not in cookie
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["expires"]), answer
    # The page asks who is signed in (and the CSRF token) when it loads.
    status, _, again = api.call("GET", "/api/v1/auth/session", headers={"Cookie": f"theme=dark; {cookie}"})
    assert (status, again) == (200, answer)
    status, _, listed = api.call("GET", "/api/v1/sessions", headers={"Cookie": cookie})
    assert (status, listed) == (200, {"sessions": []})
    for headers in ({}, {"Cookie": "ftpsd_session=" + "0" * 64}):
        status, _, error = api.call("GET", "/api/v1/auth/session", headers=headers)
        assert status == 401 and error["error"] in ("not signed in: POST /api/v1/auth/session",
                                                    "your session has ended or expired: sign in again"), error
    status, _, error = api.call("GET", "/api/v1/status", headers={"Cookie": "ftpsd_session=" + "0" * 64})
    assert (status, error["error"]) == (401, "your session has ended or expired: sign in again")
    log = srv.log()
    assert "admin: op (operator) signed in to the console from 127.0.0.1" in log
    assert cookie.split("=")[1] not in log and answer["csrf"] not in log and "op-secret" not in log


def test_a_change_with_the_cookie_needs_the_csrf_token_and_one_without_credentials_is_refused(manager):
    srv, api = manager
    cookie, _, answer = open_session(api, "op")
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    sid = api.call("GET", "/api/v1/sessions", headers={"Cookie": cookie})[2]["sessions"][0]["id"]
    for headers in ({"Cookie": cookie}, {"Cookie": cookie, "X-CSRF-Token": ""},
                    {"Cookie": cookie, "X-CSRF-Token": "0" * 64}, {"Cookie": cookie, "X-CSRF-Token": cookie}):
        status, _, error = api.call("DELETE", f"/api/v1/sessions/{sid}", headers=headers)
        assert (status, error) == (403, {"error": CSRF_ERROR, "field": None}), headers
    status, _, error = api.call("DELETE", f"/api/v1/sessions/{sid}")
    assert (status, error["error"]) == \
        (401, "sign in first: POST /api/v1/auth/token, then send Authorization: Bearer TOKEN")
    assert ftp.voidcmd("NOOP").startswith("200"), "nothing refused has ended the session"
    # A bearer token needs no CSRF token (no browser sends it by itself).
    status, _, _ = api.call("DELETE", f"/api/v1/sessions/{sid + 1000}", token=api.token("op"))
    assert status == 404
    status, _, ended = api.call("DELETE", f"/api/v1/sessions/{sid}",
                                headers={"Cookie": cookie, "X-CSRF-Token": answer["csrf"]})
    assert (status, ended) == (200, {"id": sid, "ended": True})
    with pytest.raises(ftplib.error_temp, match="^421 "):
        ftp.voidcmd("NOOP")
    ftp.close()
    # A sign-in is no change: it needs no CSRF token, and a viewer's cookie still cannot change anything.
    viewer, _, v = open_session(api, "view")
    status, _, error = api.call("DELETE", f"/api/v1/sessions/{sid}", headers={"Cookie": viewer, "X-CSRF-Token": v["csrf"]})
    assert (status, error["error"]) == (403, "ending a session needs the role operator or admin")


def test_sign_out_needs_the_csrf_token_and_ends_the_session(manager):
    _, api = manager
    cookie, _, answer = open_session(api)
    status, _, error = api.call("DELETE", "/api/v1/auth/session", headers={"Cookie": cookie})
    assert (status, error["error"]) == (403, CSRF_ERROR)
    status, r, done = api.call("DELETE", "/api/v1/auth/session",
                               headers={"Cookie": cookie, "X-CSRF-Token": answer["csrf"]})
    assert (status, done) == (200, {"signed_out": True})
    assert r.getheader("Set-Cookie") == "ftpsd_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure"
    assert api.call("GET", "/api/v1/status", headers={"Cookie": cookie})[0] == 401
    status, _, error = api.call("DELETE", "/api/v1/auth/session")
    assert (status, error["error"]) == (401, "not signed in: POST /api/v1/auth/session")


def test_over_plain_http_the_cookie_is_not_secure(make_manager):  # noqa: F811
    _, api = make_manager(admin_extra="tls = false")
    conn = http.client.HTTPConnection(api.host, api.port, timeout=TIMEOUT)
    conn.request("POST", "/api/v1/auth/session", body=json.dumps({"name": "root", "password": "root-secret"}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 200
    assert r.getheader("Set-Cookie").endswith("; HttpOnly; SameSite=Strict"), r.getheader("Set-Cookie")


def test_the_pages_are_served_from_the_binary_with_types_validators_and_no_inline_script(manager):
    _, api = manager
    status, r, index = get(api, "/")
    index = index.decode()
    assert status == 200 and index == (WEB / "index.html").read_text()
    assert r.getheader("Content-Type") == "text/html; charset=utf-8"
    assert r.getheader("Content-Security-Policy") == "default-src 'self'"
    assert r.getheader("X-Frame-Options") == "DENY"
    assert r.getheader("Cache-Control") == "no-cache"
    etag = r.getheader("ETag")
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag), etag
    # Nothing inline: every script has a src, no style attribute or element, nothing from elsewhere.
    assert not re.search(r"<script(?![^>]*\bsrc=)", index) and "style=" not in index and "<style" not in index
    assert not re.search(r"(src|href)=\"(https?:)?//", index), "no CDN: the pages work offline"
    status, r, _ = api.call("GET", "/", headers={"If-None-Match": etag})
    assert status == 304 and r.getheader("ETag") == etag
    for path, kind, source in (
            ("/app.js", "text/javascript; charset=utf-8", WEB / "app.js"),
            ("/js/dom.js", "text/javascript; charset=utf-8", WEB / "js" / "dom.js"),
            ("/console.css", "text/css; charset=utf-8", WEB / "console.css"),
            ("/vendor/bootstrap.min.css", "text/css; charset=utf-8",
             Path("/usr/share/javascript/bootstrap5/css/bootstrap.min.css")),
            ("/vendor/chart.min.js", "text/javascript; charset=utf-8",
             Path("/usr/share/javascript/chart.js/chart.min.js"))):
        status, r, body = get(api, path)
        assert (status, r.getheader("Content-Type")) == (200, kind), path
        assert body == source.read_bytes(), path
        assert r.getheader("Cache-Control") == "no-cache" and r.getheader("ETag"), path
    for source in WEB.rglob("*.js"):
        text = source.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text and "document.write" not in text, \
            f"{source}: text goes in as text nodes (web/js/dom.js)"
    status, _, error = api.call("GET", "/nothing.js")
    assert (status, error["error"]) == (404, "no such resource")


# The pages in a real browser. One chromium for the module (it takes a while to start); each test has a
# server of its own and signs in again.
PAGES = {"Dashboard": "/api/v1/status/history", "Sessions": "/api/v1/sessions", "Nodes": "/api/v1/nodes",
         "Users": "/api/v1/domains/{domain}/users", "Bans": "/api/v1/bans",
         "Domains": "/api/v1/domains/{domain}/passive", "Certificates": "/api/v1/domains/{domain}/certificates",
         "Revisions": "/api/v1/config/revisions", "Audit": "/api/v1/audit", "Logs": "/api/v1/logs/stream"}
def test_sign_in_shows_the_dashboard_and_only_the_pages_whose_routes_exist(browser, manager, tmp_path):
    from selenium.webdriver.common.by import By
    srv, api = manager
    browser.get_log("browser")  # what earlier tests left
    sign_in(browser, api, password="not-the-password")
    until(browser, lambda d: d.find_element(By.ID, "signin-error").text == "wrong name or password",
          "the refusal shown")
    assert browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']").is_displayed()
    browser.get_log("browser")  # the 401 of the refused sign-in: expected
    sign_in(browser, api)
    until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
    until(browser, lambda d: d.find_element(By.ID, "who-name").text == "root (admin)", "who is signed in")
    until(browser, lambda d: d.execute_script(
        "const c = document.querySelector('canvas'); return !!(c && window.Chart && Chart.getChart(c));"),
        "the throughput chart drawn")
    until(browser, lambda d: "Passive ports per domain" in d.find_element(By.ID, "page").text, "the pools")
    page = browser.find_element(By.ID, "page").text
    for label in ("Sessions", "Transfers", "Sending now", "Failed logins", "Banned addresses", "Certificates"):
        assert label in page, page
    document = api.call("GET", "/api/v1/openapi.json")[2]
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#nav-links a")]
    assert links == [title for title, route in PAGES.items() if route in document["paths"]], links
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    assert browser_errors(browser) == [], "no script or style refused by the CSP, nothing missing"
    # Sign out: back to the form, and the cookie no longer works.
    browser.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
    until(browser, lambda d: by_label(d, "User name").is_displayed(), "the sign-in form again")
    assert "admin: root signed out of the console from 127.0.0.1" in srv.log()


def test_disconnect_a_live_ftp_session_from_the_sessions_page(browser, manager, tmp_path):
    from selenium.webdriver.common.by import By
    srv, api = manager
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    sign_in(browser, api, "op")
    until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
    browser.find_element(By.LINK_TEXT, "Sessions").click()
    row = until(browser, lambda d: next((r for r in d.find_elements(By.CSS_SELECTOR, "#page tbody tr")
                                         if "alice" in r.text), None), "alice's session listed")
    browser.save_screenshot(str(tmp_path / "sessions.png"))
    # "Disconnect and ban" is there once the API takes ?ban= (its document lists the parameter).
    route = api.call("GET", "/api/v1/openapi.json")[2]["paths"]["/api/v1/sessions/{id}"]["delete"]
    takes_ban = any(p["name"] == "ban" for p in route.get("parameters", []))
    assert bool(row.find_elements(By.XPATH, ".//button[normalize-space()='Disconnect and ban']")) == takes_ban
    row.find_element(By.XPATH, ".//button[normalize-space()='Disconnect']").click()
    until(browser, lambda d: re.search(r"Session \d+ ended\.", d.find_element(By.ID, "page").text), "the result")
    with pytest.raises(ftplib.error_temp, match="^421 Session ended by the administrator."):
        ftp.voidcmd("NOOP")
    ftp.close()
    until(browser, lambda d: "No session." in d.find_element(By.ID, "page").text, "the list refreshed")
    assert re.search(r"admin: op from 127\.0\.0\.1: session\.end session \d+", srv.log())


def test_text_from_the_server_is_shown_as_text_never_run_as_html(browser, manager, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    srv, api = manager
    name = "/<script>alert(1)</script>"  # a folder "<script>alert(1)<" and in it a file "script>"
    with Control.to(srv) as ctl:
        ctl.login()
        ctl.expect("MKD <script>alert(1)<", "257")
        data = ctl.pasv()
        ctl.send(f"STOR {name}\r\n".encode())
        assert ctl.reply().startswith("150")
        data.sendall(b"x")
        sign_in(browser, api)
        until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
        browser.find_element(By.LINK_TEXT, "Sessions").click()
        cell = until(browser, lambda d: next((c for c in d.find_elements(By.CSS_SELECTOR, "#page td")
                                              if c.text.startswith("STOR ")), None), "the transfer listed")
        assert cell.text == f"STOR {name} (1 bytes)"
        browser.save_screenshot(str(tmp_path / "escaped.png"))
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text
        scripts = browser.execute_script("return [...document.scripts].map((s) => s.getAttribute('src'))")
        assert scripts == ["/vendor/chart.min.js", "/app.js"], scripts
        data.close()
        assert ctl.reply().startswith("226")


def test_apply_the_passive_settings_from_the_ftp_s_page_and_a_real_client_gets_them(browser, make_manager,  # noqa: F811
                                                                                        tmp_path):
    from selenium.webdriver.common.by import By
    # The FTP listener is on 127.0.0.7, where the data connections listen too; the passive address
    # starts as 127.0.0.1 (so that the change shows), and becomes 127.0.0.7.
    srv, api = make_manager(listeners='[[listeners]]\naddress = "127.0.0.7:0"\n',
                            extra='[passive]\naddress = "127.0.0.1"\nports = "40110-40119"\n')
    sign_in(browser, api)
    until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
    browser.find_element(By.LINK_TEXT, "Domains").click()
    until(browser, lambda d: d.find_elements(By.LINK_TEXT, "default"), "the domain list")[0].click()
    until(browser, lambda d: d.find_elements(By.LINK_TEXT, "FTP/S"), "the domain's services")[0].click()
    until(browser, lambda d: by_label(d, "Passive port range").get_attribute("value") == "40110-40119",
          "the form filled with the settings in force")
    listeners = browser.find_element(By.ID, "page").text
    assert f"127.0.0.7:{srv.port}" in listeners and "none" in listeners, listeners
    address, ports = by_label(browser, "Passive IP address"), by_label(browser, "Passive port range")
    # A value the server refuses is shown next to its field.
    ports.clear()
    ports.send_keys("40139-40130")
    error = until(browser, lambda d: d.find_element(By.ID, "passive-ports-error").text, "the refusal under the field")
    assert "40139-40130" in error or "port" in error, error
    assert ports.get_attribute("aria-invalid") == "true"
    # The preview: the file's diff and the firewall rules, before anything is written.
    ports.clear()
    ports.send_keys("40130-40139")
    address.clear()
    address.send_keys("127.0.0.7")
    until(browser, lambda d: "127.0.0.7" in d.find_element(By.ID, "passive-preview").text
          and "40130" in d.find_element(By.ID, "passive-preview").text, "the preview of the change")
    assert browser.find_element(By.ID, "passive-ports-error").text == ""
    diff = browser.find_element(By.ID, "passive-diff").text
    assert '+address = "127.0.0.7"' in diff and '+ports = "40130-40139"' in diff, diff
    assert "40130" in browser.find_element(By.ID, "firewall-nftables").text
    assert 'ports = "40110-40119"' in (srv.base / "ftpsd.toml").read_text(), "a preview writes nothing"
    browser.find_element(By.XPATH, "//button[normalize-space()='Apply']").click()
    until(browser, lambda d: "Applied" in d.find_element(By.ID, "page").text, "the result")
    browser.save_screenshot(str(tmp_path / "ftps.png"))
    assert 'ports = "40130-40139"' in (srv.base / "ftpsd.toml").read_text()
    # A real FTP client, connected after Apply, is sent to the new address and a port in the new range.
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.7", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    reply = ftp.sendcmd("PASV")
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", reply)
    assert m and ".".join(m.groups()[:4]) == "127.0.0.7", reply
    assert 40130 <= int(m.group(5)) * 256 + int(m.group(6)) <= 40139, reply
    host, port = ftplib.parse227(reply)
    with socket.create_connection((host, port), timeout=TIMEOUT) as data:
        ftp.putcmd("LIST")
        assert ftp.getresp().startswith("150")
        data.recv(4096)
    ftp.close()
