"""Events: sign-ups and the waitlist, QR check-in and check-out, hours, points and stars.

Times are passed to the services explicitly (`now=`), so each rule is tested at the moment it
is about: before check-in opens, in the current and the previous 30-second window, after the end.
"""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.audit import AuditLog
from marketplace.errors import DomainError
from marketplace.events import services, tokens
from marketplace.events.models import Attendance, Event, Scan, Signup
from marketplace.ledger.models import Transfer
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User
from tests.conftest import DEMO_PHONES, person
from tests.ledger_helpers import assert_books_balance, balance, run_at_once

BEIYUAN, JINXIU = "beiyuan_jiayuan", "jinxiu_yuan"


def community(code=BEIYUAN) -> Community:
    return Community.get(Community.code == code)


def staff(role="community_admin") -> User:
    return person(DEMO_PHONES[role])


def volunteers(count: int, community_code=BEIYUAN, start=0) -> list[User]:
    people = []
    for i in range(start, start + count):
        person = User.create(phone=f"1350000{i:04d}", display_name=f"志愿者{i}", password_hash="-")
        RoleGrant.create(user=person, role="volunteer", community=community(community_code))
        people.append(person)
    return people


START = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def make_event(hours=2, capacity=10, points=10, rule="per_hour", walk_ins=False, community_code=BEIYUAN,
               organiser=None, publish=True, **extra) -> Event:
    organiser = organiser or staff()
    fields = {"title": "夜间巡逻", "kind": "patrol", "place": "东门", "community_id": community(community_code).id,
              "starts_at": START, "ends_at": START + timedelta(hours=hours), "capacity": capacity,
              "points_rule": rule, "points": points, "allow_walk_ins": walk_ins, **extra}
    event = services.create_event(organiser, fields)
    return services.publish_event(organiser, event.id) if publish else event


def at(minutes: float) -> datetime:
    """A moment relative to the test events' start."""
    return START + timedelta(minutes=minutes)


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def kiosk(event, moment, action="in", steps_back=0) -> str:
    return tokens.kiosk_token(event.id, action, tokens.current_step(epoch(moment)) - steps_back)


def signed_up(event, *people):
    for volunteer in people:
        assert services.sign_up(volunteer, event.id).status == "confirmed"


# ---- organising and signing up -----------------------------------------------------------------


def test_a_draft_is_hidden_until_published_then_the_waitlist_moves_up(ctx):
    a, b, c, d = volunteers(4)
    event = make_event(capacity=2, publish=False)
    with pytest.raises(DomainError, match="not found") as error:
        services.sign_up(a, event.id)
    assert error.value.status == 404
    with pytest.raises(DomainError, match="not found"):
        services.get_event(a, event.id)
    services.publish_event(staff(), event.id)

    assert [services.sign_up(p, event.id).status for p in (a, b, c, d)] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert services.sign_up(a, event.id).status == "confirmed"  # again: harmless
    waiting = {p.id: services.waitlist_position(Signup.get(Signup.user == p.id)) for p in (c, d)}
    assert waiting == {c.id: 1, d.id: 2}

    promoted = services.cancel_signup(a, event.id)
    assert [s.user_id for s in promoted] == [c.id]
    assert Signup.get(Signup.user == c.id).status == "confirmed" and Event.get_by_id(event.id).taken == 2

    fields = {"title": event.title, "kind": event.kind, "place": event.place, "community_id": event.community_id,
              "starts_at": event.starts_at, "ends_at": event.ends_at, "points_rule": "per_hour", "points": 10}
    services.update_event(staff(), event.id, {**fields, "capacity": 3})
    assert Signup.get(Signup.user == d.id).status == "confirmed" and Event.get_by_id(event.id).taken == 3
    with pytest.raises(DomainError, match="3 people already have a place") as error:
        services.update_event(staff(), event.id, {**fields, "capacity": 2})
    assert error.value.status == 409 and Event.get_by_id(event.id).capacity == 3

    # Giving a place back and signing up again puts one at the end of the line.
    services.cancel_signup(b, event.id)
    e = volunteers(1, start=10)[0]
    assert services.sign_up(e, event.id).status == "confirmed"
    assert services.sign_up(b, event.id).status == "waitlisted"
    with pytest.raises(DomainError, match="Only volunteers can sign up"):
        services.sign_up(person(DEMO_PHONES["resident"]), event.id)


