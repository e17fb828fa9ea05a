"""The public disclosure board: anyone may read it; its figures equal what the test counts from
the rows; it never shows a resident's name, phone number or address; staff publish fund-use
entries on it, and what would put personal data on it is refused."""

import pytest

from marketplace.demo import PEOPLE
from marketplace.errors import DomainError
from marketplace.events.models import Attendance, Event
from marketplace.places.models import Building, Community, Household
from marketplace.public.models import FundUse
from marketplace.service_requests.models import ServiceRequest
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User
from tests.conftest import Auth, csrf_token
from tests.staff.test_dashboards import (
    EN,
    add_request,
    expected_points,
    expected_requests,
    local_month,
    read_csv,
    seeded_street,
    window,
)

COMMUNITY_BUILDINGS = {"beiyuan_jiayuan": {"bj_b1", "bj_b2", "bj_b3", "bj_b4"}}


@pytest.fixture
def seeded(app):
    return seeded_street(app)


def community_id(app, code) -> int:
    with app.app_context():
        return Community.get(Community.code == code).id


def board_rows(client, query="") -> dict:
    rows = read_csv(client.get(f"/board.csv{query}", headers=EN))
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def test_anyone_reads_the_board_without_logging_in(app, client, seeded):
    response = client.get("/board", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Public board" in page and "Use of funds" in page
    assert page.count('<svg class="chart"') == 6
    assert client.get("/board?community=999").status_code == 404
    assert client.get("/board?community=abc").status_code == 404
    assert client.get("/board.csv?community=999").status_code == 404


@pytest.mark.parametrize("code", [None, "beiyuan_jiayuan"])
def test_the_board_figures_equal_the_rows(app, client, seeded, code):
    query = f"?community={community_id(app, code)}" if code else ""
    months = board_rows(client, query)
    assert list(months) == window()
    buildings = COMMUNITY_BUILDINGS.get(code)
    with app.test_request_context():
        counts = expected_requests(buildings)
        points = expected_points(buildings, {code} if code else None)
        events = [e for e in Event.select().where(Event.status == "published")
                  if (code is None or e.community.code == code) and e.ends_at < utcnow()
                  and local_month(e.starts_at) in window()]
        per_month = {}
        for r in ServiceRequest.select():
            building = Building.select().join(Household).where(Household.id == r.household_id).get().code
            if buildings is None or building in buildings:
                per_month[local_month(r.created_at)] = per_month.get(local_month(r.created_at), 0) + 1
    total = lambda column: sum(float(m[column] or 0) for m in months.values())  # noqa: E731
    assert total("Requests made") == counts["received"]
    assert total("Handled") == counts["handled"]
    assert total("Handled on time") == counts["on_time"]
    assert total("Deadline passed or handled") == counts["decided"]
    assert total("Ratings") == counts["ratings"]
    assert total("Points issued") == points["issued"]
    assert total("Points redeemed") == points["redeemed"]
    assert round(total("Volunteer hours"), 1) == round(points["hours"], 1)
    assert total("Events held") == len(events)
    assert {m: int(v["Requests made"]) for m, v in months.items() if int(v["Requests made"])} == {
        m: n for m, n in per_month.items() if m in window()}


def test_an_average_of_fewer_than_three_ratings_is_not_shown(app, client, seeded):
    code = community_id(app, "jinxiu_yuan")
    months = board_rows(client, f"?community={code}")
    rated = [m for m in months.values() if m["Ratings"] != "0"]
    assert len(rated) == 1 and rated[0]["Ratings"] == "1" and rated[0]["Average satisfaction"] == ""
    with app.app_context():
        for stars in (4, 5):
            add_request("jx_b2", 30, state="confirmed", done_days_ago=29, rating=stars)
    months = board_rows(client, f"?community={code}")
    rated = [m for m in months.values() if m["Ratings"] != "0"]
    assert {m["Ratings"] for m in rated} == {"3"} and rated[0]["Average satisfaction"] == "4.0"


def test_the_board_shows_no_personal_data(app, client, seeded):
    staff = Auth(app.test_client())
    staff.login_as("community_admin")
    staff.post("/staff/funds", {"community": str(community_id(app, "beiyuan_jiayuan")), "spent_on": "2026-11-20",
                                "purpose": "为独居老人更换门锁", "amount": "3280.50", "approved_by": "居委会 11月会议"},
               token_from="/staff/funds")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert FundUse.select().count() == 1
        residents = User.select().join(RoleGrant, on=(RoleGrant.user == User.id)).where(RoleGrant.role == "resident")
        names = {u.display_name for u in residents} | {name for _phone, name, *_rest in PEOPLE}
        phones = {u.phone for u in User.select()} | {phone for phone, *_rest in PEOPLE}
        addresses = {h.address() for h in Household.select()}
        units = {h.unit for h in Household.select() if h.id in
                 {r.household_id for r in ServiceRequest.select(ServiceRequest.household)}}
        descriptions = {r.description for r in ServiceRequest.select()}
    staff_names = {"刘主任", "赵网格员", "孙楼长", "周科员", "系统管理员"}
    pages = [client.get(path, headers=headers).get_data(as_text=True)
             for path in ("/board", "/board.csv", "/board/funds.csv",
                          *(f"/board?community={c}" for c in range(1, 4)), *(f"/board.csv?community={c}" for c in range(1, 4)))
             for headers in (EN, {"Accept-Language": "zh-CN"})]
    pages = [p.lstrip("\ufeff") for p in pages]
    assert "为独居老人更换门锁" in pages[0]
    for page in pages:
        for name in names - staff_names:
            assert name not in page, name
        for phone in phones:
            assert phone not in page and f"{phone[:3]}****{phone[-4:]}" not in page, phone
        for text in addresses | descriptions:
            assert text not in page, text
        for unit in units:
            assert f">{unit}<" not in page and f",{unit}," not in page, unit


def _publish(client, **fields):
    data = {"community": "", "spent_on": "2026-11-20", "purpose": "社区花园浇灌设备", "amount": "560", "approved_by": "居委会",
            **fields}
    return client.post("/staff/funds", data={**data, "csrf_token": csrf_token(client, "/staff/funds")}, headers=EN)


@pytest.fixture
def community_admin(app):
    client = app.test_client()
    Auth(client).login_as("community_admin")
    return client


@pytest.mark.parametrize("fields, message", [
    ({"purpose": "给13900000001张阿姨买药"}, "must not show phone numbers"),
    ({"purpose": "请联系 139-0000-0002"}, "must not show phone numbers"),
    ({"purpose": "资助张阿姨修理门窗"}, "names a resident"),
    ({"approved_by": "李大爷"}, "names a resident"),
    ({"amount": "abc"}, "Please enter the amount in yuan"),
    ({"amount": "0"}, "above zero"),
    ({"amount": "12.345"}, "two decimal places"),
    ({"spent_on": "2026-02-30"}, "Please enter the date"),
    ({"spent_on": "2099-01-01"}, "cannot be in the future"),
    ({"purpose": ""}, "Please say what the money was used for"),
    ({"approved_by": ""}, "Please say who approved it"),
])
def test_a_wrong_or_revealing_entry_is_refused_and_nothing_published(app, community_admin, fields, message):
    fields.setdefault("community", str(community_id(app, "beiyuan_jiayuan")))
    response = _publish(community_admin, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert FundUse.select().count() == 0


def test_fund_use_is_published_where_staff_may_and_withdrawn_with_a_reason(app, client, community_admin):
    beiyuan, jinxiu = community_id(app, "beiyuan_jiayuan"), community_id(app, "jinxiu_yuan")
    # A community administrator publishes for their own community only, and never street-wide.
    assert _publish(community_admin, community=str(jinxiu)).status_code == 403
    assert _publish(community_admin, community="").status_code == 403
    assert _publish(community_admin, community=str(beiyuan), amount="1,280.5",
                    approved_by="刘主任 经手").status_code == 302  # a staff member may be named as the approver
    officer = app.test_client()
    Auth(officer).login_as("street_officer")
    assert _publish(officer, community="", purpose="街道统一采购急救包", amount="9999.99").status_code == 302

    beiyuan_page = client.get(f"/board?community={beiyuan}", headers=EN).get_data(as_text=True)
    jinxiu_page = client.get(f"/board?community={jinxiu}", headers=EN).get_data(as_text=True)
    assert "社区花园浇灌设备" in beiyuan_page and "¥1,280.50" in beiyuan_page
    assert "社区花园浇灌设备" not in jinxiu_page
    assert "街道统一采购急救包" in beiyuan_page and "街道统一采购急救包" in jinxiu_page  # the street's own
    rows = read_csv(client.get(f"/board/funds.csv?community={beiyuan}", headers=EN))
    assert rows[0] == ["Date", "Community", "What it was used for", "Amount (yuan)", "Approved by"]
    assert ["2026-11-20", "Beiyuan Jiayuan Community", "社区花园浇灌设备", "1280.50", "刘主任 经手"] in rows

    with app.app_context():
        entry = FundUse.get(FundUse.purpose == "社区花园浇灌设备")
        street = FundUse.get(FundUse.purpose == "街道统一采购急救包")
    withdraw = f"/staff/funds/{entry.id}/withdraw"
    token = csrf_token(community_admin, "/staff/funds")
    community_admin.post(withdraw, data={"reason": "", "csrf_token": token})
    with app.app_context():
        assert FundUse.get_by_id(entry.id).withdrawn_at is None  # a reason is needed
    assert community_admin.post(f"/staff/funds/{street.id}/withdraw",
                                data={"reason": "x", "csrf_token": token}).status_code == 404  # not theirs
    assert community_admin.post(withdraw, data={"reason": "金额有误，已重新公示", "csrf_token": token}).status_code == 302
    assert "社区花园浇灌设备" not in client.get(f"/board?community={beiyuan}").get_data(as_text=True)
    staff_page = community_admin.get("/staff/funds", headers=EN).get_data(as_text=True)
    assert "社区花园浇灌设备" in staff_page and "金额有误，已重新公示" in staff_page  # kept, marked withdrawn
    assert "街道统一采购急救包" not in staff_page  # the street's entries are the street officers'


def test_volunteer_hours_and_events_per_community(app, client, seeded):
    """The hours of Beiyuan Jiayuan's volunteers and its events, not Jinxiu Yuan's."""
    beiyuan = board_rows(client, f"?community={community_id(app, 'beiyuan_jiayuan')}")
    jinxiu = board_rows(client, f"?community={community_id(app, 'jinxiu_yuan')}")
    with app.app_context():
        minutes = {code: sum(a.minutes for a in Attendance.select().join(Event).join(Community)
                             .where(Attendance.state == "out", Community.code == code)) for code in ("beiyuan_jiayuan",
                                                                                                    "jinxiu_yuan")}
    assert sum(float(m["Volunteer hours"]) for m in beiyuan.values()) == minutes["beiyuan_jiayuan"] / 60 == 2.5
    assert sum(float(m["Volunteer hours"]) for m in jinxiu.values()) == minutes["jinxiu_yuan"] / 60 == 1.5
    assert sum(int(m["Events held"]) for m in beiyuan.values()) == 1  # the cancelled one and the coming one are not
    assert sum(int(m["Events held"]) for m in jinxiu.values()) == 1


def test_a_made_up_community_number_is_a_clean_not_found_never_an_error(client):
    for query in ("?community=99999999999999999999", "?community=-1", "?community=abc"):
        for path in ("/board", "/board.csv", "/board/funds.csv"):
            response = client.get(path + query, headers=EN)
            assert response.status_code == 404, path + query
            assert "This page does not exist." in response.get_data(as_text=True), path + query


def test_a_resident_named_with_wildcards_does_not_block_publishing(app, client):
    from marketplace.public import services as board
    from marketplace.users.models import User

    with app.test_request_context(headers=EN):
        User.update(display_name="%%").where(User.phone == "13900000002").execute()
        assert not board._resident_named_in("楼道粉刷用漆")
        assert board._resident_named_in("给张阿姨买药")  # a real name still counts
        with pytest.raises(DomainError, match="too large"):  # a clear message, not a crash
            board.parse_yuan("1e30")


def test_a_hidden_rating_cannot_be_worked_out_by_subtracting_what_is_shown(app, client, seeded):
    jinxiu = board_rows(client, f"?community={community_id(app, 'jinxiu_yuan')}")
    hidden = [month for month, row in jinxiu.items() if row["Ratings"] in ("1", "2")]
    assert hidden  # the seeded street has one lone rating in 锦绣园
    with app.app_context():  # enough ratings in 北苑家园 that month for the street to have 3 or more
        for stars in (4, 5):
            add_request("bj_b1", 30, state="confirmed", done_days_ago=29, rating=stars)
    street = board_rows(client)
    for month in hidden:
        assert int(street[month]["Ratings"]) >= 3  # enough ratings street-wide, yet:
        assert street[month]["Average satisfaction"] == ""  # street minus the other communities would give it
    page = client.get("/board", headers=EN).get_data(as_text=True)
    assert 'class="kpi-value">★ —' in page  # nor the 12 months' average (the year minus its months)
    beiyuan = board_rows(client, f"?community={community_id(app, 'beiyuan_jiayuan')}")
    shown = [row for row in beiyuan.values() if int(row["Ratings"]) >= 3]
    assert shown and all(row["Average satisfaction"] for row in shown)  # nothing to hide there
