"""Every promise kept and seen (issue 15): hand-offs to departments, clocks that close by a
recorded answer with their outcome stored, rising one level once when late, who holds a matter,
and reopening. Run on SQLite, and on PostgreSQL with --db=postgres."""

import re
from datetime import date, datetime, timedelta

import pytest

from marketplace.errors import DomainError
from marketplace.menu.models import ServiceItem
from marketplace.notifications.models import Notification
from marketplace.ops import periodic
from marketplace.service_requests import clocks, promises, services
from marketplace.service_requests.models import Clock, Department, HandOff, Reopening, ServiceRequest
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User
from marketplace.workdays import WorkdayOverride, add_working_days
from tests.api.test_api_helpers import ApiClient, make_token
from tests.conftest import Auth, in_app, person
from tests.ledger_helpers import run_at_once

EN = {"Accept-Language": "en"}


def department(name_zh: str) -> int:
    return Department.get(Department.name_zh == name_zh).id


def book(code="plumbing_electrical", who="resident", text="楼道水管漏水") -> ServiceRequest:
    return services.book(person(who), ServiceItem.get(ServiceItem.code == code).id, text)


def clocks_of(req_id, kind=None):
    query = Clock.select().where(Clock.request == req_id)
    if kind:
        query = query.where(Clock.kind == kind)
    return list(query.order_by(Clock.id))


# ---- hand-offs and clocks that close ---------------------------------------------------------------


def test_handed_to_a_department_and_feedback_given_on_time(ctx):
    req = book()
    # Tuesday 1 Dec 2026, 10:00 in Beijing: the feedback is due by the end of Tuesday 8 Dec.
    handed_at = datetime(2026, 12, 1, 2, 0)
    promises.escalate(person("building_head"), req.id, department("民政科"), False, "需要民政科协调", now=handed_at)
    (feedback,) = clocks_of(req.id, "feedback")
    assert feedback.due_at == add_working_days(handed_at, 5) == datetime(2026, 12, 8, 16, 0)
    assert clocks.holder(ServiceRequest.get_by_id(req.id))["kind"] == "department"
    assert promises.department_queue(person("street_officer")).where(ServiceRequest.id == req.id).exists()

    answered_at = datetime(2026, 12, 4, 3, 0)  # Friday
    promises.give_feedback(person("street_officer"), req.id, "已联系物业，下周一上门维修", now=answered_at)
    feedback = Clock.get_by_id(feedback.id)
    assert (feedback.outcome, feedback.working_days_used, feedback.answer) == ("on_time", 3, "已联系物业，下周一上门维修")
    assert ServiceRequest.get_by_id(req.id).feedback_due_at is None  # nothing owed any more
    told = Notification.select().where(Notification.user == person("resident").id).order_by(Notification.id.desc()).first()
    assert "已联系物业" in told.text and "反馈" in told.text  # in the resident's language (the site's default)
    # A second answer finds nothing to close, and changes nothing.
    with pytest.raises(DomainError) as refused:
        promises.give_feedback(person("street_officer"), req.id, "再说一次", now=answered_at)
    assert refused.value.code == "no_open_clock"
    assert Clock.get_by_id(feedback.id).answer == "已联系物业，下周一上门维修"


def test_a_major_matter_explained_late_counts_working_days_from_the_staff_calendar(ctx):
    # 2027 is beyond the calendar package: the staff entered a holiday on Wednesday 3 March and a
    # make-up working Saturday on 6 March.
    WorkdayOverride.create(day=date(2027, 3, 3), is_workday=False, note="节日")
    WorkdayOverride.create(day=date(2027, 3, 6), is_workday=True, note="调休上班")
    req = book()
    handed_at = datetime(2027, 3, 1, 2, 0)  # Monday 1 March, 10:00 in Beijing
    promises.escalate(person("community_admin"), req.id, department("城管科"), True, "涉及公共管网改造", now=handed_at)
    (explain,) = clocks_of(req.id, "explain")
    # Tue 2, Thu 4, Fri 5, Sat 6, Mon 8 - Fri 12, Mon 15: the tenth working day is Monday 15 March.
    assert explain.due_at == datetime(2027, 3, 15, 16, 0)
    promises.explain_reasons(person("community_admin"), req.id, "管网改造需列入明年计划", now=datetime(2027, 3, 17, 2, 0))
    explain = Clock.get_by_id(explain.id)
    # Late, and 12 working days used: 2, 4, 5, 6, 8-12, 15, 16, 17 March.
    assert (explain.outcome, explain.working_days_used) == ("late", 12)


