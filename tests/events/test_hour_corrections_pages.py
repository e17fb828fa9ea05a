"""Hour corrections as people use them: the volunteer asks on the hours page, the staff answer on
theirs, and a phone app does the same through /api/v1 (request_hour_correction,
my_hour_corrections, hour_corrections_to_decide, approve/decline_hour_correction)."""

import base64
import io
from datetime import timedelta

from PIL import Image

from marketplace.events.forms import local_input
from marketplace.events.models import Attendance, Event, HourCorrection
from marketplace.ledger import services as ledger
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import Auth, in_app, person
from tests.events.test_hour_corrections import assert_books_balance
from tests.ledger_helpers import balance

EN = {"Accept-Language": "en"}


def png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(picture, "PNG")
    return picture.getvalue()


def past_attendance(app, who="volunteer") -> tuple[int, object]:
    """The demo volunteer served the first hour of a 3-hour event that ended an hour ago, paid
    10 points at the door. Returns the attendance id and the event's start."""
    def make():
        starts = (utcnow() - timedelta(hours=4)).replace(second=0, microsecond=0)
        admin = person("community_admin")
        event = Event.create(community=Community.select().first(), kind="patrol", title="晚间巡逻", place="东门",
                             starts_at=starts, ends_at=starts + timedelta(hours=3), capacity=5, points=10,
                             status="published", created_by=admin, published_at=starts - timedelta(days=1))
        attendance = Attendance.create(event=event, user=person(who), state="out", checked_in_at=starts,
                                       in_method="kiosk", checked_out_at=starts + timedelta(hours=1),
                                       out_method="kiosk", minutes=60, points=10)
        transfer = ledger.award(None, person(who), 10, "earn_event", f"event:{event.id}",
                                f"attendance:{attendance.id}:pay", memo=event.title)
        Attendance.update(transfer=transfer).where(Attendance.id == attendance.id).execute()
        return attendance.id, starts
    return in_app(app, make)


