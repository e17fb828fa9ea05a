"""The phone header and the installable site in Chromium (issue 21).

At 390x844 the first screen shows the page's content: for every role the content's first heading
starts within the first 300 px, the navigation waits behind one labelled menu button that opens
and closes it, and the role's three most used links stay in view. Chromium accepts the web app
manifest (no parse errors, named and with icons) and the site's service worker controls the
page, so that a page opened without network shows the offline page instead of the browser's error.
"""

import json

import pytest

from tests.browser.test_journeys import log_in

LANGS = ["zh", "en"]
MENU = {"zh": "菜单", "en": "Menu"}
OFFLINE = {"zh": "没有网络", "en": "No connection"}
# Each role's own starting page, beside the home page every role shares.
ROLES = {
    "anonymous": "/menu/",
    "resident": "/requests/",
    "volunteer": "/jobs/",
    "partner_staff": "/shop/scan",
    "building_head": "/staff/",
    "grid_admin": "/staff/",
    "community_admin": "/staff/",
    "street_officer": "/staff/",
    "admin": "/staff/",
}
FIRST_SCREEN = 300


@pytest.mark.parametrize("lang", LANGS)
def test_every_roles_first_heading_is_on_the_first_screen(phone_page, screenshot, lang):
    for role, own_page in ROLES.items():
        page = phone_page(lang)
        if role != "anonymous":
            log_in(page, role)
        for path in ("/", own_page):
            page.goto(path, wait_until="load")
            h1 = page.locator("main h1").first
            heading = h1.bounding_box()
            assert heading is not None, f"{role} {path}: no heading shown"
            # Its first line is read without scrolling (a long title may wrap below).
            first_line = heading["y"] + min(heading["height"], h1.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
            screenshot(page, lang, f"{role}-{path.strip('/').replace('/', '-') or 'home'}", full_page=False)
            assert first_line <= FIRST_SCREEN, f"{role} at {path} ({lang}): the heading's first line ends at {first_line:.0f}px"

        # The navigation behind the button, which says what it is in words and opens and closes it.
        button = page.get_by_role("button", name=MENU[lang])
        box = button.bounding_box()
        assert box and box["height"] >= 48 and box["width"] >= 48
        menu = page.locator("#site-menu")
        assert not menu.is_visible()
        button.tap()
        assert menu.is_visible() and button.get_attribute("aria-expanded") == "true"
        assert page.locator("#site-menu a:visible").count() >= 3
        screenshot(page, lang, f"{role}-menu-open", full_page=False)
        page.keyboard.press("Escape")
        assert not menu.is_visible() and button.get_attribute("aria-expanded") == "false"
        assert page.locator("nav.quick-nav a:visible").count() == 3
        page.context.close()


def test_the_skip_link_is_the_first_stop_and_lands_on_the_content(phone_page):
    page = phone_page("en")
    page.goto("/menu/", wait_until="load")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["height"] >= 24  # shown while it has the focus
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


@pytest.mark.parametrize("lang", LANGS)
def test_chromium_accepts_the_manifest_and_the_service_worker_keeps_an_offline_page(phone_page, screenshot, lang):
    page = phone_page(lang)
    page.goto("/", wait_until="load")
    session = page.context.new_cdp_session(page)
    manifest = session.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == [], manifest["errors"]
    document = json.loads(manifest["data"])
    assert document["short_name"] == ("社区服务" if lang == "zh" else "Community services")

    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload(wait_until="load")
    assert page.evaluate("navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")

    page.context.set_offline(True)
    try:
        for path in ("/events/", "/shop/"):
            page.goto(path, wait_until="load")
            assert OFFLINE[lang] in page.locator("h1").inner_text()
        screenshot(page, lang, "offline-page", full_page=False)
    finally:
        page.context.set_offline(False)
    # With the worker in control, Chromium finds nothing missing for installing the site, but that
    # a test's browser context is a private window (where nothing is ever installed).
    page.goto("/", wait_until="load")
    errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []


def test_the_event_scanner_keeps_its_own_worker_beside_the_sites(app, phone_page):
    """The site's worker (scope /) and the scanner's (scope /events/) live side by side: the
    scanner page stays under its own worker, whose cache and offline queue of scans it needs."""
    from marketplace.events.models import Event
    from tests.conftest import in_app
    from tests.events.test_events_pages import SERVICE_DAY

    event_id = in_app(app, lambda: Event.get(Event.title == SERVICE_DAY).id)
    page = phone_page("zh")
    log_in(page, "grid_admin")
    page.goto("/", wait_until="load")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(f"/events/{event_id}/scanner", wait_until="load")
    page.wait_for_function("navigator.serviceWorker.getRegistrations().then(r => r.length >= 2)")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => new URL(r.scope).pathname)") == "/events/"
    page.reload(wait_until="load")
    page.wait_for_function("!!navigator.serviceWorker.controller")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/events/sw.js")
    scopes = page.evaluate("navigator.serviceWorker.getRegistrations().then(rs => rs.map(r => new URL(r.scope).pathname))")
    assert sorted(scopes) == ["/", "/events/"]
