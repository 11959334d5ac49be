"""The dashboard in a real browser: Debian's Chromium, driven by Selenium through chromedriver.

A coach signs in, opens a course report seeded with data, follows a learner,
and reads what the pages show; keyboard and phone-width checks too.
Screenshots go to ``LRS_TEST_OUTPUT`` (default ``test-output/``). The tests
skip, saying so, only when no Chromium or chromedriver can be found
(`.ci/run` installs both).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from lrs.testing import COURSE
from tests.support import LiveServer, make_app
from tests.web.seed import HOMEPAGE, seed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
OUTPUT = Path(os.environ.get("LRS_TEST_OUTPUT", "test-output")) / "screenshots"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="no Chromium and chromedriver here (apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def server():
    live = LiveServer()
    live.app = seed(make_app(ACCOUNT_HOMEPAGE=HOMEPAGE))
    credential, secret = live.app.extensions["lrs"].credentials.create("coach", username="cy")
    live.coach = (credential.key, secret)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not go online
    profile = tempfile.mkdtemp(prefix="lrs-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(browser, name):
    path = OUTPUT / f"{name}.png"
    assert browser.save_screenshot(str(path)), path
    assert path.stat().st_size > 1000


def sign_in(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.url}/dashboard/")
    assert "/dashboard/sign-in" in browser.current_url
    key, secret = server.coach
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "secret").send_keys(secret)
    browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]").click()
    # The click returns once the form is sent; the next page may still be loading.
    WebDriverWait(browser, 10).until(lambda found: "/sign-in" not in found.current_url)


def test_a_coach_reads_the_course_report_and_follows_a_learner(server, browser):
    from selenium.webdriver.common.by import By

    sign_in(browser, server)
    assert browser.current_url.endswith("/dashboard/courses")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Courses"
    browser.find_element(By.LINK_TEXT, COURSE).click()
    assert browser.find_element(By.TAG_NAME, "h1").text == COURSE
    table = browser.find_element(By.CSS_SELECTOR, "table.report")
    learners = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert learners == ["ada", "bob"]
    done = table.find_element(By.CSS_SELECTOR, "td.done")
    assert done.text.startswith("100%") and "time spent" in done.get_attribute("title")
    # The stylesheet was loaded from this server: the done cell is coloured.
    colour = done.value_of_css_property("background-color")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
    shot(browser, "course-report")
    browser.find_element(By.LINK_TEXT, "ada").click()
    assert browser.current_url.endswith("/dashboard/learners/ada")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ada Lovelace"
    latest = browser.find_element(By.CSS_SELECTOR, "ul.statements").text
    assert "ada completed Page 1, 92%" in latest and "min ago" in latest
    shot(browser, "learner")
    browser.get(f"{server.url}/dashboard/courses/{COURSE}/activity")
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    assert len(bars) == 30
    assert [bar for bar in bars if float(bar.get_attribute("height")) > 0][-1].is_displayed()
    shot(browser, "activity")
    browser.get(f"{server.url}/dashboard/admin/credentials")
    assert "Not yours to see" in browser.find_element(By.TAG_NAME, "h1").text


def test_keyboard_and_phone_width(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{server.url}/dashboard/courses")
    if "/sign-in" in browser.current_url:
        sign_in(browser, server)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip" and focused.is_displayed()
    focused.send_keys(Keys.ENTER)
    browser.set_window_size(375, 800)
    browser.get(f"{server.url}/dashboard/courses/{COURSE}/report")
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    window_width = browser.execute_script("return window.innerWidth")
    assert page_width <= window_width + 1  # the wide report scrolls inside its own box
    shot(browser, "course-report-phone")
    browser.set_window_size(1280, 900)