def test_handing_on_twice_resets_no_clock(ctx):
    req = book()
    first_at = datetime(2026, 12, 1, 2, 0)
    promises.escalate(person("building_head"), req.id, department("城管科"), True, "", now=first_at)
    first_feedback, first_explain = clocks_of(req.id, "feedback")[0], clocks_of(req.id, "explain")[0]
    # Handed on after the first feedback is already late, then on again: each hand-off adds clocks.
    promises.escalate(person("grid_admin"), req.id, department("民政科"), False, "转民政科", now=datetime(2026, 12, 10, 2, 0))
    promises.escalate(person("community_admin"), req.id, department("综治办"), False, "", now=datetime(2026, 12, 11, 2, 0))
    assert HandOff.select().where(HandOff.request == req.id, HandOff.kind == "escalate").count() == 3
    assert Clock.get_by_id(first_feedback.id).due_at == first_feedback.due_at  # never moved
    assert Clock.get_by_id(first_explain.id).closed_at is None  # the major matter's clock is kept
    assert ServiceRequest.get_by_id(req.id).feedback_due_at == first_feedback.due_at  # the earliest still owed
    promises.give_feedback(person("community_admin"), req.id, "综治办已受理", now=datetime(2026, 12, 14, 2, 0))
    outcomes = [c.outcome for c in clocks_of(req.id, "feedback")]
    assert outcomes == ["late", "on_time", "on_time"]  # late stays late
    assert Clock.get_by_id(first_explain.id).closed_at is None  # only feedback closed


def test_bad_hand_offs_are_refused_clearly_and_change_nothing(ctx):
    req = book()
    before = (HandOff.select().count(), Clock.select().count())
    for bad in (None, "", "abc", 10**30, 99999):
        with pytest.raises(DomainError, match="choose the department"):
            promises.escalate(person("building_head"), req.id, bad, False, "")
    with pytest.raises(DomainError, match="cannot do this"):
        promises.escalate(person("street_officer"), req.id, department("民政科"), False, "")
    with pytest.raises(DomainError, match="write the answer"):
        promises.give_feedback(person("building_head"), req.id, "   ")
    assert (HandOff.select().count(), Clock.select().count()) == before


# ---- rising when late ------------------------------------------------------------------------------


def _overdue_request():
    req = book()
    Clock.update(due_at=utcnow() - timedelta(hours=1)).where(Clock.request == req.id).execute()
    return req


def test_a_late_clock_rises_exactly_one_level_once_even_when_the_job_runs_twice_at_once(app):
    req_id = in_app(app, lambda: _overdue_request().id)
    now = utcnow()
    results = run_at_once(app, 4, lambda i: promises.rise_overdue(now))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 1

    def check():
        rises = list(HandOff.select().where(HandOff.request == req_id, HandOff.kind == "rise"))
        assert [(h.from_level, h.to_level) for h in rises] == [("building_head", "grid_admin")]
        assert clocks.holder(ServiceRequest.get_by_id(req_id))["kind"] == "grid_admin"
        # The clock keeps running: only an answer closes it.
        (solve,) = clocks_of(req_id, "solve")
        assert solve.closed_at is None and solve.risen_at is not None
        # Everyone concerned is told, each in their own language: the grid administrator (the
        # site's default, Chinese), the building head it left, and the resident.
        grid = Notification.get(Notification.user == person("grid_admin").id)
        assert "已超期" in grid.text and "网格员" in grid.text
        head = [n.text for n in Notification.select().where(Notification.user == person("building_head").id)]
        assert len([text for text in head if text.startswith("已超期")]) == 1
        assert promises.rise_overdue(utcnow()) == 0  # a later run: nothing new
    in_app(app, check)


