"""Staff propose for a resident without a phone (the proxy's record, message and receipt), a
household's floor area set from the person's page (audited), and the grid meeting open to the
households it invites: sign-up and the door's code as for any event, and its participation points."""

from datetime import UTC, timedelta

import pytest

from marketplace.audit import AuditLog
from marketplace.errors import DomainError
from marketplace.events import services as events
from marketplace.events import tokens
from marketplace.events.models import Signup
from marketplace.ledger import services as ledger
from marketplace.notifications.models import Notification
from marketplace.places.models import Household
from marketplace.proposals import participation, services
from marketplace.proposals.models import MeetingPay, Proposal
from marketplace.proxy.models import ProxyAct
from marketplace.timeutil import utcnow
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import csrf_token, in_app, person
from tests.ledger_helpers import assert_books_balance

BODY = "楼下没有电动车车棚，飞线充电很危险，建议建一个。"


def refused(code, call):
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def counts():
    return Proposal.select().count(), ProxyAct.select().count()


# ---- proposing on behalf ------------------------------------------------------------------------


def test_the_building_head_proposes_for_a_resident_and_she_gets_the_receipt(ctx):
    head, resident = person("building_head"), person("resident")
    proposal = services.create_proposal(head, "building", "电动车车棚", BODY, for_user_id=resident.id)
    assert (proposal.proposer_id, proposal.created_by_id) == (resident.id, head.id)
    act = ProxyAct.get(ProxyAct.action == "propose")
    assert (act.actor_id, act.resident_id, act.via, act.note) == (head.id, resident.id, "staff", "电动车车棚")
    note = Notification.get((Notification.user == resident.id) & (Notification.link == f"/on-behalf/acts/{act.id}"))
    assert "电动车车棚" in note.text
    assert AuditLog.select().where(AuditLog.action == "proposals.proposal.created_on_behalf").count() == 1


def test_proposing_for_someone_one_may_not_act_for_changes_nothing(ctx):
    before = counts()
    outsider = person("13900000002")  # 李大爷, building 3: not the building head's
    refused("out_of_scope", lambda: services.create_proposal(person("building_head"), "building", "电动车车棚", BODY,
                                                             for_user_id=outsider.id))
    refused("out_of_scope", lambda: services.create_proposal(person("volunteer"), "building", "电动车车棚", BODY,
                                                             for_user_id=person("resident").id))
    refused("out_of_scope", lambda: services.create_proposal(person("building_head"), "building", "电动车车棚", BODY,
                                                             for_user_id=10 ** 9))
    refused("invalid", lambda: services.create_proposal(person("building_head"), "building", "车", BODY,
                                                        for_user_id=person("resident").id))
    assert counts() == before


def test_the_on_behalf_page(app, client, auth):
    resident_id = in_app(app, lambda: person("resident").id)
    auth.login_as("volunteer")
    assert client.get(f"/proposals/new/for/{resident_id}").status_code == 404
    auth.post("/logout", token_from="/account")
    auth.login_as("building_head")
    page = client.get(f"/proposals/new/for/{resident_id}")
    assert page.status_code == 200 and "张阿姨" in page.get_data(as_text=True)
    assert f"/proposals/new/for/{resident_id}" in client.get(f"/on-behalf/people/{resident_id}").get_data(as_text=True)
    before = in_app(app, counts)
    bad = client.post(f"/proposals/new/for/{resident_id}", data={"csrf_token": csrf_token(client, f"/proposals/new/for/{resident_id}"),
                                                                  "scope_kind": "building", "title": "车", "body": BODY})
    assert bad.status_code == 422 and "至少4个字" in bad.get_data(as_text=True)  # staff read Chinese
    assert in_app(app, counts) == before
    sent = client.post(f"/proposals/new/for/{resident_id}", data={
        "csrf_token": csrf_token(client, f"/proposals/new/for/{resident_id}"), "scope_kind": "building",
        "title": "电动车车棚", "body": BODY})
    assert sent.status_code == 302
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "data-on-behalf" in shown and "张阿姨" in shown


def test_propose_on_behalf_through_the_api(app, client):
    head = ApiClient(client, make_token(app, "building_head"))
    resident_id, outsider_id = in_app(app, lambda: (person("resident").id, person("13900000002").id))
    made = head.post("/proposals/on-behalf", {"resident_id": resident_id, "scope_kind": "building",
                                              "title": "电动车车棚", "body": BODY})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["written_down_by_staff"] is True
    before = in_app(app, counts)
    wrong = head.post("/proposals/on-behalf", {"resident_id": outsider_id, "scope_kind": "building",
                                               "title": "电动车车棚", "body": BODY})
    assert wrong.status_code == 422 and error_of(wrong)["code"] == "out_of_scope"
    missing = head.post("/proposals/on-behalf", {"scope_kind": "building", "title": "电动车车棚", "body": BODY})
    assert missing.status_code == 422
    assert in_app(app, counts) == before


# ---- floor area from the person's page ------------------------------------------------------------