def test_racing_sign_ups_never_overbook(ctx, app):
    event = make_event(capacity=5)
    people = volunteers(30)
    results = run_at_once(app, 30, lambda i: services.sign_up(people[i], event.id).status)
    assert sorted(results) == ["confirmed"] * 5 + ["waitlisted"] * 25, [r for r in results if not isinstance(r, str)][:3]
    assert Event.get_by_id(event.id).taken == 5


# ---- the kiosk's rotating QR -------------------------------------------------------------------


def test_kiosk_token_of_this_and_the_previous_window_accepted_older_and_forged_refused(ctx):
    event = make_event()
    now_, prev, old, future, forged = volunteers(5)
    signed_up(event, now_, prev, old, future, forged)
    moment = at(5)

    assert services.check_with_kiosk(now_, kiosk(event, moment), now=moment).outcome == "checked_in"
    assert services.check_with_kiosk(prev, kiosk(event, moment, steps_back=1), now=moment).outcome == "checked_in"
    with pytest.raises(DomainError, match="expired") as error:
        services.check_with_kiosk(old, kiosk(event, moment, steps_back=2), now=moment)
    assert error.value.status == 410
    with pytest.raises(DomainError, match="expired"):  # made by a host whose clock is a minute ahead
        services.check_with_kiosk(future, kiosk(event, moment, steps_back=-2), now=moment)
    good = kiosk(event, moment)
    for bad in (good[:-1] + ("A" if good[-1] != "A" else "B"), good.replace(f"{event.id}.", f"{event.id + 1}.", 1),
                "nonsense", ""):
        with pytest.raises(DomainError, match="not a check-in code of ours") as error:
            services.check_with_kiosk(forged, bad, now=moment)
        assert error.value.status == 400
    assert Attendance.select().where(Attendance.event == event.id).count() == 2
    refused = Scan.select().where(Scan.outcome == "refused", Scan.method == "kiosk")
    assert refused.count() == 6 and {s.user_id for s in refused} == {old.id, future.id, forged.id}


def test_kiosk_refuses_outside_the_check_in_period(ctx):
    event = make_event(hours=2)
    early, late, waiting = volunteers(3)
    signed_up(event, early, late)
    opens = at(-30)  # 30 minutes before the start by default
    with pytest.raises(DomainError, match="Check-in opens at"):
        services.check_with_kiosk(early, kiosk(event, at(-31)), now=at(-31))
    assert services.check_with_kiosk(early, kiosk(event, opens), now=opens).outcome == "checked_in"
    with pytest.raises(DomainError, match="check-in is closed"):
        services.check_with_kiosk(late, kiosk(event, at(120)), now=at(120))
    # The kiosk itself shows no code then.
    closed = services.kiosk_code(staff(), event.id, "in", now=at(-45))
    assert not closed.open and not closed.token and "Check-in opens at" in closed.message
    open_ = services.kiosk_code(staff(), event.id, None, now=at(10))
    assert open_.open and open_.mode == "in" and len(open_.code) == 6 and 30 < open_.seconds_left <= 60
    assert services.kiosk_code(staff(), event.id, None, now=at(100)).mode == "out"  # the last half hour
    # A volunteer who is not signed up is refused (walk-ins are off), and so is one still waiting.
    with pytest.raises(DomainError, match="You have not signed up for this event"):
        services.check_with_kiosk(waiting, kiosk(event, at(5)), now=at(5))


