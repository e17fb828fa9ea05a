"""Personal data by need (issue 19, findings 1 and 2): a helper reads the resident's phone,
address and photo while the job is theirs and for CONTACT_DAYS_AFTER_DONE days after it is done,
never after a cancellation or release, by page, API and photo file alike; photos are kept without
their EXIF (no GPS, no camera) and turned upright."""

import io
from datetime import timedelta

import pytest
from PIL import ExifTags, Image

from marketplace.menu.models import ServiceItem
from marketplace.service_requests import services
from marketplace.service_requests.models import ServiceRequest
from marketplace.timeutil import utcnow
from tests.api.test_api_helpers import ApiClient, make_token
from tests.conftest import csrf_token, in_app, person

EN = {"Accept-Language": "en"}
PHONE, ADDRESS = "13900000001", "1-101"


def jpeg_with_gps_and_camera() -> bytes:
    """A 40×20 picture whose EXIF says: the camera's make, where it was taken, and "turn me upright"."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SnoopCam"
    exif[ExifTags.Base.Orientation] = 6  # shown turned by 90°: 20 wide, 40 high
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "blue").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _booked_and_claimed(app) -> int:
    def run():
        item = ServiceItem.get(ServiceItem.code == "smartphone_basics")
        req = services.book(person("resident"), item.id, "想学用手机挂号", photo=jpeg_with_gps_and_camera())
        services.claim(person("volunteer"), req.id)
        return req.id
    return in_app(app, run)


def _what_the_helper_reads(app, client, auth, request_id) -> dict:
    if not client.get_cookie("session"):
        auth.login_as("volunteer")
    page = client.get(f"/requests/{request_id}", headers=EN)
    api = ApiClient(client, make_token(app, "volunteer")).get(f"/requests/{request_id}")
    text = page.get_data(as_text=True)
    return {
        "page": page.status_code, "page_contact": PHONE in text or ADDRESS in text,
        "photo": client.get(f"/requests/{request_id}/photo").status_code,
        "finish_page": client.get(f"/jobs/{request_id}/finish").status_code,
        "api": api.status_code, "api_contact": "contact" in (api.get_json() or {}),
        "api_has_photo": (api.get_json() or {}).get("has_photo"),
    }


def test_finding_1_the_helper_reads_the_contact_while_the_job_is_theirs(app, client, auth):
    request_id = _booked_and_claimed(app)
    seen = _what_the_helper_reads(app, client, auth, request_id)
    assert seen == {"page": 200, "page_contact": True, "photo": 200, "finish_page": 200, "api": 200,
                    "api_contact": True, "api_has_photo": True}


@pytest.mark.parametrize("ending", ["cancelled", "released", "cancelled_by_staff"])
def test_finding_1_a_former_helper_gets_404_for_contact_and_photo(app, client, auth, ending):
    request_id = _booked_and_claimed(app)

    def end():
        if ending == "cancelled":
            services.cancel(person("resident"), request_id, "不用了")
        elif ending == "released":
            services.release(person("volunteer"), request_id, "临时有事")
        else:
            services.mark_done(person("volunteer"), request_id)
            services.dispute(person("resident"), request_id, "没有教会")
            services.resolve(person("community_admin"), request_id, "resolve_cancel", "居民不再需要")
    in_app(app, end)
    seen = _what_the_helper_reads(app, client, auth, request_id)
    assert seen["photo"] == 404 and seen["finish_page"] == 404
    assert not seen["page_contact"] and not seen["api_contact"] and not seen["api_has_photo"]
    # The resident still reads it.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("resident")
    assert PHONE in client.get(f"/requests/{request_id}", headers=EN).get_data(as_text=True)
    assert client.get(f"/requests/{request_id}/photo").status_code == 200


def test_finding_1_the_contact_stays_for_the_set_days_after_done_only(app, client, auth):
    request_id = _booked_and_claimed(app)
    assert app.config["CONTACT_DAYS_AFTER_DONE"] == 7

    def done(days_ago):
        ServiceRequest.update(state="confirmed", done_at=utcnow() - timedelta(days=days_ago)).where(
            ServiceRequest.id == request_id).execute()
    in_app(app, lambda: done(6))
    assert _what_the_helper_reads(app, client, auth, request_id)["api_contact"] is True
    in_app(app, lambda: done(8))
    seen = _what_the_helper_reads(app, client, auth, request_id)
    assert (seen["page"], seen["page_contact"], seen["photo"], seen["api"], seen["api_contact"]) == (
        200, False, 404, 200, False)
    assert "shown only while the job is yours" in client.get(f"/requests/{request_id}", headers=EN).get_data(
        as_text=True)
    app.config["CONTACT_DAYS_AFTER_DONE"] = 10  # the setting, not a number in the code
    assert _what_the_helper_reads(app, client, auth, request_id)["api_contact"] is True


def test_finding_2_the_photo_the_helper_receives_has_no_exif_and_stands_upright(app, client, auth):
    request_id = _booked_and_claimed(app)
    auth.login_as("volunteer")
    served = client.get(f"/requests/{request_id}/photo")
    assert served.status_code == 200
    assert b"Exif" not in served.data and b"SnoopCam" not in served.data
    picture = Image.open(io.BytesIO(served.data))
    assert picture.format == "JPEG" and picture.size == (20, 40) and dict(picture.getexif()) == {}


@pytest.mark.parametrize("kind", ["PNG", "WEBP"])
def test_finding_2_png_and_webp_photos_are_re_encoded_too(app, client, auth, kind):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SnoopCam"
    buffer = io.BytesIO()
    Image.new("RGBA", (30, 10), (10, 20, 30, 200)).save(buffer, kind, exif=exif)
    assert b"SnoopCam" in buffer.getvalue()
    auth.login_as("resident")
    path = "/requests/new/plumbing_electrical"
    booked = client.post(path, data={"description": "水管漏水", "preferred_period": "any",
                                     "csrf_token": csrf_token(client, path),
                                     "photo": (io.BytesIO(buffer.getvalue()), f"x.{kind.lower()}")},
                         content_type="multipart/form-data")
    assert booked.status_code == 302
    served = client.get(booked.location + "/photo").data
    assert b"SnoopCam" not in served and Image.open(io.BytesIO(served)).format == kind
