"""The console's operations pages in Debian's chromium (headless, Selenium): Certificates (what a domain
serves, a new pair installed through the form and seen by a real TLS client, a key that does not fit
refused at its field), Revisions (the diff of two changes, a revision restored and a real FTP client
sent back to the old passive ports) and Logs (a live tail: a login appears as it happens, the filter,
Pause/Resume, the kind, and a page left closes its stream)."""
import ftplib
import io
import re
from datetime import datetime, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from browser import WAIT, browser, browser_errors, by_label, sign_in, until  # noqa: F401 (a fixture)
from conftest import PASSWORDS
from helpers import wait_for
from test_admin_api import TIMEOUT, make_manager  # noqa: F401 (a fixture)
from test_admin_certificates import cert_pem, key_pem, make, served_certificate
from test_admin_logs import Stream

CERTS = "/api/v1/domains/default/certificates"
EXPLICIT = '[[listeners]]\naddress = "127.0.0.1:0"\ntls = "explicit"\n'


@pytest.fixture(autouse=True)
def fresh_browser_log(browser):  # noqa: F811 (the fixture imported above)
    browser.get_log("browser")  # what earlier tests left


def errors(driver):
    """What the browser reported as errors (browser.py's), but the favicon this server does not have."""
    return [e for e in browser_errors(driver) if "/favicon.ico - " not in e]


def open_page(driver, title, heading):
    from selenium.webdriver.common.by import By
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
    driver.find_element(By.LINK_TEXT, title).click()
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == heading, f"the {title} page")


def button(driver, text, within=None):
    from selenium.webdriver.common.by import By
    return (within or driver).find_element(By.XPATH, f".//button[normalize-space()='{text}']")