def test_check_in_then_out_gives_hours_and_points_once(ctx):
    event = make_event(hours=3, points=10)
    volunteer = volunteers(1)[0]
    signed_up(event, volunteer)
    start_balance = balance(volunteer)

    checked_in = services.check_with_kiosk(volunteer, kiosk(event, at(2)), now=at(2))
    assert checked_in.message == f"Checked in at {services._t(at(2))}. Thank you for helping!"
    again = services.check_with_kiosk(volunteer, kiosk(event, at(3)), now=at(3))
    assert again.outcome == "already" and again.message == f"Already checked in at {services._t(at(2))}."

    out = services.check_with_kiosk(volunteer, kiosk(event, at(92), "out"), now=at(92))
    attendance = Attendance.get(Attendance.user == volunteer.id)
    assert out.outcome == "checked_out" and attendance.state == "out"
    assert attendance.minutes == 90 and attendance.points == 15 and "1.5 hours, 15 points" in out.message
    assert balance(volunteer) == start_balance + 15
    transfer = Transfer.get(Transfer.idempotency_key == f"attendance:{attendance.id}:pay")
    assert attendance.transfer_id == transfer.id and transfer.kind == "earn_event" and transfer.amount == 15

    for moment in (at(95), at(100)):
        repeat = services.check_with_kiosk(volunteer, kiosk(event, moment, "out"), now=moment)
        assert repeat.outcome == "already" and "Already checked out at" in repeat.message
    assert balance(volunteer) == start_balance + 15
    assert Transfer.select().where(Transfer.ref == f"event:{event.id}").count() == 1
    assert_books_balance()


def test_hours_are_clipped_to_the_event_window(ctx):
    hourly = make_event(hours=2, points=12)
    fixed = make_event(hours=2, points=30, rule="fixed", title="跳蚤市场")
    early_bird, brief = volunteers(2)
    signed_up(hourly, early_bird, brief)
    signed_up(fixed, brief)

    services.check_with_kiosk(early_bird, kiosk(hourly, at(-30)), now=at(-30))  # came half an hour early
    services.check_with_kiosk(early_bird, kiosk(hourly, at(150), "out"), now=at(150))  # left half an hour late
    first = Attendance.get(Attendance.user == early_bird.id)
    assert first.minutes == 120 and first.points == 24

    services.check_with_kiosk(brief, kiosk(fixed, at(30)), now=at(30))
    services.check_with_kiosk(brief, kiosk(fixed, at(40), "out"), now=at(40))
    assert Attendance.get(Attendance.event == fixed.id).points == 30  # fixed: for taking part

    assert services.clipped_minutes(hourly, at(-60), at(-1)) == 0
    assert services.points_for(hourly, 0) == 0 and services.points_for(hourly, 59) == 11
    assert_books_balance()


def test_the_typed_code_and_the_poster_work_only_while_fresh_and_during_the_event(ctx):
    event = make_event(hours=2)
    typist, poster_fan = volunteers(2)
    signed_up(event, typist, poster_fan)
    moment = at(10)
    code = tokens.kiosk_code(event.id, "in", tokens.current_step(epoch(moment)) - 1)
    with pytest.raises(DomainError, match="wrong or has expired"):
        services.check_with_code(typist, event.id, tokens.kiosk_code(event.id, "in", tokens.current_step(epoch(moment)) - 3),
                                 now=moment)
    with pytest.raises(DomainError, match="Please type the 6 digits"):
        services.check_with_code(typist, event.id, "12", now=moment)
    assert services.check_with_code(typist, event.id, f"{code[:3]} {code[3:]}", now=moment).outcome == "checked_in"

    poster = tokens.poster_token(event.id, event.poster_version)
    with pytest.raises(DomainError, match="Check-in opens at"):
        services.check_with_poster(poster_fan, poster, "in", now=at(-60))
    assert services.check_with_poster(poster_fan, poster, "in", now=at(5)).outcome == "checked_in"
    services.reissue_poster(staff(), event.id)
    with pytest.raises(DomainError, match="poster is no longer valid"):
        services.check_with_poster(poster_fan, poster, "out", now=at(60))
    fresh = tokens.poster_token(event.id, Event.get_by_id(event.id).poster_version)
    assert services.check_with_poster(poster_fan, fresh, "out", now=at(60)).outcome == "checked_out"
    with pytest.raises(DomainError, match="Check-out closed at"):
        services.check_with_poster(typist, fresh, "out", now=at(120 + 61))


