"""Whole journeys in a real browser, at phone size, in Chinese and in English.

Each step is saved as a screenshot (test-artifacts/screenshots/) for a person to look at.
QR codes are read the way a phone camera would: decoded (zxing-cpp) from a screenshot.
"""

import io
import re
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from marketplace.demo import DEMO_PASSWORD
from marketplace.events.models import Attendance, Event
from marketplace.ledger.models import Account
from marketplace.partners.models import PartnerEnterprise
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop.models import Offer
from marketplace.timeutil import utcnow
from tests.conftest import DEMO_PHONES, in_app

LANGS = ["zh", "en"]
WORDS = {
    "zh": {"finished": "已完成", "accepted": "已收下", "urban": "城管科", "answer_by": "答复期限", "checked_in": "已签到",
           "checked_out": "已签退"},
    "en": {"finished": "Finished", "accepted": "Accepted", "urban": "Urban Management Section",
           "answer_by": "Next answer due by", "checked_in": "Checked in", "checked_out": "Checked out"},
}
HARDWARE = "北苑五金维修店"


def log_in(page, role_or_phone):
    page.goto("/login")
    page.fill("#phone", DEMO_PHONES.get(role_or_phone, role_or_phone))
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "/login" not in page.url, page.content()[:500]


def read_qr(page, selector) -> str:
    """What a phone camera would read from the QR code on the screen."""
    picture = Image.open(io.BytesIO(page.locator(selector).screenshot()))
    found = zxingcpp.read_barcodes(picture)
    assert found, f"no QR code could be read from {selector}"
    return found[0].text


def balance_of(app, partner=None, phone=None):
    def read():
        if partner:
            owner = PartnerEnterprise.get(PartnerEnterprise.name == partner)
            return Account.get(Account.partner == owner.id).balance
        from marketplace.users.models import User

        return Account.get(Account.user == User.get(User.phone == phone).id).balance
    return in_app(app, read)


@pytest.mark.parametrize("lang", LANGS)
def test_a_repair_from_booking_to_the_partners_points(app, phone_page, screenshot, lang):
    resident, partner = phone_page(lang), phone_page(lang)
    log_in(resident, "resident")
    resident.goto("/menu/")
    resident.locator("a[href='/requests/new/plumbing_electrical']").click()
    resident.fill("#description", "厨房水龙头一直滴水，关不紧" if lang == "zh" else "The kitchen tap drips and won't close")
    screenshot(resident, lang, "1-resident-books")
    resident.locator("main form button[type=submit]").click()
    request_path = re.sub(r"^https?://[^/]+", "", resident.url)
    assert re.fullmatch(r"/requests/\d+", request_path)
    screenshot(resident, lang, "2-resident-request-open")

    log_in(partner, "partner_staff")
    partner.goto("/jobs/")
    screenshot(partner, lang, "3-partner-job-board")
    partner.locator(f"form[action='/jobs/{request_path.rsplit('/', 1)[1]}/claim'] button").click()
    assert partner.url.endswith(request_path)
    screenshot(partner, lang, "4-partner-claimed")

    resident.reload()
    screenshot(resident, lang, "5-resident-shows-code")
    finish_url = read_qr(resident, ".qr-box svg")  # the partner scans the resident's phone
    assert "/finish?code=" in finish_url
    partner.goto(finish_url)
    screenshot(partner, lang, "6-partner-code-filled-in")
    partner.locator("main form button[type=submit]").click()
    assert partner.url.endswith(request_path)

    resident.reload()
    assert WORDS[lang]["finished"] in resident.locator(".status-line").inner_text()
    resident.locator("input[name=rating][value='5']").check()
    resident.fill("textarea[name=comment]", "师傅很耐心")
    resident.locator("form[action$='/rate'] button[type=submit]").click()
    screenshot(resident, lang, "7-resident-rated")
    assert in_app(app, lambda: ServiceRequest.select().where(ServiceRequest.rating == 5).count()) == 1

    partner.goto("/shop/manage")
    partner.locator("a[href^='/points/accounts/']").click()
    assert "20" in partner.locator(".balance-big strong").inner_text()
    screenshot(partner, lang, "8-partner-points")
    assert balance_of(app, partner=HARDWARE) == 20


