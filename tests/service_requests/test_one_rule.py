"""One home per rule: every place that shows or counts a rule agrees with its one definition.

Each test seeds rows on both sides of a rule, then reads them every way a person or a job reads
them (dashboard, work queue, CSV exports, overview, scheduler, request page, API), so a second
copy of a rule that drifts from the first fails here.
"""

import csv
import io
import re
from datetime import timedelta

import pytest

from marketplace.audit import AuditLog
from marketplace.config import PROJECT_ROOT
from marketplace.db import db
from marketplace.events import services as events
from marketplace.figures import counting as figures
from marketplace.menu.models import ServiceItem
from marketplace.ops import periodic
from marketplace.places.models import Building, Household
from marketplace.service_requests import models as requests
from marketplace.service_requests import transitions
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer
from marketplace.staff import queues
from marketplace.timeutil import utcnow
from marketplace.users.models import User
from tests.api.test_api_helpers import ApiClient, make_token
from tests.conftest import DEMO_PHONES, Auth, in_app, person
from tests.events.test_events import make_event, staff, volunteers

EN = {"Accept-Language": "en"}
LATE = {"due_yesterday", "due_an_hour_ago", "disputed_past", "late_elsewhere"}
DUE_SOON = {"due_in_an_hour", "due_in_20_hours"}


def household(building_code: str) -> Household:
    return Household.select().join(Building).where(Building.code == building_code).order_by(Household.id).first()


def add(building="bj_b1", due_in=timedelta(days=5), state="open", done_ago=None, claimer=None, resident=None,
        feedback_due_in=None, rating=None) -> int:
    now = utcnow()
    item = ServiceItem.select().order_by(ServiceItem.id).first()
    resident = resident or (person("resident") if building == "bj_b1" else User.get(User.phone == "13900000002"))
    return ServiceRequest.create(
        resident=resident, household=household(building), item=item, description="门锁坏了", points=10, state=state,
        created_at=now - timedelta(days=20), due_at=now + due_in, onsite_code="123456", rating=rating,
        done_at=None if done_ago is None else now - done_ago, claimer=claimer,
        claimed_at=None if claimer is None else now - timedelta(days=15),
        escalated_at=None if feedback_due_in is None else now - timedelta(days=3),
        escalated_to="" if feedback_due_in is None else "城管科",
        feedback_due_at=None if feedback_due_in is None else now + feedback_due_in,
    ).id


def seed_around_the_deadline() -> dict[str, int]:
    """Requests on both sides of "late", "due soon" and "on time", in every state that counts differently."""
    helper = person("volunteer")
    day, hour = timedelta(days=1), timedelta(hours=1)
    return {
        "due_yesterday": add(due_in=-day),
        "due_an_hour_ago": add(due_in=-hour, state="claimed", claimer=helper),
        "disputed_past": add(due_in=-3 * day, state="disputed", done_ago=5 * day, claimer=helper),
        "late_elsewhere": add(building="bj_b3", due_in=-2 * day),  # outside the building head's scope
        "due_in_an_hour": add(due_in=hour),
        "due_in_20_hours": add(due_in=20 * hour, state="claimed", claimer=helper),
        "due_next_month": add(due_in=30 * day),
        "done_past_deadline": add(due_in=-2 * day, state="done", done_ago=4 * day, claimer=helper),  # waits for the resident
        "confirmed_late": add(due_in=-10 * day, state="confirmed", done_ago=8 * day, claimer=helper, rating=3),
        "confirmed_on_time": add(due_in=-10 * day, state="confirmed", done_ago=12 * day, claimer=helper),
        "cancelled_past": add(due_in=-5 * day, state="cancelled"),
        "feedback_late": add(due_in=30 * day, feedback_due_in=-day),
    }


@pytest.fixture
def seeded(app):
    return in_app(app, seed_around_the_deadline)


def names(seeded, ids) -> set[str]:
    by_id = {v: k for k, v in seeded.items()}
    return {by_id[i] for i in ids if i in by_id}