def test_floor_area_is_set_from_the_person_s_page_audited(app, client, auth):
    resident_id, household_id = in_app(app, lambda: (person("resident").id,
                                                     services.household_of(person("resident")).id))
    auth.login_as("building_head")
    page = client.get(f"/staff/people/{resident_id}").get_data(as_text=True)
    assert f"/households/{household_id}/floor-area" in page
    token = csrf_token(client, f"/staff/people/{resident_id}")
    saved = client.post(f"/households/{household_id}/floor-area", data={"csrf_token": token, "floor_area": "89.5",
                                                                        "person": resident_id})
    assert saved.status_code == 302 and f"/staff/people/{resident_id}" in saved.headers["Location"]
    assert in_app(app, lambda: Household.get_by_id(household_id).floor_area) == 8950
    [entry] = in_app(app, lambda: list(AuditLog.select().where(AuditLog.action == "places.household.floor_area")))
    assert entry.object_id == household_id and '"floor_area_dm2": 8950' in entry.details
    for bad in ("abc", "-3", "1.234", "9999999"):
        answer = client.post(f"/households/{household_id}/floor-area", data={"csrf_token": token, "floor_area": bad,
                                                                             "person": resident_id},
                             follow_redirects=True)
        assert "如 89.5" in answer.get_data(as_text=True)
    assert in_app(app, lambda: Household.get_by_id(household_id).floor_area) == 8950
    outsider_household = in_app(app, lambda: services.household_of(person("13900000002")).id)
    assert client.post(f"/households/{outsider_household}/floor-area",
                       data={"csrf_token": token, "floor_area": "70"}).status_code == 404
    auth.post("/logout", token_from="/account")
    auth.login_as("resident")
    assert client.post(f"/households/{household_id}/floor-area",
                       data={"csrf_token": csrf_token(client, "/proposals"), "floor_area": "1"}).status_code == 403
    assert in_app(app, lambda: Household.get_by_id(household_id).floor_area) == 8950


def test_set_household_floor_area_through_the_api(app, client):
    head = ApiClient(client, make_token(app, "building_head"))
    household_id = in_app(app, lambda: services.household_of(person("resident")).id)
    done = head.post(f"/households/{household_id}/floor-area", {"floor_area": "120.25"})
    assert done.status_code == 200 and done.get_json() == {"household_id": household_id, "floor_area_dm2": 12025,
                                                           "floor_area": "120.25"}
    bad = head.post(f"/households/{household_id}/floor-area", {"floor_area": "lots"})
    assert bad.status_code == 422 and error_of(bad)["code"] == "invalid"
    assert in_app(app, lambda: Household.get_by_id(household_id).floor_area) == 12025


# ---- the grid meeting for ordinary residents --------------------------------------------------------


def _meeting(points="0"):
    proposal = services.create_proposal(person("resident"), "building", "电动车车棚", BODY)
    services.decide(person("building_head"), proposal.id, "accept")
    participation.set_points(person("building_head"), proposal.id, "0", points)
    start = utcnow() + timedelta(minutes=10)
    return services.schedule_meeting(person("community_admin"), proposal.id, start, start + timedelta(hours=2),
                                      "1号楼架空层")


def test_an_invited_resident_signs_up_and_checks_in_and_earns_the_meeting_points(ctx):
    proposal = _meeting(points="4")
    resident, outsider = person("resident"), person("13900000002")
    assert events.sign_up(resident, proposal.meeting_id).status == "confirmed"
    refused("volunteers_only", lambda: events.sign_up(outsider, proposal.meeting_id))
    assert Signup.select().where(Signup.user == outsider.id, Signup.event == proposal.meeting_id).count() == 0
    moment = proposal.meeting.starts_at + timedelta(minutes=5)
    code = tokens.kiosk_code(proposal.meeting_id, "in", tokens.current_step(moment.replace(tzinfo=UTC).timestamp()))
    assert events.check_with_code(resident, proposal.meeting_id, code, now=moment).outcome == "checked_in"
    refused("volunteers_only", lambda: events.check_with_code(outsider, proposal.meeting_id, code, now=moment))
    before = ledger.balance_of(ledger.user_account(resident))
    assert participation.sweep() == 1 and participation.sweep() == 0
    assert ledger.balance_of(ledger.user_account(resident)) == before + 4
    assert MeetingPay.get().user_id == resident.id
    assert_books_balance()


def test_the_proposal_page_leads_the_invited_household_to_the_meeting(app, client, auth):
    proposal_id, event_id = in_app(app, lambda: (lambda p: (p.id, p.meeting_id))(_meeting()))
    auth.login_as("resident")
    page = client.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    assert f"/events/{event_id}" in page and "data-invited" in page
    event_page = client.get(f"/events/{event_id}")
    signed = client.post(f"/events/{event_id}/signup", data={"csrf_token": csrf_token(client, f"/events/{event_id}")})
    assert event_page.status_code == 200 and signed.status_code == 302
    assert in_app(app, lambda: Signup.get(Signup.event == event_id).status) == "confirmed"