def test_walk_ins_only_where_the_event_allows_them(ctx):
    closed, open_ = make_event(), make_event(walk_ins=True, title="服务日")
    walker = volunteers(1)[0]
    with pytest.raises(DomainError, match="You have not signed up") as error:
        services.check_with_kiosk(walker, kiosk(closed, at(5)), now=at(5))
    assert error.value.status == 403
    result = services.check_with_kiosk(walker, kiosk(open_, at(5)), now=at(5))
    assert result.outcome == "checked_in" and result.attendance.signup_id is None
    with pytest.raises(DomainError, match="Only volunteers can check in"):
        services.check_with_kiosk(person(DEMO_PHONES["resident"]), kiosk(open_, at(5)), now=at(5))


# ---- badges and the offline staff scanner ---------------------------------------------------


def test_badge_check_in_and_revocation(ctx):
    event = make_event()
    volunteer = volunteers(1)[0]
    signed_up(event, volunteer)
    organiser = staff()
    old_badge = services.badge_token_of(volunteer)
    typed = tokens.format_badge(old_badge).lower().replace("-", " ")  # as someone types it from a phone screen
    result = services.check_with_badge(organiser, event.id, typed, "in", now=at(1))
    assert result.outcome == "checked_in" and result.message == f"志愿者0 checked in at {services._t(at(1))}."
    assert Attendance.get(Attendance.user == volunteer.id).in_by_id == organiser.id

    services.replace_badge(organiser, volunteer.id)
    with pytest.raises(DomainError, match="was replaced on .* and no longer works") as error:
        services.check_with_badge(organiser, event.id, f"https://x/events/b/{old_badge}", "out", now=at(60))
    assert error.value.status == 403
    new_badge = services.badge_token_of(volunteer)
    assert new_badge != old_badge
    assert services.check_with_badge(organiser, event.id, new_badge, "out", now=at(60)).outcome == "checked_out"
    assert AuditLog.select().where(AuditLog.action == "events.badge.replaced").count() == 1

    forged = new_badge[:-1] + ("2" if new_badge[-1] != "2" else "3")
    for raw, message in ((forged, "This badge is not valid"), ("hello", "not a volunteer badge"),
                         (f"http://x/events/k/{kiosk(event, at(60))}", "the event's own check-in code")):
        with pytest.raises(DomainError, match=message):
            services.check_with_badge(organiser, event.id, raw, "in", now=at(60))


def test_an_offline_batch_sent_twice_is_recorded_once_with_the_scan_times(ctx):
    event = make_event(hours=3)
    a, b = volunteers(2)
    signed_up(event, a, b)
    organiser = staff()
    slow = timedelta(minutes=5)  # the scanning phone's clock is 5 minutes slow

    def device(moment):
        return int(epoch(moment - slow) * 1000)

    batch = [
        {"nonce": "n-a-in-0001", "code": services.badge_token_of(a), "action": "in", "scanned_at": device(at(1))},
        {"nonce": "n-b-in-0002", "code": services.badge_token_of(b), "action": "in", "scanned_at": device(at(2))},
        {"nonce": "n-a-out-003", "code": services.badge_token_of(a), "action": "out", "scanned_at": device(at(62))},
    ]
    # The network came back 40 minutes after the last scan.
    first = services.record_scans(organiser, event.id, batch, device(at(102)), now=at(102))
    assert [r["outcome"] for r in first] == ["checked_in", "checked_in", "checked_out"]
    again = services.record_scans(organiser, event.id, batch, device(at(110)), now=at(110))
    assert [r["outcome"] for r in again] == ["checked_in", "checked_in", "checked_out"]
    assert all(r["replay"] for r in again) and [r["message"] for r in again] == [r["message"] for r in first]

    attendances = {x.user_id: x for x in Attendance.select().where(Attendance.event == event.id)}
    assert attendances[a.id].checked_in_at == at(1) and attendances[b.id].checked_in_at == at(2)
    assert attendances[a.id].checked_out_at == at(62) and attendances[a.id].minutes == 61
    assert Scan.select().where(Scan.nonce.in_([s["nonce"] for s in batch])).count() == 3
    assert Transfer.select().where(Transfer.ref == f"event:{event.id}").count() == 1
    assert_books_balance()


