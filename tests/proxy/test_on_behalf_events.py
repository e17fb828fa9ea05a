"""Acting on behalf at events (issue 16, item 4): staff who look after a resident's home sign her
up for an event and check her in and out at the door (an elderly volunteer without a phone);
the act is recorded with both names, shows on her event page as done for her, reaches her as a
message with a printable slip, and counts on the staff member's dashboard. Out of scope: refused
plainly, and nothing changes."""

from datetime import timedelta

import pytest

from marketplace.errors import DomainError
from marketplace.events import services
from marketplace.events.models import Attendance, Event, Scan, Signup
from marketplace.notifications.models import Notification
from marketplace.proxy import services as proxy
from marketplace.proxy.models import ProxyAct
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import in_app, person
from tests.events.test_events import at, community, make_event
from tests.proxy.test_on_behalf import _client


def _volunteer(user):
    RoleGrant.create(user=user, role="volunteer", community=community())
    return user


def _outsider():
    return _volunteer(User.get(User.display_name == "李大爷"))  # building 3, not 孙楼长's


def test_a_building_head_signs_her_up_and_checks_her_in_and_out_recorded_for_her(ctx):
    head, resident = person("building_head"), _volunteer(person("resident"))
    event = make_event(hours=2, points=10)

    signup = services.sign_up(resident, event.id, now=at(-600), actor=head)
    assert signup.status == "confirmed" and signup.user_id == resident.id
    result = services.check_for(head, event.id, resident.id, "in", now=at(0))
    assert result.outcome == "checked_in"
    again = services.check_for(head, event.id, resident.id, "in", now=at(1))
    assert again.outcome == "already"  # nothing done, nothing recorded
    out = services.check_for(head, event.id, resident.id, "out", now=at(120))
    assert out.outcome == "checked_out" and out.attendance.points == 20  # her hours are paid, to her

    attendance = Attendance.get(Attendance.event == event.id, Attendance.user == resident.id)
    assert (attendance.in_by_id, attendance.out_by_id, attendance.in_method) == (head.id, head.id, "manual")
    acts = list(ProxyAct.select().where(ProxyAct.resident == resident.id).order_by(ProxyAct.id))
    assert [(a.action, a.actor_name, a.via, a.event_id) for a in acts] == [
        ("event_signup", "孙楼长", "staff", event.id), ("event_check_in", "孙楼长", "staff", event.id),
        ("event_check_out", "孙楼长", "staff", event.id)]
    told = [n for n in Notification.select().where(Notification.user == resident.id) if "/on-behalf/acts/" in n.link]
    assert len(told) == 3 and all("孙楼长" in n.text and event.title in n.text for n in told)
    assert proxy.month_counts(head)[0] == 3  # on her building head's dashboard
    assert [a.id for a in proxy.acts_for_at_event(resident, event.id)] == [a.id for a in acts]

    # She gives her place back through him at another event: recorded too.
    other = make_event(title="反诈讲座")
    services.sign_up(resident, other.id, now=at(-600), actor=head)
    services.cancel_signup(resident, other.id, now=at(-500), actor=head)
    assert Signup.get(Signup.event == other.id, Signup.user == resident.id).status == "cancelled"
    assert ProxyAct.select().where(ProxyAct.event == other.id).count() == 2


def test_the_door_needs_a_signed_up_person_and_the_open_door_as_for_anyone(ctx):
    head, resident = person("building_head"), _volunteer(person("resident"))
    event = make_event()
    with pytest.raises(DomainError) as refused:
        services.check_for(head, event.id, resident.id, "in", now=at(0))
    assert refused.value.code == "not_signed_up"
    services.sign_up(resident, event.id, now=at(-600), actor=head)
    with pytest.raises(DomainError) as early:
        services.check_for(head, event.id, resident.id, "in", now=at(-600))
    assert early.value.status == 409
    assert not Attendance.select().where(Attendance.user == resident.id).exists()
    assert ProxyAct.select().where(ProxyAct.action == "event_check_in").count() == 0


