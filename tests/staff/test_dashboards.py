"""Staff dashboards, the work queue and the exports: each staff role sees exactly its scope, and
every figure equals what the test counts itself from the rows it made.

The rows are made directly (requests months old cannot be booked today), then the figures are
read the way staff read them: from the dashboard's CSV files, in English.
"""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marketplace.audit import AuditLog
from marketplace.db import db
from marketplace.events.models import Attendance, Event
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, Transfer
from marketplace.menu.models import Category, ServiceItem
from marketplace.partners import invitations
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop.models import Offer
from marketplace.timeutil import utcnow
from marketplace.users.models import PartnerInvite, RoleGrant, User
from tests.conftest import DEMO_PHONES, Auth, csrf_token, person

EN = {"Accept-Language": "en"}
LOCAL = ZoneInfo("Asia/Shanghai")
# Which buildings each demo staff member covers, written out by hand (not asked of the app).
SCOPES = {
    "building_head": {"bj_b1"},
    "grid_admin": {"bj_b1", "bj_b2"},
    "community_admin": {"bj_b1", "bj_b2", "bj_b3", "bj_b4"},
    "street_officer": None,  # everything
    "admin": None,
}


# ---- making rows ---------------------------------------------------------------------------------


def household(building_code: str, index: int = 0) -> Household:
    return Household.select().join(Building).where(Building.code == building_code).order_by(Household.id)[index]


def resident(phone: str, name: str, building_code: str, index: int = 0) -> User:
    person = User.create(phone=phone, display_name=name, password_hash="x")
    RoleGrant.create(user=person, role="resident", household=household(building_code, index))
    return person


def items_by_category() -> list[ServiceItem]:
    """One item from each of the first categories, so the requests spread over several."""
    found = []
    for category in Category.select().order_by(Category.position)[:4]:
        found.append(ServiceItem.select().where(ServiceItem.category == category).order_by(ServiceItem.id).first())
    return found


def add_request(building_code, made_days_ago, due_days_after=5, state="open", done_days_ago=None, rating=None,
                item=None, escalated_days_ago=None, feedback_due_days_ago=None):
    """A request made `made_days_ago`, due `due_days_after` days after it was made."""
    now = utcnow()
    made = now - timedelta(days=made_days_ago, hours=1)
    return ServiceRequest.create(
        resident=person(DEMO_PHONES["resident"]), household=household(building_code), item=item or items_by_category()[0],
        description="门锁坏了", points=10, state=state, created_at=made, due_at=made + timedelta(days=due_days_after),
        done_at=None if done_days_ago is None else now - timedelta(days=done_days_ago), rating=rating,
        rated_at=None if rating is None else now - timedelta(days=max((done_days_ago or 1) - 1, 0)), onsite_code="123456",
        escalated_at=None if escalated_days_ago is None else now - timedelta(days=escalated_days_ago),
        escalated_to="" if escalated_days_ago is None else "城管科",
        feedback_due_at=None if feedback_due_days_ago is None else now - timedelta(days=feedback_due_days_ago),
    )


def seed_requests() -> dict:
    """Requests in four buildings of two communities, in every state that counts differently."""
    repair, elderly, mediation, other = items_by_category()
    made = {
        # building 1 (the building head's), grid 1, Beiyuan Jiayuan
        "not_due_yet": add_request("bj_b1", 2, due_days_after=5, item=repair),
        "late_open": add_request("bj_b1", 10, due_days_after=7, item=repair),
        "on_time": add_request("bj_b1", 40, due_days_after=7, state="confirmed", done_days_ago=35, rating=5, item=elderly),
        "late_done": add_request("bj_b1", 70, due_days_after=7, state="confirmed", done_days_ago=60, rating=2, item=elderly),
        "cancelled": add_request("bj_b1", 100, state="cancelled", item=mediation),
        "last_year": add_request("bj_b1", 400, state="confirmed", done_days_ago=399, rating=1, item=repair),
        # building 2, grid 1
        "waiting_resident": add_request("bj_b2", 20, due_days_after=7, state="done", done_days_ago=15, item=other),
        "disputed": add_request("bj_b2", 25, due_days_after=7, state="disputed", done_days_ago=20, item=other,
                                escalated_days_ago=5, feedback_due_days_ago=1),
        # building 3, grid 2
        "grid2_on_time": add_request("bj_b3", 5, due_days_after=7, state="confirmed", done_days_ago=3, rating=4,
                                     item=mediation),
        "grid2_late": add_request("bj_b3", 50, due_days_after=7, state="claimed", item=repair),
        # another community
        "jinxiu": add_request("jx_b1", 30, due_days_after=7, state="confirmed", done_days_ago=28, rating=3, item=repair),
    }
    return {name: r.id for name, r in made.items()}


