"""Care pairs (issue 16, item 7): visits due on their days, confirmed with the resident's code
once, a missed visit told to the building head the next working day once, the register seen only
by staff in scope (every look audited), and `ledger verify` over care pay."""

from datetime import date, datetime, timedelta

import pytest

from marketplace.audit import AuditLog
from marketplace.care import services as care
from marketplace.care.models import VISIT_MINUTES, VISIT_POINTS, CarePair, CareVisit, KeyGroupMember, due_dates
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events.records import volunteer_record
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Transfer
from marketplace.ledger.verify import verify_ledger
from marketplace.notifications.models import Notification
from marketplace.places.models import Building
from marketplace.users.models import RoleGrant, User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import csrf_token, in_app, person
from tests.ledger_helpers import run_at_once

EN = {"Accept-Language": "en"}
FRIDAY = date(2026, 3, 6)  # an ordinary week: Saturday 7th, Sunday 8th, Monday 9th a working day


def _utc(day: date, hour: int) -> datetime:
    """A local (UTC+8) hour of a day, as the naive UTC the services take."""
    return datetime(day.year, day.month, day.day, hour) - timedelta(hours=8)


def _member(group="elderly_alone"):
    return care.add_member(person("building_head"), person("resident").id, group, "no lift to the sixth floor")


def _pair(now=None, starts_on=None, frequency="weekly", weekday=None, points=10):
    member = KeyGroupMember.get_or_none(KeyGroupMember.resident == person("resident").id) or _member()
    starts_on = starts_on or care.local_day(now)
    return care.create_pair(person("building_head"), member.id, person("volunteer").id, frequency, starts_on,
                            weekday, 60, points, now=now)


def _today_visit(pair) -> CareVisit:
    return CareVisit.get(CareVisit.pair == pair.id, CareVisit.due_on == care.local_day())


# ---- when visits fall due ---------------------------------------------------------------------------


def test_visits_fall_due_weekly_fortnightly_and_monthly_on_their_days():
    # Weekly on Wednesdays from Friday 6 March: the first Wednesday after, then every 7 days.
    assert due_dates("weekly", FRIDAY, 2, FRIDAY, date(2026, 3, 31)) == [
        date(2026, 3, 11), date(2026, 3, 18), date(2026, 3, 25)]
    assert due_dates("fortnightly", FRIDAY, None, FRIDAY, date(2026, 4, 10)) == [
        date(2026, 3, 6), date(2026, 3, 20), date(2026, 4, 3)]
    # Fortnightly, asked from a later day: still on the pair's own rhythm.
    assert due_dates("fortnightly", FRIDAY, None, date(2026, 3, 21), date(2026, 4, 20)) == [
        date(2026, 4, 3), date(2026, 4, 17)]
    # Monthly on the 31st: the last day of shorter months.
    assert due_dates("monthly", date(2026, 1, 31), None, date(2026, 1, 1), date(2026, 5, 31)) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
    # Monthly on a weekday: the first Monday on or after the start's day of the month.
    assert due_dates("monthly", date(2026, 3, 2), 0, date(2026, 3, 1), date(2026, 5, 31)) == [
        date(2026, 3, 2), date(2026, 4, 6), date(2026, 5, 4)]
    # A holiday keeps its visit: National Day (1 October) is a visit day like any other.
    assert date(2026, 10, 1) in due_dates("weekly", date(2026, 9, 24), None, date(2026, 9, 24), date(2026, 10, 8))


def test_a_new_pair_has_its_visits_on_the_right_days_and_the_volunteer_is_told(ctx):
    now = _utc(FRIDAY, 10)
    pair = _pair(now=now, weekday=2)
    days = [v.due_on for v in CareVisit.select().where(CareVisit.pair == pair.id).order_by(CareVisit.due_on)]
    assert days == due_dates("weekly", FRIDAY, 2, FRIDAY, FRIDAY + timedelta(days=care.HORIZON_DAYS))
    assert days[0] == date(2026, 3, 11) and len(days) == 8
    assert all(len(v.onsite_code) == 6 for v in CareVisit.select().where(CareVisit.pair == pair.id))
    told = Notification.select().where(Notification.user == person("volunteer").id, Notification.link == "/care/mine")
    assert told.count() == 1
    # The job making visits ahead again makes none twice.
    care.extend_visits(now)
    assert CareVisit.select().where(CareVisit.pair == pair.id).count() == 8


