"""Service request pages: a resident books, a partner claims and finishes with the code, the
resident rates; private details stay private; staff escalate and the resident sees the date."""

import io
import re

from PIL import Image

from marketplace.db import db
from marketplace.menu.models import ServiceItem
from marketplace.service_requests.models import ServiceRequest
from tests.conftest import csrf_token, in_app

EN = {"Accept-Language": "en"}


def _logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def _book(client, code="plumbing_electrical", **extra):
    path = f"/requests/new/{code}"
    data = {"description": "卫生间水管漏水，地上都是水", "preferred_period": "morning",
            "csrf_token": csrf_token(client, path), **extra}
    return client.post(path, data=data, headers=EN, content_type="multipart/form-data")


def test_book_claim_finish_with_code_and_rate(app, client, auth):
    auth.login_as("resident")
    photo = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(photo, "JPEG")
    booked = _book(client, photo=(io.BytesIO(photo.getvalue()), "leak.jpg"))
    assert booked.status_code == 302
    request_path = booked.location
    page = client.get(request_path, headers=EN).get_data(as_text=True)
    assert "Waiting for a helper" in page and "To be handled by" in page
    served = Image.open(io.BytesIO(client.get(request_path + "/photo").data))  # re-encoded, the same picture
    assert (served.format, served.size) == ("JPEG", (20, 20))
    request_id = int(request_path.rstrip("/").rsplit("/", 1)[1])
    code = in_app(app, lambda: ServiceRequest.get_by_id(request_id).onsite_code)
    _logout(client)

    auth.login_as("partner_staff")
    board = client.get("/jobs/", headers=EN).get_data(as_text=True)
    assert "卫生间水管漏水" in board
    assert "13900000001" not in board and "Address" not in board  # hidden until claimed
    claimed = auth.post(f"/jobs/{request_id}/claim", {}, token_from="/jobs/")
    assert claimed.status_code == 302
    detail = client.get(request_path, headers=EN).get_data(as_text=True)
    assert "13900000001" in detail  # now the helper may call
    finish_path = f"/jobs/{request_id}/finish"
    wrong = client.post(finish_path, data={"code": "12345x", "csrf_token": csrf_token(client, finish_path)}, headers=EN)
    assert wrong.status_code == 422 and "tries left" in wrong.get_data(as_text=True)
    finished = client.post(f"/jobs/{request_id}/finish", data={"code": code, "csrf_token": csrf_token(client, f"/jobs/{request_id}/finish")})
    assert finished.status_code == 302
    _logout(client)

    auth.login_as("resident")
    page = client.get(request_path, headers=EN).get_data(as_text=True)
    assert "Finished" in page and "Confirmed on site with the resident&#39;s code" in page
    rated = auth.post(f"{request_path}/rate", {"rating": "5", "comment": "很快就修好了"}, token_from=request_path)
    assert rated.status_code == 302
    assert in_app(app, lambda: ServiceRequest.get_by_id(request_id).rating) == 5


def test_the_resident_sees_the_code_and_its_qr_only_while_claimed(app, client, auth):
    auth.login_as("resident")
    request_path = _book(client).location
    request_id = int(request_path.rsplit("/", 1)[1])
    assert "voucher-code" not in client.get(request_path).get_data(as_text=True)
    _logout(client)
    auth.login_as("partner_staff")
    auth.post(f"/jobs/{request_id}/claim", {}, token_from="/jobs/")
    helper_view = client.get(request_path).get_data(as_text=True)
    code = in_app(app, lambda: ServiceRequest.get_by_id(request_id).onsite_code)
    assert f"{code[:3]} {code[3:]}" not in helper_view  # the helper must ask for it
    _logout(client)
    auth.login_as("resident")
    mine = client.get(request_path).get_data(as_text=True)
    assert f"{code[:3]} {code[3:]}" in mine and "<svg" in mine


def test_a_request_is_private_to_its_people(app, client, auth):
    auth.login_as("resident")
    request_path = _book(client).location
    _logout(client)
    for outsider in ("volunteer", "partner_staff"):  # not claimed by them
        auth.login_as(outsider)
        assert client.get(request_path).status_code == 404
        assert client.get(request_path + "/photo").status_code == 404
        _logout(client)
    client.post("/login", data={"phone": "13900000002", "password": "beiyuan-demo-2026",
                                "csrf_token": csrf_token(client, "/login")})  # 李大爷, another resident
    assert client.get("/requests/").status_code == 200
    assert client.get(request_path).status_code == 404
    assert request_path not in client.get("/requests/").get_data(as_text=True)
    _logout(client)
    auth.login_as("building_head")  # 1号楼's head covers 张阿姨's home
    assert client.get(request_path).status_code == 200
    from marketplace.audit import AuditLog
    seen = in_app(app, lambda: AuditLog.select().where(AuditLog.action == "requests.personal_data.viewed").count())
    assert seen == 1  # staff looking at a resident's address and phone is on record


