"""Every staff role's dashboard and the public board, on a phone and on an office PC, in Chinese
and in English: the charts draw, nothing scrolls sideways, and a screenshot of each is saved
(test-artifacts/screenshots/) for a person to look at."""

import pytest

from tests.browser.test_journeys import log_in

LANGS = ["zh", "en"]
WIDTHS = {"phone": None, "desktop": {"width": 1366, "height": 900}}
STAFF = ["building_head", "grid_admin", "community_admin", "street_officer", "admin"]
TITLE = {"zh": "公示栏", "en": "Public board"}


def no_sideways_scroll(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width}px wide in a {inner}px window"


def charts_drawn(page, at_least):
    drawn = page.locator(".chart-scroll svg").count()
    assert drawn >= at_least, f"{page.url}: {drawn} charts drawn"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_each_staff_dashboard_draws_its_charts_at_this_width(phone_page, screenshot, lang, width):
    for role in STAFF:
        page = phone_page(lang)
        if WIDTHS[width]:
            page.set_viewport_size(WIDTHS[width])
        log_in(page, role)
        page.goto("/staff/dashboard")
        charts_drawn(page, 3)
        no_sideways_scroll(page)
        screenshot(page, lang, f"{width}-{role}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_the_public_board_draws_without_logging_in(phone_page, screenshot, lang, width):
    page = phone_page(lang)
    if WIDTHS[width]:
        page.set_viewport_size(WIDTHS[width])
    page.goto("/board")
    assert TITLE[lang] in page.locator("h1").inner_text()
    charts_drawn(page, 5)
    no_sideways_scroll(page)
    screenshot(page, lang, width)
