"""Hour corrections on a phone, in both languages: the volunteer asks from the hours page, a staff
member approves from theirs, and the volunteer reads the answer; no page scrolls sideways."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import log_in
from tests.conftest import in_app
from tests.events.test_hour_corrections_pages import past_attendance

LANGS = ["zh", "en"]
TEXT = {
    "zh": {"ask": "时间不对？申请更正", "mine": "我的更正申请", "approve": "批准", "approved": "已批准"},
    "en": {"ask": "Times wrong? Ask for a correction", "mine": "My correction requests", "approve": "Approve",
           "approved": "Approved"},
}


def no_sideways_scroll(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width}px in {inner}px"


@pytest.mark.parametrize("lang", LANGS)
def test_a_volunteer_asks_for_a_correction_and_staff_approve_it(app, phone_page, screenshot, lang):
    from marketplace.events.forms import local_input

    attendance_id, starts = past_attendance(app)
    left = in_app(app, lambda: local_input(starts + timedelta(hours=2))).strftime("%Y-%m-%dT%H:%M")
    volunteer, staff = phone_page(lang), phone_page(lang)
    log_in(volunteer, "volunteer")
    volunteer.goto("/events/hours")
    with volunteer.expect_navigation():  # the page its answer brings
        volunteer.get_by_role("link", name=TEXT[lang]["ask"]).click()
    assert volunteer.url.endswith(f"/events/hours/{attendance_id}/correction")
    no_sideways_scroll(volunteer)
    volunteer.fill("#checked_out_at", left)
    volunteer.fill("#reason", "手机没电了，我一直巡逻到结束")
    screenshot(volunteer, lang, "1-ask")
    with volunteer.expect_navigation():  # the page its answer brings
        volunteer.locator("main form button[type=submit]").click()
    expect(volunteer.locator("#corrections")).to_have_text(TEXT[lang]["mine"])
    no_sideways_scroll(volunteer)
    screenshot(volunteer, lang, "2-waiting")

    log_in(staff, "community_admin")
    staff.goto("/events/corrections")
    expect(staff.locator("main")).to_contain_text("手机没电了")
    no_sideways_scroll(staff)
    staff.locator("main form input[name=note]").first.fill("队长确认")
    screenshot(staff, lang, "3-staff")
    with staff.expect_navigation():  # the page its answer brings
        staff.get_by_role("button", name=TEXT[lang]["approve"], exact=True).first.click()

    volunteer.goto("/events/hours")
    expect(volunteer.locator("main")).to_contain_text(TEXT[lang]["approved"])
    expect(volunteer.locator("main")).to_contain_text("队长确认")
    no_sideways_scroll(volunteer)
    screenshot(volunteer, lang, "4-approved")
