"""The console's Users and Bans pages in Debian's chromium (headless, Selenium): an admin adds, edits,
disables, enables, resets the password of and deletes a user, and a real FTP client (ftplib) follows
each change; a viewer sees the users without the buttons to change them; a refused value is shown at
its field; a change made meanwhile is refused (If-Match), not overwritten; an operator bans an address
and a real FTP client from it is refused until the ban is removed."""
import ftplib
import io
import re

import pytest

from conftest import PASSWORDS
from browser import browser, browser_errors, by_label, sign_in, until  # noqa: F401 (a fixture)
from test_admin_api import TIMEOUT, make_manager  # noqa: F401 (a fixture)
from test_admin_users import ftp_login, refused_login

USERS = "/api/v1/domains/default/users"
BANNED = re.escape("421 Your address is temporarily banned after failed logins.")
ENDED = re.escape("421 Session ended by the administrator.")


@pytest.fixture
def manager(make_manager):  # noqa: F811 (the fixture imported above)
    return make_manager()


def open_page(driver, api, title, who="root"):
    from selenium.webdriver.common.by import By
    sign_in(driver, api, who)
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == "Dashboard", "the dashboard")
    driver.find_element(By.LINK_TEXT, title).click()
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#page h1").text == title, f"the {title} page")


def table_rows(driver):
    """The texts of the cells of the page's table, read at once (the Bans page rebuilds it every 3 s)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#page tbody tr')]"
        ".map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim()));")


def cells(driver, first_cell):
    """The texts of the row whose first cell is `first_cell`, or None."""
    return next((r for r in table_rows(driver) if r and r[0] == first_cell), None)


def click_in_row(driver, first_cell, text):
    """Clicks the button `text` of `first_cell`'s row (found again if the table was rebuilt meanwhile)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    xpath = f"//*[@id='page']//tbody/tr[td[1][normalize-space()='{first_cell}']]//button[normalize-space()='{text}']"

    def click(d):
        try:
            d.find_element(By.XPATH, xpath).click()
            return True
        except StaleElementReferenceException:
            return False
    until(driver, click, f"{first_cell}'s button {text}")


def button(driver, text):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")


def status_says(driver, text):
    """Waits for the result line (role="status") to say `text`."""
    from selenium.webdriver.common.by import By
    return until(driver, lambda d: any(text in s.text for s in d.find_elements(By.CSS_SELECTOR, "#page [role=status]")),
                 f"the result line saying {text!r}")


def stored(ftp, name):
    ftp.storbinary(f"STOR {name}", io.BytesIO(b"data"))


