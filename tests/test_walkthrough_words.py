"""Issue 22, the words: what a walk through every role found wrong on the pages, in Chinese first
(points 1-3, 5 and 6). Each test reads the catalogue's msgstr and the page that shows it."""

import re
from datetime import date, timedelta

from babel.messages.pofile import read_po

from marketplace.events.models import Attendance, Event
from marketplace.ledger.forms import KIND_LABELS
from marketplace.ledger.models import TRANSFER_KINDS
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer
from marketplace.timeutil import utcnow
from tests.conftest import Auth, csrf_token, in_app, person
from tests.staff.test_dashboards import add_request, read_csv
from tests.test_languages import CATALOGUE

EN = {"Accept-Language": "en"}


def catalogue():
    with CATALOGUE.open("rb") as fh:
        return read_po(fh)


def msgstr(msgid, context=None):
    message = catalogue().get(msgid, context=context)
    assert message is not None, (context, msgid)
    return message.string


def chinese(app, role=None):
    client = app.test_client()
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    if role:
        Auth(client).login_as(role)
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---- 1. sign up, publish, a token's name, the helper's "done" -------------------------------


def test_event_sign_up_is_baoming_and_publish_is_fabu(app):
    assert msgstr("Sign up", "event") == "报名" and msgstr("Sign up") == "注册"  # an account is still 注册
    assert msgstr("Publish") == "发布"
    patrol = in_app(app, lambda: Event.get(Event.title.startswith("夜间安全巡逻")).id)
    page = text(chinese(app, "resident").get(f"/events/{patrol}"))
    assert "报名" in page and "注册" not in page
    assert "发布" in text(chinese(app, "partner_staff").get("/shop/manage"))


def test_a_tokens_name_is_mingcheng_not_a_persons_name(app):
    assert msgstr("Name", "token") == "名称"
    page = text(chinese(app, "resident").get("/account/api-tokens/"))
    assert "名称" in page and "姓名" not in page


def test_the_helper_reads_done_in_their_own_words(app):
    assert msgstr("done, waiting for the resident to confirm") == "已完成，等待居民确认"

    def done_job():
        req = add_request("bj_b1", 2, state="done", done_days_ago=0)
        ServiceRequest.update(claimer=person("volunteer"), claimed_at=utcnow()).where(ServiceRequest.id == req.id).execute()
        return req.id

    request_id = in_app(app, done_job)
    helper = chinese(app, "volunteer")
    for page in (text(helper.get("/jobs/mine")), text(helper.get(f"/requests/{request_id}"))):
        assert "已完成，等待居民确认" in page and "等待您确认" not in page
    assert "已完成，等待您确认" in text(chinese(app, "resident").get(f"/requests/{request_id}"))


# ---- 2. a flea-market sale pays the seller, and says so ---------------------------------------


def test_the_flea_market_sale_says_the_seller_was_paid(app):
    assert msgstr("%(points)d points for “%(title)s” went to the seller, %(name)s.") == "“%(title)s”的 %(points)d 积分已转给卖家%(name)s。"

    def sold():
        seller, buyer = person("resident"), person("volunteer")
        listing = shop.list_second_hand_item(seller, {
            "title": "儿童自行车", "price": 40, "stock": 1, "per_person_limit": None, "category": "other",
            "valid_from": date.today(), "valid_until": date.today() + timedelta(days=14)})
        shop.review_listing(person("building_head"), listing.id, approve=True)
        return shop.redeem(buyer, listing.id, "bike").code

    code = in_app(app, sold)
    seller = chinese(app, "resident")
    page = text(seller.post("/shop/scan", data={"code": code, "csrf_token": csrf_token(seller, "/shop/scan")}))
    assert "“儿童自行车”的 40 积分已转给卖家张阿姨。" in page
    assert "跳蚤市场的账户" not in page


# ---- 3. every transfer kind has its label on the statement ------------------------------------


def test_every_transfer_kind_has_a_label_in_both_languages():
    assert set(KIND_LABELS) == set(TRANSFER_KINDS)
    assert all(msgstr(str(KIND_LABELS[kind]._args[0])) for kind in TRANSFER_KINDS)


def test_statement_rows_say_what_kind_they_are(app):
    page = text(chinese(app, "volunteer").get("/points/"))
    assert f"{msgstr('Event hours')} · 社区积分基金" in page
    assert re.search(r"<td>\s*· ", chinese(app, "volunteer").get("/points/").get_data(as_text=True)) is None
    client = app.test_client()
    Auth(client).login_as("volunteer")
    assert "Event hours · Community points fund" in text(client.get("/points/", headers=EN))