def test_racing_resends_of_one_offline_scan_record_it_once(ctx, app):
    event = make_event()
    volunteer = volunteers(1)[0]
    signed_up(event, volunteer)
    organiser = staff()
    scan = {"nonce": "same-nonce-42", "code": services.badge_token_of(volunteer), "action": "in",
            "scanned_at": int(epoch(at(3)) * 1000)}
    results = run_at_once(app, 10, lambda i: services.record_scans(organiser, event.id, [scan], scan["scanned_at"],
                                                                   now=at(3))[0]["outcome"])
    assert results == ["checked_in"] * 10, results
    assert Scan.select().where(Scan.nonce == "same-nonce-42").count() == 1
    assert Attendance.select().where(Attendance.event == event.id).count() == 1


# ---- racing at the door ----------------------------------------------------------------------


def test_a_hundred_volunteers_checking_in_at_once_are_all_recorded(ctx, app):
    event = make_event(capacity=100)
    people = volunteers(100)
    signed_up(event, *people)
    moment = at(1)
    token = kiosk(event, moment)
    results = run_at_once(app, 100, lambda i: services.check_with_kiosk(people[i], token, now=moment).outcome)
    assert results == ["checked_in"] * 100, [r for r in results if r != "checked_in"][:3]
    assert Attendance.select().where(Attendance.event == event.id).count() == 100


def test_one_volunteers_simultaneous_double_scans_are_recorded_once_and_paid_once(ctx, app):
    event = make_event()
    volunteer = volunteers(1)[0]
    signed_up(event, volunteer)
    before = balance(volunteer)
    results = run_at_once(app, 12, lambda i: services.check_with_kiosk(volunteer, kiosk(event, at(1)), now=at(1)).outcome)
    assert sorted(results) == ["already"] * 11 + ["checked_in"], results
    results = run_at_once(app, 12, lambda i: services.check_with_kiosk(
        volunteer, kiosk(event, at(61), "out"), now=at(61)).outcome)
    assert sorted(results) == ["already"] * 11 + ["checked_out"], results
    assert Attendance.select().where(Attendance.event == event.id).count() == 1
    assert balance(volunteer) == before + 10
    assert_books_balance()


# ---- the end of an event, staff by hand -------------------------------------------------------


def test_whoever_is_still_checked_in_at_the_end_is_flagged_and_paid_after_review(ctx):
    event = make_event(hours=2, points=10)
    stayer, forgetful = volunteers(2)
    signed_up(event, stayer, forgetful)
    for volunteer in (stayer, forgetful):
        services.check_with_kiosk(volunteer, kiosk(event, at(0)), now=at(0))
    grace = 60
    assert services.close_finished(now=at(120 + grace)) == 0  # still inside the check-out grace period
    assert services.close_finished(now=at(120 + grace + 1)) == 2
    flagged = Attendance.get(Attendance.user == forgetful.id)
    assert flagged.state == "review" and flagged.checked_out_at == event.ends_at and flagged.transfer_id is None
    before = balance(forgetful)
    record = services.volunteer_record(forgetful)
    assert record.minutes == 0 and len(record.pending) == 1

    with pytest.raises(DomainError, match="Please give a reason"):
        services.check_out_by_hand(staff(), flagged.id, at(60), " ", now=at(200))
    result = services.check_out_by_hand(staff(), flagged.id, at(60), "Left at the break, told the team leader",
                                      now=at(200))
    assert result.attendance.minutes == 60 and result.attendance.points == 10 and balance(forgetful) == before + 10
    entry = AuditLog.get(AuditLog.action == "events.attendance.checked_out_by_hand")
    assert entry.actor_id == staff().id and "Left at the break" in entry.details
    with pytest.raises(DomainError, match="already checked out"):
        services.check_out_by_hand(staff(), flagged.id, at(70), "again", now=at(200))
    assert balance(forgetful) == before + 10
    assert_books_balance()


