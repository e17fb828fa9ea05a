"""Download my data (issue 21, PIPL Art. 45): a resident's copy holds each part of what the site
keeps about them — account, household, family links, requests with their timelines and ratings,
events and hours, points statement, vouchers, messages with their deliveries, and which staff
viewed their personal data — and nothing of another person."""

import json

import pytest

from marketplace.events.models import Attendance, Event
from marketplace.menu.models import ServiceItem
from marketplace.notifications import services as notifications
from marketplace.rights import services as rights
from marketplace.service_requests import services as requests
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer
from marketplace.timeutil import utcnow
from marketplace.users.models import User
from tests.conftest import DEMO_PHONES, in_app, person

PARTS = ("account", "roles", "households", "family_links", "requests", "events", "points", "vouchers", "messages",
         "viewed_by_staff", "care")


def _a_busy_resident(app) -> int:
    """张阿姨 with a rated request, an hour and a half at an event, a voucher, a message, and a
    building head who looked at her contact details."""
    def prepare():
        from datetime import timedelta

        resident = person("resident")
        item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
        req = requests.book(resident, item.id, "厨房水龙头漏水")
        ServiceRequest.update(state="confirmed", rating=4, rating_comment="师傅很耐心").where(
            ServiceRequest.id == req.id).execute()
        requests.reveal_contact(person("building_head"), ServiceRequest.get_by_id(req.id))
        event = Event.select().order_by(Event.id).first()
        Attendance.create(event=event, user=resident, checked_in_at=utcnow() - timedelta(hours=2),
                          checked_out_at=utcnow() - timedelta(minutes=30), minutes=90, state="out", in_method="manual")
        shop.redeem(resident, Offer.get(Offer.title.startswith("免费磨刀")).id, "my-data-test")
        notifications.notify(resident, "other", "社区通知：周六停水")
        return resident.id

    return in_app(app, prepare)


def test_the_copy_holds_every_part_and_nothing_of_another_person(app):
    _a_busy_resident(app)
    data = in_app(app, lambda: rights.personal_data(person("resident")))
    assert set(PARTS) <= set(data)
    assert data["account"]["phone"] == DEMO_PHONES["resident"] and data["account"]["display_name"] == "张阿姨"
    assert data["households"] and data["households"][0]["household"]
    assert data["family_links"] == []
    [req] = data["requests"]
    assert req["description"] == "厨房水龙头漏水" and req["rating"] == 4 and req["rating_comment"] == "师傅很耐心"
    assert req["timeline"] and req["timeline"][0]["by"] == "you"
    assert [a["hours"] for a in data["events"]["attendance"]] == [1.5]
    assert data["points"]["balance"] == sum(t["points"] for t in data["points"]["transfers"])
    assert data["vouchers"] and data["vouchers"][0]["status"] == "issued"
    assert any(m["text"] == "社区通知：周六停水" for m in data["messages"])
    assert all("deliveries" in m for m in data["messages"])
    building_head = in_app(app, lambda: person("building_head").display_name)
    assert [v["by"] for v in data["viewed_by_staff"]] == [building_head]

    text = json.dumps(data, ensure_ascii=False)
    others = in_app(app, lambda: [(u.phone, u.display_name) for u in User.select().where(
        User.phone != DEMO_PHONES["resident"])])
    for phone, name in others:
        assert phone not in text
        assert name not in text or name == building_head  # the staff member who looked, by right


def test_another_persons_copy_holds_nothing_of_hers(app):
    _a_busy_resident(app)
    data = in_app(app, lambda: rights.personal_data(person("volunteer")))
    text = json.dumps(data, ensure_ascii=False)
    assert DEMO_PHONES["resident"] not in text and "张阿姨" not in text and "厨房水龙头漏水" not in text


@pytest.mark.parametrize(("lang", "title"), [("zh-CN", "我的数据"), ("en", "My data")])
def test_the_page_prints_it_and_the_download_and_the_api_give_the_same(app, client, auth, lang, title):
    _a_busy_resident(app)
    auth.login_as("resident")
    page = client.get("/account/my-data", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert f"<h1>{title}</h1>" in page and "厨房水龙头漏水" in page and DEMO_PHONES["resident"] in page
    download = client.get("/account/my-data.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    from_file = json.loads(download.get_data(as_text=True))
    from_api = client.get("/api/v1/me/data").get_json()
    assert from_file == from_api
    assert from_file["requests"][0]["description"] == "厨房水龙头漏水"


def test_without_logging_in_there_is_no_copy(client):
    assert client.get("/account/my-data.json").status_code == 302
    assert client.get("/api/v1/me/data").status_code == 401


def test_the_copy_holds_her_family_links_and_what_care_keeps_about_her(app):
    """Her son who may act for her, named (they agreed to it together); her place in the key-group
    register with what staff wrote; her care pair and its visits, the volunteer not named."""
    from marketplace.care import services as care
    from marketplace.proxy import services as proxy

    def prepare():
        resident, volunteer, staff = person("resident"), person("volunteer"), person("building_head")
        link = proxy.link_in_person(staff, resident.id, DEMO_PHONES["volunteer"], "儿子")
        member = care.add_member(staff, resident.id, "elderly_alone", "六楼，没有电梯")
        care.create_pair(staff, member.id, volunteer.id, "weekly", care.local_day(), None, 60, 10)
        return link.id, volunteer.display_name

    _link_id, volunteer_name = in_app(app, prepare)
    data = in_app(app, lambda: rights.personal_data(person("resident")))
    [link] = data["family_links"]
    assert (link["as"], link["with"], link["relation"], link["state"]) == ("resident", volunteer_name, "儿子", "active")
    assert data["care"]["register"] == [{"group": "elderly_alone", "note": "六楼，没有电梯",
                                         "since": data["care"]["register"][0]["since"]}]
    [pair] = data["care"]["pairs"]
    assert pair["as"] == "resident" and pair["frequency"] == "weekly" and pair["state"] == "active"
    assert data["care"]["visits"] and {v["state"] for v in data["care"]["visits"]} == {"due"}
    assert volunteer_name not in json.dumps(data["care"], ensure_ascii=False)
    theirs = in_app(app, lambda: rights.personal_data(person("volunteer")))
    assert [p["as"] for p in theirs["care"]["pairs"]] == ["volunteer"] and theirs["care"]["register"] == []
    assert [link["as"] for link in theirs["family_links"]] == ["family"]
