"""Issue 23's remaining pieces at phone size, in Chinese: the building head writes down a
proposal for 张阿姨 (who told her in person), sets points for taking part, the meeting is called
and 张阿姨 — a resident, not a volunteer — signs up for it from the matter's page; the building
head enters her household's floor area from her person page. Screenshots:
test-artifacts/screenshots/."""

import re
from datetime import datetime, timedelta

from tests.browser.test_journeys import log_in
from tests.conftest import in_app, person

TITLE = "1号楼门口加装扶手"


def _post(page, form, fields=None):
    for selector, value in (fields or {}).items():
        page.fill(f"{form} {selector}", value)
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()


def test_on_behalf_points_meeting_and_floor_area(app, phone_page, screenshot):
    lang = "zh"
    head, admin, resident = phone_page(lang), phone_page(lang), phone_page(lang)
    resident_id = in_app(app, lambda: person("resident").id)

    log_in(head, "building_head")
    head.goto(f"/on-behalf/people/{resident_id}")
    with head.expect_navigation():
        head.locator(f"a[href$='/proposals/new/for/{resident_id}']").click()
    head.fill("#title", TITLE)
    head.fill("#body", "张阿姨说门口台阶没有扶手，老人上下很不方便，建议加装扶手。")
    screenshot(head, lang, "1-head-writes-it-down-for-her")
    _post(head, "main form")
    path = re.sub(r"^https?://[^/]+", "", head.url)
    assert "张阿姨" in head.locator("[data-on-behalf]").inner_text()
    _post(head, "form[action$='/decide/accept']")
    _post(head, "form[action$='/points']", {"input[name=vote_points]": "5", "input[name=meeting_points]": "3"})
    assert "投票：5 分" in head.locator("[data-participation-points]").inner_text()
    screenshot(head, lang, "2-points-for-taking-part")

    log_in(admin, "community_admin")
    admin.goto(path)
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    _post(admin, "form[action$='/meeting']", {"input[name=starts_at]": f"{tomorrow}T19:00",
                                               "input[name=ends_at]": f"{tomorrow}T20:30",
                                               "input[name=place]": "1号楼一层活动室"})

    log_in(resident, "resident")
    resident.goto(path)
    assert "受邀" in resident.locator("[data-invited]").inner_text()
    screenshot(resident, lang, "3-she-is-invited")
    with resident.expect_navigation():
        resident.locator("#meeting a[href*='/events/']").click()
    _post(resident, "main form[action$='/signup']")
    assert "您已报名成功" in resident.locator("main").inner_text()
    screenshot(resident, lang, "4-she-signed-up")

    head.goto(f"/staff/people/{resident_id}")
    _post(head, "#floor-area", {"#floor-area-input": "89.5"})
    assert head.locator("#floor-area-input").input_value() == "89.5"
    screenshot(head, lang, "5-floor-area-on-her-page")