def test_staff_check_in_by_hand_needs_a_reason_and_is_audited(ctx):
    event = make_event()
    walker = volunteers(1)[0]  # not signed up: staff may still let them in
    with pytest.raises(DomainError, match="Please give a reason"):
        services.check_in_by_hand(staff(), event.id, walker.phone, at(5), "", now=at(10))
    with pytest.raises(DomainError, match="No one has this mobile number"):
        services.check_in_by_hand(staff(), event.id, "13512345678", at(5), "phone flat", now=at(10))
    result = services.check_in_by_hand(staff(), event.id, walker.phone, at(5), "phone flat", now=at(10))
    assert result.attendance.checked_in_at == at(5) and result.attendance.in_method == "manual"
    assert AuditLog.select().where(AuditLog.action == "events.attendance.checked_in_by_hand").count() == 1


# ---- stars ------------------------------------------------------------------------------------


def test_star_levels_follow_the_configured_hour_thresholds(ctx, app):
    assert [services.star_level(h) for h in (0, 99.9, 100, 299, 300, 600, 999, 1000, 1499, 1500, 9000)] == \
        [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5]
    app.config["VOLUNTEER_STAR_HOURS"] = (10, 20, 30, 40, 50)
    volunteer = volunteers(1)[0]
    events = [make_event(hours=12, title=f"服务日 {i}") for i in range(2)]
    for event in events:
        signed_up(event, volunteer)
        services.check_with_kiosk(volunteer, kiosk(event, at(0)), now=at(0))
        services.check_with_kiosk(volunteer, kiosk(event, at(11 * 60), "out"), now=at(11 * 60))
    record = services.volunteer_record(volunteer)
    assert record.hours == 22 and record.stars == 2 and record.next_stars_at == 30 and record.hours_to_next == 8
    assert len(record.attended) == 2


# ---- refusals and scope ------------------------------------------------------------------------


def snapshot():
    return (Event.select().count(), Signup.select().count(), Attendance.select().count(),
            Transfer.select().count(), [(e.id, e.taken, e.capacity, e.status) for e in Event.select().order_by(Event.id)])