def signed_in(app, role):
    client = app.test_client()
    Auth(client).login_as(role)
    return client


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def ids_in(query) -> set[int]:
    return {r.id for r in query}


# ---- late and due soon: one rule, every reader -----------------------------------------------------


def test_every_reader_counts_the_late_requests_of_the_models_rule(app, seeded):
    late = in_app(app, lambda: ids_in(ServiceRequest.select().where(requests.late())))
    assert names(seeded, late) == LATE and len(late) == len(LATE)  # the demo has no requests of its own

    # The model's row property, the figures (counted now and over the months) and the dashboard's CSV.
    assert in_app(app, lambda: {r.id for r in ServiceRequest.select() if r.is_late}) == late
    everything = figures.Area(everything=True)
    assert in_app(app, lambda: figures.current_counts(everything)["overdue"]) == len(late)
    assert in_app(app, lambda: figures.compute(everything).total.late_now) == len(late)
    admin = signed_in(app, "admin")
    summary = {row[0]: row[1] for row in csv.reader(io.StringIO(
        admin.get("/staff/dashboard/summary.csv", headers=EN).data.decode("utf-8-sig")))}
    assert summary["Late now"] == str(len(late))

    # The work queue (its page and CSV), the overview and the exports.
    queue_rows = read_csv(admin.get("/staff/queue/deadlines.csv", headers=EN))
    assert {int(r["Number"]) for r in queue_rows if r["On time"] == "late"} == late
    page = admin.get("/staff/", headers=EN).get_data(as_text=True)
    deadlines = page.split('id="deadlines"', 1)[1].split("<section", 1)[0]
    assert deadlines.count("late: due") == len(late)
    overdue = read_csv(admin.get("/staff/exports/requests-overdue.csv", headers=EN))
    assert {int(r["Number"]) for r in overdue} == late
    marked = read_csv(admin.get("/staff/exports/requests-all.csv", headers=EN))
    assert {int(r["Number"]) for r in marked if r["On time"] == "late"} == late
    overview = admin.get("/requests/overview?show=overdue", headers=EN).get_data(as_text=True)
    assert {int(i) for i in re.findall(r'href="/requests/(\d+)"', overview)} == late

    # A building head sees the same rule inside their scope.
    head = signed_in(app, "building_head")
    mine = read_csv(head.get("/staff/exports/requests-overdue.csv", headers=EN))
    assert names(seeded, {int(r["Number"]) for r in mine}) == LATE - {"late_elsewhere"}


def test_the_scheduler_and_the_queue_remind_of_what_the_model_calls_due_soon(app, seeded):
    now = utcnow()
    soon = in_app(app, lambda: ids_in(ServiceRequest.select().where(requests.due_soon(now))))
    assert names(seeded, soon) == DUE_SOON
    assert in_app(app, lambda: ids_in(periodic.due_soon(now))) == soon
    assert in_app(app, lambda: {r.id for r in ServiceRequest.select() if r.is_due_soon}) == soon
    # The deadlines queue: late, due soon, and feedback owed soon, nothing else.
    queue = in_app(app, lambda: ids_in(queues.deadlines(person("admin"), now)))
    assert names(seeded, queue) == LATE | DUE_SOON | {"feedback_late"}


def test_one_row_answers_each_rule_as_the_query_does(app, seeded):
    """holds() reads the very expression the counts use; for every seeded row and rule, the row's
    answer is the query's."""
    now = utcnow()

    def check():
        rules = {
            "late": requests.late(now), "due_soon": requests.due_soon(now), "on_time": requests.on_time(),
            "handled": requests.handled(), "feedback_late": requests.feedback_late(now),
            "escalation_open": requests.escalation_open(), "waiting": requests.waiting(),
        }
        rows = list(ServiceRequest.select())
        for name, rule in rules.items():
            matched = ids_in(ServiceRequest.select().where(rule))
            assert {r.id for r in rows if requests.holds(r, rule)} == matched, name
        return {name: names(seeded, ids_in(ServiceRequest.select().where(rule))) for name, rule in rules.items()}


    found = in_app(app, check)
    assert found["on_time"] == {"done_past_deadline", "confirmed_on_time"}
    assert found["feedback_late"] == {"feedback_late"}
    with pytest.raises(TypeError):  # a condition it cannot read is refused, not guessed
        in_app(app, lambda: requests.holds(ServiceRequest.get_by_id(seeded["due_yesterday"]),
                                        ServiceRequest.id.in_(ServiceRequest.select(ServiceRequest.id))))