def seed_points_and_hours() -> None:
    """Points earned, spent and corrected, and volunteer hours in both communities."""
    admin = person(DEMO_PHONES["admin"])
    zhang, li, wang = person(DEMO_PHONES["resident"]), person("13900000002"), person(DEMO_PHONES["volunteer"])
    ledger.award(admin, li, 15, "earn_request", "request:x", "test:li")
    mistake = ledger.award(admin, wang, 10, "earn_event", "event:x", "test:wang")
    ledger.reverse(admin, mistake, "wrong event", "test:wang:reverse")
    from marketplace.shop import services as shop

    shop.redeem(zhang, Offer.get(Offer.title.startswith("免费磨刀")).id, "test:zhang:redeem")
    jx = resident("13611112222", "锦绣居民甲", "jx_b1")
    ledger.award(admin, jx, 7, "earn_event", "event:y", "test:jx")

    now = utcnow()
    organiser = person(DEMO_PHONES["community_admin"])

    def event(code, days_ago, status="published"):
        start = now - timedelta(days=days_ago)
        return Event.create(community=Community.get(Community.code == code), kind="patrol", title="巡逻", place="东门",
                            starts_at=start, ends_at=start + timedelta(hours=3), capacity=10, status=status,
                            created_by=organiser)

    bj, jx_event = event("beiyuan_jiayuan", 20), event("jinxiu_yuan", 45)
    event("beiyuan_jiayuan", 60, status="cancelled")  # not held
    event("beiyuan_jiayuan", -3)  # still to come: not held yet

    def attend(ev, person, minutes, state="out"):
        Attendance.create(event=ev, user=person, state=state, checked_in_at=ev.starts_at, in_method="kiosk",
                          checked_out_at=ev.starts_at + timedelta(minutes=minutes), out_method="kiosk", minutes=minutes)

    attend(bj, wang, 150)
    attend(bj, li, 60, state="review")  # waiting for staff: not counted yet
    attend(jx_event, jx, 90)


def seeded_street(app) -> dict:
    """The requests, points and hours the dashboards' and the board's tests count (their ids)."""
    with app.test_request_context(headers=EN):
        db.connect(reuse_if_open=True)
        ids = seed_requests()
        seed_points_and_hours()
    return ids


@pytest.fixture
def seeded(app):
    return seeded_street(app)


def link(request_id) -> str:
    return f'/requests/{request_id}"'


def signed_in(app, role) -> tuple:
    client = app.test_client()
    Auth(client).login_as(role)
    return client


# ---- counting independently ------------------------------------------------------------------------


def local_month(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).astimezone(LOCAL).strftime("%Y-%m")


def window() -> list[str]:
    today = datetime.now(LOCAL).date()
    months, year, month = [], today.year, today.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def building_code_of(request: ServiceRequest) -> str:
    return Building.select(Building.code).join(Household).where(Household.id == request.household_id).get().code