def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(ctx):
    event = make_event(capacity=1)
    first, second = volunteers(2)
    signed_up(event, first)
    services.sign_up(second, event.id)  # waiting list
    organiser = staff()
    good = {"title": "巡逻", "kind": "patrol", "place": "东门", "community_id": community().id, "starts_at": START,
            "ends_at": START + timedelta(hours=2), "capacity": 5, "points_rule": "per_hour", "points": 10}
    before = snapshot()
    refusals = [
        (lambda: services.create_event(organiser, {**good, "ends_at": START}), "must end after it starts", "ends_at"),
        (lambda: services.create_event(organiser, {**good, "ends_at": START + timedelta(hours=30)}), "at most 24 hours", "ends_at"),
        (lambda: services.create_event(organiser, {**good, "starts_at": utcnow() - timedelta(hours=1), "ends_at": utcnow() + timedelta(hours=1)}), "cannot be in the past", "starts_at"),
        (lambda: services.create_event(organiser, {**good, "capacity": 0}), "number of places must be 1 to", "capacity"),
        (lambda: services.create_event(organiser, {**good, "points": 5000}), "points must be 0 to 1000", "points"),
        (lambda: services.create_event(organiser, {**good, "kind": "party"}), "what kind of event", "kind"),
        (lambda: services.create_event(organiser, {**good, "title": "  "}), "give the event a title", "title"),
        (lambda: services.create_event(organiser, {**good, "community_id": community(JINXIU).id}), "one of your communities", "community_id"),
        (lambda: services.create_event(first, good), "Only community staff", None),
        (lambda: services.check_with_kiosk(second, kiosk(event, at(5)), now=at(5)), "on the waiting list", None),
        (lambda: services.check_with_kiosk(first, kiosk(event, at(5), "out"), now=at(5)), "have not checked in", None),
        (lambda: services.check_with_code(first, event.id, "12345", now=at(5)), "6 digits", "code"),
        (lambda: services.record_scans(organiser, event.id, "not a list", 0, now=at(5)), "No scans were sent", None),
        (lambda: services.record_scans(organiser, event.id, [{}] * 201, 0, now=at(5)), "at most 200 scans", None),
        (lambda: services.cancel_event(organiser, event.id, ""), "Please give a reason", "reason"),
        (lambda: services.cancel_signup(volunteers(1, start=50)[0], event.id), "not signed up", None),
    ]
    for attempt, message, field in refusals:
        with pytest.raises(DomainError, match=message) as error:
            attempt()
        assert 400 <= error.value.status < 500 and error.value.field == field, message
        assert snapshot() == before, message
    # A batch of broken scans answers each one and records none.
    answers = services.record_scans(organiser, event.id, [
        {"nonce": "x"}, {"nonce": "nonce-ok-1", "code": "", "action": "in", "scanned_at": 1},
        {"nonce": "nonce-ok-2", "code": "7-AAAAAAAAAA", "action": "sideways", "scanned_at": int(epoch(at(5)) * 1000)},
        {"nonce": "nonce-ok-3", "code": "7-AAAAAAAAAA", "action": "in", "scanned_at": "yesterday"},
        {"nonce": "nonce-ok-4", "code": services.badge_token_of(first), "action": "in", "scanned_at": int(epoch(at(-25 * 60)) * 1000)},
        "garbage",
    ], int(epoch(at(5)) * 1000), now=at(5))
    assert [a["outcome"] for a in answers] == ["refused"] * 6
    assert [a["message"] for a in answers][:5] == [
        "This scan has no valid nonce; please scan again.", "This scan has no code.",
        "Please choose check-in or check-out.", "This scan has no time.",
        "This scan is more than 24 hours old and was not recorded. Please enter it by hand."]
    assert snapshot() == before


def test_events_out_of_scope_are_not_found(ctx):
    elsewhere = make_event(community_code=JINXIU, organiser=staff("admin"))
    draft = make_event(community_code=JINXIU, organiser=staff("admin"), publish=False)
    here = make_event()
    for role in ("community_admin", "grid_admin", "building_head"):
        helper = staff(role)
        assert services.get_managed(helper, here.id).id == here.id  # all of 北苑家园's staff help at its events
        for call in (lambda p=helper: services.get_managed(p, elsewhere.id),
                     lambda p=helper: services.kiosk_code(p, elsewhere.id, "in", now=at(5)),
                     lambda p=helper: services.check_with_badge(p, elsewhere.id, "1-AAAAAAAAAA", "in", now=at(5)),
                     lambda p=helper: services.reissue_poster(p, elsewhere.id),
                     lambda p=helper: services.get_event(p, draft.id),
                     lambda p=helper: services.publish_event(p, draft.id)):
            with pytest.raises(DomainError, match="not found") as error:
                call()
            assert error.value.status == 404
    assert services.get_managed(staff("street_officer"), elsewhere.id).id == elsewhere.id
    assert services.get_event(person(DEMO_PHONES["volunteer"]), elsewhere.id).id == elsewhere.id  # published: public
