"""Browser fixtures: the app served on a real port, Debian's chromium, and a phone-sized page.

The pages are opened the way a resident opens them: a 390x844 touch phone whose browser asks for
Chinese or English. Chromium is Debian's (`apt-get install chromium fonts-wqy-microhei`, done by
.ci/run); Playwright's own browser download (`playwright install`) is never used.

Screenshots go to test-artifacts/screenshots/<test>-<lang>-<step>.png for a person to look at.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import served

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = PROJECT_ROOT / "test-artifacts" / "screenshots"

# The two languages, as the phone's browser asks for them (Accept-Language).
BROWSER_LOCALES = {"zh": "zh-CN", "en": "en"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def live_server(app):
    """The test app (fresh database with the demo community) served in a background thread."""
    with served(app) as url:
        yield url


def has_chinese_font() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    found = subprocess.run([fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium. Missing chromium fails the tests: CI installs it, so it must be there."""
    install = "Install it as CI does: apt-get install -y --no-install-recommends chromium fonts-wqy-microhei"
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail(f"chromium is not installed, so the browser tests cannot run. {install}", pytrace=False)
    if not has_chinese_font():
        pytest.fail(f"no Chinese font is installed: Chinese pages would show empty boxes. {install}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev.txt pins it
        pytest.fail("playwright is not installed: .venv/bin/pip install -r requirements-dev.txt", pytrace=False)
    playwright = sync_playwright().start()
    try:
        # --no-sandbox: CI runs as root, where chromium refuses to start sandboxed.
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
    except Exception as error:
        playwright.stop()
        pytest.fail(f"chromium at {executable} did not start: {error}", pytrace=False)
    yield browser
    browser.close()
    playwright.stop()


class PhonePage:
    """Opens phone-sized pages and remembers what went wrong in them (script errors, failed loads)."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.problems = []

    def __call__(self, lang: str):
        context = self.browser.new_context(locale=BROWSER_LOCALES[lang], base_url=self.base_url, **PHONE)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        return page

    def _console(self, message):
        # A failed load is reported by _response with its address; the rest (CSP refusals, ...) here.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _failed(self, request):
        # The browser loads the site's icon by itself and drops that load when the page is left
        # at once: not a fault of the page.
        if request.failure == "net::ERR_ABORTED" and (request.url.endswith("/favicon.ico") or "/static/icons/" in request.url):
            return
        self.problems.append(f"failed to load {request.url}: {request.failure}")

    def _response(self, response):
        # Pages may answer 4xx on purpose (a form with errors); what they load must not fail
        # (the /favicon.ico the browser asks for by itself included).
        request = response.request
        if response.status >= 400 and request.resource_type != "document":
            self.problems.append(f"{request.resource_type} {request.url} answered {response.status}")

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A factory: phone_page("zh") or phone_page("en") gives a new page on a 390x844 touch phone
    whose browser prefers that language, with relative URLs going to the live server."""
    pages = PhonePage(browser, live_server)
    yield pages
    pages.close()
    assert not pages.problems, "the browser reported problems:\n" + "\n".join(pages.problems)


@pytest.fixture
def screenshot(request):
    """screenshot(page, lang, step) saves test-artifacts/screenshots/<test>-<lang>-<step>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    test_name = request.node.originalname

    def save(page, lang: str, step: str, full_page: bool = True) -> Path:
        path = SCREENSHOT_DIR / f"{test_name}-{lang}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