def test_state_groups_come_from_the_transition_table_only():
    states = set(transitions.STATES)
    for group in (transitions.CAN_BE_LATE, transitions.IN_PROGRESS, transitions.HANDLED, transitions.CLOSED,
                  transitions.RATEABLE):
        assert set(group) <= states
    assert {s for row in transitions.TRANSITIONS for s in (row[0], row[2])} <= states
    assert set(transitions.CAN_BE_LATE) == states - set(transitions.HANDLED) - {"cancelled"}
    # The request page and the work queue hold no list of states of their own.
    for template in ("service_requests/show.html", "staff/queue.html"):
        text = (PROJECT_ROOT / "templates" / template).read_text()
        assert not re.search(r"\.state\s*(==|!=|in|not in)\s", text), template


# ---- available actions: the page's buttons are the API's list -------------------------------------


def page_actions(client, request_id) -> tuple[int, list[str]]:
    response = client.get(f"/requests/{request_id}", headers=EN)
    found = re.findall(r'data-actions="([^"]*)"', response.get_data(as_text=True))
    return response.status_code, sorted(a for names in found for a in names.split())


def api_actions(app, role, request_id) -> tuple[int, list[str]]:
    response = ApiClient(app.test_client(), make_token(app, role)).get(f"/requests/{request_id}")
    return response.status_code, sorted(response.get_json().get("actions", [])) if response.status_code == 200 else []


def test_the_page_and_the_api_offer_the_same_actions_to_each_role(app):
    def seed():
        helper = person("volunteer")
        return {
            "open": add(), "claimed": add(state="claimed", claimer=helper),
            "done": add(state="done", claimer=helper, done_ago=timedelta(hours=1)),
            "disputed": add(state="disputed", claimer=helper, done_ago=timedelta(days=1)),
            "confirmed": add(state="confirmed", claimer=helper, done_ago=timedelta(days=1)),
            "rated": add(state="confirmed", claimer=helper, done_ago=timedelta(days=1), rating=5),
            "cancelled": add(state="cancelled"),
        }

    made = in_app(app, seed)
    # What the table says, written out by hand for the roles that see the request.
    expected = {
        ("resident", "open"): ["cancel"], ("resident", "claimed"): ["cancel"],
        ("resident", "done"): ["confirm", "dispute"], ("resident", "confirmed"): ["rate"],
        ("resident", "rated"): [], ("resident", "disputed"): [], ("resident", "cancelled"): [],
        ("volunteer", "claimed"): ["finish_on_site", "mark_done", "release"], ("volunteer", "done"): [],
        # Staff in scope may also act for the resident (issue 16: acting on behalf, marketplace.proxy).
        ("building_head", "open"): ["cancel", "escalate"], ("building_head", "done"): ["confirm", "dispute", "escalate"],
        ("building_head", "disputed"): ["escalate", "resolve_cancel", "resolve_confirm", "resolve_redo"],
        ("building_head", "confirmed"): ["rate"], ("building_head", "rated"): [],
        ("community_admin", "cancelled"): [],
    }
    for role in ("resident", "volunteer", "building_head", "community_admin", "partner_staff"):
        client = signed_in(app, role)
        for state, request_id in made.items():
            page, api = page_actions(client, request_id), api_actions(app, role, request_id)
            assert page == api, (role, state, page, api)
            if (role, state) in expected:
                assert page == (200, sorted(expected[role, state])), (role, state)
    # Someone who may not see it: 404 on both, no actions.
    assert page_actions(signed_in(app, "partner_staff"), made["open"])[0] == 404


# ---- the personal-data audit: recorded by the service, so the API records it too -----------------------