def test_the_volunteer_asks_on_the_hours_page_and_the_staff_approve(app, client, auth):
    attendance_id, starts = past_attendance(app)
    auth.login_as("volunteer")
    hours = client.get("/events/hours", headers=EN).get_data(as_text=True)
    assert f"/events/hours/{attendance_id}/correction" in hours and "Ask for a correction" in hours
    page = f"/events/hours/{attendance_id}/correction"
    assert "Recorded: arrived" in client.get(page, headers=EN).get_data(as_text=True)

    left = in_app(app, lambda: local_input(starts + timedelta(hours=2))).strftime("%Y-%m-%dT%H:%M")
    refused = auth.post(page, {"checked_out_at": left, "reason": ""}, headers=EN)
    assert refused.status_code == 200 and "Please say why the times should change." in refused.get_data(as_text=True)
    assert in_app(app, lambda: HourCorrection.select().count()) == 0

    sent = auth.post(page, {"checked_out_at": left, "reason": "手机没电了，我一直在巡逻到结束",
                            "photo": (io.BytesIO(png()), "sheet.png")}, headers=EN)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/events/hours#corrections")
    hours = client.get("/events/hours", headers=EN).get_data(as_text=True)
    assert "My correction requests" in hours and "Waiting for the staff's answer" in hours

    staff_client = app.test_client()
    staff_auth = Auth(staff_client)
    staff_auth.login_as("community_admin")
    listing = staff_client.get("/events/corrections", headers=EN).get_data(as_text=True)
    assert "手机没电了" in listing and "晚间巡逻" in listing
    correction_id = in_app(app, lambda: HourCorrection.get().id)
    volunteer_id = in_app(app, lambda: person("volunteer").id)
    record = staff_client.get(f"/events/volunteers/{volunteer_id}", headers=EN).get_data(as_text=True)
    assert "Correction requests" in record and "手机没电了" in record  # the history, for the staff too
    photo = staff_client.get(f"/events/corrections/{correction_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    # Kept as re-encoded on upload (metadata dropped): the same picture, not the same bytes.
    assert Image.open(io.BytesIO(photo.data)).tobytes() == Image.open(io.BytesIO(png())).tobytes()
    assert client.get(f"/events/corrections/{correction_id}/photo").status_code == 200  # the sender
    stranger = app.test_client()
    Auth(stranger).login_as("resident")
    assert stranger.get(f"/events/corrections/{correction_id}/photo").status_code == 404
    before = in_app(app, lambda: balance(person("volunteer")))
    done = staff_auth.post(f"/events/corrections/{correction_id}/approve", {"note": "队长确认"},
                           token_from="/events/corrections", headers=EN)
    assert done.status_code == 302
    assert in_app(app, lambda: balance(person("volunteer"))) == before + 10
    again = staff_auth.post(f"/events/corrections/{correction_id}/approve", {"note": ""},
                            token_from="/events/corrections", headers=EN)
    assert again.status_code == 302
    assert "already been decided" in staff_client.get("/events/corrections", headers=EN).get_data(as_text=True)
    assert in_app(app, lambda: balance(person("volunteer"))) == before + 10

    hours = client.get("/events/hours", headers=EN).get_data(as_text=True)
    assert "Approved" in hours and "队长确认" in hours and "+10" in hours
    in_app(app, assert_books_balance)


def test_someone_elses_attendance_is_not_found(app, client, auth):
    attendance_id, _ = past_attendance(app)
    auth.login_as("resident")
    assert client.get(f"/events/hours/{attendance_id}/correction").status_code == 404
    assert auth.post(f"/events/hours/{attendance_id}/correction", {"reason": "x"},
                     token_from="/events/hours").status_code == 404


def test_the_pages_in_chinese(app, client, auth):
    attendance_id, _ = past_attendance(app)
    auth.login_as("volunteer")
    zh = {"Accept-Language": "zh-CN"}
    page = client.get(f"/events/hours/{attendance_id}/correction", headers=zh).get_data(as_text=True)
    assert "申请更正我的时长" in page and "Ask for a correction" not in page
    staff_client = app.test_client()
    Auth(staff_client).login_as("community_admin")
    assert "时长更正" in staff_client.get("/events/corrections", headers=zh).get_data(as_text=True)


def test_the_api_asks_lists_and_decides(app, client):
    attendance_id, starts = past_attendance(app)
    volunteer = ApiClient(client, make_token(app, "volunteer"))
    left = in_app(app, lambda: local_input(starts + timedelta(minutes=150))).strftime("%Y-%m-%dT%H:%M")
    path = f"/events/attendances/{attendance_id}/correction"

    bad = volunteer.post(path, {"checked_out_at": "yesterday", "reason": "stayed"})
    assert bad.status_code == 422 and "checked_out_at" in error_of(bad)["fields"]
    missing = volunteer.post(path, {"checked_out_at": left})
    assert missing.status_code == 422 and error_of(missing)["fields"]["reason"] == "Please say why the times should change."
    not_a_picture = volunteer.post(path, {"checked_out_at": left, "reason": "stayed", "photo": "aGVsbG8="})
    assert not_a_picture.status_code == 422 and error_of(not_a_picture)["fields"] == {
        "photo": "Please send a photo as a JPEG, PNG or WebP picture."}
    asked = volunteer.post(path, {"checked_out_at": left, "reason": "stayed until the end",
                                  "photo": base64.b64encode(png()).decode()})
    assert asked.status_code == 201, asked.get_json()
    body = asked.get_json()
    assert (body["status"], body["old_hours"], body["points_difference"], body["has_photo"]) == ("pending", 1.0, 0, True)
    twice = volunteer.post(path, {"checked_out_at": left, "reason": "again"})
    assert twice.status_code == 409 and error_of(twice)["code"] == "correction_pending"
    mine = volunteer.get("/events/corrections/mine").get_json()
    assert [c["id"] for c in mine["items"]] == [body["id"]] and mine["next_cursor"] is None
    assert volunteer.post(f"/events/corrections/{body['id']}/approve").status_code == 403  # staff only

    staff = ApiClient(client, make_token(app, "community_admin"))
    assert [c["id"] for c in staff.get("/events/corrections").get_json()["items"]] == [body["id"]]
    no_reason = staff.post(f"/events/corrections/{body['id']}/decline", {})
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["fields"]
    before = in_app(app, lambda: balance(person("volunteer")))
    approved = staff.post(f"/events/corrections/{body['id']}/approve", {"note": "ok"}, key="approve-1")
    assert approved.status_code == 200, approved.get_json()
    assert (approved.get_json()["new_hours"], approved.get_json()["points_difference"]) == (2.5, 15)
    replay = staff.post(f"/events/corrections/{body['id']}/approve", {"note": "ok"}, key="approve-1")
    assert replay.status_code == 200 and replay.get_json() == approved.get_json()
    later = staff.post(f"/events/corrections/{body['id']}/approve", {"note": "ok"})
    assert later.status_code == 409 and error_of(later)["code"] == "already_decided"
    assert in_app(app, lambda: balance(person("volunteer"))) == before + 15
    in_app(app, assert_books_balance)
