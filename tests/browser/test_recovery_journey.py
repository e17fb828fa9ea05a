"""Getting back in on a phone (issue 16): a forgotten password recovered by a code by SMS, then
by the building head's code on paper; the old phone's session ends each time. Screenshots in
test-artifacts/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import BLOCKING, axe_violations
from tests.browser.test_account_screens import no_sideways_scroll
from tests.browser.test_journeys import log_in
from tests.conftest import DEMO_PHONES, in_app, person

TEXT = {
    "zh": {"forgot": "忘记密码？", "sent": "6 位数的短信验证码", "changed": "您的密码已更改", "give": "发放重设密码的一次性验证码",
           "show": "显示验证码", "wrong": "验证码不正确或已失效", "spaces": "只有空格的密码"},
    "en": {"forgot": "Forgot your password?", "sent": "6-digit code by text message", "changed": "Your password has been changed",
           "give": "Give a one-time code to set a new password", "show": "Show the code",
           "wrong": "That code is not right", "spaces": "A password of spaces only"},
}


def _click(page, locator):
    with page.expect_navigation():  # each click posts a form: read the page its answer brings
        locator.click()


def _submit(page):
    _click(page, page.locator("main form button[type=submit]").last)


def _sms_code(caplog) -> str:
    found = [re.search(r"to sms: \D*(\d{6})\D", r.getMessage()) for r in caplog.records
             if r.name == "marketplace.messages"]
    found = [m for m in found if m]
    assert found, "no text message was sent"
    return found[-1].group(1)


def _still_signed_in(page) -> bool:
    page.goto("/account")
    return "/login" not in page.url


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_forgotten_password_is_recovered_on_a_phone_by_sms_and_with_the_building_head(
        app, phone_page, screenshot, caplog, lang):
    caplog.set_level("INFO", logger="marketplace.messages")
    text = TEXT[lang]
    old_phone, phone, head = phone_page(lang), phone_page(lang), phone_page(lang)
    log_in(old_phone, "resident")

    # 1. By a code sent by SMS.
    phone.goto("/login")
    _click(phone, phone.get_by_role("link", name=text["forgot"]))
    phone.fill("#phone", DEMO_PHONES["resident"])
    no_sideways_scroll(phone)
    screenshot(phone, lang, "1-forgot")
    _submit(phone)
    expect(phone.locator("main")).to_contain_text(text["sent"])
    assert phone.input_value("#phone") == DEMO_PHONES["resident"]
    phone.fill("#code", "000000" if _sms_code(caplog) != "000000" else "111111")
    phone.fill("#new_password", "        ")
    _submit(phone)
    expect(phone.locator("main")).to_contain_text(text["spaces"])
    no_sideways_scroll(phone)
    screenshot(phone, lang, "2-reset-refused")
    phone.fill("#code", _sms_code(caplog))
    phone.fill("#new_password", "the lilac blooms in may")
    screenshot(phone, lang, "3-reset-code-typed")
    _submit(phone)
    expect(phone.locator("main")).to_contain_text(text["changed"])
    screenshot(phone, lang, "4-log-in-again")
    assert not _still_signed_in(old_phone)  # the old session is refused

    phone.fill("#phone", DEMO_PHONES["resident"])
    phone.fill("#password", "the lilac blooms in may")
    _submit(phone)
    assert _still_signed_in(phone)

    # 2. In person, with the building head's code on paper.
    resident = in_app(app, lambda: person("resident"))
    log_in(head, "building_head")
    head.goto(f"/staff/people/{resident.id}")
    _click(head, head.get_by_role("link", name=text["give"]))
    head.check("#identity_checked")
    screenshot(head, lang, "5-head-confirms-identity")
    _click(head, head.get_by_role("button", name=text["show"]))
    slip = head.locator(".reset-code").inner_text()
    code = slip.replace(" ", "")
    assert re.fullmatch(r"\d{8}", code)
    no_sideways_scroll(head)
    screenshot(head, lang, "6-code-slip")
    assert [v for v in axe_violations(head) if v["impact"] in BLOCKING] == []

    other = phone_page(lang)
    other.goto("/password/reset")
    other.fill("#phone", DEMO_PHONES["resident"])
    other.fill("#code", code)
    other.fill("#new_password", "grandma grows peppers too")
    _submit(other)
    expect(other.locator("main")).to_contain_text(text["changed"])
    assert not _still_signed_in(phone)  # the session of the first recovery ends too
    log_in_with = other
    log_in_with.fill("#phone", DEMO_PHONES["resident"])
    log_in_with.fill("#password", "grandma grows peppers too")
    _submit(log_in_with)
    assert _still_signed_in(log_in_with)
