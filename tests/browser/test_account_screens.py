"""The pages this session added for people's own accounts, on a phone in both languages: the
messages page, changing one's number, and a staff member revealing a number on purpose."""

import pytest
from playwright.sync_api import expect

from marketplace.demo import DEMO_PASSWORD
from tests.browser.test_journeys import log_in
from tests.conftest import in_app
from tests.users.test_recovery import _codes_sent

LANGS = ["zh", "en"]
TEXT = {
    "zh": {"messages": "我的消息", "phone_title": "修改手机号", "show": "显示完整号码"},
    "en": {"messages": "My messages", "phone_title": "Change mobile number",
           "show": "Show the full number"},
}


def no_sideways_scroll(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width}px in {inner}px"


@pytest.mark.parametrize("lang", LANGS)
def test_a_message_arrives_opens_and_the_number_can_be_changed(app, phone_page, screenshot, caplog, lang):
    caplog.set_level("INFO", logger="marketplace.messages")
    from marketplace.users.models import ResidencyApplication, User

    staff, resident = phone_page(lang), phone_page(lang)
    pending = in_app(app, lambda: ResidencyApplication.get(ResidencyApplication.status == "pending"))
    log_in(staff, "building_head")
    staff.goto("/staff/")
    staff.locator(f"form[action='/staff/residency/{pending.id}/verify'] button").click()
    staff.wait_for_load_state("load")

    log_in(resident, "pending_resident")
    badge = resident.locator("header a[href='/messages/'] .count")
    expect(badge).to_have_text("1")
    resident.goto("/messages/")
    expect(resident.locator("main")).to_contain_text(TEXT[lang]["messages"])
    no_sideways_scroll(resident)
    screenshot(resident, lang, "1-messages")
    resident.locator("main li form button").first.click()
    resident.wait_for_load_state("load")
    assert resident.url.endswith("/account")
    assert resident.locator("header a[href='/messages/'] .count").count() == 0  # read now

    resident.goto("/account/phone")
    expect(resident.locator("h1")).to_have_text(TEXT[lang]["phone_title"])
    resident.fill("#phone", "139 8888 0004")
    resident.fill("#password", DEMO_PASSWORD)
    screenshot(resident, lang, "2-change-number")
    resident.locator("main form button[type=submit]").click()
    resident.wait_for_load_state("load")
    assert resident.url.endswith("/account/phone/confirm")  # nothing changes before the code
    resident.fill("#code", _codes_sent(caplog)[-1])
    no_sideways_scroll(resident)
    screenshot(resident, lang, "2b-code-from-the-new-number")
    resident.locator("main form button[type=submit]").click()
    resident.wait_for_load_state("load")
    assert resident.url.endswith("/account")
    assert "13988880004" in resident.locator("main").inner_text()
    no_sideways_scroll(resident)
    screenshot(resident, lang, "3-account-with-new-number")

    person = in_app(app, lambda: User.get(User.phone == "13988880004").id)
    staff.goto(f"/staff/people/{person}")
    assert "13988880004" not in staff.locator("main").inner_text()
    staff.get_by_role("button", name=TEXT[lang]["show"]).click()
    expect(staff.locator("main")).to_contain_text("13988880004")
    no_sideways_scroll(staff)
    screenshot(staff, lang, "4-staff-revealed-number")
