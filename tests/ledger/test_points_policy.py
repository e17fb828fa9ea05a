"""The points policy as settings: earning caps (what a cap holds back is recorded as capped) and
expiry at a period's end (messages 30 and 7 days before, once; the points back to the community
fund by ledger transfers; the sum of all balances stays 0 and `ledger verify` stays clean)."""

from datetime import date, datetime

from marketplace.events import services
from marketplace.events.models import Attendance
from marketplace.ledger import adjustments, policy, statements
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, CappedEarning, PointsExpiry, Transfer
from marketplace.notifications.models import Notification
from marketplace.ops.periodic import JOBS, run_job
from tests.events.test_events import START, at, kiosk, make_event, signed_up, staff, volunteers
from tests.events.test_hour_corrections import assert_books_balance
from tests.ledger_helpers import balance


def served(volunteer, minutes, hours=4, title="巡逻"):
    event = make_event(hours=hours, points=10, title=title)
    signed_up(event, volunteer)
    services.check_with_kiosk(volunteer, kiosk(event, at(0)), now=at(0))
    services.check_with_kiosk(volunteer, kiosk(event, at(minutes), "out"), now=at(minutes))
    return Attendance.get(Attendance.event == event.id, Attendance.user == volunteer.id)


def test_a_cap_of_two_hours_a_day_pays_two_hours_of_a_three_hour_shift_and_records_the_third(ctx, app):
    app.config["EVENT_HOURS_CAP_DAY"] = 2
    volunteer = volunteers(1)[0]
    before = balance(volunteer)
    attendance = served(volunteer, 180)
    assert (attendance.minutes, attendance.points) == (180, 20) and balance(volunteer) == before + 20
    [held] = CappedEarning.select().where(CappedEarning.user == volunteer.id)
    assert (held.source, held.rule, held.minutes, held.points, held.ref) == ("event", "day", 60, 10,
                                                                            f"attendance:{attendance.id}")
    # The same day again: nothing left under the cap, all of it recorded as capped.
    second = served(volunteer, 60, title="又一次巡逻")
    assert second.points == 0 and second.transfer_id is None and balance(volunteer) == before + 20
    assert policy.figures(volunteer.id).capped_points == 20 and policy.figures(volunteer.id).capped_minutes == 120
    assert services.volunteer_record(volunteer).minutes == 240  # the hours served still count
    assert "at most 2 hours a day" in " ".join(policy.plain_words())
    assert_books_balance()


def test_a_correction_is_capped_as_the_door_is(ctx, app):
    app.config["EVENT_HOURS_CAP_DAY"] = 2
    volunteer = volunteers(1)[0]
    attendance = served(volunteer, 60)
    before = balance(volunteer)
    correction = services.request_hour_correction(volunteer, attendance.id, None, at(180), "stayed", now=at(300))
    decided = services.approve_hour_correction(staff(), correction.id)
    assert decided.difference == 10 and balance(volunteer) == before + 10
    assert policy.figures(volunteer.id).capped_points == 10
    # Corrected back down: the cap gives back what it held, and the ledger takes back the rest.
    again = services.request_hour_correction(volunteer, attendance.id, None, at(90), "my mistake", now=at(300))
    assert services.approve_hour_correction(staff(), again.id).difference == -5
    assert policy.figures(volunteer.id).capped_points == 0 and balance(volunteer) == before + 5
    assert_books_balance()


def test_no_caps_and_no_expiry_by_default(ctx, app):
    volunteer = volunteers(1)[0]
    assert served(volunteer, 240).points == 40 and CappedEarning.select().count() == 0
    assert policy.run_expiry() == 0
    [job] = [job for job in JOBS if job.name == "points_expiry"]
    assert job.every_seconds(app.config) == 0
    assert policy.plain_words() == ["There is no cap on the points one can earn.", "Points do not expire."]


def utc(day: date, hour=4) -> datetime:
    """Noon in the community (UTC+8) on `day`, as stored times are: naive UTC."""
    return datetime(day.year, day.month, day.day, hour)