# ---- 5. refunds in words, the calendar file in the reader's language, demo data in one language


def test_a_refund_says_in_words_why(app):
    assert msgstr("The voucher expired unused") == "兑换券过期未用，积分退回"

    def expired():
        voucher = shop.redeem(person("resident"), Offer.get(Offer.title.startswith("免费磨刀")).id, "refund-test")
        type(voucher).update(expires_at=utcnow() - timedelta(minutes=1)).where(type(voucher).id == voucher.id).execute()
        shop.expire_if_due(type(voucher).get_by_id(voucher.id))

    in_app(app, expired)
    page = text(chinese(app, "resident").get("/points/"))
    assert "兑换券过期未用，积分退回" in page and "expired" not in page
    client = app.test_client()
    Auth(client).login_as("resident")
    statement = client.get("/points/", headers=EN).get_data(as_text=True)
    assert "The voucher expired unused" in statement


def test_the_calendar_file_and_its_example_are_in_the_readers_language(app):
    assert msgstr("holiday", "calendar file") == "休" and msgstr("workday", "calendar file") == "班"
    staff = chinese(app, "community_admin")
    page = text(staff.get("/staff/calendar?year=2026"))
    assert "2027-01-01,休,元旦" in page and "2027-02-20,班,春节调休上班" in page and "holiday" not in page
    rows = read_csv(staff.get("/staff/calendar/2026.csv"))
    assert rows[0][:3] == ["日期", "类型", "备注"]
    assert {r[0]: r[1] for r in rows[1:]}["2026-10-01"] == "休"


def test_demo_data_is_in_one_language(app):
    from marketplace.demo import DEMO_AWARDS, DEMO_OFFERS
    from marketplace.events.demo import DEMO_EVENTS, load_demo_events

    latin = re.compile(r"[A-Za-z]{3,}")

    def titles():
        return [e.title for e in Event.select()] + [o.title for o in Offer.select()] + [e.place for e in Event.select()]

    assert [t for t in in_app(app, titles) if latin.search(t) or " / " in t] == []  # the default: Chinese
    assert all(isinstance(row[3], tuple) for row in DEMO_AWARDS) and all(isinstance(row[1], tuple) for row in DEMO_OFFERS)

    def english():
        load_demo_events("en")
        return [e.title for e in Event.select().where(Event.title.startswith("Evening safety patrol"))]

    assert in_app(app, english) == ["Evening safety patrol"]
    assert DEMO_EVENTS[0][0] == ("夜间安全巡逻", "Evening safety patrol")
    zh = text(chinese(app).get("/events/"))
    assert "夜间安全巡逻" in zh and "/ Evening" not in zh


# ---- 6. plurals -------------------------------------------------------------------------------


def test_plurals_and_capitals_in_english(app):
    rating = catalogue().get("%(num)d rating")
    assert rating is not None and rating.string == ("%(num)d 条评价",)

    def one_rating():
        volunteer = person("volunteer")
        rated = add_request("bj_b1", 10, state="confirmed", done_days_ago=3, rating=5)
        waiting = add_request("bj_b1", 1, state="claimed")
        ServiceRequest.update(claimer=volunteer).where(ServiceRequest.id.in_([rated.id, waiting.id])).execute()
        return rated.id, waiting.id

    rated_id, waiting_id = in_app(app, one_rating)
    client = app.test_client()
    Auth(client).login_as("resident")
    page = text(client.get(f"/requests/{waiting_id}", headers=EN))
    assert "(1 rating)" in page and "1 ratings" not in page
    assert "Finished" in text(client.get(f"/requests/{rated_id}", headers=EN))

    def one_event():
        event = Event.get(Event.title.startswith("夜间安全巡逻"))
        Attendance.create(event=event, user=person("volunteer"), state="out", checked_in_at=event.starts_at,
                          in_method="kiosk", checked_out_at=event.ends_at, out_method="kiosk", minutes=120, points=0)

    in_app(app, one_event)
    volunteer = app.test_client()
    Auth(volunteer).login_as("volunteer")
    hours = text(volunteer.get("/events/hours", headers=EN))
    assert "hours at 1 event" in hours and "1 events" not in hours
    certificate = text(volunteer.get("/events/certificate", headers=EN))
    assert "at 1 community event." in certificate