def test_bad_pair_input_is_refused_with_a_clear_message_and_changes_nothing(ctx):
    member = _member()
    staff, volunteer = person("building_head"), person("volunteer")
    today = care.local_day()
    cases = [
        (dict(frequency="daily"), "how often"),
        (dict(starts_on=today - timedelta(days=1)), "start day"),
        (dict(weekday="9"), "day of the week"),
        (dict(minutes="0"), "15 to 480"),
        (dict(points="-5"), "0 to 100"),
        (dict(volunteer_id=person("partner_staff").id), "volunteer of your community"),
    ]
    for change, words in cases:
        args = dict(member_id=member.id, volunteer_id=volunteer.id, frequency="weekly", starts_on=today, weekday=None,
                    minutes=60, points=10) | change
        with pytest.raises(DomainError) as refused:
            care.create_pair(staff, **args)
        assert words in refused.value.message
    assert CarePair.select().count() == 0 and CareVisit.select().count() == 0


# ---- confirming ---------------------------------------------------------------------------------------


def test_the_right_code_credits_hours_and_points_once(ctx):
    pair = _pair()
    visit = _today_visit(pair)
    volunteer = person("volunteer")
    before = ledger.user_account(volunteer).balance
    minutes_before = volunteer_record(volunteer).minutes
    confirmed = care.confirm_with_code(volunteer, visit.id, "  " + "".join(chr(0xFF10 + int(d)) for d in visit.onsite_code))
    assert (confirmed.state, confirmed.method, confirmed.points, confirmed.minutes) == ("confirmed", "code", 10, 60)
    assert ledger.user_account(volunteer).balance == before + 10
    record = volunteer_record(volunteer)
    assert record.minutes == minutes_before + 60 and record.care_minutes == 60
    with pytest.raises(DomainError) as again:
        care.confirm_with_code(volunteer, visit.id, visit.onsite_code)
    assert again.value.code == "visit_already_confirmed"
    assert ledger.user_account(volunteer).balance == before + 10
    assert Transfer.select().where(Transfer.kind == "earn_care").count() == 1
    assert verify_ledger().ok


def test_a_wrong_code_changes_nothing_and_says_so(ctx):
    pair = _pair()
    visit = _today_visit(pair)
    volunteer = person("volunteer")
    before = ledger.user_account(volunteer).balance
    wrong = "000000" if visit.onsite_code != "000000" else "111111"
    with pytest.raises(DomainError) as refused:
        care.confirm_with_code(volunteer, visit.id, wrong)
    assert refused.value.code == "wrong_code" and "not right. 4 tries left" in refused.value.message
    fresh = CareVisit.get_by_id(visit.id)
    assert fresh.state == "due" and fresh.transfer_id is None and fresh.code_failures == 1
    assert ledger.user_account(volunteer).balance == before
    # Another volunteer cannot confirm it, even with the right code.
    with pytest.raises(DomainError) as other:
        care.confirm_with_code(person("resident"), visit.id, visit.onsite_code)
    assert other.value.status == 404
    # A visit of another day: not before it.
    later = CareVisit.select().where(CareVisit.pair == pair.id, CareVisit.due_on > care.local_day()).first()
    with pytest.raises(DomainError) as early:
        care.confirm_with_code(volunteer, later.id, later.onsite_code)
    assert early.value.code == "visit_not_due"
    assert Transfer.select().where(Transfer.kind == "earn_care").count() == 0