def test_old_points_expire_at_the_period_end_exactly_once_with_messages_at_30_and_7_days(ctx, app):
    app.config["POINTS_EXPIRY_MONTHS"] = 12
    member = volunteers(1)[0]
    served(member, 600, hours=10)  # 100 points at the door
    account = ledger.user_account(member)
    adjustments.request_adjustment(staff(), account.id, "debit", 30, "spent at the fair")
    year = START.year + 1  # points earned now are more than 12 months old at the end of next year
    end = date(year, 12, 31)

    policy.run_expiry(utc(date(year, 12, 1)))  # 31 days before: too early for a notice
    assert not PointsExpiry.select().where(PointsExpiry.account == account.id).exists()
    for day in (date(year, 12, 2), date(year, 12, 3)):  # 30 days before, and a second run
        policy.run_expiry(utc(day))
    for day in (date(year, 12, 25), date(year, 12, 26)):  # 7 days before
        policy.run_expiry(utc(day))
    notices = list(PointsExpiry.select().where(PointsExpiry.account == account.id).order_by(PointsExpiry.id))
    assert [(n.stage, n.amount, n.period_end) for n in notices] == [("notice_30", 70, end), ("notice_7", 70, end)]
    told = [n.text for n in Notification.select().where(Notification.user == member.id, Notification.kind == "points")]
    assert len([t for t in told if "70" in t]) == 2

    before_sum = sum(a.balance for a in Account.select())
    for _run in range(2):  # the job twice, just after the period's end
        policy.run_expiry(utc(date(year + 1, 1, 1)))
    assert balance(member) == 0
    expired = PointsExpiry.get(PointsExpiry.account == account.id, PointsExpiry.stage == "expired")
    transfer = Transfer.get_by_id(expired.transfer_id)
    assert (expired.amount, transfer.amount, transfer.kind) == (70, 70, "adjust")
    assert Account.get_by_id(transfer.credit_id).kind == "issuer"
    assert statements.memo_text(transfer) == "Points expired: back to the community fund"
    assert Transfer.select().where(Transfer.ref == f"expiry:{end.isoformat()}:{account.id}").count() == 1
    assert sum(a.balance for a in Account.select()) == before_sum == 0
    assert policy.figures(member.id).expired_points == 70
    assert_books_balance()


def test_the_periodic_job_runs_the_expiry(ctx, app):
    app.config["POINTS_EXPIRY_MONTHS"] = 1
    app.config["POINTS_EXPIRY_PERIOD"] = "month"
    [job] = [job for job in JOBS if job.name == "points_expiry"]
    assert job.every_seconds(app.config) == 3600
    assert isinstance(run_job(job), int)
    assert_books_balance()


def test_periods(ctx):
    assert policy.period_end(date(2026, 2, 10), "month") == date(2026, 2, 28)
    assert policy.period_end(date(2026, 5, 10), "quarter") == date(2026, 6, 30)
    assert policy.period_end(date(2026, 5, 10), "year") == date(2026, 12, 31)
    assert policy.cutoff(date(2026, 12, 31), 12) == datetime(2025, 12, 31, 16)  # midnight in Beijing


