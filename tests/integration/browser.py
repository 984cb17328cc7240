"""The Manager's console in a real browser: Debian's chromium driven by Selenium (python3-selenium,
chromium-driver), headless, loopback only. One chromium for a test module (it takes a while to start);
each test starts a server of its own and signs in again. Import the fixture `browser` into the test
module with the helpers it needs."""
import shutil

import pytest

from conftest import SANITIZED
from test_admin_api import ACCOUNTS

WAIT = 30


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if SANITIZED:
        # The pages run in the normal pass. Under ASan chromium's time would dominate, and the server's side
        # of every page (the same API routes) is driven under ASan by the API tests (test_admin_*.py).
        pytest.skip("the console's pages are tested against the normal build")
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-deps.sh installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs Debian's python3-selenium")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions",
                # Loopback only: no name resolves, and anything but loopback goes to a proxy that is not there.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9"):
        options.add_argument(arg)
    options.accept_insecure_certs = True  # the test certificate
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def by_label(driver, text):
    """The field a <label for> with this text names: a field without a real label is not found. When
    several labels have the text (the sign-in form keeps "User name" and "Password" while hidden), the
    first one displayed."""
    from selenium.webdriver.common.by import By
    xpath = f"//label[normalize-space()='{text}']"
    labels = driver.find_elements(By.XPATH, xpath) or [driver.find_element(By.XPATH, xpath)]  # raises if none
    label = next((label for label in labels if label.is_displayed()), labels[0])
    return driver.find_element(By.ID, label.get_attribute("for"))


def until(driver, condition, what):
    """Waits for `condition(driver)` to be true; an element that a page rebuilt meanwhile (stale) or that
    is not there yet counts as not yet."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message=what)


def sign_in(driver, api, name="root", password=None):
    from selenium.webdriver.common.keys import Keys
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get(f"https://{api.host}:{api.port}/")
    until(driver, lambda d: by_label(d, "User name").is_displayed(), "the sign-in form")
    by_label(driver, "User name").send_keys(name)
    by_label(driver, "Password").send_keys(password or ACCOUNTS[name][0])
    by_label(driver, "Password").send_keys(Keys.ENTER)  # the keyboard signs in as the button does


def browser_errors(driver):
    """What the browser reported as errors, but the 401 of asking who is signed in before anyone is and
    the 404 of the /favicon.ico that chromium asks for by itself (the pages name no icon)."""
    expected = ("/api/v1/auth/session - Failed to load resource: the server responded with a status of 401",
                "/favicon.ico - Failed to load resource: the server responded with a status of 404")
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not any(text in e["message"] for text in expected)]
