"""Every promise seen (issue 15), in a real browser at phone size, in Chinese: a resident's
matter is handed to 民政科, the department's officer gives feedback from their phone, and the
resident reads it and rates the service. Screenshots: test-artifacts/screenshots/."""

import re

from marketplace.service_requests import services
from marketplace.service_requests.models import Clock, ServiceRequest
from tests.browser.test_journeys import log_in
from tests.conftest import in_app, person


def test_a_matter_handed_to_a_department_is_answered_from_a_phone_and_rated(app, phone_page, screenshot):
    lang = "zh"
    resident, head, officer = phone_page(lang), phone_page(lang), phone_page(lang)
    log_in(resident, "resident")
    resident.goto("/requests/new/plumbing_electrical")
    resident.fill("#description", "楼道水管漏水，物业一直没人管")
    with resident.expect_navigation():
        resident.locator("main form button[type=submit]").click()
    request_path = re.sub(r"^https?://[^/]+", "", resident.url)
    assert "楼门长" in resident.locator("section.holder").inner_text()
    screenshot(resident, lang, "1-resident-asked")

    log_in(head, "building_head")
    head.goto(request_path)
    head.select_option("form[action$='/escalate'] select[name=department]", label="民政科")
    head.fill("form[action$='/escalate'] input[name=note]", "物业不作为，需要民政科协调")
    with head.expect_navigation():
        head.locator("form[action$='/escalate'] button[type=submit]").click()
    screenshot(head, lang, "2-building-head-handed-to-minzheng")

    log_in(officer, "street_officer")
    officer.goto("/staff/")
    officer.get_by_role("link", name="本科室的事项").first.click()
    screenshot(officer, lang, "3-officer-department-queue")
    officer.locator(f"a[href='{request_path}']").first.click()
    assert officer.locator("form[action$='/escalate']").count() == 0  # not the officer's form
    officer.fill("form[action$='/feedback'] textarea[name=text]", "已联系物业公司，周三上午派人维修")
    with officer.expect_navigation():
        officer.locator("form[action$='/feedback'] button[type=submit]").click()
    screenshot(officer, lang, "4-officer-gave-feedback")

    resident.reload()
    holder = resident.locator("section.holder").inner_text()
    assert "民政科" in holder and "已联系物业公司，周三上午派人维修" in holder and "按时" in holder
    screenshot(resident, lang, "5-resident-reads-feedback")

    def helper_finishes():
        req = ServiceRequest.get(ServiceRequest.description.startswith("楼道水管漏水"))
        services.claim(person("partner_staff"), req.id)
        services.mark_done(person("partner_staff"), req.id, "换了阀门")
        return Clock.select().where(Clock.request == req.id, Clock.kind == "feedback").get().outcome

    assert in_app(app, helper_finishes) == "on_time"
    resident.reload()
    with resident.expect_navigation():  # each click posts a form; read the page the answer brings
        resident.locator("form[action$='/confirm'] button[type=submit]").click()
    resident.locator("form[action$='/rate'] label.choice").first.click()  # five stars
    resident.fill("form[action$='/rate'] textarea[name=comment]", "科里答复很快，谢谢")
    with resident.expect_navigation():
        resident.locator("form[action$='/rate'] button[type=submit]").click()
    assert "★★★★★" in resident.content()
    screenshot(resident, lang, "6-resident-rated")