def expected_requests(buildings: set | None) -> dict:
    months, now = set(window()), utcnow()
    counts = dict.fromkeys(["received", "handled", "decided", "on_time", "ratings", "rating_sum"], 0)
    for r in ServiceRequest.select():
        if buildings is not None and building_code_of(r) not in buildings:
            continue
        if local_month(r.created_at) not in months:
            continue
        handled = r.state in ("done", "confirmed")
        counts["received"] += 1
        counts["handled"] += handled
        counts["decided"] += r.state != "cancelled" and (handled or r.due_at < now)
        counts["on_time"] += handled and r.done_at <= r.due_at
        if r.rating is not None:
            counts["ratings"] += 1
            counts["rating_sum"] += r.rating
    return counts


def people_of(buildings: set | None, communities: set | None) -> set | None:
    """User ids of the residents of the buildings and the volunteers of the communities."""
    if buildings is None:
        return None
    ids = {g.user_id for g in RoleGrant.select().join(Household).join(Building)
           .where(RoleGrant.role == "resident", Building.code.in_(buildings))}
    if communities:
        ids |= {g.user_id for g in RoleGrant.select().join(Community, on=(RoleGrant.community == Community.id))
                .where(RoleGrant.role == "volunteer", Community.code.in_(communities))}
    return ids


def expected_points(buildings: set | None, communities: set | None) -> dict:
    people = people_of(buildings, communities)
    accounts = {}
    for a in Account.select().where(Account.kind.in_(("user", "partner"))):
        if people is None or a.user_id in people or (
            a.partner_id and communities and a.partner.community.code in communities
        ):
            accounts[a.id] = a.balance
    issuer = Account.get(Account.code == "issuer").id
    months = set(window())
    issued = redeemed = 0
    for t in Transfer.select():
        if local_month(t.created_at) not in months:
            continue
        if t.debit_id == issuer and t.credit_id in accounts:
            issued += t.amount
        if t.credit_id == issuer and t.debit_id in accounts:
            issued -= t.amount
        if t.kind == "redeem" and t.debit_id in accounts:
            redeemed += t.amount
        if t.kind == "refund" and t.credit_id in accounts:
            redeemed -= t.amount
    minutes = sum(a.minutes for a in Attendance.select().where(Attendance.state == "out")
                  if (people is None or a.user_id in people) and local_month(a.checked_in_at) in months)
    return {"issued": issued, "redeemed": redeemed, "outstanding": sum(accounts.values()), "hours": minutes / 60}


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def summary(client, area=None) -> dict:
    path = "/staff/dashboard/summary.csv" + (f"?area={area}" if area else "")
    return {row[0]: row[1] for row in read_csv(client.get(path, headers=EN))[1:]}


def share(counts) -> str:
    return str(round(counts["on_time"] / counts["decided"] * 100, 1)) if counts["decided"] else ""


# ---- the tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(SCOPES))
def test_each_role_sees_the_figures_of_exactly_its_scope(app, seeded, role):
    client = signed_in(app, role)
    figures = summary(client)
    buildings = SCOPES[role]
    communities = {"beiyuan_jiayuan"} if role == "community_admin" else None
    with app.test_request_context():
        counts = expected_requests(buildings)
        points = expected_points(buildings, communities)
    assert figures["Requests made in the last 12 months"] == str(counts["received"])
    assert figures["Handled"] == str(counts["handled"])
    assert figures["Deadline passed or handled"] == str(counts["decided"])
    assert figures["Handled on time"] == str(counts["on_time"])
    assert figures["Share on time (%)"] == share(counts)
    assert figures["Ratings"] == str(counts["ratings"])
    average = round(counts["rating_sum"] / counts["ratings"], 1) if counts["ratings"] else ""
    assert figures["Average satisfaction"] == str(average)
    assert figures["Volunteer hours"] == str(round(points["hours"], 1))
    assert figures["Points issued"] == str(points["issued"])
    assert figures["Points redeemed"] == str(points["redeemed"])
    assert figures["Points outstanding now"] == str(points["outstanding"])