def test_bad_booking_shows_a_clear_message_and_stores_nothing(app, client, auth):
    auth.login_as("resident")
    before = in_app(app, lambda: ServiceRequest.select().count())
    short = _book(client, description="漏")
    assert short.status_code == 422 and "Please say in a few words what you need." in short.get_data(as_text=True)
    bad_photo = _book(client, photo=(io.BytesIO(b"<html>not a photo</html>"), "x.jpg"))
    assert bad_photo.status_code == 422 and "JPEG, PNG or WebP" in bad_photo.get_data(as_text=True)
    assert in_app(app, lambda: ServiceRequest.select().count()) == before
    _logout(client)
    auth.login_as("pending_resident")
    sent_on = client.get("/requests/new/plumbing_electrical")
    assert sent_on.status_code == 302 and sent_on.location.endswith("/account/household")
    posted = client.post("/requests/new/plumbing_electrical", data={
        "description": "卫生间水管漏水", "csrf_token": csrf_token(client, "/account/password")})
    assert posted.status_code == 302 and posted.location.endswith("/account/household")
    assert in_app(app, lambda: ServiceRequest.select().count()) == before


def test_staff_escalate_an_overdue_request_and_the_resident_sees_the_new_deadline(app, client, auth):
    auth.login_as("resident")
    request_path = _book(client).location
    from datetime import timedelta

    from marketplace.timeutil import utcnow
    in_app(app, lambda: ServiceRequest.update(due_at=utcnow() - timedelta(days=1)).execute())
    _logout(client)
    auth.login_as("grid_admin")
    overdue = client.get("/requests/overview?show=overdue", headers=EN).get_data(as_text=True)
    assert request_path in overdue
    from marketplace.service_requests.models import Department

    urban = in_app(app, lambda: Department.get(Department.name_zh == "城管科").id)
    done = auth.post(f"{request_path}/escalate", {"department": str(urban), "note": "公共管道"}, token_from=request_path)
    assert done.status_code == 302
    _logout(client)
    auth.login_as("resident")
    page = client.get(request_path, headers=EN).get_data(as_text=True)
    assert re.search(r'class="holder-name"><strong>Urban Management Section', page)
    assert re.search(r"<strong>Give you feedback</strong> \(Urban Management Section\):\s*by [^<]+\d", page)


def test_menu_page_offers_to_ask_for_each_item(app, client):
    page = client.get("/menu/").get_data(as_text=True)
    codes = in_app(app, lambda: [i.code for i in ServiceItem.select().where(ServiceItem.active)])
    assert all(f"/requests/new/{code}" in page for code in codes)


def test_a_volunteer_sees_address_and_phone_only_after_claiming(app, client, auth):
    auth.login_as("resident")
    request_path = _book(client, code="smartphone_basics", description="想学用手机挂号").location
    request_id = int(request_path.rsplit("/", 1)[1])
    _logout(client)
    auth.login_as("volunteer")
    board = client.get("/jobs/", headers=EN).get_data(as_text=True)
    assert "想学用手机挂号" in board and "13900000001" not in board and "1-101" not in board
    assert client.get(request_path).status_code == 404
    auth.post(f"/jobs/{request_id}/claim", {}, token_from="/jobs/")
    page = client.get(request_path, headers=EN).get_data(as_text=True)
    assert "13900000001" in page and "1-101" in page


def _claim_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'action="/jobs/(\d+)/claim"', page)]


def test_the_job_board_comes_in_pages_that_keep_the_filters(app, client, auth):
    from marketplace.service_requests import jobs as open_jobs
    from marketplace.service_requests import services
    from marketplace.service_requests.views import JOBS_PER_PAGE
    from marketplace.users.models import User
    from tests.conftest import DEMO_PHONES

    with app.test_request_context():
        db.connect(reuse_if_open=True)
        resident = User.get(User.phone == DEMO_PHONES["resident"])
        plumbing = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
        for n in range(JOBS_PER_PAGE + 5):
            services.book(resident, plumbing.id, f"第{n}号：水龙头漏水")
        partner = User.get(User.phone == DEMO_PHONES["partner_staff"])
        expected = [r.id for r in open_jobs.job_board(partner, plumbing.category_id)]
    assert len(expected) > JOBS_PER_PAGE

    auth.login_as("partner_staff")
    first = client.get(f"/jobs/?category={plumbing.category_id}", headers=EN)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and _claim_ids(page) == expected[:JOBS_PER_PAGE]
    # The claim buttons share the page's one CSRF token, and it still works.
    assert len(set(re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page))) == 1
    assert "First page" not in page
    next_link = re.search(r'href="(/jobs/\?[^"]+)">Next<', page).group(1).replace("&amp;", "&")
    assert f"category={plumbing.category_id}" in next_link and "after=" in next_link

    second = client.get(next_link, headers=EN).get_data(as_text=True)
    assert _claim_ids(second) == expected[JOBS_PER_PAGE:2 * JOBS_PER_PAGE]
    assert "First page" in second
    if len(expected) <= 2 * JOBS_PER_PAGE:
        assert ">Next<" not in second
    claimed = auth.post(f"/jobs/{expected[0]}/claim", {}, token_from=f"/jobs/?category={plumbing.category_id}")
    assert claimed.status_code == 302 and claimed.location.endswith(f"/requests/{expected[0]}")

    # A cursor someone edited: a clear message and the first page, not a 500.
    bad = client.get("/jobs/?after=not-a-cursor", headers=EN)
    assert bad.status_code == 400 and "start again from the first page" in bad.get_data(as_text=True)
    assert _claim_ids(bad.get_data(as_text=True))
