"""The event pages as volunteers and staff use them: the QR codes the app draws are decoded and
followed, the offline scanner's JSON is sent twice, and every route answers each kind of person
as the table below says."""

import io
import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from marketplace.audit import AuditLog
from marketplace.events import services, tokens
from marketplace.events.models import Attendance, Event, HourCorrection, Scan
from marketplace.ledger.models import Transfer
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from marketplace.users.models import User
from tests.conftest import DEMO_PHONES, Auth, csrf_token, in_app, person
from tests.ledger_helpers import assert_books_balance

EN = {"Accept-Language": "en"}
SERVICE_DAY = "社区服务日"  # a demo event under way now
SVG = re.compile(r"<svg[^>]*>.*?</svg>", re.S)


def _service_day(app) -> int:
    return in_app(app, lambda: Event.get(Event.title == SERVICE_DAY).id)


def svg_to_image(svg: str, scale: int = 8) -> Image.Image:
    """Draw the QR's SVG (a viewBox of modules, a path of unit squares) as a picture, the way
    a screen would, for the decoder to read."""
    width, height = map(int, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    squares = re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", path)
    assert squares and len(squares) == path.count("M")
    for x, y, x2, y2 in (map(int, square) for square in squares):
        draw.rectangle([x * scale, y * scale, x2 * scale - 1, y2 * scale - 1], fill=0)
    return image


def decode_qr(svg: str) -> str:
    image = svg_to_image(svg)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")  # through PNG, as a camera would see the screen
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    assert len(results) == 1, "the QR code did not decode"
    return results[0].text


def second_client(app):
    client = app.test_client()
    return client, Auth(client)


def test_the_kiosk_qr_decodes_to_the_check_in_link_and_checks_the_volunteer_in(app, client, auth):
    event_id = _service_day(app)
    auth.login_as("community_admin")
    kiosk_page = client.get(f"/events/{event_id}/kiosk", headers=EN).get_data(as_text=True)
    url = decode_qr(SVG.search(kiosk_page).group(0))
    assert re.fullmatch(rf"http://localhost/events/k/{event_id}\.\d+\.i\.[A-Za-z0-9_-]{{16}}", url), url
    refreshed = client.get(f"/events/{event_id}/kiosk/code?mode=in", headers=EN).get_json()
    assert decode_qr(refreshed["svg"]) == refreshed["url"] and re.fullmatch(r"\d{3} \d{3}", refreshed["code"])

    phone, volunteer = second_client(app)
    landing = phone.get(urlparse(url).path, headers=EN)
    assert landing.status_code == 302 and "/login" in landing.location  # log in first, then back here
    volunteer.login_as("volunteer")
    page = phone.get(urlparse(url).path, headers=EN).get_data(as_text=True)
    assert "Check in now" in page and "Logged in as 王小明" in page
    token = csrf_token(phone, urlparse(url).path)
    done = phone.post(urlparse(url).path, data={"csrf_token": token, "action": "in"}, headers=EN)
    assert done.status_code == 302 and done.location.endswith(f"/events/{event_id}")
    assert "✓ Checked in at" in phone.get(done.location, headers=EN).get_data(as_text=True)
    user_id = in_app(app, lambda: person("volunteer").id)
    assert in_app(app, lambda: Attendance.get(Attendance.event == event_id, Attendance.user == user_id).in_method) == "kiosk"

    # A photo of the code sent to someone at home stops working within a minute.
    expired = "/events/k/" + in_app(app, lambda: tokens.kiosk_token(event_id, "in", tokens.current_step() - 2))
    answer = phone.get(expired, headers=EN)
    assert answer.status_code == 410 and "This code has expired" in answer.get_data(as_text=True)
    refused = lambda: list(Scan.select().where(Scan.outcome == "refused", Scan.user == user_id))  # noqa: E731
    assert in_app(app, refused) == []  # opening the link (a GET) writes nothing
    pressed = phone.post(expired, data={"csrf_token": token, "action": "in"}, headers=EN)
    assert pressed.status_code == 410
    assert [scan.event_id for scan in in_app(app, refused)] == [event_id]  # the press is logged for staff


def test_the_badge_qr_decodes_and_staff_check_the_volunteer_out_with_it(app, client, auth):
    event_id = _service_day(app)
    volunteer_id = in_app(app, lambda: person("volunteer").id)
    moment = utcnow() - timedelta(minutes=30)
    in_app(app, lambda: Attendance.create(event=event_id, user=volunteer_id, state="in", checked_in_at=moment,
                                         in_method="kiosk"))
    auth.login_as("volunteer")
    badge_page = client.get("/events/badge", headers=EN).get_data(as_text=True)
    url = decode_qr(SVG.search(badge_page).group(0))
    assert re.fullmatch(r"http://localhost/events/b/\d+-[2-9A-HJ-NP-Z]{10}", url), url

    staff_phone, staff = second_client(app)
    staff.login_as("grid_admin")  # 北苑家园's grid administrator helps at the door
    door = staff_phone.get(urlparse(url).path, headers=EN).get_data(as_text=True)
    assert "王小明" in door and "社区服务日" in door
    code = re.search(r'name="code" value="([^"]+)"', door).group(1)
    answer = staff_phone.post(f"/events/{event_id}/scanner", headers=EN, data={
        "csrf_token": csrf_token(staff_phone, f"/events/{event_id}/scanner"), "code": code, "action": "out"})
    assert answer.status_code == 200 and "王小明 checked out at" in answer.get_data(as_text=True)
    attendance = in_app(app, lambda: Attendance.get(Attendance.event == event_id, Attendance.user == volunteer_id))
    assert attendance.state == "out" and attendance.out_method == "badge" and attendance.points == 5  # 30 min x 10/h
    in_app(app, assert_books_balance)


def test_the_offline_scanner_sends_its_queue_twice_and_it_is_recorded_once(app, client, auth):
    event_id = _service_day(app)
    volunteer_id = in_app(app, lambda: person("volunteer").id)
    badge = in_app(app, lambda: services.badge_token_of(User.get_by_id(volunteer_id)))
    auth.login_as("building_head")
    token = csrf_token(client, f"/events/{event_id}/scanner")
    scanned = int((time.time() - 600) * 1000)  # ten minutes ago, in a stairwell with no signal
    body = {"sent_at": int(time.time() * 1000), "scans": [
        {"nonce": "c0ffee0c0ffee0c0ffee0c0ffee0c0ff", "code": f"http://localhost/events/b/{badge}", "action": "in",
         "scanned_at": scanned}]}
    headers = {**EN, "X-CSRFToken": token}
    first = client.post(f"/events/{event_id}/scans", json=body, headers=headers)
    again = client.post(f"/events/{event_id}/scans", json={**body, "sent_at": int(time.time() * 1000)}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json()["results"][0]["outcome"] == "checked_in"
    assert again.get_json()["results"][0] == {**first.get_json()["results"][0], "replay": True}
    attendance = in_app(app, lambda: Attendance.get(Attendance.event == event_id, Attendance.user == volunteer_id))
    assert abs((attendance.checked_in_at - utcnow()).total_seconds() + 600) < 5  # the time it was scanned
    assert in_app(app, lambda: Scan.select().where(Scan.nonce == body["scans"][0]["nonce"]).count()) == 1

    assert client.post(f"/events/{event_id}/scans", data="{not json", headers={**headers, "Content-Type": "application/json"}
                       ).get_json() == {"error": "The request was not understood."}
    assert client.post(f"/events/{event_id}/scans", json=body, headers=EN).status_code == 400  # no CSRF token


def test_signing_up_typing_the_code_and_the_roster(app, client, auth):
    event_id = _service_day(app)
    auth.login_as("resident")
    refused = client.post(f"/events/{event_id}/signup", data={"csrf_token": csrf_token(client, f"/events/{event_id}")},
                          headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "Only volunteers can sign up" in refused
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    auth.login_as("volunteer")
    page = client.get(f"/events/{event_id}", headers=EN).get_data(as_text=True)
    assert "You have a place." in page and "type the 6 digits" in page
    wrong = client.post(f"/events/{event_id}/code", data={"csrf_token": csrf_token(client, f"/events/{event_id}"),
                                                          "code": "000 000"}, headers=EN, follow_redirects=True)
    assert "This code is wrong or has expired" in wrong.get_data(as_text=True)
    code = in_app(app, lambda: tokens.kiosk_code(event_id, "in"))
    right = client.post(f"/events/{event_id}/code", data={"csrf_token": csrf_token(client, f"/events/{event_id}"),
                                                          "code": code}, headers=EN, follow_redirects=True)
    assert "Checked in at" in right.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    auth.login_as("community_admin")
    roster = client.get(f"/events/{event_id}/roster", headers=EN).get_data(as_text=True)
    assert "王小明" in roster and "code typed" in roster and "000 000" not in roster
    assert "This code is wrong or has expired" in roster  # the refused attempt, for staff
    csv = client.get(f"/events/{event_id}/roster.csv", headers=EN)
    body = csv.data.decode("utf-8")
    assert csv.mimetype == "text/csv" and body.startswith("\ufeff") and "王小明,13900000003,has a place," in body
    looked = in_app(app, lambda: [e.action for e in AuditLog.select().where(AuditLog.object_id == event_id,
                                 AuditLog.action.startswith("events.roster.")).order_by(AuditLog.id)])
    assert looked == ["events.roster.viewed", "events.roster.downloaded"]  # staff saw volunteers' phone numbers


def test_staff_create_publish_and_volunteers_find_the_event(app, client, auth):
    auth.login_as("community_admin")
    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    with app.test_request_context():
        from marketplace.events.forms import local_input

        local = local_input(starts)
    form = {"csrf_token": csrf_token(client, "/events/new"), "title": "反诈讲座", "kind": "lecture",
            "community_id": in_app(app, lambda: Community.get(Community.code == "beiyuan_jiayuan").id),
            "place": "社区活动室", "description": "", "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "capacity": "30",
            "points_rule": "fixed", "points": "20"}
    bad = client.post("/events/new", data={**form, "ends_at": form["starts_at"]}, headers=EN)
    assert bad.status_code == 422 and "The event must end after it starts." in bad.get_data(as_text=True)
    created = client.post("/events/new", data=form, headers=EN)
    assert created.status_code == 302
    event_id = int(created.location.rsplit("/", 1)[1])
    event = in_app(app, lambda: Event.get_by_id(event_id))
    assert event.status == "draft" and abs((event.starts_at - starts).total_seconds()) < 60

    volunteer, vauth = second_client(app)
    vauth.login_as("volunteer")
    assert volunteer.get(f"/events/{event_id}").status_code == 404  # a draft
    client.post(f"/events/{event_id}/publish", data={"csrf_token": csrf_token(client, f"/events/{event_id}")})
    assert "反诈讲座" in volunteer.get("/events/", headers=EN).get_data(as_text=True)
    signed = volunteer.post(f"/events/{event_id}/signup", headers=EN, follow_redirects=True,
                            data={"csrf_token": csrf_token(volunteer, f"/events/{event_id}")})
    assert "You have a place. See you there!" in signed.get_data(as_text=True)
    hours = volunteer.get("/events/hours", headers=EN).get_data(as_text=True)
    assert "反诈讲座" in hours and "No star yet." in hours
    assert "Certificate of volunteer service" in volunteer.get("/events/certificate", headers=EN).get_data(as_text=True)


# ---- who may use which page ----------------------------------------------------------------

IDENTITIES = ("anonymous", "resident", "volunteer", "building_head", "community_admin", "street_officer", "admin")
LOGIN = "login page"
STAFF = ("building_head", "community_admin", "street_officer", "admin")


def everyone(status):
    return {who: status for who in IDENTITIES}


def signed_in(status=200):
    return {**everyone(status), "anonymous": LOGIN}


def staff_only(ok=200, **others):
    return {who: LOGIN if who == "anonymous" else ok if who in STAFF else 403 for who in IDENTITIES} | others


# (endpoint, what): (path, answers). The second part names rows for the same route.
ROUTES = {
    ("events.index", ""): ("/events/", everyone(200)),
    ("events.show", ""): ("/events/{event}", everyone(200)),
    ("events.show", "draft elsewhere"): ("/events/{draft}", everyone(404) | {"street_officer": 200, "admin": 200}),
    ("events.sign_up", ""): ("/events/{event}/signup", signed_in(302)),  # refusals are flashed
    ("events.cancel_signup", ""): ("/events/{event}/signup/cancel", signed_in(302)),
    ("events.type_code", ""): ("/events/{event}/code", signed_in(302)),
    ("events.kiosk_door", ""): ("/events/k/{kiosk}", signed_in(200)),
    ("events.poster_door", ""): ("/events/p/{poster}", signed_in(200)),
    ("events.manage", ""): ("/events/manage", staff_only()),
    # A building head helps at the door of the community's events but does not organise them.
    ("events.new", ""): ("/events/new", staff_only(building_head=403)),
    ("events.edit", ""): ("/events/{event}/edit", staff_only(building_head=403)),
    ("events.edit", "elsewhere"): ("/events/{elsewhere}/edit", staff_only(404, street_officer=200, admin=200)),
    ("events.publish", ""): ("/events/{event}/publish", staff_only(302, building_head=403)),
    ("events.cancel", ""): ("/events/{event}/cancel", staff_only(302, building_head=403)),
    ("events.kiosk", ""): ("/events/{event}/kiosk", staff_only()),
    ("events.kiosk", "elsewhere"): ("/events/{elsewhere}/kiosk", staff_only(404, street_officer=200, admin=200)),
    ("events.kiosk_code", ""): ("/events/{event}/kiosk/code", staff_only()),
    ("events.kiosk_code", "elsewhere"): ("/events/{elsewhere}/kiosk/code", staff_only(404, street_officer=200, admin=200)),
    ("events.poster", ""): ("/events/{event}/poster", staff_only()),
    ("events.reissue_poster", ""): ("/events/{event}/poster/reissue", staff_only(302, building_head=403)),
    ("events.scanner", ""): ("/events/{event}/scanner", staff_only()),
    ("events.scanner", "elsewhere"): ("/events/{elsewhere}/scanner", staff_only(404, street_officer=200, admin=200)),
    ("events.scans", ""): ("/events/{event}/scans", staff_only(400)),  # a form, not JSON
    ("events.service_worker", ""): ("/events/sw.js", everyone(200)),
    ("events.roster", ""): ("/events/{event}/roster", staff_only()),
    ("events.roster", "elsewhere"): ("/events/{elsewhere}/roster", staff_only(404, street_officer=200, admin=200)),
    ("events.roster_csv", ""): ("/events/{event}/roster.csv", staff_only()),
    ("events.check_in_by_hand", ""): ("/events/{event}/attendance", staff_only(302)),
    ("events.check_out_by_hand", ""): ("/events/attendance/{attendance}/out", staff_only(302)),
    ("events.check_out_by_hand", "elsewhere"): ("/events/attendance/{attendance_elsewhere}/out",
                                                staff_only(404, street_officer=302, admin=302)),
    ("events.hours", ""): ("/events/hours", signed_in()),
    ("events.certificate", ""): ("/events/certificate", signed_in()),
    ("events.badge", ""): ("/events/badge", signed_in()),
    ("events.badge_door", ""): ("/events/b/{badge}", signed_in()),
    ("events.volunteer", ""): ("/events/volunteers/{volunteer}", staff_only()),
    ("events.volunteer", "elsewhere"): ("/events/volunteers/{volunteer_elsewhere}", staff_only(404, street_officer=200, admin=200)),
    ("events.volunteer_certificate", ""): ("/events/volunteers/{volunteer}/certificate", staff_only()),
    ("events.ask_correction", ""): ("/events/hours/{attendance}/correction", signed_in(404) | {"volunteer": 200}),
    ("events.corrections", ""): ("/events/corrections", staff_only()),
    ("events.correction_photo", ""): ("/events/corrections/{correction}/photo", signed_in(404)),  # none sent
    # Both requests were declined already: deciding again is refused with a flash, or not found.
    ("events.approve_correction", ""): ("/events/corrections/{correction}/approve", staff_only(302)),
    ("events.approve_correction", "elsewhere"): ("/events/corrections/{correction_elsewhere}/approve",
                                                 staff_only(404, street_officer=302, admin=302)),
    ("events.decline_correction", ""): ("/events/corrections/{correction}/decline", staff_only(302)),
    ("events.decline_correction", "elsewhere"): ("/events/corrections/{correction_elsewhere}/decline",
                                                 staff_only(404, street_officer=302, admin=302)),
    # Not waiting for a second approval (the volunteer is still here): refused with a flash, or not found.
    ("events.approve_honour", ""): ("/events/attendance/{attendance}/honour/approve", staff_only(302)),
    ("events.approve_honour", "elsewhere"): ("/events/attendance/{attendance_elsewhere}/honour/approve",
                                             staff_only(404, street_officer=302, admin=302)),
    # Last: these replace the badge the rows above use.
    ("events.replace_badge", ""): ("/events/badge/replace", signed_in(302)),
    ("events.revoke_badge", ""): ("/events/volunteers/{volunteer}/badge/replace", staff_only(302, building_head=403)),
}


def _ids(app) -> dict:
    def make():
        admin = User.get(User.phone == DEMO_PHONES["admin"])
        jinxiu = Community.get(Community.code == "jinxiu_yuan")
        event = Event.get(Event.title == SERVICE_DAY)
        start = utcnow() - timedelta(hours=1)
        common = {"kind": "patrol", "place": "西门", "community": jinxiu, "starts_at": start, "created_by": admin,
                  "ends_at": start + timedelta(hours=3), "capacity": 5}
        elsewhere = Event.create(title="锦绣园巡逻", status="published", **common)
        draft = Event.create(title="锦绣园草稿", status="draft", **common)
        stranger = User.create(phone="13511112222", display_name="锦绣园志愿者", password_hash="-")
        volunteer = User.get(User.phone == DEMO_PHONES["volunteer"])
        attendance = Attendance.create(event=event, user=volunteer, checked_in_at=start, in_method="manual")
        other = Attendance.create(event=elsewhere, user=stranger, checked_in_at=start, in_method="manual")
        declined = {"checked_out_at": start + timedelta(hours=1), "reason": "-", "status": "declined",
                    "old_checked_in_at": start, "old_checked_out_at": start, "old_minutes": 0, "old_points": 0}
        correction = HourCorrection.create(attendance=attendance, user=volunteer, checked_in_at=start, **declined)
        correction_elsewhere = HourCorrection.create(attendance=other, user=stranger, checked_in_at=start, **declined)
        return {
            "correction": correction.id, "correction_elsewhere": correction_elsewhere.id,
            "event": event.id, "elsewhere": elsewhere.id, "draft": draft.id, "attendance": attendance.id,
            "attendance_elsewhere": other.id, "volunteer": volunteer.id, "volunteer_elsewhere": stranger.id,
            "kiosk": tokens.kiosk_token(event.id, "in"), "poster": tokens.poster_token(event.id, event.poster_version),
            "badge": services.badge_token_of(volunteer),
        }

    with app.test_request_context():
        return in_app(app, make)


def _outcome(response):
    if response.status_code == 302 and urlparse(response.location).path == "/login":
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_event_route_answers_every_identity_as_the_table_says(app, client, auth, identity):
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("events."):
            rules.setdefault(rule.endpoint, set()).update(rule.methods)
    assert sorted(rules) == sorted({endpoint for endpoint, _what in ROUTES}), "a route without a row, or a row without a route"
    ids = _ids(app)
    if identity != "anonymous":
        auth.login_as(identity)
    wrong = {}
    for (endpoint, what), (template, expected) in ROUTES.items():
        path = template.format(**ids)
        if "GET" in rules[endpoint]:
            method, response = "GET", client.get(path)
        else:
            method, response = "POST", client.post(path, data={"csrf_token": csrf_token(client, "/")})
        if _outcome(response) != expected[identity]:
            wrong[f"{endpoint} {what}".strip()] = f"{method} {path}: expected {expected[identity]}, got {_outcome(response)}"
    assert not wrong, "\n".join(f"{identity}: {k}: {v}" for k, v in wrong.items())
    assert in_app(app, lambda: Transfer.select().where(Transfer.kind == "earn_event", Transfer.ref.startswith("event:")).count()) == 0