def test_a_building_head_out_of_scope_is_refused_plainly_and_nothing_changes(ctx):
    head, outsider = person("building_head"), _outsider()
    event = make_event()
    services.sign_up(outsider, event.id, now=at(-600))  # he signed up himself
    scans_before = Scan.select().count()

    with pytest.raises(DomainError) as signup_refused:
        services.sign_up(outsider, make_event(title="反诈讲座").id, now=at(-600), actor=head)
    assert signup_refused.value.status == 403 and "may not act for this person" in signup_refused.value.message
    with pytest.raises(DomainError) as cancel_refused:
        services.cancel_signup(outsider, event.id, now=at(-500), actor=head)
    assert cancel_refused.value.status == 403
    with pytest.raises(DomainError) as door_refused:
        services.check_for(head, event.id, outsider.id, "in", now=at(0))
    assert door_refused.value.status == 403 and door_refused.value.code == "out_of_scope"
    assert "outside the places you look after" in door_refused.value.message

    assert Signup.get(Signup.event == event.id, Signup.user == outsider.id).status == "confirmed"
    assert Signup.select().where(Signup.user == outsider.id).count() == 1
    assert not Attendance.select().where(Attendance.user == outsider.id).exists()
    assert ProxyAct.select().count() == 0 and Scan.select().count() == scans_before
    # A resident runs no door: the event is not hers to manage.
    with pytest.raises(DomainError) as not_staff:
        services.check_for(person("resident"), event.id, outsider.id, "in", now=at(0))
    assert not_staff.value.status == 404


def _open_now(app, event_id):
    def move():
        now = utcnow().replace(microsecond=0)
        Event.update(starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=2)).where(
            Event.id == event_id).execute()
    in_app(app, move)


def test_on_her_page_the_building_head_signs_her_up_and_checks_her_in_and_she_reads_it(app):
    resident = in_app(app, lambda: _volunteer(person("resident")))
    event = in_app(app, lambda: make_event())
    head, head_auth = _client(app, "building_head")
    page = head.get(f"/on-behalf/people/{resident.id}").get_data(as_text=True)
    assert event.title in page and "Sign them up" in page

    signed = head_auth.post(f"/on-behalf/people/{resident.id}/events/{event.id}/signup",
                            token_from=f"/on-behalf/people/{resident.id}")
    assert signed.status_code == 302 and "/on-behalf/acts/" in signed.location
    slip = head.get(signed.location).get_data(as_text=True)
    assert "孙楼长" in slip and "张阿姨" in slip and event.title in slip and event.place in slip

    _open_now(app, event.id)
    checked = head_auth.post(f"/on-behalf/people/{resident.id}/events/{event.id}/check/in",
                             token_from=f"/on-behalf/people/{resident.id}")
    assert checked.status_code == 302 and "/on-behalf/acts/" in checked.location
    assert in_app(app, lambda: Attendance.get(Attendance.user == resident.id).state) == "in"
    assert "My acts on behalf this month: 2" in head.get("/staff/dashboard").get_data(as_text=True)

    her, _auth = _client(app, "resident")
    shown = her.get(f"/events/{event.id}").get_data(as_text=True)
    assert shown.count("done for you by 孙楼长") == 2
    assert her.get(signed.location).status_code == 200  # her receipt

    # Another building head's resident: his page does not exist to this one, and nothing changes.
    outsider = in_app(app, _outsider)
    refused = head_auth.post(f"/on-behalf/people/{outsider.id}/events/{event.id}/signup",
                             token_from=f"/on-behalf/people/{resident.id}")
    assert refused.status_code == 404
    assert in_app(app, lambda: Signup.select().where(Signup.user == outsider.id).count()) == 0


def test_through_the_api(app):
    resident = in_app(app, lambda: _volunteer(person("resident")))
    outsider = in_app(app, _outsider)
    event = in_app(app, lambda: make_event())
    head = ApiClient(app.test_client(), make_token(app, "building_head"))
    signed = head.post(f"/events/{event.id}/for/{resident.id}/signup")
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert body["signup"]["status"] == "confirmed" and body["act_id"] and body["receipt"].endswith(str(body["act_id"]))
    again = head.post(f"/events/{event.id}/for/{resident.id}/signup").get_json()
    assert again["act_id"] is None  # already signed up: nothing done, nothing recorded

    assert head.post(f"/events/{event.id}/for/{outsider.id}/signup").status_code == 404
    _open_now(app, event.id)
    refused = head.post(f"/events/{event.id}/for/{outsider.id}/check-in")
    assert refused.status_code == 403 and error_of(refused)["code"] == "out_of_scope"
    assert "outside the places you look after" in error_of(refused)["message"]
    checked = head.post(f"/events/{event.id}/for/{resident.id}/check-in").get_json()
    assert checked["attendance"]["state"] == "in" and checked["act_id"]
    assert in_app(app, lambda: Attendance.select().where(Attendance.user == outsider.id).count()) == 0
    assert in_app(app, lambda: ProxyAct.select().where(ProxyAct.resident == outsider.id).count()) == 0
