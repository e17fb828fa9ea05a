"""Issue 22, the rest of the walk: the audit log in the reader's words and times (4), hidden doors
and confusing places (7-11), numbers that agree (12), deprecations (13) and `make run` (14)."""

import re
import subprocess
import tomllib
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from marketplace import audit, workdays
from marketplace.events.models import Attendance, Event
from marketplace.ledger import services as ledger
from marketplace.menu.models import Category
from marketplace.partners.models import PartnerEnterprise
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer
from marketplace.timeutil import utcnow
from marketplace.users import applications
from tests.conftest import Auth, csrf_token, in_app, person
from tests.staff.test_dashboards import add_request, read_csv
from tests.test_walkthrough_words import chinese, msgstr, text

ROOT = Path(__file__).resolve().parent.parent
EN = {"Accept-Language": "en"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---- 4. the audit log: labels in the reader's language, local times ---------------------------


def test_the_audit_log_reads_in_words_and_local_time(app):
    moment = datetime(2026, 11, 30, 17, 5)  # UTC: 01:05 on 1 December in Shanghai

    def entries():
        req = add_request("bj_b1", 3)
        account = ledger.user_account(person("resident"))
        audit.record(person("grid_admin"), "requests.personal_data.viewed", req)
        audit.record(person("community_admin"), "ledger.adjustment.posted", None, account=account.code,
                     direction="credit", amount=5, reason="补发")
        from marketplace.audit.chain import AuditLog
        AuditLog.update(created_at=moment).execute()

    in_app(app, entries)
    assert msgstr("Looked at a resident's address and phone") == "查看居民地址和电话"
    staff = chinese(app, "community_admin")
    page = text(staff.get("/staff/audit"))
    assert "查看居民地址和电话" in page and "调整积分" in page
    assert "积分账户: 张阿姨" in page and "增加或扣减: 增加积分" in page
    assert "requests.personal_data.viewed" not in page and "user:" not in page and "account:" not in page
    assert "2026-12-01 01:05" in page and "2026-11-30 17:05" not in page
    rows = read_csv(staff.get("/staff/audit.csv"))
    assert rows[0] == ["时间", "操作人", "操作", "编码", "对象", "详情"]
    assert {r[2] for r in rows[1:]} == {"查看居民地址和电话", "调整积分"}
    assert all(r[0].startswith("2026-12-01 01:05") for r in rows[1:])


def test_times_in_audit_details_are_local(app):
    def entry():
        audit.record(person("community_admin"), "events.attendance.checked_in_by_hand", None, reason="忘带手机",
                     at=datetime(2026, 11, 30, 23, 30))

    in_app(app, entry)
    page = text(chinese(app, "community_admin").get("/staff/audit"))
    assert "时间: 2026-12-01 07:30" in page and "23:30" not in page


# ---- 7. selling at the flea market has a door, and the dates are filled in -------------------


def test_the_flea_market_sale_is_linked_and_its_dates_filled_in(app):
    resident = chinese(app, "resident")
    assert 'href="/shop/sell"' in resident.get("/shop/").get_data(as_text=True)
    assert 'href="/shop/sell"' in resident.get("/points/").get_data(as_text=True)
    form = resident.get("/shop/sell").get_data(as_text=True)
    today = datetime.now(SHANGHAI).date()
    assert f'value="{today.isoformat()}"' in form and f'value="{(today + timedelta(days=30)).isoformat()}"' in form
    listed = resident.post("/shop/sell", data={
        "title": "儿童绘本一套", "price": "10", "stock": "1", "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(), "csrf_token": csrf_token(resident, "/shop/sell")})
    assert listed.status_code == 302
    assert in_app(app, lambda: Offer.get(Offer.title == "儿童绘本一套").valid_until) == today + timedelta(days=30)


# ---- 8. partner staff see the shop's points where they look for points ------------------------


def test_partner_staff_see_their_shops_points_on_my_points(app):
    def paid_shop():
        voucher = shop.redeem(person("resident"), Offer.get(Offer.title.startswith("免费磨刀")).id, "shop-points")
        shop.scan(person("partner_staff"), voucher.code)
        account = ledger.partner_account(PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店"))
        return account.id, ledger.Account.get_by_id(account.id).balance

    account_id, balance = in_app(app, paid_shop)
    assert balance > 0
    html = chinese(app, "partner_staff").get("/points/").get_data(as_text=True)
    assert f"您所在的北苑五金维修店的积分： <strong>{balance}</strong>" in html
    assert f'href="/points/accounts/{account_id}"' in html
    # A member who staffs no shop sees no such line.
    assert "您所在的" not in chinese(app, "resident").get("/points/").get_data(as_text=True)


# ---- 9. the job board's grid filter names each grid's community -------------------------------


def test_the_grid_filter_names_the_community(app):
    html = chinese(app, "volunteer").get("/jobs/").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="grid"[^>]*>(.*?)</select>', html, flags=re.S).group(1)
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert len(labels) == len(set(labels)), labels
    assert "北苑家园社区 第一网格" in labels


# ---- 10. the volunteer application shows the chosen skills ------------------------------------


def test_the_staff_queue_shows_a_volunteer_applications_skills(app):
    def apply():
        chosen = list(Category.select().order_by(Category.position).limit(2))
        applications.apply_as_volunteer(person("resident"), [c.id for c in chosen], "周末上午")
        return [c.name_zh for c in chosen]

    names = in_app(app, apply)
    page = text(chinese(app, "community_admin").get("/staff/"))
    assert "周末上午" in page and "可以帮忙： " + "、".join(names) in page


# ---- 11. the hours page lists an event under way once -----------------------------------------


def test_an_attended_event_under_way_is_not_also_coming_up(app):
    def check_in():
        event = Event.get(Event.title.startswith("社区服务日"))
        Attendance.create(event=event, user=person("volunteer"), state="in", checked_in_at=utcnow(), in_method="kiosk")

    in_app(app, check_in)
    page = chinese(app, "volunteer").get("/events/hours").get_data(as_text=True)
    coming_up = page.split("即将开始", 1)[1].split("<h2>", 1)[0] if "即将开始" in page else ""
    assert "社区服务日" not in coming_up
    assert "社区服务日" in page.split("尚未计入", 1)[1].split("<h2>", 1)[0]


SCANNER_JS = ROOT / "static" / "js" / "badge-scan.js"


def test_the_scanner_never_says_online_while_offline():
    """The browser test (tests/browser/test_walkthrough_screens.py) goes offline for real; this
    reads the rule: with nothing waiting, offline is still offline."""
    source = SCANNER_JS.read_text()
    rule = re.search(r"function showQueueState\(\) \{(.*?)\n  \}", source, flags=re.S).group(1)
    offline_first = rule.index("!navigator.onLine")
    assert "waiting && !navigator.onLine" not in rule and offline_first < rule.index('text("textOnline"')


# ---- 12. the CSV says the same due day as the page --------------------------------------------


def test_csv_due_dates_are_the_day_the_page_shows(app):
    def escalated():
        req = add_request("bj_b1", 2)
        due = workdays.add_working_days(req.created_at, 5)
        ServiceRequest.update(due_at=due, escalated_at=utcnow(), escalated_to="城管科",
                              feedback_due_at=due, explanation_due_at=workdays.add_working_days(req.created_at, 10)
                              ).where(ServiceRequest.id == req.id).execute()
        return req.id, workdays.due_day(due), workdays.due_day(workdays.add_working_days(req.created_at, 10))

    request_id, due_day, explain_day = in_app(app, escalated)
    staff = app.test_client()
    Auth(staff).login_as("community_admin")
    rows = read_csv(staff.get("/staff/exports/requests-all.csv", headers=EN))
    header, row = rows[0], next(r for r in rows[1:] if r[0] == str(request_id))
    assert "Reasons due" in header
    assert row[header.index("Due")] == due_day.isoformat() and row[header.index("Feedback due")] == due_day.isoformat()
    assert row[header.index("Reasons due")] == explain_day.isoformat()
    page = staff.get(f"/requests/{request_id}", headers=EN).get_data(as_text=True)
    assert f"{due_day:%b} {due_day.day}, {due_day.year}" in page  # the page's "To be handled by"


# ---- 13. no deprecated WTForms choices ---------------------------------------------------------


def _every_form_class():
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import marketplace

    for module in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        if module.name.endswith(("forms", "views")):
            importlib.import_module(module.name)
    found, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("marketplace") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_our_forms_pass_select_choices_not_tuples(app):
    forms = _every_form_class()
    assert len(forms) > 20
    with app.test_request_context(headers=EN), warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for form_class in forms:
            form_class(formdata=None)


@pytest.mark.parametrize("role, path", [
    ("volunteer", "/jobs/"), ("community_admin", "/staff/audit"), ("resident", "/account/volunteer"),
    ("community_admin", "/menu/manage"), ("community_admin", "/points/"), ("resident", "/account/api-tokens/"),
])
def test_pages_with_choices_pass_no_tuples(app, monkeypatch, role, path):
    from wtforms.fields import choices as wtf_choices

    original = wtf_choices.SelectChoice.from_input.__func__

    def strict(cls, value, optgroup=None):
        assert not isinstance(value, tuple), f"a tuple choice on {path}: {value!r}"
        return original(cls, value, optgroup)

    monkeypatch.setattr(wtf_choices.SelectChoice, "from_input", classmethod(strict))
    client = app.test_client()
    Auth(client).login_as(role)
    assert client.get(path, headers=EN).status_code == 200


def test_the_suite_fails_on_our_own_deprecations():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "error::DeprecationWarning:marketplace" in options["filterwarnings"]
    assert "error:Passing SelectField choices:DeprecationWarning" in options["filterwarnings"]


# ---- 14. make run PORT=... HOST=... ------------------------------------------------------------


def test_make_run_takes_a_port_and_a_host():
    dry = subprocess.run(["make", "-n", "run", "PORT=8123", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "run --host 0.0.0.0 --port 8123" in dry
    default = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "run --host 127.0.0.1 --port 5000" in default
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert "make run PORT=8080" in setup and "`make seed` alone" in setup and "step by step" in setup