@pytest.mark.parametrize("lang", LANGS)
def test_a_voucher_redeemed_and_typed_in_at_the_counter(app, phone_page, screenshot, lang):
    member, clerk = phone_page(lang), phone_page(lang)
    offer_id = in_app(app, lambda: Offer.get(Offer.title.startswith("免费磨刀")).id)
    log_in(member, "resident")
    member.goto(f"/shop/offers/{offer_id}")
    screenshot(member, lang, "1-offer")
    member.locator(f"form[action='/shop/offers/{offer_id}/redeem'] button").click()
    code = member.locator(".voucher-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
    screenshot(member, lang, "2-voucher-on-the-phone")

    log_in(clerk, "partner_staff")
    clerk.goto("/shop/scan")
    clerk.fill("#code", code.replace("-", " ").lower())  # read out and typed as heard
    clerk.locator("main form button[type=submit]").click()
    assert WORDS[lang]["accepted"] in clerk.locator(".flash.success").inner_text()
    screenshot(clerk, lang, "3-counter-accepted")

    member.locator(".qr-box").wait_for(state="detached", timeout=15_000)  # the member's page updates itself
    screenshot(member, lang, "4-voucher-used")
    member.goto("/points/")
    assert member.locator(".balance-big strong").inner_text().strip() == "40"
    assert balance_of(app, partner=HARDWARE) == 20


@pytest.mark.parametrize("lang", LANGS)
def test_staff_escalate_an_overdue_request_and_the_resident_sees_the_new_deadline(app, phone_page, screenshot, lang):
    resident, staff = phone_page(lang), phone_page(lang)
    log_in(resident, "resident")
    resident.goto("/requests/new/plumbing_electrical")
    resident.fill("#description", "楼道水管漏水")
    resident.locator("main form button[type=submit]").click()
    request_path = re.sub(r"^https?://[^/]+", "", resident.url)
    in_app(app, lambda: ServiceRequest.update(due_at=utcnow() - timedelta(days=2)).execute())

    log_in(staff, "grid_admin")
    staff.goto("/requests/overview?show=overdue")
    screenshot(staff, lang, "1-staff-overdue-list")
    staff.locator(f"a[href='{request_path}']").first.click()
    staff.select_option("form[action$='/escalate'] select[name=department]", label=WORDS[lang]["urban"])
    staff.locator("form[action$='/escalate'] button[type=submit]").click()
    screenshot(staff, lang, "2-staff-escalated")

    resident.reload()
    holder = resident.locator("section.holder").inner_text()
    assert WORDS[lang]["urban"] in holder
    assert re.search(r"\d", holder.split(WORDS[lang]["answer_by"])[1])
    screenshot(resident, lang, "3-resident-sees-new-deadline")


@pytest.mark.parametrize("lang", LANGS)
def test_a_volunteer_checks_in_and_out_at_the_kiosk_and_sees_hours_and_points(app, phone_page, screenshot, lang):
    kiosk, volunteer = phone_page(lang), phone_page(lang)
    kiosk.set_viewport_size({"width": 1024, "height": 768})  # a tablet standing at the door
    event_id = in_app(app, lambda: Event.get(Event.title.startswith("社区服务日")).id)
    log_in(kiosk, "community_admin")
    kiosk.goto(f"/events/{event_id}/kiosk?mode=in")
    screenshot(kiosk, lang, "1-kiosk-check-in", full_page=False)
    check_in_url = read_qr(kiosk, ".kiosk-qr svg")
    assert f"/events/k/{event_id}." in check_in_url

    log_in(volunteer, "volunteer")
    volunteer.goto(check_in_url)
    screenshot(volunteer, lang, "2-volunteer-opened-the-code")
    volunteer.locator("form.door-form button[type=submit]").click()
    expect(volunteer.locator("main")).to_contain_text(WORDS[lang]["checked_in"])  # waits for the new page
    assert volunteer.url.endswith(f"/events/{event_id}")
    screenshot(volunteer, lang, "3-volunteer-checked-in")

    # Ninety minutes of work later (the event began at least an hour ago; hours count from its start).
    volunteer_id = in_app(app, lambda: Attendance.get(Attendance.event == event_id).user_id)
    in_app(app, lambda: Attendance.update(checked_in_at=utcnow() - timedelta(minutes=90)).where(
        Attendance.event == event_id, Attendance.user == volunteer_id).execute())
    kiosk.goto(f"/events/{event_id}/kiosk?mode=out")
    screenshot(kiosk, lang, "4-kiosk-check-out", full_page=False)
    check_out_url = read_qr(kiosk, ".kiosk-qr svg")
    assert check_out_url != check_in_url
    volunteer.goto(check_out_url)
    volunteer.locator("form.door-form button[type=submit]").click()
    expect(volunteer.locator("main")).to_contain_text(WORDS[lang]["checked_out"])
    screenshot(volunteer, lang, "5-volunteer-checked-out")

    attendance = in_app(app, lambda: Attendance.get(Attendance.event == event_id, Attendance.user == volunteer_id))
    assert attendance.in_method == "kiosk" and attendance.out_method == "kiosk"
    assert attendance.minutes >= 60 and attendance.points >= 10
    volunteer.goto("/events/hours")
    assert re.search(r"\d", volunteer.locator(".hours-total").inner_text())
    screenshot(volunteer, lang, "6-volunteer-hours")
    volunteer.goto("/points/")
    assert str(attendance.points) in volunteer.locator("main").inner_text()
    screenshot(volunteer, lang, "7-volunteer-points")
