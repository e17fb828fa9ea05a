"""WCAG 2.2 AA checked by a machine (issue 21): axe-core over every HTML page of the URL map, at
phone width in Chinese and English (and on a desktop in English), each page opened by the first kind of person (signed out,
then each role) the access table lets in. No violation of impact serious or critical is allowed;
the moderate and minor ones left are listed below with the reason.

axe-core is vendored (tests/browser/vendor/axe-core/axe.min.js, version AXE_VERSION from the npm
registry, MPL-2.0) and run through Playwright's evaluate, which the pages' CSP does not govern.
Each page is visited once per language, so the sweep takes a couple of minutes, not twenty.
"""

from pathlib import Path

import pytest

from tests.browser.test_journeys import log_in
from tests.test_access_table import IDENTITIES, ROUTES, demo_ids

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.10.2"
AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.exists() else ""
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
# Not HTML pages (files, JSON, images) or pages that end the visit (logging out).
NOT_PAGES = (".csv", ".json", ".js", ".ico", ".webmanifest", "/photo", "/status", "/kiosk/code", "/api/v1/", "/healthz",
             "/logout")
PAGES_ANYWAY = ("/api/v1/docs",)  # the API's reference page is a page
# Moderate or minor findings left, by rule, with the reason. None today: a new one fails the test
# until it is fixed or written here with its reason.
KNOWN_MODERATE: dict[str, str] = {}


def pages_by_identity(app) -> dict[str, list[str]]:
    """Each HTML page, once, under the first identity that may open it."""
    gets = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"}
    ids = demo_ids(app)
    chosen: dict[str, list[str]] = {who: [] for who in IDENTITIES}
    for endpoint, (template, table) in ROUTES.items():
        path = template.format(**ids)
        if endpoint not in gets or (any(part in path for part in NOT_PAGES) and path not in PAGES_ANYWAY):
            continue
        for who in IDENTITIES:
            if table[who] == 200:
                chosen[who].append(path)
                break
    return chosen


# The colour rules read the computed colours of every text element: 28 of the 46 s axe spends on
# the API reference (11,000 elements). Colours do not change with the width or the language, and
# large text only lowers the contrast it needs, so that page's colours are checked in one layout,
# the PC where its readers (developers) read it; every other rule runs on it in all four.
COLOUR_RULES = ("color-contrast", "link-in-text-block")
COLOURS_CHECKED_ONCE = ("/api/v1/docs",)


def axe_violations(page, skip: tuple[str, ...] = ()) -> list[dict]:
    page.evaluate(AXE_SOURCE)
    return page.evaluate(
        """([tags, skip]) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
                                             rules: Object.fromEntries(skip.map(id => [id, {enabled: false}]))})
            .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                              nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""",
        [TAGS, list(skip)],
    )


DESKTOP = {"width": 1366, "height": 900}


# Both languages at the normal size on a phone, Chinese once more in the large-text mode (24 px
# body) which the oldest residents use, and English on a family PC's wide screen, where the header
# and tables take another layout: each sweep takes under a minute.
@pytest.mark.parametrize(("lang", "large_text", "viewport"),
                         [("zh", False, None), ("en", False, None), ("zh", True, None), ("en", False, DESKTOP)],
                         ids=["zh", "en", "zh-large-text", "en-desktop"])
def test_no_serious_or_critical_accessibility_violation_on_any_page(app, phone_page, lang, large_text, viewport):
    assert AXE.exists() and AXE_VERSION in AXE.read_text(encoding="utf-8")[:200]
    plan = pages_by_identity(app)
    visited, blocking, moderate = [], [], set()
    for who, paths in plan.items():
        if not paths:
            continue
        page = phone_page(lang)
        if viewport:
            page.set_viewport_size(viewport)
        if large_text:  # the switch is remembered on the phone, applied before the first paint
            page.context.add_init_script("localStorage.setItem('largeText', '1')")
        if who != "anonymous":
            log_in(page, who)
        for path in paths:
            response = page.goto(path, wait_until="load")
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            if large_text and page.locator("#large-text-toggle").count():  # (kiosk screens have their own layout)
                assert page.evaluate("document.documentElement.classList.contains('large-text')")
            visited.append(f"{who} {path}")
            skip = COLOUR_RULES if path in COLOURS_CHECKED_ONCE and viewport != DESKTOP else ()
            for v in axe_violations(page, skip):
                if v["impact"] in BLOCKING:
                    blocking.append(f"{who} {path}: [{v['impact']}] {v['id']} — {v['help']} at {v['nodes']}")
                else:
                    moderate.add(v["id"])
        page.context.close()
    print(f"axe {AXE_VERSION} ({lang}) visited {len(visited)} pages:\n" + "\n".join(visited))
    print(f"moderate or minor findings: {sorted(moderate)}")
    assert len(visited) > 40
    if viewport == DESKTOP:  # where the colours of the pages checked once are checked
        assert {path for path in COLOURS_CHECKED_ONCE} <= {line.split()[1] for line in visited}
    assert not blocking, "\n".join(blocking)
    assert moderate <= set(KNOWN_MODERATE), f"moderate findings without a reason: {moderate - set(KNOWN_MODERATE)}"


def test_every_roles_own_pages_pass_axe(app, phone_page):
    """The sweep opens each page once, as the first person let in; the header and the menu differ by
    role, so each identity's own first pages are checked as that identity too."""
    plan = {who: [] for who in IDENTITIES}
    ids = demo_ids(app)
    gets = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    for endpoint, (template, table) in ROUTES.items():
        path = template.format(**ids)
        if endpoint in gets and not any(part in path for part in NOT_PAGES):
            for who in IDENTITIES:
                if table[who] == 200 and len(plan[who]) < 3:
                    plan[who].append(path)
    blocking, visited = [], []
    for who, paths in plan.items():
        page = phone_page("zh")
        if who != "anonymous":
            log_in(page, who)
        for path in paths:
            response = page.goto(path, wait_until="load")
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            visited.append(f"{who} {path}")
            blocking += [f"{who} {path}: [{v['impact']}] {v['id']} — {v['help']} at {v['nodes']}"
                         for v in axe_violations(page) if v["impact"] in BLOCKING]
        page.context.close()
    print("axe as each role visited:\n" + "\n".join(visited))
    assert {line.split()[0] for line in visited} == {who for who, paths in plan.items() if paths}
    assert not blocking, "\n".join(blocking)
