"""Scope, once: what a staff member covers is answered by access.scope_of alone, and the event
role matrix (events.permissions) decides what each of them may do with an event.

In the demo, 孙楼长 heads building 1 and 赵网格员 runs grid 1 (buildings 1 and 2) of 北苑家园; both
help at the door of 北苑家园's events. 刘主任 administers 北苑家园; 周科员 (a street officer)
and the admin cover the whole street.
"""

from datetime import timedelta

import pytest

from marketplace import access
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import permissions, services
from marketplace.events.models import Attendance, Badge, Event, Signup
from marketplace.figures.counting import staff_area
from marketplace.ledger.models import Account
from marketplace.ledger.scope import accounts_in_staff_scope, can_view
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.timeutil import utcnow
from marketplace.users.models import STAFF_ROLES, RoleGrant, User
from marketplace.users.services import people_in_scope
from tests.api.test_api_helpers import ApiClient, make_token
from tests.conftest import DEMO_PHONES, csrf_token

EN = {"Accept-Language": "en"}
SERVICE_DAY = "社区服务日"  # a demo event of 北苑家园, under way now
DOOR_HELPERS = ("building_head", "grid_admin")


def _run(app, fn):
    with app.test_request_context(headers=EN):
        db.connect(reuse_if_open=True)
        return fn()


def _person(role) -> User:
    return User.get(User.phone == DEMO_PHONES[role])


def _volunteer_living_in(building_code: str, phone: str, name: str) -> User:
    household = Household.select().join(Building).where(Building.code == building_code).order_by(Household.id).first()
    person = User.create(phone=phone, display_name=name, password_hash="-")
    RoleGrant.create(user=person, role="resident", household=household)
    RoleGrant.create(user=person, role="volunteer", community=household.building.grid.community_id)
    return person


@pytest.fixture
def door(app):
    """The service day with three volunteers signed up: one living in building 1, 王小明 in
    building 2 (grid 1), one in building 3 (grid 2)."""

    def make():
        event = Event.get(Event.title == SERVICE_DAY)
        people = {
            "b1": _volunteer_living_in("bj_b1", "13512340001", "一号楼志愿者"),
            "b2": _person("volunteer"),
            "b3": _volunteer_living_in("bj_b3", "13512340003", "三号楼志愿者"),
        }
        for person in people.values():
            Signup.insert(event=event, user=person, status="confirmed", queued_at=utcnow()).on_conflict_ignore().execute()
        draft = Event.create(title="楼道清洁", kind="service_day", place="1号楼", community=event.community_id,
                             starts_at=utcnow() + timedelta(days=3), ends_at=utcnow() + timedelta(days=3, hours=2),
                             capacity=10, created_by=_person("community_admin"), status="draft")
        return {"event": event.id, "draft": draft.id, **{k: (p.id, p.phone) for k, p in people.items()}}

    return _run(app, make)


# Whose phone each role reads on the service day's roster.
PHONES_SHOWN = {"building_head": {"b1"}, "grid_admin": {"b1", "b2"}, "community_admin": {"b1", "b2", "b3"}}


def _masked(phone):
    return f"{phone[:3]}****{phone[-4:]}"


# ---- what a building head or grid administrator notices on the pages ---------------------------


@pytest.mark.parametrize("role", DOOR_HELPERS)
def test_door_helpers_see_the_door_buttons_and_not_the_organisers(app, client, auth, door, role):
    auth.login_as(role)
    page = client.get(f"/events/{door['event']}", headers=EN).get_data(as_text=True)
    for shown in ("Kiosk screen", "Scan badges", "Roster"):
        assert shown in page
    for hidden in ("Cancel the event", f"/events/{door['event']}/edit", f'/events/{door["event"]}/cancel"'):
        assert hidden not in page
    draft = client.get(f"/events/{door['draft']}", headers=EN).get_data(as_text=True)
    assert "楼道清洁" in draft and "Publish" not in draft
    manage = client.get("/events/manage", headers=EN).get_data(as_text=True)
    assert SERVICE_DAY in manage and "New event" not in manage
    poster = client.get(f"/events/{door['event']}/poster", headers=EN).get_data(as_text=True)
    assert "Make a new poster" not in poster
    record = client.get(f"/events/volunteers/{door['b1'][0]}", headers=EN).get_data(as_text=True)
    assert "Revoke the badge" not in record

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("community_admin")  # the organiser sees them all
    page = client.get(f"/events/{door['event']}", headers=EN).get_data(as_text=True)
    assert "Cancel the event" in page and f"/events/{door['event']}/edit" in page
    assert "Publish" in client.get(f"/events/{door['draft']}", headers=EN).get_data(as_text=True)