def click(driver, element):
    """Clicks `element` once it is in view: Bootstrap scrolls smoothly, and a click during the scroll
    lands elsewhere."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()


def page_text(driver):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, "page").text


# Certificates

def test_the_certificates_page_shows_the_served_certificate_and_installs_a_new_pair(browser, make_manager,  # noqa: F811
                                                                                      tmp_path):
    from selenium.webdriver.common.by import By
    srv, api = make_manager(extra=EXPLICIT)
    served = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    not_after = served.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign_in(browser, api)
    open_page(browser, "Certificates", "Certificates")
    card = until(browser, lambda d: next((c for c in d.find_elements(By.CSS_SELECTOR, ".certificate")
                                          if "CN=localhost" in c.text), None), "the served certificate")
    days = (served.not_valid_after.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)).days
    assert days >= 30, "the test certificate is not close to its expiry"
    assert f"{not_after} {days} days left" in card.text or f"{not_after} {days + 1} days left" in card.text, card.text
    assert card.find_element(By.CSS_SELECTOR, "[data-expiry]").get_attribute("data-expiry") == "success"
    assert "localhost, 127.0.0.1" in card.text and "EC 256 bits" in card.text, card.text
    assert by_label(browser, "Domain").get_attribute("value") == "default"
    browser.save_screenshot(str(tmp_path / "certificates.png"))

    ca, ca_key = make("Console CA", 91, ca=True)
    leaf, leaf_key = make("console.example.test", 0xC0FFEE, issuer=ca, issuer_key=ca_key)
    (tmp_path / "ca.pem").write_text(cert_pem(ca))
    (tmp_path / "new-cert.pem").write_text(cert_pem(leaf) + cert_pem(ca))
    (tmp_path / "new-key.pem").write_text(key_pem(leaf_key))
    before = (tmp_path / "cert.pem").read_text(), (tmp_path / "key.pem").read_text()

    # The file inputs fill the text areas (read in the browser); a key of another pair is refused at its field.
    by_label(browser, "Certificate file").send_keys(str(tmp_path / "new-cert.pem"))
    until(browser, lambda d: by_label(d, "Certificate (PEM)").get_attribute("value")
          == (tmp_path / "new-cert.pem").read_text(), "the certificate read from its file")
    by_label(browser, "Private key (PEM)").send_keys(key_pem(ec.generate_private_key(ec.SECP256R1())))
    click(browser, button(browser, "Install"))
    error = until(browser, lambda d: d.find_element(By.ID, "key-pem-error").text, "the refusal under the key")
    assert error == "'private_key' does not belong to the certificate"
    assert by_label(browser, "Private key (PEM)").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "cert-pem-error").text == ""
    assert ((tmp_path / "cert.pem").read_text(), (tmp_path / "key.pem").read_text()) == before
    browser.save_screenshot(str(tmp_path / "certificate-refused.png"))
    refused = f"{CERTS} - Failed to load resource: the server responded with a status of 422"
    assert [e for e in errors(browser) if refused not in e] == [], "only the refusal, nothing blocked by the CSP"

    by_label(browser, "Private key file").send_keys(str(tmp_path / "new-key.pem"))
    until(browser, lambda d: by_label(d, "Private key (PEM)").get_attribute("value") == key_pem(leaf_key),
          "the key read from its file")
    click(browser, button(browser, "Install"))
    until(browser, lambda d: "Installed on default" in page_text(d), "the result")
    card = until(browser, lambda d: next((c for c in d.find_elements(By.CSS_SELECTOR, ".certificate")
                                          if "CN=console.example.test" in c.text), None), "the new certificate")
    assert "CN=Console CA" in card.text and "C0FFEE" in card.text, card.text
    assert card.find_element(By.CSS_SELECTOR, "[data-expiry]").get_attribute("data-expiry") == "warning", \
        "29 days left: the warning style"
    assert browser.find_element(By.ID, "key-pem-error").text == ""
    assert by_label(browser, "Private key (PEM)").get_attribute("value") == "", "the key is not kept in the page"
    assert by_label(browser, "Private key file").get_attribute("value") == ""
    browser.save_screenshot(str(tmp_path / "certificate-installed.png"))
    # A real TLS client (AUTH TLS on the explicit listener, verified against the new CA) gets it.
    got = served_certificate(srv, tmp_path / "ca.pem")
    assert (got.serial_number, got.subject.rfc4514_string()) == (0xC0FFEE, "CN=console.example.test")
    assert (tmp_path / "cert.pem.revisions" / "1.pem").read_text() == before[0]
    assert errors(browser) == [], "nothing refused by the CSP, no script error"


def test_a_viewer_sees_the_certificates_but_no_install_form(browser, make_manager, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    _, api = make_manager(extra=EXPLICIT)
    sign_in(browser, api, "view")
    open_page(browser, "Certificates", "Certificates")
    until(browser, lambda d: "Installing a certificate needs the role admin." in page_text(d), "the note")
    assert "CN=localhost" in page_text(browser)
    assert browser.find_elements(By.ID, "cert-pem") == [] and browser.find_elements(By.ID, "key-pem") == []
    browser.save_screenshot(str(tmp_path / "certificates-viewer.png"))


# Revisions

def pasv_port(srv):
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    try:
        return ftplib.parse227(ftp.sendcmd("PASV"))[1]
    finally:
        ftp.close()


def test_revisions_show_the_diff_of_two_changes_and_restore_the_first_revision(browser, make_manager,  # noqa: F811
                                                                                 tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    srv, api = make_manager(extra='[passive]\nports = "40510-40519"\n')
    cfg = srv.base / "ftpsd.toml"
    original = cfg.read_text()
    root = api.token("root")
    for ports in ("40520-40529", "40530-40539"):
        status, _, answer = api.call("PUT", "/api/v1/domains/default/passive", token=root, body={"ports": ports})
        assert status == 200 and answer["applied"], answer
    assert 40530 <= pasv_port(srv) <= 40539

    sign_in(browser, api)
    open_page(browser, "Revisions", "Configuration revisions")
    rows = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#page tbody tr"), "the revisions")
    assert [r.find_element(By.CSS_SELECTOR, "td").text for r in rows] == ["1", "2"]
    # From the newest revision to the file as it is (the second change) at first; then 1 -> 2 (the first).
    diff = until(browser, lambda d: d.find_element(By.ID, "revision-diff"), "the diff")
    assert '-ports = "40520-40529"' in diff.text and '+ports = "40530-40539"' in diff.text, diff.text
    Select(by_label(browser, "From")).select_by_value("1")
    Select(by_label(browser, "To")).select_by_value("2")
    until(browser, lambda d: "From revision 1 to revision 2" in page_text(d), "the diff of the first change")
    lines = {s.text: s.get_attribute("class") for s in browser.find_elements(By.CSS_SELECTOR, "#revision-diff span")}
    assert lines['-ports = "40510-40519"'] == "diff-del" and lines['+ports = "40520-40529"'] == "diff-add", lines
    assert any(c == "diff-hunk" for c in lines.values()), lines
    # One revision's text.
    click(browser, button(browser, "View", rows[1]))
    text = until(browser, lambda d: d.find_elements(By.ID, "revision-text"), "the revision's text")[0].text
    assert 'ports = "40520-40529"' in text and text.strip() == answer_text(api, root, 2).strip()
    browser.save_screenshot(str(tmp_path / "revisions.png"))

    # Restore asks first, with a real button; Cancel changes nothing.
    click(browser, button(browser, "Restore", rows[0]))
    click(browser, button(browser, "Cancel"))
    until(browser, lambda d: not d.find_elements(By.XPATH, "//button[normalize-space()='Yes, restore revision 1']"),
          "the question gone")
    assert 'ports = "40530-40539"' in cfg.read_text()
    rows = browser.find_elements(By.CSS_SELECTOR, "#page tbody tr")
    click(browser, button(browser, "Restore", rows[0]))
    question = until(browser, lambda d: d.find_element(By.ID, "restore-question"), "the question").text
    assert question.startswith("Restore revision 1 (saved ") and str(cfg) in question, question
    yes = button(browser, "Yes, restore revision 1")
    assert browser.switch_to.active_element == yes, "the keyboard is on the confirmation"
    click(browser, yes)
    until(browser, lambda d: "Revision 1 restored and applied (the text it replaced is kept as revision 3)"
          in page_text(d), "the result")
    browser.save_screenshot(str(tmp_path / "revision-restored.png"))
    assert cfg.read_text() == original
    assert 40510 <= pasv_port(srv) <= 40519, "new sessions get the restored passive ports"
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#page tbody tr")) == 3, "the list refreshed")
    entry = api.audit(root)[0]
    assert (entry["who"], entry["action"], entry["target"]) == ("root", "config.restore", "revision 1"), entry
    assert errors(browser) == [], "nothing refused by the CSP, no script error"


def answer_text(api, token, number):
    status, _, answer = api.call("GET", f"/api/v1/config/revisions/{number}", token=token)
    assert status == 200, answer
    return answer["text"]


def test_restore_answers_the_servers_refusal_and_a_viewer_has_no_restore(browser, make_manager,  # noqa: F811
                                                                           tmp_path):
    from selenium.webdriver.common.by import By
    srv, api = make_manager(extra='[passive]\nports = "40540-40549"\n')
    status, _, answer = api.call("PUT", "/api/v1/domains/default/passive", token=api.token("root"),
                                 body={"ports": "40550-40559"})
    assert status == 200, answer
    # Revision 1 names a users file that is gone now: the check refuses it, in its words.
    (srv.base / "users.toml").rename(srv.base / "users.moved")
    sign_in(browser, api)
    open_page(browser, "Revisions", "Configuration revisions")
    rows = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#page tbody tr"), "the revisions")
    click(browser, button(browser, "Restore", rows[0]))
    click(browser, button(browser, "Yes, restore revision 1"))
    alert = until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page .alert-danger"), "the refusal").text
    assert alert.startswith("Revision 1 not restored: ") and str(srv.base / "users.toml") in alert, alert
    assert 'ports = "40550-40559"' in (srv.base / "ftpsd.toml").read_text()
    browser.save_screenshot(str(tmp_path / "revision-refused.png"))
    (srv.base / "users.moved").rename(srv.base / "users.toml")

    sign_in(browser, api, "view")
    open_page(browser, "Revisions", "Configuration revisions")
    until(browser, lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='View']"), "the revisions")
    assert "Restoring a revision needs the role admin." in page_text(browser)
    assert browser.find_elements(By.XPATH, "//button[normalize-space()='Restore']") == []


# Logs

def shown_lines(driver):
    """[(text, shown)] of the log lines in the page, oldest first."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#log-lines .log-line')].map((n) => [n.textContent, !n.hidden]);")


