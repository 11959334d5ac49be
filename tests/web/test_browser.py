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

from lrs.testing import COURSE, OTHER_COURSE
from tests.support import ADMIN, LiveServer, make_app
from tests.web.seed import HOMEPAGE, block, seed

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
    credentials = live.app.extensions["lrs"].credentials
    credential, secret = credentials.create("coach", username="cy")
    live.coach = (credential.key, secret)
    credential, secret = credentials.create("learner", username="ada")
    live.learner = (credential.key, secret)
    live.admin = ADMIN
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


def sign_in(browser, server, who=None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.delete_all_cookies()
    browser.get(f"{server.url}/dashboard/")
    assert "/dashboard/sign-in" in browser.current_url
    key, secret = who or server.coach
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
    browser.find_element(By.LINK_TEXT, "Biology 101").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Biology 101"
    table = browser.find_element(By.CSS_SELECTOR, "table.report")
    # Column headers: activity names in course order (as learners first met them).
    headers = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "th.activity span")]
    assert [text for text in headers if not text.startswith("(")] == [
        "Cells",
        "Page 1",
        "Page 2",
        "Quiz",
    ]
    learners = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert learners == ["Ada Lovelace\nada", "bob"]
    done = table.find_element(By.CSS_SELECTOR, "td.completed")
    assert done.text.startswith("92%") and "time spent" in done.get_attribute("title")
    # A failed quiz: its score, a cross, no tick.
    failed = table.find_element(By.CSS_SELECTOR, "td.failed")
    assert failed.text.startswith("20%") and "✗" in failed.text and "✓" not in failed.text
    # The stylesheet was loaded from this server: the done cell is coloured.
    colour = done.value_of_css_property("background-color")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
    shot(browser, "course-report")
    # The drill-down names who got a question wrong, and what they answered.
    browser.find_element(By.LINK_TEXT, "Quiz").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Quiz"
    hardest = browser.find_element(By.CSS_SELECTOR, "ol.questions > li")
    assert hardest.find_element(By.TAG_NAME, "h3").text == "Is statement 2 true?"
    wrong = hardest.find_element(By.CSS_SELECTOR, "ul.answers").text
    assert wrong.splitlines() == ["Ada Lovelace: false", "bob: false"]
    assert "needs help" in browser.find_element(By.CSS_SELECTOR, "tr.needs-help").text
    shot(browser, "questions")
    browser.back()
    browser.find_element(By.LINK_TEXT, "Ada Lovelace").click()
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


# Every page, by who may see it.
PHONE_PAGES = {
    "coach": [
        "/courses",
        f"/courses/{COURSE}/report",
        f"/courses/{COURSE}/activity",
        f"/courses/{COURSE}/exam?activity=http://example.org/quiz",
        f"/courses/{COURSE}/assignments",
        "/learners/ada",
    ],
    "learner": ["/learners/ada"],
    "admin": [
        "/courses",
        f"/courses/{OTHER_COURSE}/report",
        f"/courses/{COURSE}/assignments",
        "/learners/bob",
        "/admin/credentials",
        "/admin/credentials/nope/revoke",
        "/admin/users?q=a",
        "/admin/statements",
        "/admin/statements?agent=ada&verb=http://adlnet.gov/expapi/verbs/completed",
        "/admin/statements/00000000-0000-0000-0000-000000000002",
        "/admin/forwarding",
        f"/courses/{COURSE}/exam?activity={block(COURSE, 1)}",
    ],
}


@pytest.mark.parametrize("who", sorted(PHONE_PAGES))
def test_no_page_is_wider_than_a_phone(server, browser, who):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.set_window_size(390, 844)
    try:
        window = browser.execute_script("return window.innerWidth")
        assert window <= 390
        # The sign-in page first, then the pages of the one signed in.
        browser.get(f"{server.url}/dashboard/sign-in")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= window
        sign_in(browser, server, getattr(server, who))
        for path in PHONE_PAGES[who]:
            browser.get(f"{server.url}/dashboard{path}")
            assert "/sign-in" not in browser.current_url, path
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= window, (path, width, window)
            # Every field has its label above or beside it, inside the page.
            for label in browser.find_elements(By.CSS_SELECTOR, "main label"):
                box = label.rect
                assert box["x"] >= 0 and box["x"] + box["width"] <= window + 1, (path, label.text)
            name = path.strip("/").replace("/", "-").split("?")[0][:60]
            shot(browser, f"phone-{who}-{name}")
    finally:
        browser.set_window_size(1280, 900)


def test_keyboard_and_a_sticky_learner_column(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, server)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip" and focused.is_displayed()
    focused.send_keys(Keys.ENTER)
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{server.url}/dashboard/courses/{COURSE}/report")
        box = browser.find_element(By.CSS_SELECTOR, ".scroll")
        learner = browser.find_element(By.CSS_SELECTOR, "tbody th.learner")
        before = learner.rect["x"]
        browser.execute_script("arguments[0].scrollLeft = 400", box)
        assert browser.execute_script("return arguments[0].scrollLeft", box) > 0
        assert abs(learner.rect["x"] - before) < 1  # it stays while the cells scroll
        shot(browser, "course-report-phone")
    finally:
        browser.set_window_size(1280, 900)