@pytest.mark.parametrize("role", DOOR_HELPERS)
def test_door_helpers_cannot_cancel_edit_publish_reissue_or_replace_a_badge(app, client, auth, door, role):
    badge_before = _run(app, lambda: services.badge_of(User.get_by_id(door["b1"][0])).serial)
    poster_before = _run(app, lambda: Event.get_by_id(door["event"]).poster_version)
    auth.login_as(role)
    event = door["event"]
    refused = {
        f"/events/{event}/cancel": {"reason": "下雨"},
        f"/events/{event}/edit": {"title": "改过的标题"},
        f"/events/{door['draft']}/publish": {},
        f"/events/{event}/poster/reissue": {},
        f"/events/volunteers/{door['b1'][0]}/badge/replace": {},
    }
    for path, data in refused.items():
        answer = client.post(path, data={"csrf_token": csrf_token(client, "/"), **data}, headers=EN)
        assert answer.status_code == 403, path
    assert client.get(f"/events/{event}/edit", headers=EN).status_code == 403
    assert client.get("/events/new", headers=EN).status_code == 403

    after = _run(app, lambda: (Event.get_by_id(event), Event.get_by_id(door["draft"])))
    assert after[0].status == "published" and after[0].title == SERVICE_DAY and after[0].poster_version == poster_before
    assert after[1].status == "draft"
    assert _run(app, lambda: Badge.get(Badge.user == door["b1"][0]).serial) == badge_before


@pytest.mark.parametrize("role", DOOR_HELPERS)
def test_door_helpers_check_people_in_and_read_only_their_own_residents_phones(app, client, auth, door, role):
    auth.login_as(role)
    event = door["event"]
    answer = client.post(f"/events/{event}/attendance", headers=EN, follow_redirects=True, data={
        "csrf_token": csrf_token(client, f"/events/{event}/roster"), "phone": door["b3"][1], "at": "",
        "reason": "手机没电"})
    assert answer.status_code == 200 and "三号楼志愿者 checked in at" in answer.get_data(as_text=True)
    assert _run(app, lambda: Attendance.get(Attendance.event == event, Attendance.user == door["b3"][0]).in_method) \
        == "manual"
    assert client.get(f"/events/{event}/kiosk", headers=EN).status_code == 200
    assert client.get(f"/events/{event}/scanner", headers=EN).status_code == 200

    roster = client.get(f"/events/{event}/roster", headers=EN).get_data(as_text=True)
    csv = client.get(f"/events/{event}/roster.csv", headers=EN).data.decode("utf-8")
    for key in ("b1", "b2", "b3"):
        phone = door[key][1]
        if key in PHONES_SHOWN[role]:
            assert phone in roster and phone in csv, key
        else:
            assert phone not in roster and phone not in csv, key
            assert _masked(phone) in roster and _masked(phone) in csv, key


def test_the_api_roster_masks_the_same_phones_and_lists_the_same_actions(app, door):
    for role, shown in PHONES_SHOWN.items():
        api = ApiClient(app.test_client(), make_token(app, role))
        answer = api.get(f"/events/{door['event']}/roster")
        assert answer.status_code == 200, answer.get_json()
        phones = {row["user_id"]: row["phone"] for row in answer.get_json()["people"]}
        for key in ("b1", "b2", "b3"):
            user_id, phone = door[key]
            assert phones[user_id] == (phone if key in shown else _masked(phone)), (role, key)
        actions = set(api.get(f"/events/{door['event']}").get_json()["my_actions"])
        if role in DOOR_HELPERS:
            assert actions == {"view", "run_door", "read_roster"}
        else:
            assert actions == set(permissions.ACTIONS)

    helper = ApiClient(app.test_client(), make_token(app, "building_head"))
    elsewhere = _run(app, lambda: Event.create(
        title="锦绣园巡逻", kind="patrol", place="西门", community=Community.get(Community.code == "jinxiu_yuan"),
        starts_at=utcnow(), ends_at=utcnow() + timedelta(hours=2), capacity=5, created_by=_person("admin"),
        status="published").id)
    assert helper.get(f"/events/{elsewhere}/roster").status_code == 404
    assert helper.get(f"/events/{2**70}/roster").status_code == 404  # too big for the database: still a clean 404
    assert helper.get(f"/events/{elsewhere}").get_json()["my_actions"] == []
    resident = ApiClient(app.test_client(), make_token(app, "volunteer"))
    assert resident.get(f"/events/{door['event']}/roster").status_code == 403