def test_the_periodic_job_raises_and_reminds_in_the_recipients_language(app):
    def seed():
        User.update(locale="en").where(User.id == person("grid_admin").id).execute()
        late, soon = _overdue_request(), book()
        Clock.update(due_at=utcnow() + timedelta(minutes=30)).where(Clock.request == soon.id).execute()
        return late.id, soon.id

    late_id, soon_id = in_app(app, seed)
    job = next(job for job in periodic.JOBS if job.name == "promises")
    assert periodic.run_job(job) == 2  # one reminder, one rise
    assert periodic.run_job(job) == 0  # each happens once

    def check():
        grid = Notification.get(Notification.user == person("grid_admin").id)
        assert grid.text.startswith("Overdue:") and "grid administrator" in grid.text
        head = [n.text for n in Notification.select().where(Notification.user == person("building_head").id)]
        assert any(text.startswith("一个工作日内到期") for text in head)
    in_app(app, check)


# ---- who holds it, on the page and in the API --------------------------------------------------------


def test_the_resident_reads_the_holder_every_clock_and_the_answers_page_and_api(app, client):
    def seed():
        req = book()
        promises.escalate(person("building_head"), req.id, department("民政科"), True, "")
        promises.give_feedback(person("street_officer"), req.id, "民政科已受理，正在核实")
        return req.id

    req_id = in_app(app, seed)
    Auth(client).login_as("resident")
    page = client.get(f"/requests/{req_id}", headers=EN).get_data(as_text=True)
    assert re.search(r'class="holder-name"><strong>Civil Affairs Section 周科员', page)
    assert "Give you feedback" in page and "民政科已受理，正在核实" in page and "Explain the reasons" in page
    assert 'data-actions="escalate"' not in page
    token = make_token(app, "resident")
    data = ApiClient(app.test_client(), token).get(f"/requests/{req_id}").get_json()
    assert data["holder"]["kind"] == "department" and data["holder"]["name"].startswith("Civil Affairs Section")
    assert [(c["kind"], c["outcome"]) for c in data["clocks"]] == [("solve", None), ("feedback", "on_time"),
                                                                    ("explain", None)]
    assert data["clocks"][1]["answer"] == "民政科已受理，正在核实"
    assert any(h["action"] == "give_feedback" for h in data["history"])
    # Another resident never sees it.
    other = ApiClient(app.test_client(), make_token(app, "13900000002"))
    assert other.get(f"/requests/{req_id}").status_code == 404


def test_a_departments_officer_sees_exactly_the_matters_handed_to_it(app, client):
    def seed():
        mine, theirs, nobody = book(), book(text="路灯不亮了"), book(text="门口垃圾没人收")
        promises.escalate(person("building_head"), mine.id, department("民政科"), False, "")
        promises.escalate(person("building_head"), theirs.id, department("城管科"), False, "")
        return mine.id, theirs.id, nobody.id

    mine, theirs, nobody = in_app(app, seed)
    api = ApiClient(app.test_client(), make_token(app, "street_officer"))
    listed = api.get("/department/requests").get_json()["items"]
    assert [r["id"] for r in listed] == [mine]
    Auth(client).login_as("street_officer")
    page = client.get("/requests/department", headers=EN).get_data(as_text=True)
    assert f"/requests/{mine}" in page and f"/requests/{theirs}" not in page and f"/requests/{nobody}" not in page
    # The officer answers their own department's matter, from the page; not the other's.
    shown = client.get(f"/requests/{mine}", headers=EN).get_data(as_text=True)
    assert 'data-actions="give_feedback"' in shown and 'data-actions="escalate"' not in shown
    other = client.get(f"/requests/{theirs}", headers=EN).get_data(as_text=True)
    assert 'data-actions="give_feedback"' not in other and 'data-actions="escalate"' not in other
    refused = api.post(f"/requests/{theirs}/feedback", {"text": "不是我们科的"})
    assert refused.status_code == 403
    done = api.post(f"/requests/{mine}/feedback", {"text": "已安排上门"})
    assert done.status_code == 200 and done.get_json()["clocks"][1]["outcome"] == "on_time"


# ---- reopening --------------------------------------------------------------------------------------