def test_an_admin_adds_edits_disables_resets_and_deletes_a_user_and_ftp_follows(browser, manager, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    srv, api = manager
    home = tmp_path / "carol-home"
    home.mkdir()
    browser.get_log("browser")  # what earlier tests left
    open_page(browser, api, "Users")
    until(browser, lambda d: cells(d, "alice"), "the users listed")
    assert Select(by_label(browser, "Domain")).first_selected_option.text == "default"
    assert cells(browser, "bob")[:4] == ["bob", str(srv.root("bob")), "no", "yes"]

    # Add: the form's labels are real (the sign-in form's hidden "User name" and "Password" are not used).
    button(browser, "Add user").click()
    until(browser, lambda d: by_label(d, "User name").is_displayed(), "the form")
    by_label(browser, "User name").send_keys("carol")
    by_label(browser, "Password").send_keys("carol-pass-1")
    by_label(browser, "Write access").click()
    assert by_label(browser, "Enabled").is_selected()
    by_label(browser, "Root folder").send_keys(str(home), Keys.ENTER)  # the keyboard submits the form
    status_says(browser, "User carol added to default: it can log in now.")
    until(browser, lambda d: cells(d, "carol"), "carol listed")
    assert cells(browser, "carol")[:5] == ["carol", str(home), "yes", "yes", "defaults"]
    assert not browser.find_elements(By.ID, "user-password") and "carol-pass-1" not in browser.page_source
    browser.save_screenshot(str(tmp_path / "users-added.png"))
    ftp = ftp_login(srv, "carol", "carol-pass-1")
    stored(ftp, "one.txt")
    assert (home / "one.txt").read_bytes() == b"data"

    # Edit: write access off; the name cannot change, an empty password keeps the password.
    click_in_row(browser, "carol", "Edit")
    until(browser, lambda d: by_label(d, "Root folder").get_attribute("value") == str(home), "the form filled")
    assert by_label(browser, "User name").get_attribute("readonly") is not None
    assert by_label(browser, "Write access").is_selected()
    by_label(browser, "Write access").click()
    button(browser, "Save changes").click()
    status_says(browser, "User carol changed.")
    until(browser, lambda d: (cells(d, "carol") or [None] * 3)[2] == "no", "the list read again")
    ftp.quit()
    ftp = ftp_login(srv, "carol", "carol-pass-1")  # a new session gets the change; the password stays
    with pytest.raises(ftplib.error_perm, match="^550 Permission denied"):
        stored(ftp, "two.txt")
    assert not (home / "two.txt").exists()

    # Disable: the running session ends, the next login is refused; Enable: it logs in again.
    click_in_row(browser, "carol", "Disable")
    status_says(browser, "User carol disabled")
    with pytest.raises(ftplib.error_temp, match=f"^{ENDED}$"):
        ftp.voidcmd("NOOP")
    ftp.close()
    assert refused_login(srv, "carol", "carol-pass-1") == "530 This account is disabled."
    until(browser, lambda d: (cells(d, "carol") or [None] * 4)[3] == "no", "carol shown disabled")
    browser.save_screenshot(str(tmp_path / "users-disabled.png"))
    click_in_row(browser, "carol", "Enable")
    status_says(browser, "User carol enabled")
    ftp_login(srv, "carol", "carol-pass-1").quit()

    # Reset the password: the old one fails, the new one works, and it is shown nowhere.
    click_in_row(browser, "carol", "Reset password")
    by_label(browser, "New password").send_keys("carol-pass-2", Keys.ENTER)
    status_says(browser, "Password of carol changed.")
    assert not browser.find_elements(By.ID, "reset-password") and "carol-pass-2" not in browser.page_source
    assert refused_login(srv, "carol", "carol-pass-1") == "530 Login incorrect."
    ftp = ftp_login(srv, "carol", "carol-pass-2")

    # Delete, confirmed with a real button: the session ends, the login fails, the entry is gone.
    click_in_row(browser, "carol", "Delete")
    confirm = until(browser, lambda d: button(d, "Delete carol"), "the confirmation")
    assert "running sessions end" in browser.find_element(By.ID, "users-editor").text
    browser.save_screenshot(str(tmp_path / "users-delete.png"))
    confirm.click()
    status_says(browser, "User carol deleted.")
    until(browser, lambda d: cells(d, "alice") and cells(d, "carol") is None, "carol gone from the list")
    with pytest.raises(ftplib.error_temp, match=f"^{ENDED}$"):
        ftp.voidcmd("NOOP")
    ftp.close()
    assert refused_login(srv, "carol", "carol-pass-2") == "530 Login incorrect."
    text = (srv.base / "users.toml").read_text()
    assert '"carol"' not in text and 'name = "alice"' in text and 'name = "bob"' in text, text
    actions = [e["action"] for e in api.call("GET", "/api/v1/audit?limit=10", token=api.token("view"))[2]["entries"]]
    assert actions == ["user.remove"] + ["user.change"] * 4 + ["user.add"], actions
    assert browser_errors(browser) == [], "no script or style refused, nothing missing"


def test_a_viewer_sees_the_users_and_bans_but_no_button_to_change_them(browser, manager, tmp_path):
    from selenium.webdriver.common.by import By
    srv, api = manager
    open_page(browser, api, "Users", "view")
    until(browser, lambda d: cells(d, "bob"), "the users listed")
    listed = api.call("GET", USERS, token=api.token("view"))[2]["users"]
    assert [cells(browser, u["name"])[:4] for u in listed] == \
        [[u["name"], u["root"], "yes" if u["write"] else "no", "yes"] for u in listed]
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#page thead th")]
    assert headers == ["Name", "Root", "Write access", "Enabled", "Overrides"], headers
    page = browser.find_element(By.ID, "page")
    assert page.find_elements(By.TAG_NAME, "button") == [], "no change buttons for a viewer"
    assert "Changing users needs the role admin." in page.text
    browser.save_screenshot(str(tmp_path / "users-viewer.png"))
    api.call("POST", "/api/v1/bans", token=api.token("op"), body={"address": "127.0.0.9", "duration": "15m"})
    browser.find_element(By.LINK_TEXT, "Bans").click()
    until(browser, lambda d: cells(d, "127.0.0.9"), "the ban listed")
    assert browser.find_element(By.ID, "page").find_elements(By.TAG_NAME, "button") == []
    assert not browser.find_elements(By.ID, "ban-address")
    assert "Managing bans needs the role operator or admin." in browser.find_element(By.ID, "page").text


def test_a_name_or_value_the_server_refuses_is_shown_at_its_field(browser, manager, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    srv, api = manager
    before = (srv.base / "users.toml").read_text()
    open_page(browser, api, "Users")
    until(browser, lambda d: cells(d, "alice"), "the users listed")
    button(browser, "Add user").click()
    name = until(browser, lambda d: by_label(d, "User name"), "the form")
    name.send_keys("<b>dave</b>")
    by_label(browser, "Password").send_keys("dave-pass-1")
    by_label(browser, "Root folder").send_keys(str(tmp_path), Keys.ENTER)
    error = until(browser, lambda d: d.find_element(By.ID, "user-name-error").text, "the refusal under the name")
    assert error == "'name' must be 1 to 128 letters, digits or _ - . @"
    assert name.get_attribute("aria-invalid") == "true"
    assert "user-name-error" in name.get_attribute("aria-describedby").split()
    browser.save_screenshot(str(tmp_path / "users-refused-name.png"))
    name.clear()
    name.send_keys("dave")
    root = by_label(browser, "Root folder")
    root.clear()
    root.send_keys(str(tmp_path / "nowhere"), Keys.ENTER)
    error = until(browser, lambda d: d.find_element(By.ID, "user-root-error").text, "the refusal under the root")
    assert error == f"'root': no folder {tmp_path / 'nowhere'}"
    assert root.get_attribute("aria-invalid") == "true"
    assert name.get_attribute("aria-invalid") is None and browser.find_element(By.ID, "user-name-error").text == ""
    browser.save_screenshot(str(tmp_path / "users-refused-root.png"))
    # An existing name: the server's message (409, no field) in the form.
    name.clear()
    name.send_keys("alice")
    root.clear()
    root.send_keys(str(tmp_path), Keys.ENTER)
    exists = "user 'alice' already exists in domain default"
    until(browser, lambda d: exists in d.find_element(By.ID, "users-editor").text, "the conflict shown")
    assert (srv.base / "users.toml").read_text() == before, "nothing refused was written"
    assert refused_login(srv, "dave", "dave-pass-1") == "530 Login incorrect."


def test_a_change_made_meanwhile_is_refused_and_not_overwritten(browser, manager, tmp_path):
    """Two admins at once: the page sends the ETag of the list it shows as If-Match."""
    from selenium.webdriver.common.by import By
    srv, api = manager
    open_page(browser, api, "Users")
    until(browser, lambda d: cells(d, "bob"), "the users listed")
    status, _, answer = api.call("PUT", f"{USERS}/bob", token=api.token("root"), body={"root": str(srv.root("alice"))})
    assert status == 200, answer
    click_in_row(browser, "bob", "Disable")
    status_text = until(browser, lambda d: next((a.text for a in d.find_elements(
        By.CSS_SELECTOR, "#users-result [role=alert]")), None), "the conflict shown")
    assert status_text == (f"{srv.base / 'users.toml'} changed since it was read (edited by hand meanwhile?); "
                           "nothing was written: read it again and repeat the change")
    browser.save_screenshot(str(tmp_path / "users-conflict.png"))
    assert "enabled" not in (srv.base / "users.toml").read_text()
    ftp_login(srv, "bob", PASSWORDS["bob"]).quit()
    # The list was read again (the other admin's change shows): repeating the change applies it.
    until(browser, lambda d: (cells(d, "bob") or [None] * 2)[1] == str(srv.root("alice")), "the list read again")
    click_in_row(browser, "bob", "Disable")
    status_says(browser, "User bob disabled")
    text = (srv.base / "users.toml").read_text()
    assert "enabled = false" in text and text.count(f'root = "{srv.root("alice")}"') == 2, text
    assert refused_login(srv, "bob", PASSWORDS["bob"]) == "530 This account is disabled."


def test_an_operator_bans_an_address_its_ftp_client_is_refused_until_removed(browser, manager, tmp_path):
    from selenium.webdriver.common.by import By
    srv, api = manager
    browser.get_log("browser")  # what earlier tests left
    ftp_login(srv, "alice", PASSWORDS["alice"], source="127.0.0.9").quit()
    open_page(browser, api, "Bans", "op")
    until(browser, lambda d: "No address is banned." in d.find_element(By.ID, "page").text, "the empty list")
    address, duration = by_label(browser, "Address or network"), by_label(browser, "Duration")
    assert duration.get_attribute("value") == "15m"
    # Refusals at their fields.
    address.send_keys("ftp.example.com")
    button(browser, "Ban").click()
    error = until(browser, lambda d: d.find_element(By.ID, "ban-address-error").text, "the refusal of the address")
    assert error == "'address' must be an IP address or a network such as 203.0.113.0/24"
    assert address.get_attribute("aria-invalid") == "true"
    address.clear()
    address.send_keys("127.0.0.9")
    duration.clear()
    duration.send_keys("soon")
    button(browser, "Ban").click()
    error = until(browser, lambda d: d.find_element(By.ID, "ban-duration-error").text, "the refusal of the duration")
    assert error == "'duration' must be a duration such as \"30s\", \"15m\" or \"1h\", more than 0"
    assert address.get_attribute("aria-invalid") is None
    assert api.call("GET", "/api/v1/bans", token=api.token("view"))[2] == {"bans": []}
    browser.save_screenshot(str(tmp_path / "bans-refused.png"))
    # Ban: the next connection from 127.0.0.9 is refused as a ban refuses; the browser (127.0.0.1) goes on.
    duration.clear()
    duration.send_keys("15m")
    button(browser, "Ban").click()
    status_says(browser, "127.0.0.9 banned until")
    until(browser, lambda d: cells(d, "127.0.0.9"), "the ban listed")
    assert cells(browser, "127.0.0.9")[2] == "banned by op"
    with pytest.raises(ftplib.error_temp, match=f"^{BANNED}$"):
        ftp_login(srv, "alice", PASSWORDS["alice"], source="127.0.0.9")
    ftp_login(srv, "alice", PASSWORDS["alice"]).quit()
    # The list refreshes by itself: another operator's ban shows up.
    status, _, answer = api.call("POST", "/api/v1/bans", token=api.token("root"),
                                 body={"address": "127.0.0.64/26", "duration": "1h"})
    assert status == 201, answer
    until(browser, lambda d: cells(d, "127.0.0.64/26"), "the other ban listed without a click")
    assert cells(browser, "127.0.0.64/26")[2] == "banned by root"
    browser.save_screenshot(str(tmp_path / "bans.png"))
    # Remove: it connects again.
    click_in_row(browser, "127.0.0.9", "Remove")
    status_says(browser, "The ban on 127.0.0.9 is lifted")
    until(browser, lambda d: cells(d, "127.0.0.9") is None, "the ban gone from the list")
    ftp_login(srv, "alice", PASSWORDS["alice"], source="127.0.0.9").quit()
    click_in_row(browser, "127.0.0.64/26", "Remove")
    status_says(browser, "The ban on 127.0.0.64/26 is lifted")
    until(browser, lambda d: "No address is banned." in d.find_element(By.ID, "page").text, "the list empty again")
    assert api.call("GET", "/api/v1/bans", token=api.token("view"))[2] == {"bans": []}
    refusals = "the server responded with a status of 422"  # the two refused above
    assert [e for e in browser_errors(browser) if refusals not in e] == []
