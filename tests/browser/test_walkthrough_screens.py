"""Issue 22 in a real browser, at phone size (390x844), in Chinese and in English: every page the
walk-through touched, as each role meets it. Screenshots: test-artifacts/screenshots/
test_walkthrough_pages-<lang>-<step>.png."""

from datetime import timedelta

import pytest

from marketplace import audit
from marketplace.events.models import Event
from marketplace.ledger import services as ledger
from marketplace.menu.models import Category
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer, Voucher
from marketplace.timeutil import utcnow
from marketplace.users import applications
from tests.browser.test_journeys import log_in
from tests.browser.test_screenshots import no_horizontal_scroll
from tests.conftest import in_app, person
from tests.staff.test_dashboards import add_request

LANGS = ["zh", "en"]
WORDS = {
    "zh": {"sign_up": "报名", "sell": "在跳蚤市场出售", "shop_points": "您所在的北苑五金维修店的积分", "refund": "兑换券过期未用",
           "audit": "查看居民地址和电话", "skills": "可以帮忙：", "offline": "网络已断开", "online": "已联网",
           "grid": "北苑家园社区 第一网格", "calendar": "2027-01-01,休,元旦", "helper_done": "已完成，等待居民确认",
           "token_name": "名称"},
    "en": {"sign_up": "Sign up", "sell": "Sell at the flea market", "shop_points": "Points of 北苑五金维修店, where you work",
           "refund": "The voucher expired unused", "audit": "Looked at a resident's address and phone",
           "skills": "Can help with:", "offline": "No connection", "online": "Online:", "grid": "Beiyuan Jiayuan Community Grid 1",
           "calendar": "2027-01-01,holiday,New Year's Day", "helper_done": "Done, waiting for the resident to confirm",
           "token_name": "Name"},
}


def _prepare(app):
    """A refund on the resident's statement, points in the hardware shop, a volunteer application,
    an audit entry and a job the volunteer finished."""
    def run():
        resident, volunteer = person("resident"), person("volunteer")
        bag = shop.redeem(resident, Offer.get(Offer.title.startswith("环保购物袋")).id, "walk-refund")
        Voucher.update(expires_at=utcnow() - timedelta(minutes=1)).where(Voucher.id == bag.id).execute()
        shop.expire_if_due(Voucher.get_by_id(bag.id))
        knife = shop.redeem(resident, Offer.get(Offer.title.startswith("免费磨刀")).id, "walk-shop")
        shop.scan(person("partner_staff"), knife.code)
        applications.apply_as_volunteer(person("13900000002"), [c.id for c in Category.select().limit(2)], "周末上午")
        done = add_request("bj_b1", 2, state="done", done_days_ago=0)
        ServiceRequest.update(claimer=volunteer, claimed_at=utcnow()).where(ServiceRequest.id == done.id).execute()
        audit.record(person("grid_admin"), "requests.personal_data.viewed", done)
        ledger.user_account(volunteer)
        return (Event.get(Event.title.startswith("夜间安全巡逻")).id, Event.get(Event.title.startswith("社区服务日")).id)

    return in_app(app, run)


def _look(page, screenshot, lang, step, path, *expected):
    page.goto(path, wait_until="load")
    body = page.locator("main").inner_text()
    for words in expected:
        assert words in body, f"{path}: {words!r} not on the page"
    no_horizontal_scroll(page)
    screenshot(page, lang, step)
    return body


@pytest.mark.parametrize("lang", LANGS)
def test_walkthrough_pages(app, phone_page, screenshot, lang):
    words = WORDS[lang]
    patrol, service_day = _prepare(app)

    resident = phone_page(lang)
    log_in(resident, "resident")
    _look(resident, screenshot, lang, "1-event-sign-up", f"/events/{patrol}", words["sign_up"])
    _look(resident, screenshot, lang, "2-mall-sell-link", "/shop/", words["sell"])
    _look(resident, screenshot, lang, "3-sell-dates-filled", "/shop/sell")
    assert resident.locator("#valid_from").input_value() and resident.locator("#valid_until").input_value()
    _look(resident, screenshot, lang, "4-statement-refund", "/points/", words["refund"], words["sell"])
    _look(resident, screenshot, lang, "5-token-name", "/account/api-tokens/", words["token_name"])

    volunteer = phone_page(lang)
    log_in(volunteer, "volunteer")
    _look(volunteer, screenshot, lang, "6-my-jobs-done", "/jobs/mine", words["helper_done"])
    board = _look(volunteer, screenshot, lang, "7-job-board", "/jobs/")
    assert words["grid"] in volunteer.locator("select[name=grid]").inner_text(), board[:200]
    _look(volunteer, screenshot, lang, "8-hours", "/events/hours")

    partner = phone_page(lang)
    log_in(partner, "partner_staff")
    _look(partner, screenshot, lang, "9-partner-points", "/points/", words["shop_points"])

    staff = phone_page(lang)
    log_in(staff, "community_admin")
    _look(staff, screenshot, lang, "10-queue-skills", "/staff/", words["skills"])
    _look(staff, screenshot, lang, "11-audit-log", "/staff/audit", words["audit"])
    _look(staff, screenshot, lang, "12-calendar", "/staff/calendar", words["calendar"])

    door = phone_page(lang)
    log_in(door, "grid_admin")
    door.goto(f"/events/{service_day}/scanner", wait_until="load")
    net = door.locator("[data-scan-net]")
    door.wait_for_function("document.querySelector('[data-scan-net]').textContent.length > 0")
    assert words["online"] in net.inner_text()
    door.context.set_offline(True)
    door.wait_for_function("!navigator.onLine")
    assert words["offline"] in net.inner_text() and words["online"] not in net.inner_text()
    screenshot(door, lang, "13-scanner-offline")
    door.context.set_offline(False)