def test_two_racing_confirmations_pay_once(app):
    """The volunteer's code and the building head's phone record, twice each, at the same moment."""
    visit_id, code, volunteer_id, before = in_app(app, _racing_setup)

    def confirm(i):
        if i % 2:
            return care.confirm_with_code(User.get_by_id(volunteer_id), visit_id, code)
        return care.confirm_by_phone(person("building_head"), visit_id, "she says he came")

    results = run_at_once(app, 4, confirm)
    won = [r for r in results if isinstance(r, CareVisit)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 3, results
    assert all(r.code == "visit_already_confirmed" for r in lost)

    def check():
        assert Transfer.select().where(Transfer.kind == "earn_care").count() == 1
        assert ledger.user_account(User.get_by_id(volunteer_id)).balance == before + 10
        report = verify_ledger()
        assert report.ok, report.faults

    in_app(app, check)


def _racing_setup():
    visit = _today_visit(_pair())
    volunteer = person("volunteer")
    return visit.id, visit.onsite_code, volunteer.id, ledger.user_account(volunteer).balance


def test_the_building_head_records_a_visit_after_a_phone_call_audited(ctx):
    pair = _pair()
    visit = _today_visit(pair)
    with pytest.raises(DomainError) as no_note:
        care.confirm_by_phone(person("building_head"), visit.id, "  ")
    assert "what the resident said" in no_note.value.message
    confirmed = care.confirm_by_phone(person("building_head"), visit.id, "张阿姨 says he came at ten")
    assert (confirmed.method, confirmed.confirmed_by_id, confirmed.note) == (
        "phone", person("building_head").id, "张阿姨 says he came at ten")
    entry = AuditLog.select().where(AuditLog.action == "care.visit.confirmed_by_phone").get()
    assert entry.actor_id == person("building_head").id and entry.object_id == visit.id
    # Recorded by hand: honour hours, as staff-entered hours at an event.
    record = volunteer_record(person("volunteer"))
    assert record.care_minutes == 60 and record.honour_minutes >= 60


# ---- a missed visit -----------------------------------------------------------------------------------


def _missed_setup():
    pair = _pair(now=_utc(FRIDAY, 9), starts_on=FRIDAY)  # its first visit is on Friday
    return CareVisit.get(CareVisit.pair == pair.id, CareVisit.due_on == FRIDAY).id


def _told(visit_id) -> list:
    return list(Notification.select().where(Notification.link == f"/care/register#visit-{visit_id}"))


def test_a_missed_visit_tells_the_building_head_the_next_working_day_once(ctx):
    visit_id = _missed_setup()
    assert care.tell_missed(_utc(FRIDAY, 23)) == 0  # still its day
    assert care.tell_missed(_utc(FRIDAY + timedelta(days=1), 12)) == 0  # Saturday: not a working day
    assert care.tell_missed(_utc(FRIDAY + timedelta(days=2), 12)) == 0  # Sunday
    assert care.tell_missed(_utc(FRIDAY + timedelta(days=3), 8)) == 1  # Monday, the next working day
    told = _told(visit_id)
    assert [n.user_id for n in told] == [person("building_head").id]
    assert "2026-03-06" in told[0].text and "张阿姨" in told[0].text and told[0].important  # in his language
    assert care.tell_missed(_utc(FRIDAY + timedelta(days=3), 9)) == 0
    assert care.tell_missed(_utc(FRIDAY + timedelta(days=4), 9)) == 0
    assert len(_told(visit_id)) == 1
    # The building head may still record it after calling the resident.
    assert care.confirm_by_phone(person("building_head"), visit_id, "she says he came", now=_utc(
        FRIDAY + timedelta(days=3), 10)).state == "confirmed"


def test_a_missed_visit_is_told_once_when_the_job_runs_twice_at_once(app):
    visit_id = in_app(app, _missed_setup)
    monday = _utc(FRIDAY + timedelta(days=3), 9)
    results = run_at_once(app, 2, lambda i: care.keep_care(monday))
    assert sorted(results) == [0, 1], results
    assert in_app(app, lambda: len(_told(visit_id))) == 1


def test_the_periodic_job_is_declared_and_safe_in_its_period():
    from marketplace.ops import periodic

    job = next(j for j in periodic.JOBS if j.name == "care")
    assert job.run is periodic.keep_care and "care" in periodic.PERIODIC_TASKS


# ---- the register: scope and audit ------------------------------------------------------------------


def _register_views() -> int:
    return AuditLog.select().where(AuditLog.action == care.REGISTER_VIEWED).count()


def test_the_register_is_seen_only_by_staff_in_scope_and_every_look_is_audited(app, client, auth):
    in_app(app, _member)
    auth.login_as("building_head")
    for look in (1, 2):
        page = client.get("/care/register", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "张阿姨" in page.get_data(as_text=True) and "no lift to the sixth floor" in page.get_data(as_text=True)
        assert in_app(app, _register_views) == look
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for role in ("street_officer", "volunteer", "resident", "partner_staff"):
        auth.login_as(role)
        assert client.get("/care/register").status_code == 403, role
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert in_app(app, _register_views) == 2

    # A building head of another building sees the register of her own building only.
    def other_head():
        user = User.create(phone="13800000099", display_name="吴楼长", password_hash=person("admin").password_hash)
        RoleGrant.create(user=user, role="building_head", building=Building.get(Building.code == "bj_b3"))
        return user

    other = in_app(app, other_head)
    auth.login("13800000099")
    page = client.get("/care/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "no lift to the sixth floor" not in page and "No one is on the register" in page
    assert in_app(app, lambda: AuditLog.select().where(AuditLog.action == care.REGISTER_VIEWED,
                                                       AuditLog.actor == other.id).count()) == 1
    # Nor can she add a resident of another building, pair them, or record their visits.
    with app.test_request_context():
        db.connect(reuse_if_open=True)
        with pytest.raises(DomainError):
            care.add_member(other, person("resident").id, "disability")
        member = KeyGroupMember.get()
        with pytest.raises(DomainError) as refused:
            care.create_pair(other, member.id, person("volunteer").id, "weekly", care.local_day())
        assert refused.value.status == 404


def test_adding_a_resident_twice_to_one_group_is_refused(ctx):
    _member()
    with pytest.raises(DomainError) as twice:
        _member()
    assert twice.value.code == "already_registered"
    assert KeyGroupMember.select().count() == 1


# ---- ledger verify ------------------------------------------------------------------------------------


def test_ledger_verify_passes_after_care_pay_and_finds_a_forged_earn_care(ctx):
    pair = _pair()
    visit = _today_visit(pair)
    care.confirm_with_code(person("volunteer"), visit.id, visit.onsite_code)
    report = verify_ledger()
    assert report.ok, report.faults
    # A care payment with no visit behind it (posted with the right key and a correct hash).
    ledger.award(person("admin"), person("volunteer"), 500, "earn_care", "care_visit:999", "care_visit:999:pay")
    report = verify_ledger()
    assert any("a earn_care for 'care_visit:999' that nothing in the app made" in f for f in report.faults), \
        report.faults


def test_ledger_verify_finds_a_visit_pointing_at_a_wrong_transfer(ctx):
    pair = _pair()
    visit = _today_visit(pair)
    care.confirm_with_code(person("volunteer"), visit.id, visit.onsite_code)
    demo = Transfer.select().where(Transfer.ref == "demo").order_by(Transfer.seq).first()
    CareVisit.update(transfer=demo.id).where(CareVisit.id == visit.id).execute()
    faults = verify_ledger().faults
    assert any(f.startswith(f"care visit {visit.id}: points at transfer seq {demo.seq}") for f in faults), faults
    # And a confirmed visit that lost its pay.
    CareVisit.update(transfer=None).where(CareVisit.id == visit.id).execute()
    faults = verify_ledger().faults
    assert any(f == f"care visit {visit.id}: is confirmed for 10 points but has no pay" for f in faults), faults


# ---- pages and the API ----------------------------------------------------------------------------------


def test_staff_pair_a_volunteer_on_the_page_and_the_volunteer_confirms_on_theirs(app, client, auth):
    member_id = in_app(app, lambda: _member().id)
    auth.login_as("building_head")
    today = in_app(app, care.local_day)
    answer = auth.post("/care/pairs", {"member": str(member_id), "volunteer": str(in_app(app, lambda: person(
        "volunteer").id)), "frequency": "weekly", "starts_on": today.isoformat(), "weekday": "", "minutes": "45",
        "points": "8"}, token_from="/care/register")
    assert answer.status_code == 302
    assert in_app(app, lambda: CarePair.select().count()) == 1
    # Bad input: a clear message, nothing made.
    answer = auth.post("/care/pairs", {"member": str(member_id), "volunteer": "", "frequency": "weekly",
                                       "starts_on": today.isoformat(), "minutes": "45", "points": "8"},
                       token_from="/care/register", headers=EN)
    page = client.get("/care/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Please choose a volunteer" in page
    assert in_app(app, lambda: CarePair.select().count()) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    visit = in_app(app, lambda: CareVisit.get(CareVisit.due_on == today))
    auth.login_as("volunteer")
    mine = client.get("/care/mine", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "张阿姨" in mine and "Confirm the visit" in mine and "no lift to the sixth floor" not in mine
    answer = auth.post(f"/care/visits/{visit.id}/confirm", {"code": "99999x9" if visit.onsite_code != "999999"
                                                            else "000000"}, token_from="/care/mine", headers=EN)
    assert "That code is not right" in client.get("/care/mine", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    answer = auth.post(f"/care/visits/{visit.id}/confirm", {"code": visit.onsite_code}, token_from="/care/mine")
    assert answer.status_code == 302
    assert "Confirmed: 45 minutes, 8 points." in client.get("/care/mine", headers={"Accept-Language": "en"}
                                                            ).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    # The resident sees who visits her.
    auth.login_as("resident")
    page = client.get("/care/mine", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Who visits you" in page and "王小明" in page


def test_the_api_lists_and_confirms_care_visits_and_staff_read_the_register_audited(app):
    pair_id = in_app(app, lambda: _pair().id)
    visit = in_app(app, lambda: CareVisit.get(CareVisit.pair == pair_id, CareVisit.due_on == care.local_day()))
    volunteer = ApiClient(app.test_client(), make_token(app, "volunteer"))
    listed = volunteer.get("/care/visits")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert items[0]["id"] == visit.id and items[0]["can_confirm"] and items[0]["resident"] == "张阿姨"
    wrong = volunteer.post(f"/care/visits/{visit.id}/confirm", {"code": "abc"})
    assert wrong.status_code == 422 and error_of(wrong)["fields"] == {"code": "That code is not right. 4 tries left."}
    right = volunteer.post(f"/care/visits/{visit.id}/confirm", {"code": visit.onsite_code})
    assert right.status_code == 200 and right.get_json()["state"] == "confirmed" and right.get_json()["points"] == 10
    again = volunteer.post(f"/care/visits/{visit.id}/confirm", {"code": visit.onsite_code})
    assert again.status_code == 409 and error_of(again)["code"] == "visit_already_confirmed"
    assert in_app(app, lambda: Transfer.select().where(Transfer.kind == "earn_care").count()) == 1

    head = ApiClient(app.test_client(), make_token(app, "building_head"))
    register = head.get("/care/register")
    assert register.status_code == 200 and register.get_json()["items"][0]["group"] == "elderly_alone"
    assert in_app(app, _register_views) == 1
    assert ApiClient(app.test_client(), make_token(app, "street_officer")).get("/care/register").status_code == 403
    assert volunteer.get("/care/register").status_code == 403
    assert in_app(app, _register_views) == 1
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operation_ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"list_care_visits", "confirm_care_visit", "list_care_register", "confirm_care_visit_by_phone"} \
        <= operation_ids


def test_care_visit_minutes_count_in_the_dashboards_volunteer_hours(ctx):
    from marketplace.figures.counting import compute, staff_area

    area = staff_area(person("community_admin"))
    before = compute(area).total.minutes
    pair = _pair()
    visit = _today_visit(pair)
    care.confirm_with_code(person("volunteer"), visit.id, visit.onsite_code)
    assert compute(area).total.minutes == before + 60


def test_staff_pause_resume_and_end_a_pair(ctx):
    pair = _pair(weekday=None)
    staff = person("building_head")
    future = lambda: CareVisit.select().where(CareVisit.pair == pair.id).count()  # noqa: E731
    assert future() == 9  # today and the next eight weeks
    assert care.change_pair(staff, pair.id, "pause").state == "paused"
    assert future() == 0  # nothing falls due while paused
    with pytest.raises(DomainError) as twice:
        care.change_pair(staff, pair.id, "pause")
    assert twice.value.code == "pair_state_changed" and "paused" in twice.value.message
    assert care.change_pair(staff, pair.id, "resume").state == "active"
    assert future() == 9
    assert care.change_pair(staff, pair.id, "end").state == "ended"
    assert future() == 0
    with pytest.raises(DomainError):
        care.change_pair(staff, pair.id, "resume")
    with pytest.raises(DomainError) as unknown:
        care.change_pair(staff, pair.id, "delete")
    assert unknown.value.code == "invalid"
    actions = [e.action for e in AuditLog.select().where(AuditLog.object_type == "CarePair").order_by(AuditLog.id)]
    assert actions == ["care.pair.created", "care.pair.paused", "care.pair.resumed", "care.pair.ended"]
    # The volunteer's page no longer lists the ended pair.
    assert care.pairs_of_volunteer(person("volunteer")) == []


def test_after_five_wrong_codes_the_code_stops_working(ctx):
    visit = _today_visit(_pair())
    volunteer = person("volunteer")
    wrong = "000000" if visit.onsite_code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(DomainError) as refused:
            care.confirm_with_code(volunteer, visit.id, wrong)
        assert f"{left} tries left" in refused.value.message
    with pytest.raises(DomainError) as used_up:
        care.confirm_with_code(volunteer, visit.id, visit.onsite_code)
    assert used_up.value.code == "too_many_wrong_codes" and "building head" in used_up.value.message
    assert CareVisit.get_by_id(visit.id).state == "due"


def test_the_volunteers_points_statement_names_a_care_visit(app, client, auth):
    def pay():
        visit = _today_visit(_pair())
        care.confirm_with_code(person("volunteer"), visit.id, visit.onsite_code)

    in_app(app, pay)
    auth.login_as("volunteer")
    page = client.get("/points/", headers=EN)
    assert page.status_code == 200 and "Care visit" in page.get_data(as_text=True)
    assert "结对探访" in client.get("/points/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    statement = ApiClient(app.test_client(), make_token(app, "volunteer")).get("/points/statement")
    assert statement.status_code == 200
    row = statement.get_json()["items"][0]
    assert (row["kind"], row["kind_label"], row["points"]) == ("earn_care", "Care visit", 10)
    # Staff download the statement as CSV: the kind in words there too.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("community_admin")
    account = in_app(app, lambda: ledger.user_account(person("volunteer")).id)
    csv = client.get(f"/points/accounts/{account}/statement.csv", headers=EN)
    assert csv.status_code == 200 and "Care visit" in csv.get_data(as_text=True)


def test_the_care_page_reads_the_same_few_queries_for_one_pair_or_three(app, client, auth):
    """Names, addresses and next visits come with the page's own queries, not one per pair or
    per visit: the volunteer's page, and the resident's list of who visits her."""
    from tests.conftest import sql_sent

    def pages() -> tuple[int, int]:
        counts = []
        for who in ("volunteer", "resident"):
            auth.login_as(who)
            client.get("/care/mine", headers=EN)  # warm: the session touched
            with sql_sent() as statements:
                assert client.get("/care/mine", headers=EN).status_code == 200
            counts.append(len(statements))
            client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        return tuple(counts)

    in_app(app, lambda: _pair())
    one = pages()

    def two_more():
        resident = person("resident")
        for group in ("disability", "retired_soldier"):
            member = care.add_member(person("building_head"), resident.id, group, "")
            care.create_pair(person("building_head"), member.id, person("volunteer").id, "weekly",
                             care.local_day(), None, 60, 10)

    in_app(app, two_more)
    assert pages() == one


def test_a_made_up_resident_or_member_number_is_refused_plainly_and_makes_nothing(app, client, auth):
    auth.login_as("building_head")
    today = in_app(app, care.local_day).isoformat()
    volunteer = str(in_app(app, lambda: person("volunteer").id))
    for number in ("9223372036854775808", "-1", "0", "x"):
        auth.post("/care/register", {"resident": number, "group": "elderly_alone", "note": ""},
                  token_from="/care/register", headers=EN)
        assert "Not a valid choice" in client.get("/care/register", headers=EN).get_data(as_text=True)
        auth.post("/care/pairs", {"member": number, "volunteer": volunteer, "frequency": "weekly",
                                  "starts_on": today, "minutes": "45", "points": "8"},
                  token_from="/care/register", headers=EN)
        page = client.get("/care/register", headers=EN).get_data(as_text=True)
        assert "This person is not on the register you keep." in page, number
    assert in_app(app, lambda: (KeyGroupMember.select().count(), CarePair.select().count())) == (0, 0)


def test_staff_register_pair_and_pause_through_the_api_and_the_resident_reads_her_visitors(app):
    """What the register's page does, a phone app does too; bad input gets a clear answer and
    changes nothing."""
    head = ApiClient(app.test_client(), make_token(app, "building_head"))
    resident_id, volunteer_id = in_app(app, lambda: (person("resident").id, person("volunteer").id))
    bad = head.post("/care/register", {"resident_id": resident_id, "group": "nobody"})
    assert bad.status_code == 422 and "group" in error_of(bad)["fields"]
    outside = head.post("/care/register", {"resident_id": 999_999, "group": "elderly_alone"})
    assert outside.status_code == 422 and "Please choose a resident of a household you are responsible for." in \
        str(error_of(outside))
    assert in_app(app, lambda: KeyGroupMember.select().count()) == 0

    added = head.post("/care/register", {"resident_id": resident_id, "group": "elderly_alone", "note": "六楼"})
    assert added.status_code == 201
    today = in_app(app, care.local_day).isoformat()
    no_volunteer = head.post("/care/pairs", {"member_id": added.get_json()["id"], "volunteer_id": resident_id,
                                            "frequency": "weekly", "starts_on": today})
    assert no_volunteer.status_code == 422 and in_app(app, lambda: CarePair.select().count()) == 0
    paired = head.post("/care/pairs", {"member_id": added.get_json()["id"], "volunteer_id": volunteer_id,
                                       "frequency": "weekly", "starts_on": today})
    assert paired.status_code == 201 and paired.get_json()["state"] == "active"
    # Minutes and points not given: a visit counts what the page's form proposes.
    made = in_app(app, lambda: CarePair.get_by_id(paired.get_json()["id"]))
    assert (made.minutes, made.points) == (VISIT_MINUTES, VISIT_POINTS) == (60, 10)

    her = ApiClient(app.test_client(), make_token(app, "resident"))
    [visitor] = her.get("/care/visitors").get_json()["items"]
    code = in_app(app, lambda: CareVisit.get(CareVisit.pair == paired.get_json()["id"],
                                             CareVisit.due_on == care.local_day()).onsite_code)
    assert visitor["next_visit_on"] == today and visitor["code_today"] == code

    paused = head.post(f"/care/pairs/{paired.get_json()['id']}", {"action": "pause"})
    assert paused.status_code == 200 and paused.get_json()["state"] == "paused"
    again = head.post(f"/care/pairs/{paired.get_json()['id']}", {"action": "pause"})
    assert again.status_code == 409
    assert her.get("/care/visitors").get_json()["items"] == []
    stranger = ApiClient(app.test_client(), make_token(app, "volunteer"))
    assert stranger.post(f"/care/pairs/{paired.get_json()['id']}", {"action": "end"}).status_code == 403
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operation_ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"list_my_care_visitors", "add_care_member", "create_care_pair", "change_care_pair"} <= operation_ids