def test_the_figures_are_the_ones_the_rows_were_made_for(app, seeded):
    """The same figures, written out by hand for the building head and the grid administrator, so a
    mistake shared by the app and the counting helpers above would still be caught."""
    building = summary(signed_in(app, "building_head"))
    # Building 1 in the window: not_due_yet, late_open, on_time, late_done, cancelled (last_year is too old).
    assert building["Requests made in the last 12 months"] == "5"
    assert building["Handled"] == "2"
    assert building["Deadline passed or handled"] == "3"  # late_open, on_time, late_done
    assert building["Handled on time"] == "1"
    assert building["Share on time (%)"] == "33.3"
    assert building["Average satisfaction"] == "3.5"  # 5 and 2
    assert building["Late now"] == "1"
    assert building["Points redeemed"] == "20"  # 张阿姨's knife-sharpening voucher
    assert building["Volunteer hours"] == "0.0"  # 王小明 lives in building 2
    grid = summary(signed_in(app, "grid_admin"))
    assert grid["Requests made in the last 12 months"] == "7"
    assert grid["Disputed now"] == "1"
    assert grid["Waiting for the resident's confirmation"] == "1"
    assert grid["Escalated, feedback to the resident late"] == "1"
    assert grid["Volunteer hours"] == "2.5"  # 150 minutes; 李大爷's hour waits for review
    street = summary(signed_in(app, "street_officer"))
    assert street["Volunteer hours"] == "4.0"  # and 90 minutes in Jinxiu Yuan
    assert street["Requests made in the last 12 months"] == "10"


def test_months_and_breakdowns_match_the_rows(app, seeded):
    client = signed_in(app, "community_admin")
    rows = read_csv(client.get("/staff/dashboard/months.csv", headers=EN))
    assert [r[0] for r in rows[1:]] == window()
    with app.test_request_context():
        expected = {}
        for r in ServiceRequest.select():
            if building_code_of(r).startswith("bj_"):
                expected[local_month(r.created_at)] = expected.get(local_month(r.created_at), 0) + 1
    assert {r[0]: int(r[1]) for r in rows[1:] if int(r[1])} == {m: n for m, n in expected.items() if m in window()}

    by_grid = {r[0]: r[1:] for r in read_csv(client.get("/staff/dashboard/places.csv", headers=EN))[1:]}
    assert set(by_grid) == {"Grid 1", "Grid 2"}
    assert by_grid["Grid 1"][0] == "7" and by_grid["Grid 2"][0] == "2"
    assert by_grid["Grid 2"][-1] == "1"  # grid2_late is late now
    by_category = read_csv(client.get("/staff/dashboard/categories.csv", headers=EN))
    assert sum(int(r[1]) for r in by_category[1:]) == 9
    assert len(by_category) - 1 == 4


def test_a_grid_administrator_sees_nothing_of_another_grid(app, seeded):
    client = signed_in(app, "grid_admin")
    page = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    assert "Grid 2" not in page and "Building 3" not in page and "Jinxiu" not in page
    assert "Building 1" in page and "Building 2" in page  # the breakdown is by building for a grid
    places = read_csv(client.get("/staff/dashboard/places.csv", headers=EN))
    assert {r[0] for r in places[1:]} == {"Building 1", "Building 2"}
    with app.app_context():
        grid2 = Grid.get(Grid.code == "bj_g2").id
        building3 = Building.get(Building.code == "bj_b3").id
        jinxiu = Community.get(Community.code == "jinxiu_yuan").id
        grid1 = Grid.get(Grid.code == "bj_g1").id
        building2 = Building.get(Building.code == "bj_b2").id
    for area in (f"g{grid2}", f"b{building3}", f"c{jinxiu}", "x1", "g"):
        assert client.get(f"/staff/dashboard?area={area}").status_code == 404
        assert client.get(f"/staff/dashboard/summary.csv?area={area}").status_code == 404
    # Narrowing inside the scope works, and counts only that building.
    assert summary(client, f"b{building2}")["Requests made in the last 12 months"] == "2"
    assert summary(client, f"g{grid1}")["Requests made in the last 12 months"] == "7"

    exported = read_csv(client.get("/staff/exports/requests-all.csv", headers=EN))
    assert {r[5] for r in exported[1:]} == {"Building 1", "Building 2"}
    assert len(exported) - 1 == 8  # last year's request too: the list is not limited to 12 months
    late = read_csv(client.get("/staff/queue/deadlines.csv", headers=EN))
    expected = {seeded["late_open"], seeded["disputed"]} | ({seeded["not_due_yet"]} if _due_soon(app, seeded["not_due_yet"]) else set())
    assert {int(r[0]) for r in late[1:]} == expected
    people = read_csv(client.get("/staff/exports/people.csv", headers=EN))
    names = {r[0] for r in people[1:]}
    assert "张阿姨" in names and "王小明" in names and "李大爷" not in names
    accounts = read_csv(client.get("/staff/exports/accounts.csv", headers=EN))
    assert "李大爷" not in {r[0] for r in accounts[1:]}