def personal_data_entries(app):
    return in_app(app, lambda: [(e.actor_id, e.action, e.object_type, e.object_id) for e in
                             AuditLog.select().where(AuditLog.action.contains("personal_data")).order_by(AuditLog.id)])


def test_staff_reading_a_request_in_the_api_leave_the_pages_audit_entry(app):
    request_id = in_app(app, lambda: add(state="claimed", claimer=person("volunteer")))
    head = in_app(app, lambda: person("building_head").id)

    assert signed_in(app, "building_head").get(f"/requests/{request_id}", headers=EN).status_code == 200
    by_page = personal_data_entries(app)
    assert by_page == [(head, "requests.personal_data.viewed", "ServiceRequest", request_id)]

    response = ApiClient(app.test_client(), make_token(app, "building_head")).get(f"/requests/{request_id}")
    assert response.status_code == 200 and response.get_json()["contact"]["phone"] == DEMO_PHONES["resident"]
    assert personal_data_entries(app) == by_page * 2  # the same entry again

    # The resident reading their own request, and the helper reading their job, record nothing.
    for role in ("resident", "volunteer"):
        assert ApiClient(app.test_client(), make_token(app, role)).get(f"/requests/{request_id}").status_code == 200
        assert signed_in(app, role).get(f"/requests/{request_id}", headers=EN).status_code == 200
    assert personal_data_entries(app) == by_page * 2


# ---- offers and vouchers: who sees them, on the page and in the API -------------------------------------


def test_a_pending_listing_and_a_voucher_are_seen_by_the_same_people_on_page_and_api(app):
    def seed():
        zhang = person("resident")
        listing = Offer.select().where(Offer.partner.is_null()).get()
        Offer.update(status="pending", seller=zhang).where(Offer.id == listing.id).execute()
        eggs = Offer.get(Offer.title.startswith("新鲜鸡蛋"))
        return listing.id, shop.redeem(zhang, eggs.id, "one-rule").id

    listing, voucher = in_app(app, seed)
    for who in ("resident", "volunteer", None):
        page = signed_in(app, who) if who else app.test_client()
        api = ApiClient(app.test_client(), make_token(app, who) if who else None)
        seen = who == "resident"  # the seller and the holder alone
        assert page.get(f"/shop/offers/{listing}", headers=EN).status_code == (200 if seen else 404), who
        assert api.get(f"/offers/{listing}").status_code == (200 if seen else 404), who
        if who:
            assert page.get(f"/shop/vouchers/{voucher}", headers=EN).status_code == (200 if seen else 404), who
            assert api.get(f"/vouchers/{voucher}").status_code == (200 if seen else 404), who


# ---- the door's open window: one answer for the page, the kiosk, the scans and the API ------------------


def test_the_door_window_is_one_answer_for_kiosk_scans_and_api(ctx, app):
    event = make_event(hours=2)
    window = events.door_window(event)
    organiser, moments = staff(), [window.opens_at - timedelta(minutes=1), window.opens_at,
                                   event.starts_at + timedelta(minutes=10), event.ends_at, window.closes_at,
                                   window.closes_at + timedelta(minutes=1)]
    for at in moments:
        assert events.kiosk_code(organiser, event.id, "out", now=at).open == window.is_open(at), at
        assert events.kiosk_code(organiser, event.id, "in", now=at).open == (window.is_open(at) and at < event.ends_at), at
    # Whoever is still checked in is closed out exactly when the window closes.
    (late_one,) = volunteers(1)
    events.sign_up(late_one, event.id)
    events.check_in_by_hand(organiser, event.id, late_one.phone, event.starts_at, "没带手机", now=event.starts_at)
    assert events.close_finished(now=window.closes_at) == 0
    assert events.close_finished(now=window.closes_at + timedelta(seconds=1)) == 1
    db.close()

    api = ApiClient(app.test_client()).get(f"/events/{event.id}").get_json()
    assert api["checkin_opens_at"] == window.opens_at.isoformat(timespec="seconds") + "Z"
