"""The JSON API walked end to end as a phone app would: a repair from booking to the helper's
points, a voucher from redeeming to the counter, an event from signing up to the hours paid;
and the same bad input refused by the same rule, in the same words, as on the web pages."""

from datetime import timedelta

import pytest

from marketplace.events import services as events
from marketplace.events.models import Attendance, Event, Signup
from marketplace.menu.models import ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Community
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop.models import Offer
from marketplace.timeutil import utcnow
from marketplace.users.models import User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import DEMO_PHONES, csrf_token, in_app, person
from tests.ledger_helpers import assert_books_balance, balance

EN = {"Accept-Language": "en"}


@pytest.fixture
def as_(app):
    def client_for(who, scopes=None, lang="en"):
        token = make_token(app, who) if scopes is None else make_token(app, who, scopes)
        return ApiClient(app.test_client(), token, lang)

    return client_for


def _item_id(app, code="plumbing_electrical"):
    return in_app(app, lambda: ServiceItem.get(ServiceItem.code == code).id)


# ---- book -> claim -> on-site code -> confirmed -> points ------------------------------------


def test_a_repair_from_booking_to_the_partners_points(app, as_):
    resident, partner = as_("resident"), as_("partner_staff")
    shop = in_app(app, lambda: PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店"))
    before = in_app(app, lambda: balance(shop))

    booked = resident.post("/requests", {"item_id": _item_id(app), "description": "卫生间水管漏水，地上都是水",
                                         "preferred_period": "morning"}, key="book-1")
    assert booked.status_code == 201, booked.get_json()
    req = booked.get_json()
    assert req["state"] == "open" and req["onsite_code"] is None and req["preferred_period"] == "morning"
    assert req["history"][0]["action"] == "book"

    board = partner.get("/jobs").get_json()
    job = next(j for j in board["items"] if j["id"] == req["id"])
    assert "contact" not in job and "13900000001" not in str(job)  # no address or phone before taking it
    claimed = partner.post(f"/jobs/{req['id']}/claim", key="claim-1")
    assert claimed.status_code == 200 and claimed.get_json()["state"] == "claimed"
    assert claimed.get_json()["contact"]["phone"] == DEMO_PHONES["resident"]
    assert claimed.get_json()["onsite_code"] is None  # the code is the resident's to give

    code = resident.get(f"/requests/{req['id']}").get_json()["onsite_code"]
    assert code and len(code) == 6
    wrong = partner.post(f"/jobs/{req['id']}/finish", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422
    assert error_of(wrong)["fields"] == {"code": "That code is not right. 4 tries left."}
    finished = partner.post(f"/jobs/{req['id']}/finish", {"code": code}, key="finish-1")
    assert finished.status_code == 200, finished.get_json()
    assert finished.get_json()["state"] == "confirmed" and finished.get_json()["confirmed_on_site"] is True
    # A retry of the same POST (the network dropped the answer) gets the first answer, pays nothing twice.
    again = partner.post(f"/jobs/{req['id']}/finish", {"code": code}, key="finish-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == finished.get_json()

    assert in_app(app, lambda: balance(shop)) == before + req["points"]
    rated = resident.post(f"/requests/{req['id']}/rate", {"rating": 5, "comment": "很快就修好了"})
    assert rated.status_code == 200 and rated.get_json()["rating"] == 5
    mine = resident.get("/requests").get_json()["items"]
    assert mine[0]["id"] == req["id"] and mine[0]["state"] == "confirmed"
    in_app(app, assert_books_balance)


def test_a_volunteer_marks_done_and_the_resident_confirms(app, as_):
    resident, volunteer = as_("resident"), as_("volunteer")
    item = _item_id(app, "elderly_companionship") if in_app(app, lambda: ServiceItem.get_or_none(
        ServiceItem.code == "elderly_companionship")) else None
    item = item or in_app(app, lambda: ServiceItem.select().where(ServiceItem.fulfilment != "partner").first().id)
    booked = resident.post("/requests", {"item_id": item, "description": "陪老人去医院看病"}).get_json()
    in_app(app, lambda: _give_skill(person("volunteer"), item))
    helper = _person_balance(app, "volunteer")

    assert volunteer.post(f"/jobs/{booked['id']}/claim").status_code == 200
    done = volunteer.post(f"/jobs/{booked['id']}/done", {"note": "已陪同"})
    assert done.status_code == 200 and done.get_json()["state"] == "done"
    assert resident.post(f"/requests/{booked['id']}/confirm").get_json()["state"] == "confirmed"
    assert _person_balance(app, "volunteer") == helper + booked["points"]
    # Confirming again is refused by the lifecycle, with the page's message.
    twice = resident.post(f"/requests/{booked['id']}/confirm")
    assert twice.status_code == 409 and "finished" in error_of(twice)["message"]


def _give_skill(person, item_id):
    from marketplace.users.models import VolunteerSkill

    category = ServiceItem.get_by_id(item_id).category_id
    VolunteerSkill.insert(user=person.id, category=category).on_conflict_ignore().execute()


def _person_balance(app, who):
    return in_app(app, lambda: balance(person(who)))


# ---- redeem -> scan -> settled ------------------------------------------------------------------


def test_a_voucher_from_redeeming_to_the_counter(app, as_):
    resident, partner = as_("resident"), as_("partner_staff")
    offer = in_app(app, lambda: Offer.get(Offer.title.startswith("免费磨刀")))
    shop = in_app(app, lambda: PartnerEnterprise.get_by_id(offer.partner_id))
    start, shop_start = _person_balance(app, "resident"), in_app(app, lambda: balance(shop))

    listed = resident.get("/offers", {"shop": str(offer.partner_id)}).get_json()["items"]
    assert offer.id in [o["id"] for o in listed]
    missing_key = resident.post(f"/offers/{offer.id}/redeem")
    assert missing_key.status_code == 400 and "Idempotency-Key" in error_of(missing_key)["fields"]

    redeemed = resident.post(f"/offers/{offer.id}/redeem", key="redeem-knife-1")
    assert redeemed.status_code == 201, redeemed.get_json()
    voucher = redeemed.get_json()
    retried = resident.post(f"/offers/{offer.id}/redeem", key="redeem-knife-1")
    assert retried.status_code == 201 and retried.get_json() == voucher
    assert _person_balance(app, "resident") == start - offer.price  # spent once
    assert resident.get(f"/vouchers/{voucher['id']}").get_json()["status"] == "issued"

    scanned = partner.post("/vouchers/scan", {"code": voucher["code"].lower().replace("-", " ")})
    assert scanned.status_code == 200, scanned.get_json()
    assert scanned.get_json()["status"] == "used"
    second = partner.post("/vouchers/scan", {"code": voucher["code"]})
    assert second.status_code == 409 and "already used" in error_of(second)["fields"]["code"]
    assert resident.get(f"/vouchers/{voucher['id']}").get_json()["status"] == "used"
    assert in_app(app, lambda: balance(shop)) == shop_start + offer.price
    statement = resident.get("/points/statement").get_json()["items"]
    assert statement[0]["kind"] == "redeem" and statement[0]["points"] == -offer.price
    assert resident.get("/points").get_json()["balance"] == start - offer.price
    in_app(app, assert_books_balance)


def test_a_voucher_can_be_cancelled_and_the_points_come_back(app, as_):
    resident = as_("resident")
    offer = in_app(app, lambda: Offer.get(Offer.title.startswith("免费磨刀")))
    start = _person_balance(app, "resident")
    voucher = resident.post(f"/offers/{offer.id}/redeem", key="k-cancel").get_json()
    cancelled = resident.post(f"/vouchers/{voucher['id']}/cancel")
    assert cancelled.get_json()["status"] == "cancelled"
    assert _person_balance(app, "resident") == start
    assert as_("volunteer").get(f"/vouchers/{voucher['id']}").status_code == 404  # someone else's


# ---- sign up -> kiosk check-in -> check-out -> points ------------------------------------------


def _event_under_way(app, **extra):
    def make():
        staff = person("community_admin")
        start = utcnow().replace(microsecond=0) - timedelta(hours=2)
        event = Event.create(
            community=Community.get(Community.code == "beiyuan_jiayuan"), kind="patrol", title="夜间巡逻 API",
            place="东门", starts_at=start, ends_at=start + timedelta(hours=4), capacity=5, points_rule="per_hour",
            points=10, status="published", published_at=utcnow(), created_by=staff, **extra)
        return event.id

    return in_app(app, make)


def _kiosk(app, event_id, mode):
    def read():
        info = events.kiosk_code(person("community_admin"), event_id, mode)
        assert info.open, info.message
        return info

    return in_app(app, read)


def test_an_event_from_signing_up_to_the_hours_paid(app, as_):
    volunteer = as_("volunteer")
    event_id = _event_under_way(app)
    start = _person_balance(app, "volunteer")

    listed = volunteer.get("/events").get_json()["items"]
    assert event_id in [e["id"] for e in listed]
    signed = volunteer.post(f"/events/{event_id}/signup")
    assert signed.status_code == 200 and signed.get_json()["status"] == "confirmed"

    token = _kiosk(app, event_id, "in").token
    checked_in = volunteer.post("/events/checkin", {"token": f"http://localhost/events/k/{token}"})
    assert checked_in.status_code == 200, checked_in.get_json()
    assert checked_in.get_json()["outcome"] == "checked_in"
    again = volunteer.post("/events/checkin", {"token": token})
    assert again.get_json()["outcome"] == "already" and "Already checked in" in again.get_json()["message"]

    # An hour and a half at the patrol.
    in_app(app, lambda: Attendance.update(checked_in_at=utcnow().replace(microsecond=0) - timedelta(minutes=90)).where(
        Attendance.event == event_id).execute())
    out_code = _kiosk(app, event_id, "out").code
    checked_out = volunteer.post(f"/events/{event_id}/code", {"code": f"{out_code[:3]} {out_code[3:]}"})
    assert checked_out.status_code == 200, checked_out.get_json()
    body = checked_out.get_json()
    assert body["outcome"] == "checked_out" and body["attendance"]["points"] == 15 and body["attendance"]["hours"] == 1.5
    assert _person_balance(app, "volunteer") == start + 15
    record = volunteer.get("/events/record").get_json()
    assert record["hours"] >= 1.5 and any(a["event_id"] == event_id for a in record["attended"])
    shown = volunteer.get(f"/events/{event_id}").get_json()
    assert shown["my_signup"]["status"] == "confirmed" and shown["my_attendance"]["state"] == "out"
    in_app(app, assert_books_balance)


def test_a_stale_or_forged_kiosk_code_is_refused_with_the_pages_words(app, as_, client, auth):
    volunteer = as_("volunteer")
    event_id = _event_under_way(app)
    volunteer.post(f"/events/{event_id}/signup")
    forged = volunteer.post("/events/checkin", {"token": f"{event_id}.1.i.AAAAAAAAAAAAAAAA"})
    assert forged.status_code == 422
    assert error_of(forged)["message"] == "This is not a check-in code of ours. Please scan the code on the screen at the door."
    stale = volunteer.post("/events/checkin", {"token": _stale_token(app, event_id)})
    assert stale.status_code == 410 and "expired" in error_of(stale)["message"]
    # The same six digits typed wrong: the page flashes the same sentence.
    api_wrong = volunteer.post(f"/events/{event_id}/code", {"code": "12"})
    auth.login_as("volunteer")
    page = client.post(f"/events/{event_id}/code", data={"code": "12", "csrf_token": csrf_token(client, f"/events/{event_id}")},
                       headers=EN, follow_redirects=True).get_data(as_text=True)
    assert error_of(api_wrong)["fields"]["code"] == "Please type the 6 digits shown on the screen at the door."
    assert "Please type the 6 digits shown on the screen at the door." in page
    assert in_app(app, lambda: Attendance.select().where(Attendance.event == event_id).count()) == 0


def _stale_token(app, event_id):
    from marketplace.events import tokens

    return in_app(app, lambda: tokens.kiosk_token(event_id, "in", tokens.current_step() - 5))


def test_the_waiting_list_through_the_api(app, as_):
    event_id = _event_under_way(app, allow_walk_ins=False)
    in_app(app, lambda: Event.update(capacity=1).where(Event.id == event_id).execute())
    volunteer = as_("volunteer")
    other = in_app(app, lambda: _new_volunteer("13500001111"))
    assert volunteer.post(f"/events/{event_id}/signup").get_json()["status"] == "confirmed"
    waiting = as_(other).post(f"/events/{event_id}/signup").get_json()
    assert waiting == {"event_id": event_id, "status": "waitlisted", "waitlist_position": 1}
    assert volunteer.post(f"/events/{event_id}/signup/cancel").get_json()["status"] == "cancelled"
    assert in_app(app, lambda: Signup.get(Signup.event == event_id, Signup.user == User.get(User.phone == other).id).status) \
        == "confirmed"
    resident = as_("resident")  # not a volunteer: the service's rule
    refused = resident.post(f"/events/{event_id}/signup")
    assert refused.status_code == 403 and "Only volunteers can sign up" in error_of(refused)["message"]


def _new_volunteer(phone):
    from marketplace.users.models import RoleGrant

    person = User.create(phone=phone, display_name="新志愿者", password_hash="-")
    RoleGrant.create(user=person, role="volunteer", community=Community.get(Community.code == "beiyuan_jiayuan"))
    return phone


# ---- the same bad input, the same rule, the same words ------------------------------------------


def _page_book(client, **data):
    path = "/requests/new/plumbing_electrical"
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, headers=EN,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("description, message", [
    ("", "Please say in a few words what you need."),  # the form's InputRequired
    ("漏", "Please say in a few words what you need."),  # the service's minimum
    ("水" * 1001, None),  # the form's Length(max=1000): whatever WTForms says, both say it
])
def test_a_bad_booking_is_refused_alike_on_the_page_and_in_the_api(app, client, auth, as_, description, message):
    auth.login_as("resident")
    page = _page_book(client, description=description)
    api = as_("resident").post("/requests", {"item_id": _item_id(app), "description": description})
    assert page.status_code == 422 and api.status_code == 422
    said = error_of(api)["fields"]["description"]
    if message:
        assert said == message
    assert said in page.get_data(as_text=True).replace("&#39;", "'")
    assert in_app(app, lambda: ServiceRequest.select().count()) == 0


def test_a_bad_rating_and_a_bad_voucher_code_are_refused_alike(app, client, auth, as_):
    resident, partner = as_("resident"), as_("partner_staff")
    req = resident.post("/requests", {"item_id": _item_id(app), "description": "水管漏水了"}).get_json()
    partner.post(f"/jobs/{req['id']}/claim")
    partner.post(f"/jobs/{req['id']}/done")
    resident.post(f"/requests/{req['id']}/confirm")

    api = resident.post(f"/requests/{req['id']}/rate", {"rating": 7})
    auth.login_as("resident")
    page = client.post(f"/requests/{req['id']}/rate", data={"rating": "7", "csrf_token": csrf_token(client, "/requests/")},
                       headers=EN, follow_redirects=True).get_data(as_text=True)
    assert error_of(api)["fields"] == {"rating": "Please give 1 to 5 stars."}
    assert "Please give 1 to 5 stars." in page

    api_scan = partner.post("/vouchers/scan", {"code": "ABC"})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("partner_staff")
    page_scan = client.post("/shop/scan", data={"code": "ABC", "csrf_token": csrf_token(client, "/shop/scan")}, headers=EN)
    rule = "A voucher code has 10 letters and digits; please check it."
    assert error_of(api_scan)["fields"] == {"code": rule} and rule in page_scan.get_data(as_text=True)


@pytest.mark.parametrize("value", [2.7, True, "5", None])
def test_json_types_are_checked_before_the_forms_see_them(app, as_, value):
    """DESIGN.md §5: WTForms fed raw JSON turns 2.7 into 2 and true into 1."""
    response = as_("resident").post("/requests", {"item_id": value, "description": "水管漏水了"})
    assert response.status_code == 422
    expected = "This service is not on the menu." if value is None else "Please send a whole number."
    assert error_of(response)["fields"] == {"item_id": expected}
    assert in_app(app, lambda: ServiceRequest.select().count()) == 0


def test_zero_is_a_value_not_a_missing_one(app, as_):
    response = as_("resident").post("/requests", {"item_id": 0, "description": "水管漏水了"})
    assert error_of(response)["fields"] == {"item_id": "Please send a whole number from 1 to 2147483647."}


def test_messages_follow_the_requests_language(app, as_):
    resident = as_("resident")
    english = resident.post("/requests", {"item_id": _item_id(app), "description": ""}, lang="en")
    chinese = resident.post("/requests", {"item_id": _item_id(app), "description": ""}, lang="zh-CN")
    assert error_of(english)["fields"]["description"] == "Please say in a few words what you need."
    assert error_of(chinese)["fields"]["description"] != error_of(english)["fields"]["description"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error_of(chinese)["fields"]["description"])


def test_giving_a_job_back_answers_with_the_reopened_job_and_a_retry_gets_the_same(app, as_):
    resident, partner = as_("resident"), as_("partner_staff")
    req = resident.post("/requests", {"item_id": _item_id(app, "plumbing_electrical"), "description": "水管漏水"}).get_json()
    assert partner.post(f"/jobs/{req['id']}/claim").status_code == 200
    released = partner.post(f"/jobs/{req['id']}/release", {"reason": "今天人手不够"}, key="release-1")
    assert released.status_code == 200, released.get_json()
    assert released.get_json()["state"] == "open" and "contact" not in released.get_json()  # no longer theirs
    again = partner.post(f"/jobs/{req['id']}/release", {"reason": "今天人手不够"}, key="release-1")
    assert again.status_code == 200 and again.get_json() == released.get_json()


def test_a_page_number_past_any_end_is_an_empty_page_not_an_error(client, auth):
    auth.login_as("resident")
    for path in ("/messages/", "/points/"):
        assert client.get(f"{path}?page=99999999999999999999").status_code == 200