def test_the_services_refuse_a_building_head_and_change_nothing(ctx, door):
    head = _person("building_head")
    calls = {
        "cancel": lambda: services.cancel_event(head, door["event"], "下雨"),
        "edit": lambda: services.update_event(head, door["event"], {"title": "x"}),
        "publish": lambda: services.publish_event(head, door["draft"]),
        "reissue": lambda: services.reissue_poster(head, door["event"]),
        "badge": lambda: services.replace_badge(head, door["b1"][0]),
    }
    for name, call in calls.items():
        with pytest.raises(DomainError, match="Only the community's administrators") as error:
            call()
        assert error.value.status == 403, name
    with pytest.raises(DomainError) as error:
        services.create_event(head, {"title": "x"})
    assert error.value.status == 403
    assert Event.get_by_id(door["event"]).status == "published" and Event.get_by_id(door["draft"]).status == "draft"
    result = services.check_in_by_hand(head, door["event"], door["b2"][1], None, "忘带手机")
    assert result.outcome == "checked_in"


# ---- one definition: every copy of "what does this person cover" agrees ---------------------


def _ids(query) -> set[int]:
    return {row.id for row in query}


def _households_of(building_codes) -> set[int]:
    return _ids(Household.select(Household.id).join(Building).where(Building.code.in_(building_codes)))


def _community_households(code) -> set[int]:
    return _ids(Household.select(Household.id).join(Building).join(Grid).join(Community).where(Community.code == code))


def test_each_demo_role_covers_what_its_grants_say(ctx):
    everything = _ids(Household.select(Household.id))
    expected = {
        "building_head": _households_of(["bj_b1"]),
        "grid_admin": _households_of(["bj_b1", "bj_b2"]),
        "community_admin": _community_households("beiyuan_jiayuan"),
        "street_officer": everything,
        "admin": everything,
    }
    for role, households in expected.items():
        scope = access.scope_of(_person(role))
        assert _ids(scope.households()) == households, role
    beiyuan = Community.get(Community.code == "beiyuan_jiayuan").id
    assert access.scope_of(_person("building_head")).door_communities == {beiyuan}
    assert access.scope_of(_person("street_officer")).department == "民政科"
    partner = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
    assert access.scope_of(_person("partner_staff")).partners == (partner.id,)
    assert not access.scope_of(_person("resident")).is_staff


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_figures_people_ledger_and_events_use_the_same_scope(ctx, role):
    person = _person(role)
    scope = access.scope_of(person)
    households = _ids(scope.households())
    residents = {g.user_id for g in RoleGrant.select().where(RoleGrant.role == "resident",
                                                             RoleGrant.household.in_(list(households) or [0]))}

    assert _ids(staff_area(person).households()) == households  # the dashboards' figures
    people = _ids(people_in_scope(person))
    assert residents <= people  # the people list
    people_homes = {g.household_id for g in RoleGrant.select().where(RoleGrant.role == "resident",
                                                                     RoleGrant.user.in_(list(people) or [0]))}
    assert people_homes <= households or scope.everything
    ledger_people = {a.user_id for a in accounts_in_staff_scope(person).where(Account.kind == "user")}
    assert residents <= ledger_people  # the points ledger
    ledger_homes = {g.household_id for g in RoleGrant.select().where(RoleGrant.role == "resident",
                                                                     RoleGrant.user.in_(list(ledger_people) or [0]))}
    assert ledger_homes <= households

    events = permissions.community_ids_for(person, "view")  # the events they help run
    home_communities = {row.community_id for row in Grid.select(Grid.community).join(Building).join(Household)
                        .where(Household.id.in_(list(households) or [0]))}
    if scope.street_wide:
        assert events is None
    else:
        assert set(events) == set(scope.communities) | set(scope.door_communities)
        assert home_communities <= set(events)
        assert set(permissions.community_ids_for(person, "cancel")) == set(scope.communities)


def test_partner_staff_see_their_own_shops_account_only(ctx):
    staff = _person("partner_staff")
    own = Account.get(Account.partner == PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店").id)
    other = Account.get(Account.partner == PartnerEnterprise.get(PartnerEnterprise.name == "洁家家政服务公司").id)
    assert can_view(staff, own) and not can_view(staff, other)


def test_scope_works_outside_a_request_and_is_read_afresh_there(app):
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = _person("building_head")
        assert _ids(access.scope_of(head).households()) == _households_of(["bj_b1"])
        RoleGrant.create(user=head, role="building_head", building=Building.get(Building.code == "bj_b3"))
        assert _ids(access.scope_of(head).households()) == _households_of(["bj_b1", "bj_b3"])  # no stale cache
