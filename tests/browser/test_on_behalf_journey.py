"""Acting on behalf (issue 16), in a real browser at phone size, in Chinese: 孙楼长 registers 李奶奶,
who has no mobile phone, asks for a companionship visit for her and prints her slip; the
volunteer confirms on site with the slip's code; 孙楼长 rates it for her; her request's history,
the receipt and his month's count say who did what. Screenshots: test-artifacts/screenshots/."""

import re

from marketplace.service_requests import services
from marketplace.service_requests.models import ServiceRequest
from marketplace.users.models import User
from tests.browser.test_journeys import log_in
from tests.conftest import in_app, person


def test_a_building_head_serves_a_resident_without_a_phone_from_his_phone(app, phone_page, screenshot):
    lang = "zh"
    head = phone_page(lang)
    log_in(head, "building_head")
    head.goto("/on-behalf/")
    screenshot(head, lang, "1-on-behalf-home")
    head.get_by_role("link", name="登记没有手机的家庭成员").click()
    head.select_option("select[name=household]", index=1)
    head.fill("input[name=display_name]", "李奶奶")
    head.fill("input[name=landline]", "010-61234567")
    screenshot(head, lang, "2-register-member")
    with head.expect_navigation():
        head.locator("main form button[type=submit]").click()
    assert "李奶奶 已登记" in head.content()
    screenshot(head, lang, "3-her-page")

    head.get_by_role("link", name="上门陪伴聊天").click()
    head.fill("#description", "老人独居，想有人上门陪着聊聊天")
    with head.expect_navigation():
        head.locator("main form button[type=submit]").click()
    slip = head.locator("article.receipt").inner_text()
    assert "由 孙楼长 代为办理" in slip and "李奶奶" in slip
    code = re.sub(r"\D", "", head.locator("[data-onsite-code]").inner_text())
    screenshot(head, lang, "4-booking-slip")

    def volunteer_confirms_on_site():
        member = User.get(User.display_name == "李奶奶")
        req = ServiceRequest.get(ServiceRequest.resident == member.id)
        services.claim(person("volunteer"), req.id)
        services.finish_on_site(person("volunteer"), req.id, code)
        return req.id

    request_id = in_app(app, volunteer_confirms_on_site)
    head.goto(f"/requests/{request_id}")
    head.locator("form[action$='/rate'] label.choice").first.click()  # five stars
    head.fill("form[action$='/rate'] textarea[name=comment]", "老人说小王很耐心")
    with head.expect_navigation():
        head.locator("form[action$='/rate'] button[type=submit]").click()
    assert head.content().count("由 孙楼长 代 李奶奶 办理") == 2  # booked and rated for her
    screenshot(head, lang, "5-request-history")

    head.goto("/on-behalf/")
    assert "我本月代办：2 件" in head.content()
    screenshot(head, lang, "6-month-count")


def test_a_building_head_signs_her_up_for_an_event_and_checks_her_in_at_the_door(app, phone_page, screenshot):
    """At phone size in Chinese: 张阿姨 (a volunteer, no phone with her) is signed up for the patrol
    and checked in at the door by 孙楼长; the slip says when and where; her event page says who did it."""
    from datetime import timedelta

    from marketplace.events.models import Event
    from marketplace.timeutil import utcnow
    from tests.events.test_events import make_event
    from tests.proxy.test_on_behalf_events import _volunteer

    lang = "zh"
    resident = in_app(app, lambda: _volunteer(person("resident")))
    event = in_app(app, lambda: make_event(title="楼道消防安全巡查", place="东门岗亭"))
    head = phone_page(lang)
    log_in(head, "building_head")
    head.goto(f"/on-behalf/people/{resident.id}")
    card = head.locator("li.card", has_text="楼道消防安全巡查")
    with head.expect_navigation():
        card.get_by_role("button", name="为其报名").click()
    slip = head.locator("article.receipt").inner_text()
    assert "由 孙楼长 代为办理" in slip and "楼道消防安全巡查" in slip and "东门岗亭" in slip
    screenshot(head, lang, "5-event-slip")

    def open_the_door_now():
        now = utcnow().replace(microsecond=0)
        Event.update(starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=2)).where(
            Event.id == event.id).execute()
    in_app(app, open_the_door_now)
    head.goto(f"/on-behalf/people/{resident.id}")
    screenshot(head, lang, "6-her-events")
    with head.expect_navigation():
        head.locator("li.card", has_text="楼道消防安全巡查").get_by_role("button", name="现在为其签到").click()
    assert "签到" in head.locator("article.receipt").inner_text()

    her = phone_page(lang)
    log_in(her, "resident")
    her.goto(f"/events/{event.id}")
    done = her.locator("#timeline + ol").inner_text()
    assert done.count("由 孙楼长 代为办理") == 2
    screenshot(her, lang, "7-her-event-page")