def test_the_policy_in_plain_words_on_the_points_page_and_the_board(app, client):
    from tests.conftest import Auth, in_app, person

    app.config.update(EVENT_HOURS_CAP_DAY=2, POINTS_EXPIRY_MONTHS=12)

    def capped():
        volunteer = person("volunteer")
        served(volunteer, 180)
    in_app(app, capped)
    Auth(client).login_as("volunteer")
    page = client.get("/points/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Event hours earn points for at most 2 hours a day." in page
    assert "At the end of each year, points earned more than 12 months before" in page
    assert "Held back for you by the caps so far: 10 points (1 hours)." in page
    zh = client.get("/points/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "每天最多" in zh and "积分如何获得与保留" in zh
    from tests.api.test_api_helpers import ApiClient, make_token

    api = ApiClient(app.test_client(), make_token(app, "volunteer")).get("/points/policy").get_json()
    assert "Event hours earn points for at most 2 hours a day." in api["lines"]
    assert (api["capped_points"], api["capped_hours"], api["capped"][0]["source"]) == (10, 1.0, "event")
    board = app.test_client().get("/board", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Event hours earn points for at most 2 hours a day." in board
    assert "Held back by the caps so far: 10 points (1 hours)." in board and "张" not in board.split("points-policy")[1][:2000]


def test_a_daily_cap_on_points_from_requests_pays_up_to_it_and_records_the_rest(ctx, app):
    from marketplace.service_requests import services as requests
    from tests.service_requests.test_service_requests import item, new_request, people

    points = item("smartphone_basics").points
    app.config["REQUEST_POINTS_CAP_DAY"] = points + points // 2
    helper = people()["volunteer"]
    before = balance(helper)
    for _turn in range(2):
        req = new_request("smartphone_basics")
        requests.claim(helper, req.id)
        requests.finish_on_site(helper, req.id, req.onsite_code)
    assert balance(helper) == before + points + points // 2
    [held] = CappedEarning.select().where(CappedEarning.source == "request")
    assert (held.user_id, held.rule, held.points, held.ref) == (helper.id, "day", points - points // 2, f"request:{req.id}")
    assert f"at most {points + points // 2} points a day" in " ".join(policy.plain_words())
    assert_books_balance()


def test_ledger_verify_finds_an_expiry_changed_behind_the_apps_back(ctx, app):
    from marketplace.ledger.verify import verify_ledger as verify_books

    app.config["POINTS_EXPIRY_MONTHS"] = 1
    member = volunteers(1)[0]
    served(member, 240)  # 40 points
    policy.run_expiry(utc(date(START.year + 2, 1, 2)))
    expired = PointsExpiry.get(PointsExpiry.account == ledger.user_account(member).id, PointsExpiry.stage == "expired")
    assert expired.amount == 40 and verify_books().ok
    PointsExpiry.update(amount=10).where(PointsExpiry.id == expired.id).execute()
    faults = verify_books().faults
    assert any(f"points expiry {expired.id}" in fault for fault in faults), faults
    PointsExpiry.delete().where(PointsExpiry.id == expired.id).execute()
    faults = verify_books().faults
    assert any("nothing in the app made" in fault for fault in faults), faults


def test_check_outs_racing_under_a_daily_cap_pay_it_once(ctx, app):
    from tests.ledger_helpers import run_at_once

    app.config["EVENT_HOURS_CAP_DAY"] = 2
    volunteer = volunteers(1)[0]
    events = [make_event(hours=2, points=10, title=f"巡逻{i}") for i in range(4)]
    for event in events:
        signed_up(event, volunteer)
        services.check_with_kiosk(volunteer, kiosk(event, at(0)), now=at(0))
    before = balance(volunteer)
    results = run_at_once(app, 4, lambda i: services.check_with_kiosk(
        volunteer, kiosk(events[i], at(60), "out"), now=at(60)).outcome)
    assert results == ["checked_out"] * 4, results
    assert balance(volunteer) == before + 20
    assert policy.figures(volunteer.id).capped_minutes == 120 and policy.figures(volunteer.id).capped_points == 20
    assert_books_balance()


def test_expiry_jobs_racing_expire_once(ctx, app):
    from tests.ledger_helpers import run_at_once

    app.config["POINTS_EXPIRY_MONTHS"] = 12
    member = volunteers(1)[0]
    served(member, 240)
    moment = utc(date(START.year + 2, 1, 1))
    results = run_at_once(app, 4, lambda i: policy.run_expiry(moment))
    assert not [r for r in results if isinstance(r, Exception)], results
    account = ledger.user_account(member)
    assert balance(member) == 0
    assert Transfer.select().where(Transfer.ref.startswith("expiry:"), Transfer.debit == account.id).count() == 1
    assert sum(a.balance for a in Account.select()) == 0
    assert_books_balance()
