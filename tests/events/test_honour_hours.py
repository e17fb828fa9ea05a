"""Credit and honour hours: hours from the door count for stars; hours staff add by hand are
honour hours, shown apart, and above HONOUR_APPROVAL_MINUTES wait for a second staff member."""

import pytest

from marketplace.errors import DomainError
from marketplace.events import services
from marketplace.events.models import Attendance
from marketplace.ledger.models import Transfer
from tests.events.test_events import at, kiosk, make_event, signed_up, staff, volunteers
from tests.events.test_hour_corrections import assert_books_balance
from tests.ledger_helpers import balance, run_at_once


def by_hand(event, volunteer, minutes, who="community_admin"):
    services.check_in_by_hand(staff(who), event.id, volunteer.phone, at(0), "phone flat at the door", now=at(1))
    attendance = Attendance.get(Attendance.event == event.id, Attendance.user == volunteer.id)
    return services.check_out_by_hand(staff(who), attendance.id, at(minutes), "left with the team", now=at(minutes + 1))


def test_many_honour_hours_wait_for_a_second_staff_member_and_are_paid_once(ctx):
    event = make_event(hours=6, points=10)
    volunteer = volunteers(1)[0]
    before = balance(volunteer)
    result = by_hand(event, volunteer, 300)  # 5 hours by hand, above the 4 the setting allows
    attendance = result.attendance
    assert attendance.state == "review" and attendance.minutes == 300 and attendance.transfer_id is None
    assert "waiting for a second staff member" in result.message and balance(volunteer) == before
    assert services.volunteer_record(volunteer).minutes == 0  # not counted yet
    assert [a.id for a in services.honour_hours_waiting(staff("admin"))] == [attendance.id]
    roster = services.roster(event, now=at(400))
    assert (roster["honour_waiting"], roster["to_review"]) == (1, 0)

    with pytest.raises(DomainError, match="second staff member") as same:
        services.approve_honour_hours(staff("community_admin"), attendance.id)
    assert same.value.code == "second_approver_needed" and balance(volunteer) == before
    approved = services.approve_honour_hours(staff("admin"), attendance.id)
    assert approved.state == "out" and balance(volunteer) == before + 50
    with pytest.raises(DomainError, match="not waiting") as again:
        services.approve_honour_hours(staff("street_officer"), attendance.id)
    assert again.value.code == "already_decided" and balance(volunteer) == before + 50
    record = services.volunteer_record(volunteer)
    assert (record.credit_minutes, record.honour_minutes, record.minutes) == (0, 300, 300)
    assert_books_balance()


def test_racing_second_approvals_pay_once(ctx, app):
    event = make_event(hours=6, points=10)
    volunteer = volunteers(1)[0]
    attendance = by_hand(event, volunteer, 300).attendance
    before = balance(volunteer)
    approvers = [staff("admin"), staff("street_officer")] * 4
    results = run_at_once(app, 8, lambda i: services.approve_honour_hours(approvers[i], attendance.id).state)
    assert results.count("out") == 1, results
    assert all(getattr(r, "code", None) == "already_decided" for r in results if r != "out"), results
    assert balance(volunteer) == before + 50
    assert Transfer.select().where(Transfer.idempotency_key == f"attendance:{attendance.id}:pay").count() == 1
    assert_books_balance()


def test_a_few_honour_hours_are_paid_at_once_and_stars_count_credit_hours(ctx, app):
    app.config["VOLUNTEER_STAR_HOURS"] = (2, 4, 6, 8, 10)
    volunteer = volunteers(1)[0]
    door = make_event(hours=3, points=10, title="门口签到")
    signed_up(door, volunteer)
    services.check_with_kiosk(volunteer, kiosk(door, at(0)), now=at(0))
    services.check_with_kiosk(volunteer, kiosk(door, at(150), "out"), now=at(150))
    hand = make_event(hours=4, points=10, title="补录")
    result = by_hand(hand, volunteer, 180)  # 3 hours: not above the setting
    assert result.attendance.state == "out" and result.attendance.points == 30
    record = services.volunteer_record(volunteer)
    assert (record.credit_minutes, record.honour_minutes, record.minutes) == (150, 180, 330)
    assert record.stars == 1 and record.next_stars_at == 4 and record.hours_to_next == 1.5

    app.config["STARS_COUNT_HONOUR_HOURS"] = True
    record = services.volunteer_record(volunteer)
    assert record.stars == 2 and record.hours_to_next == 0.5
    assert_books_balance()


