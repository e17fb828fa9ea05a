"""Promises seen by staff and the public (issue 15): the board's and the dashboard's on-time
shares read from the stored clock outcomes; the staff queue's risen and reopen items; staff told
of new matters; and the operator's `flask api-token PHONE`."""

import re
from datetime import timedelta

from click.testing import CliRunner

from marketplace.audit import AuditLog
from marketplace.cli import api_token_command
from marketplace.figures.counting import last_months, month_start_utc
from marketplace.menu.models import ServiceItem
from marketplace.notifications.models import Notification
from marketplace.service_requests import promises, services
from marketplace.service_requests.models import Clock, Department, ServiceRequest
from marketplace.timeutil import utcnow
from marketplace.users.models import ApiToken
from tests.api.test_api_helpers import ApiClient
from tests.conftest import Auth, in_app, person

EN = {"Accept-Language": "en"}


def book(text="楼道灯不亮") -> ServiceRequest:
    return services.book(person("resident"), ServiceItem.get(ServiceItem.code == "plumbing_electrical").id, text)


def department(name_zh: str) -> int:
    return Department.get(Department.name_zh == name_zh).id


def seed_a_month() -> str:
    """Hand-offs answered in last month: some feedback on time, some late, one explanation."""
    month = last_months(2)[0]
    start = month_start_utc(month) + timedelta(days=2, hours=2)
    for index, feedback_after in enumerate((timedelta(days=1), timedelta(days=2), timedelta(days=12))):
        req = book(f"路灯坏了 {index}")
        promises.escalate(person("building_head"), req.id, department("城管科"), index == 0, "", now=start)
        promises.give_feedback(person("building_head"), req.id, "已安排", now=start + feedback_after)
    explained = ServiceRequest.select().order_by(ServiceRequest.id.desc()).offset(2).first()
    promises.explain_reasons(person("building_head"), explained.id, "需列入计划", now=start + timedelta(days=3))
    return month


def by_hand(month: str, kind: str) -> str:
    """The share from the clock rows themselves, as a person would count it."""
    start, end = month_start_utc(month), month_start_utc(last_months(1)[0])
    rows = [c for c in Clock.select().where(Clock.kind == kind, Clock.closed_at.is_null(False))
            if start <= c.closed_at < end]
    on_time = sum(1 for c in rows if c.outcome == "on_time")
    return f"{round(100 * on_time / len(rows))}% ({on_time}/{len(rows)})"


def cell(page: str, month: str, kind: str) -> str:
    row = re.search(rf'<tr data-month="{month}">(.*?)</tr>', page, re.S).group(1)
    text = re.search(rf'data-kind="{kind}">(.*?)</td>', row, re.S).group(1)
    return re.sub(r"<[^>]+>", "", text).strip()


def test_the_boards_on_time_shares_equal_the_clock_records_counted_by_hand(app, client):
    month = in_app(app, seed_a_month)
    expected = in_app(app, lambda: {kind: by_hand(month, kind) for kind in ("feedback", "explain")})
    assert expected == {"feedback": "67% (2/3)", "explain": "100% (1/1)"}
    page = client.get("/board", headers=EN).get_data(as_text=True)
    assert {kind: cell(page, month, kind) for kind in ("feedback", "explain")} == expected
    assert "Urban Management Section" in page  # per department
    # The staff dashboard reads the same figures.
    Auth(client).login_as("community_admin")
    dashboard = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    assert {kind: cell(dashboard, month, kind) for kind in ("feedback", "explain")} == expected


def test_risen_matters_head_the_staff_queue_and_reopen_requests_are_listed(app, client):
    def seed():
        late = book()
        Clock.update(due_at=utcnow() - timedelta(hours=1)).where(Clock.request == late.id).execute()
        promises.rise_overdue()
        unhappy = book("水龙头还在滴")
        services.claim(person("partner_staff"), unhappy.id)
        services.finish_on_site(person("partner_staff"), unhappy.id, unhappy.onsite_code)
        services.rate(person("resident"), unhappy.id, 1, "没修好")
        return late.id, unhappy.id

    late, unhappy = in_app(app, seed)
    Auth(client).login_as("grid_admin")
    page = client.get("/staff/", headers=EN).get_data(as_text=True)
    sections = re.findall(r'<section class="queue-section" id="(\w+)"', page)
    assert sections[:2] == ["risen", "reopens"]
    risen = page.split('id="risen"')[1].split("</section>")[0]
    reopens = page.split('id="reopens"')[1].split("</section>")[0]
    assert f"/requests/{late}" in risen and f"/requests/{unhappy}" in reopens
    csv = client.get("/staff/queue/reopens.csv", headers=EN).get_data(as_text=True)
    assert str(unhappy) in csv


def test_staff_are_told_of_a_new_matter_in_their_area_in_their_language(app):
    req = in_app(app, book)
    note = in_app(app, lambda: Notification.select().where(Notification.user == person("building_head").id).get())
    assert note.text.startswith("您负责的范围内有新诉求") and note.link == f"/requests/{req.id}"


def test_an_operator_makes_an_api_token_for_an_account_and_it_is_audited(app):
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(api_token_command, ["13800000005"], standalone_mode=False)
        refused = runner.invoke(api_token_command, ["13000000000"])
    assert result.exception is None, result.output
    token = result.output.strip()
    assert token.startswith("mkt_")
    assert refused.exit_code != 0 and "没有使用这个手机号的有效账号" in refused.output

    def check():
        row = ApiToken.get(ApiToken.prefix == token[:10])
        entry = AuditLog.select().where(AuditLog.action == "users.token.issued_by_operator").get()
        assert entry.object_id == row.user_id == person("street_officer").id and token not in entry.details
    in_app(app, check)
    queue = ApiClient(app.test_client(), token).get("/department/requests")
    assert queue.status_code == 200 and queue.get_json()["items"] == []