def _due_soon(app, request_id) -> bool:
    from marketplace.service_requests.models import due_soon_horizon

    with app.test_request_context():
        return ServiceRequest.get_by_id(request_id).due_at <= due_soon_horizon()


def test_a_community_administrator_cannot_open_another_community(app, seeded):
    client = signed_in(app, "community_admin")
    with app.app_context():
        jinxiu = Community.get(Community.code == "jinxiu_yuan").id
        grid = Grid.get(Grid.code == "jx_g1").id
    assert client.get(f"/staff/dashboard?area=c{jinxiu}").status_code == 404
    assert client.get(f"/staff/dashboard/months.csv?area=g{grid}").status_code == 404
    page = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    assert "Jinxiu" not in page
    street = signed_in(app, "street_officer")
    assert street.get(f"/staff/dashboard?area=c{jinxiu}").status_code == 200
    assert summary(street, f"c{jinxiu}")["Requests made in the last 12 months"] == "1"


def test_csv_opens_in_excel_with_chinese_intact(app, seeded):
    client = signed_in(app, "community_admin")
    response = client.get("/staff/dashboard/categories.csv")  # in Chinese, the default language
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        names = {c.name_zh for c in Category.select()}
    assert {r[0] for r in rows[1:]} <= names and rows[1:]
    assert b"\r\n" in response.data  # Excel's line ends
    exported = read_csv(client.get("/staff/exports/requests-all.csv"))
    assert {row[3] for row in exported[1:]} == {"北苑家园社区"}
    assert {row[5] for row in exported[1:]} == {"1号楼", "2号楼", "3号楼"}


def test_request_exports_name_no_resident_and_are_audited(app, seeded):
    client = signed_in(app, "building_head")
    body = client.get("/staff/exports/requests-all.csv").data.decode("utf-8-sig")
    assert "张阿姨" not in body and DEMO_PHONES["resident"] not in body
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "requests.exported").count() == 1


def test_dashboard_pages_draw_every_chart_with_its_numbers(app, seeded):
    client = signed_in(app, "admin")
    page = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    assert page.count("<svg class=\"chart\"") == 5
    assert page.count("<svg class=\"hbar\"") >= 4
    assert page.count("/staff/dashboard/months.csv") == 5
    assert "/staff/dashboard/categories.csv" in page and "/staff/dashboard/places.csv" in page
    assert "<script" not in page.split("</head>", 1)[1]  # no inline script: the CSP forbids it
    assert "Grid 1" in page and "Grid 2" in page


# ---- the work queue ---------------------------------------------------------------------------------