def _finished_on_site_and_rated(stars: int) -> int:
    req = book()
    services.claim(person("partner_staff"), req.id)
    services.finish_on_site(person("partner_staff"), req.id, req.onsite_code)
    services.rate(person("resident"), req.id, stars, "还是漏水")
    return req.id


def test_a_matter_confirmed_on_site_and_rated_2_is_reopened_one_level_higher(app):
    req_id = in_app(app, lambda: _finished_on_site_and_rated(2))

    def check():
        pending = Reopening.get(Reopening.request == req_id)
        assert (pending.rating, pending.decision) == (2, None)
        assert "decide_reopen" in promises.available_actions(person("community_admin"), ServiceRequest.get_by_id(req_id))
        admin_told = Notification.select().where(Notification.user == person("community_admin").id)
        assert any("重新办理" in n.text for n in admin_told)
        promises.decide_reopen(person("community_admin"), req_id, "reopen", "")
        reopened = clocks_of(req_id, "solve")[-1]
        assert (reopened.level, reopened.closed_at) == ("grid_admin", None)  # one level above the building head
        assert clocks.holder(ServiceRequest.get_by_id(req_id))["kind"] == "grid_admin"
        with pytest.raises(DomainError) as twice:
            promises.decide_reopen(person("community_admin"), req_id, "decline", "重复")
        assert twice.value.code == "no_reopen_pending"
        promises.solve(person("grid_admin"), req_id, "换了新阀门，已不漏水")
        assert clocks_of(req_id, "solve")[-1].outcome == "on_time"
    in_app(app, check)


def test_a_declined_reopening_shows_its_reason_to_the_resident(app, client):
    req_id = in_app(app, lambda: _finished_on_site_and_rated(1))
    in_app(app, lambda: promises.decide_reopen(person("building_head"), req_id, "decline", "经现场核实已修好"))
    Auth(client).login_as("resident")
    page = client.get(f"/requests/{req_id}").get_data(as_text=True)
    assert "您的重新办理申请未获同意：经现场核实已修好" in page


def test_the_resident_may_ask_to_reopen_within_14_days_only(app):
    def check():
        req = book()
        services.claim(person("partner_staff"), req.id)
        services.finish_on_site(person("partner_staff"), req.id, req.onsite_code)
        with pytest.raises(DomainError, match="say what is still not solved"):
            promises.request_reopen(person("resident"), req.id, "")
        with pytest.raises(DomainError) as late:
            promises.request_reopen(person("resident"), req.id, "还是不行", now=utcnow() + timedelta(days=15))
        assert late.value.code == "reopen_closed"
        promises.request_reopen(person("resident"), req.id, "还是不行")
        with pytest.raises(DomainError) as again:
            promises.request_reopen(person("resident"), req.id, "还是不行")
        assert again.value.code == "reopen_pending"
        assert Reopening.select().where(Reopening.request == req.id).count() == 1
    in_app(app, check)


def test_demo_departments_and_the_officers_grant_name_one(ctx):
    names = [d.name_zh for d in promises.departments()]
    assert names == ["民政科", "城管科", "综治办", "社会事务科", "社区建设科"]
    grant = RoleGrant.get(RoleGrant.role == "street_officer")
    assert grant.department in names
    assert promises.officer_department(person("street_officer")).name_zh == "民政科"


def test_an_officers_grant_must_name_a_department_on_the_list(ctx):
    from marketplace.users import roles

    someone = person("13900000002")
    before = RoleGrant.select().count()
    with pytest.raises(DomainError, match="choose a department on the list: 民政科、城管科"):
        roles.grant_role_in_scope(person("admin"), someone.id, "street_officer", department="卫生科")
    assert RoleGrant.select().count() == before
    grant = roles.grant_role_in_scope(person("admin"), someone.id, "street_officer",
                                      department="Urban Management Section")
    assert grant.department == "城管科"