def test_the_threshold_is_a_setting(ctx, app):
    app.config["HONOUR_APPROVAL_MINUTES"] = 30
    event = make_event(hours=2, points=10)
    volunteer = volunteers(1)[0]
    assert by_hand(event, volunteer, 60).attendance.state == "review"


def test_the_certificate_shows_credit_and_honour_hours_apart_and_a_second_staff_member_approves(app, client):
    from tests.api.test_api_helpers import ApiClient, make_token
    from tests.conftest import Auth, in_app, person

    def setup():
        event = make_event(hours=6, points=10)
        door = make_event(hours=2, points=10, title="门口签到")
        volunteer = person("volunteer")
        signed_up(door, volunteer)
        services.check_with_kiosk(volunteer, kiosk(door, at(0)), now=at(0))
        services.check_with_kiosk(volunteer, kiosk(door, at(90), "out"), now=at(90))
        return by_hand(event, volunteer, 300).attendance.id
    attendance_id = in_app(app, setup)

    Auth(client).login_as("admin")
    en = {"Accept-Language": "en"}
    listing = client.get("/events/corrections", headers=en).get_data(as_text=True)
    assert "Honour hours waiting for a second approval" in listing and f"/attendance/{attendance_id}/honour/approve" in listing
    api = ApiClient(app.test_client(), make_token(app, "admin"))
    assert [i["attendance_id"] for i in api.get("/events/honour-hours").get_json()["items"]] == [attendance_id]
    mine = ApiClient(app.test_client(), make_token(app, "community_admin"))
    refused = mine.post(f"/events/honour-hours/{attendance_id}/approve")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "second_approver_needed"
    approved = api.post(f"/events/honour-hours/{attendance_id}/approve")
    assert approved.status_code == 200 and approved.get_json()["state"] == "out"

    volunteer = ApiClient(app.test_client(), make_token(app, "volunteer"))
    record = volunteer.get("/events/record").get_json()
    assert (record["credit_hours"], record["honour_hours"], record["hours"]) == (1.5, 5.0, 6.5)
    page = app.test_client()
    Auth(page).login_as("volunteer")
    certificate = page.get("/events/certificate", headers=en).get_data(as_text=True)
    assert "Credit hours recorded at the door: 1.5. Honour hours added by the community&#39;s staff: 5." in certificate \
        or "Credit hours recorded at the door: 1.5. Honour hours added by the community's staff: 5." in certificate
    zh = page.get("/events/certificate", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "荣誉时长" in zh and "系统记录时长" in zh
    in_app(app, assert_books_balance)


def test_honour_hours_are_capped_as_of_their_approval_and_their_enterer_cannot_raise_them(ctx, app):
    from marketplace.ledger import policy

    app.config["EVENT_HOURS_CAP_DAY"] = 6
    volunteer = volunteers(1)[0]
    waiting = by_hand(make_event(hours=6, points=10), volunteer, 300).attendance  # 5 hours, waiting
    door = make_event(hours=3, points=10, title="门口签到")
    signed_up(door, volunteer)
    services.check_with_kiosk(volunteer, kiosk(door, at(0)), now=at(0))
    services.check_with_kiosk(volunteer, kiosk(door, at(180), "out"), now=at(180))  # 3 hours paid meanwhile
    before = balance(volunteer)
    approved = services.approve_honour_hours(staff("admin"), waiting.id)
    assert approved.points == 30 and balance(volunteer) == before + 30  # 3 of the 5 hours: the day's cap
    assert policy.figures(volunteer.id).capped_minutes == 120

    correction = services.request_hour_correction(volunteer, waiting.id, None, at(330), "stayed", now=at(400))
    with pytest.raises(DomainError, match="second staff member") as same:
        services.approve_hour_correction(staff("community_admin"), correction.id)  # who entered them
    assert same.value.code == "second_approver_needed"
    assert services.approve_hour_correction(staff("admin"), correction.id).difference == 0  # the cap is full
    assert policy.figures(volunteer.id).capped_minutes == 150
    assert_books_balance()