def test_every_queue_item_can_be_acted_on_from_the_queue(app, seeded):
    with app.test_request_context(headers=EN):
        from marketplace.ledger import adjustments
        from marketplace.shop import services as shop

        zhang = person(DEMO_PHONES["resident"])
        listing = shop.list_second_hand_item(zhang, {"title": "旧台灯", "price": 5, "stock": 1,
                                                     "valid_from": shop.today_local(),
                                                     "valid_until": shop.today_local() + timedelta(days=7)})
        app.config["ADJUSTMENT_APPROVAL_THRESHOLD"] = 0
        adjustments.request_adjustment(person(DEMO_PHONES["admin"]), ledger.user_account(zhang).id,
                                                    "credit", 5, "帮忙搬家")

        invitations.invite_partner_staff(person(DEMO_PHONES["community_admin"]),
                                           Offer.get(Offer.partner.is_null(False)).partner_id, "新店员")
        invite = PartnerInvite.select().order_by(PartnerInvite.id.desc()).get()
    client = signed_in(app, "community_admin")
    page = client.get("/staff/", headers=EN).get_data(as_text=True)
    # Each item carries the form or link that deals with it.
    assert "/staff/residency/" in page and "/verify" in page  # 陈奶奶
    assert f"/shop/review/{listing.id}/approve" in page
    assert "/points/adjustments" in page and "帮忙搬家" in page
    assert f"/staff/invitations/{invite.id}/withdraw" in page and f"/partners/{invite.partner_id}" in page
    assert link(seeded['late_open']) in page
    assert link(seeded['disputed']) in page
    assert link(seeded['grid2_late']) in page
    assert link(seeded['jinxiu']) not in page  # another community's
    assert link(seeded['on_time']) not in page  # finished

    # Withdrawing an invitation from the queue makes the link stop working.
    response = client.post(f"/staff/invitations/{invite.id}/withdraw", data={"csrf_token": csrf_token(client, "/staff/")},
                           headers=EN)
    assert response.status_code == 302
    with app.app_context():
        assert PartnerInvite.get_by_id(invite.id).revoked
        assert AuditLog.select().where(AuditLog.action == "partners.invite.withdrawn").count() == 1
    again = client.post(f"/staff/invitations/{invite.id}/withdraw", data={"csrf_token": csrf_token(client, "/staff/")},
                        headers=EN, follow_redirects=True)
    assert "already withdrawn" in again.get_data(as_text=True)

    # The building head sees the requests of their building only, and no community-level queues.
    head = signed_in(app, "building_head")
    page = head.get("/staff/", headers=EN).get_data(as_text=True)
    assert link(seeded['late_open']) in page
    assert link(seeded['disputed']) not in page and link(seeded['grid2_late']) not in page
    assert "/withdraw" not in page and "/points/adjustments" not in page
    assert head.get("/staff/queue/invitations.csv").status_code == 404
    assert head.post(f"/staff/invitations/{invite.id}/withdraw",
                     data={"csrf_token": csrf_token(head, "/staff/")}).status_code == 403


def test_an_invitation_of_another_community_is_not_found(app):
    with app.test_request_context(headers=EN):
        db.connect(reuse_if_open=True)
        from marketplace.partners.models import PartnerEnterprise

        jinxiu = Community.get(Community.code == "jinxiu_yuan")
        shop = PartnerEnterprise.create(community=jinxiu, name="锦绣修鞋", business="修鞋", contact_phone="010-1",
                                        address="锦绣路1号")
        invite = PartnerInvite.create(partner=shop, token_hash="f" * 64, expires_at=utcnow() + timedelta(days=3))
    client = signed_in(app, "community_admin")
    response = client.post(f"/staff/invitations/{invite.id}/withdraw", data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 404
    with app.app_context():
        assert not PartnerInvite.get_by_id(invite.id).revoked
    assert f"/staff/invitations/{invite.id}/withdraw" not in client.get("/staff/").get_data(as_text=True)


def test_the_queue_warns_when_next_years_holidays_are_missing(app):
    from marketplace import workdays

    with app.app_context():
        next_year = datetime.now(LOCAL).year + 1
        if workdays.package_knows(next_year):
            pytest.skip("the calendar package knows next year already")
    client = signed_in(app, "community_admin")
    page = client.get("/staff/", headers=EN).get_data(as_text=True)
    assert f"The holidays of {next_year} are not entered yet" in page
    assert f"/staff/calendar?year={next_year}" in page