def live(driver):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, "log-status").text.startswith("Live")


def test_the_logs_page_tails_the_log_live_with_a_filter_and_pause(browser, make_manager, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    srv, api = make_manager()
    sign_in(browser, api, "view")
    open_page(browser, "Logs", "Logs")
    until(browser, lambda d: live(d), "the stream open")
    # The recent lines come first (the Manager's start is among them).
    until(browser, lambda d: any("admin on https://" in t for t, _ in shown_lines(d)), "the recent lines")

    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    ftp.login("alice", PASSWORDS["alice"])
    until(browser, lambda d: any("alice" in t and "logged in" in t for t, shown in shown_lines(d) if shown),
          "alice's login shown as it happens")
    browser.save_screenshot(str(tmp_path / "logs.png"))

    # The filter hides what does not match, now and as lines come.
    by_label(browser, "Filter").send_keys("ALICE")
    until(browser, lambda d: all("alice" in t.lower() for t, shown in shown_lines(d) if shown), "the filter applied")
    assert any(not shown for _, shown in shown_lines(browser)), "lines without alice are hidden"
    assert any(shown for _, shown in shown_lines(browser))
    bob = ftplib.FTP()
    bob.connect("127.0.0.1", srv.port, timeout=TIMEOUT)
    bob.login("bob", PASSWORDS["bob"])
    ftp.voidcmd("NOOP")
    until(browser, lambda d: any("bob" in t and "logged in" in t for t, _ in shown_lines(d)), "bob's login arrived")
    until(browser, lambda d: any("alice <- NOOP" in t for t, shown in shown_lines(d) if shown), "a new matching line")
    assert [t for t, shown in shown_lines(browser) if shown and "bob" in t] == [], "a new line not matching is hidden"
    browser.save_screenshot(str(tmp_path / "logs-filtered.png"))
    by_label(browser, "Filter").send_keys(Keys.CONTROL, "a")
    by_label(browser, "Filter").send_keys(Keys.BACK_SPACE)  # as a user would (clear() sends no input event)
    until(browser, lambda d: all(shown for _, shown in shown_lines(d)), "everything shown again")

    # Pause holds new lines; Resume shows them.
    click(browser, button(browser, "Pause"))
    bob.quit()
    until(browser, lambda d: "new lines held while paused" in d.find_element(By.ID, "log-counts").text, "lines held")
    assert not any("bob" in t and "disconnected" in t for t, _ in shown_lines(browser))
    click(browser, button(browser, "Resume"))
    until(browser, lambda d: any("bob" in t and "disconnected" in t for t, _ in shown_lines(d)), "the held lines")

    # The transfer log (xferlog lines).
    Select(by_label(browser, "Kind")).select_by_value("transfer")
    until(browser, lambda d: live(d), "the transfer stream open")
    ftp.storbinary("STOR tailed.txt", io.BytesIO(b"x" * 321))
    until(browser, lambda d: any("tailed.txt" in t and " 321 " in t for t, _ in shown_lines(d)), "the transfer line")
    assert not any("logged in" in t for t, _ in shown_lines(browser)), "only the transfer log"
    ftp.quit()
    assert errors(browser) == []


def test_leaving_the_logs_page_closes_its_stream(browser, make_manager, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    _, api = make_manager()
    sign_in(browser, api, "view")
    until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
    # The server allows 4 streams at once: a page that kept its stream would leave none after 4 visits.
    for visit in range(5):
        browser.find_element(By.LINK_TEXT, "Logs").click()
        until(browser, lambda d: live(d), f"the stream open (visit {visit + 1})")
        browser.find_element(By.LINK_TEXT, "Dashboard").click()
        until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "left")
    browser.save_screenshot(str(tmp_path / "left.png"))
    view = api.token("view")

    def four_streams_open():
        streams = []
        try:
            for _ in range(4):
                streams.append(Stream(api, view, "kind=session"))
                if streams[-1].response.status != 200:
                    return False
            return True
        finally:
            for s in streams:
                s.close()
    # The server notices a closed stream at its next write (a keep-alive every 2 s of silence): wait
    # longer than that between tries, so that a failed try's streams are gone before the next.
    assert wait_for(four_streams_open, timeout=WAIT, interval=5), "the page's streams are all closed"