def test_the_migration_gives_earlier_requests_their_clocks_and_hand_offs(ctx):
    """Requests made before the clocks: a solve clock each (closed with its outcome when it was
    done), and an earlier escalation becomes a hand-off with its feedback clock."""
    import importlib.util

    from marketplace.config import PROJECT_ROOT
    from marketplace.db import db

    spec = importlib.util.spec_from_file_location("m014", PROJECT_ROOT / "migrations" / "014_promises.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    now = utcnow()
    done = book()
    ServiceRequest.update(state="done", done_at=now - timedelta(days=1), due_at=now).where(
        ServiceRequest.id == done.id).execute()
    escalated = book()
    ServiceRequest.update(escalated_at=now, escalated_to="某个旧科室", feedback_due_at=now + timedelta(days=7)).where(
        ServiceRequest.id == escalated.id).execute()
    Clock.delete().execute()
    migration._backfill(db.obj)
    assert [(c.kind, c.outcome) for c in clocks_of(done.id)] == [("solve", "on_time")]
    assert [(c.kind, c.closed_at) for c in clocks_of(escalated.id)] == [("solve", None), ("feedback", None)]
    hand_off = HandOff.get(HandOff.request == escalated.id)
    assert (hand_off.to_level, hand_off.department.name_zh) == ("department", "某个旧科室")


def test_staff_operations_in_the_api_refuse_bad_input_clearly_and_change_nothing(app):
    req_id = in_app(app, lambda: book().id)
    urban = in_app(app, lambda: department("城管科"))
    staff = ApiClient(app.test_client(), make_token(app, "building_head"))
    without_scope = ApiClient(app.test_client(), make_token(app, "building_head", scopes=("read",)))
    assert without_scope.post(f"/requests/{req_id}/escalate", {"department_id": urban}).status_code == 403
    for body in ({"department_id": 99999}, {"department_id": "2"}, {}, {"department_id": urban, "major": "yes"}):
        refused = staff.post(f"/requests/{req_id}/escalate", body)
        assert refused.status_code in (400, 422), (body, refused.get_json())
        assert refused.get_json()["error"]["fields"], body
    assert in_app(app, lambda: HandOff.select().count()) == 0
    done = staff.post(f"/requests/{req_id}/escalate", {"department_id": urban, "major": True, "note": "管网"})
    assert done.status_code == 200
    assert done.get_json()["holder"]["kind"] == "department"
    assert [c["kind"] for c in done.get_json()["clocks"]] == ["solve", "feedback", "explain"]
    assert "give_feedback" in done.get_json()["actions"] and "explain_reasons" in done.get_json()["actions"]
    nothing = staff.post(f"/requests/{req_id}/reopen/decide", {"decision": "decline"})
    assert nothing.status_code in (400, 422) and nothing.get_json()["error"]["fields"] == {
        "reason": "Please give the reason the resident will read."}
    assert staff.post(f"/requests/{req_id}/explain", {"text": "需要列入年度计划"}).status_code == 200
    again = staff.post(f"/requests/{req_id}/explain", {"text": "再说一次"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "no_open_clock"


def test_staff_record_solved_only_once_a_matter_was_handed_on_and_cancelled_matters_owe_nothing(ctx):
    waiting = book()
    assert "solve" not in promises.available_actions(person("building_head"), waiting)
    with pytest.raises(DomainError) as refused:
        promises.solve(person("building_head"), waiting.id, "电话里说好了")
    assert refused.value.code == "no_open_clock" and clocks_of(waiting.id, "solve")[0].closed_at is None
    promises.escalate(person("building_head"), waiting.id, department("城管科"), False, "")
    assert "solve" in promises.available_actions(person("building_head"), ServiceRequest.get_by_id(waiting.id))
    promises.solve(person("building_head"), waiting.id, "城管科已修好路灯")
    assert clocks_of(waiting.id, "solve")[0].answer == "城管科已修好路灯"
    cancelled = services.cancel(person("resident"), book().id, "不需要了")
    assert clocks.holder(cancelled)["kind"] == "nobody"
    assert promises.available_actions(person("building_head"), cancelled) == []


def test_a_matter_finished_on_site_or_automatically_asks_the_resident_for_a_rating(ctx):
    req = book()
    services.claim(person("partner_staff"), req.id)
    services.finish_on_site(person("partner_staff"), req.id, req.onsite_code)
    texts = [n.text for n in Notification.select().where(Notification.user == person("resident").id)]
    assert any("请评价" in text for text in texts)
