"""The audit log page: community administrators see what concerns their communities, admins see
everything, nobody else sees it; entries can be found by who, what and when, and downloaded."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marketplace import audit
from marketplace.db import db
from marketplace.places.models import Community
from marketplace.service_requests.models import ServiceRequest
from marketplace.users.models import RoleGrant, User
from tests.conftest import DEMO_PHONES, Auth
from tests.staff.test_dashboards import add_request, read_csv

EN = {"Accept-Language": "en"}


@pytest.fixture
def entries(app):
    """Entries about Beiyuan Jiayuan, about Jinxiu Yuan, and about the street's calendar."""
    with app.test_request_context(headers=EN):
        db.connect(reuse_if_open=True)
        admin = User.get(User.phone == DEMO_PHONES["admin"])
        grid_admin = User.get(User.phone == DEMO_PHONES["grid_admin"])
        ours = add_request("bj_b1", 3)
        theirs = add_request("jx_b1", 3)
        other_admin = User.create(phone="13622223333", display_name="锦绣主任", password_hash="x")
        RoleGrant.create(user=other_admin, role="community_admin", community=Community.get(Community.code == "jinxiu_yuan"))
        audit.record(admin, "requests.escalated", ours, department="城管科", note="ours-escalated")
        audit.record(admin, "requests.escalated", theirs, department="城管科", note="theirs-escalated")
        audit.record(grid_admin, "requests.personal_data.viewed", ours)
        audit.record(other_admin, "users.account.deactivated", other_admin, note="theirs-deactivated")
        audit.record(other_admin, "workdays.days.set", None, first="2027-01-01", last="2027-01-03", note="street-calendar")
        return {"ours": ours.id, "theirs": theirs.id}


def signed_in(app, role):
    client = app.test_client()
    Auth(client).login_as(role)
    return client


def test_a_community_administrator_sees_their_communitys_entries_only(app, entries):
    client = signed_in(app, "community_admin")
    page = client.get("/staff/audit", headers=EN).get_data(as_text=True)
    assert "ours-escalated" in page and "street-calendar" in page and "requests.personal_data.viewed" in page
    assert "theirs-escalated" not in page and "theirs-deactivated" not in page
    assert f'/requests/{entries["ours"]}"' in page  # the entry links to what it is about

    rows = read_csv(client.get("/staff/audit.csv", headers=EN))
    text = "\n".join(",".join(r) for r in rows)
    assert "ours-escalated" in text and "theirs-escalated" not in text and "theirs-deactivated" not in text
    # Even asked for by its number, the other community's request is not there.
    page = client.get(f"/staff/audit?object_type=ServiceRequest&object_id={entries['theirs']}", headers=EN)
    assert "theirs-escalated" not in page.get_data(as_text=True) and "No entries match." in page.get_data(as_text=True)

    everything = signed_in(app, "admin").get("/staff/audit", headers=EN).get_data(as_text=True)
    assert "theirs-escalated" in everything and "theirs-deactivated" in everything and "ours-escalated" in everything


def test_only_community_administrators_and_admins_open_it(app, entries):
    for role in ("building_head", "grid_admin", "street_officer", "resident", "volunteer"):
        client = signed_in(app, role)
        assert client.get("/staff/audit").status_code == 403, role
        assert client.get("/staff/audit.csv").status_code == 403, role
    assert app.test_client().get("/staff/audit").status_code == 302  # to the login page


def test_searching_by_who_what_and_when(app, entries):
    client = signed_in(app, "community_admin")

    def found(query):
        page = client.get(f"/staff/audit?{query}", headers=EN)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        return {n for n in ("ours-escalated", "street-calendar", "requests.personal_data.viewed") if n in text}

    assert found("actor=赵网格员") == {"requests.personal_data.viewed"}
    assert found("actor=0003") == {"requests.personal_data.viewed"}  # the grid administrator's phone ends 0003
    assert found("actor=138-0000-0001") == {"ours-escalated"}  # the administrator, typed with dashes
    assert found(f"object_type=ServiceRequest&object_id={entries['ours']}") == {"ours-escalated",
                                                                                "requests.personal_data.viewed"}
    assert found("object_type=WorkdayOverride") == {"street-calendar"}
    assert found("area=requests") == {"ours-escalated", "requests.personal_data.viewed"}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert found(f"since={today}&until={today}") == {"ours-escalated", "street-calendar", "requests.personal_data.viewed"}
    assert found(f"since={today + timedelta(days=1)}") == set()
    assert found(f"until={today - timedelta(days=1)}") == set()

    rows = read_csv(client.get("/staff/audit.csv?actor=赵网格员", headers=EN))
    assert len(rows) == 2 and "赵网格员" in rows[1][1]


@pytest.mark.parametrize("query, message", [
    ("since=2026-13-01", "Please write the date like 2026-11-01."),
    ("since=yesterday", "Please write the date like 2026-11-01."),
    ("object_id=abc", "Please enter a number"),
    ("since=2026-11-10&until=2026-11-01", "This is before the first day."),
])
def test_a_bad_search_says_what_is_wrong(app, entries, query, message):
    client = signed_in(app, "community_admin")
    response = client.get(f"/staff/audit?{query}", headers=EN)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_staff_actions_land_in_the_log_with_their_object(app, entries):
    """Withdrawing a fund-use entry and removing a calendar day are found by what they are about."""
    from marketplace.public.models import FundUse

    with app.app_context():
        ServiceRequest.get_by_id(entries["ours"])  # still there: the log keeps no copy of personal data
        entry = FundUse.create(community=Community.get(Community.code == "beiyuan_jiayuan"), spent_on=datetime(2026, 11, 1),
                               purpose="路灯", amount_fen=100, approved_by="居委会",
                               created_by=User.get(User.phone == DEMO_PHONES["community_admin"]))
    client = signed_in(app, "community_admin")
    from tests.conftest import csrf_token

    client.post(f"/staff/funds/{entry.id}/withdraw", data={"reason": "金额写错", "csrf_token": csrf_token(client, "/staff/funds")})
    page = client.get(f"/staff/audit?object_type=FundUse&object_id={entry.id}", headers=EN).get_data(as_text=True)
    assert "public.fund_use.withdrawn" in page and "金额写错" in page
