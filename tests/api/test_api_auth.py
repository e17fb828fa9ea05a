"""Who may call the API and how: personal tokens (hashed, scoped, revocable, rate-limited per
token), the browser session with its CSRF header, one error format for every refusal, cursor
pages and idempotency keys."""

import re

import pytest

from marketplace.idempotency import IdempotencyRecord
from marketplace.notifications import services as notifications
from marketplace.notifications.models import Notification
from marketplace.users.models import ApiToken, User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import DEMO_PHONES, csrf_token, in_app, person

EN = {"Accept-Language": "en"}


# ---- tokens ---------------------------------------------------------------------------------------


def test_a_token_is_made_on_the_profile_shown_once_stored_hashed_and_revoked(app, client, auth):
    auth.login_as("resident")
    page = client.get("/account/api-tokens/", headers=EN)
    assert page.status_code == 200 and "API tokens" in page.get_data(as_text=True)
    made = client.post("/account/api-tokens/", headers=EN, data={
        "name": "我的手机", "scopes": ["read", "requests"], "csrf_token": csrf_token(client, "/account/api-tokens/")})
    assert made.status_code == 200
    html = made.get_data(as_text=True)
    token = re.search(r"(mkt_[A-Za-z0-9_\-]{40,})", html).group(1)
    assert client.get("/account/api-tokens/").get_data(as_text=True).count(token) == 0  # shown once only
    row = in_app(app, lambda: ApiToken.get(ApiToken.name == "我的手机"))
    assert row.token_hash != token and token not in (row.token_hash, row.prefix, row.scopes)
    assert row.scope_set == {"read", "requests"}

    phone = ApiClient(app.test_client(), token)
    answer = phone.get("/me")
    assert answer.headers["Cache-Control"] == "no-store"  # personal data stays out of shared caches
    me = answer.get_json()
    assert me["display_name"] == "张阿姨" and me["scopes"] == ["read", "requests"]
    assert in_app(app, lambda: ApiToken.get_by_id(row.id).last_used_at) is not None
    no_scope = phone.get("/points")
    assert no_scope.status_code == 403 and error_of(no_scope)["code"] == "insufficient_scope"

    revoked = client.post(f"/account/api-tokens/{row.id}/revoke",
                          data={"csrf_token": csrf_token(client, "/account/api-tokens/")})
    assert revoked.status_code == 302
    after = phone.get("/me")
    assert after.status_code == 401 and error_of(after)["code"] == "invalid_token"
    assert after.headers["WWW-Authenticate"].startswith("Bearer")


def test_making_a_token_needs_a_name_and_a_scope(app, client, auth):
    auth.login_as("resident")
    refused = client.post("/account/api-tokens/", headers=EN, data={
        "name": "", "csrf_token": csrf_token(client, "/account/api-tokens/")})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Please give the token a name" in text and "Please choose at least one thing the token may do." in text
    assert in_app(app, lambda: ApiToken.select().count()) == 0


def test_one_cannot_revoke_someone_elses_token(app, client, auth):
    make_token(app, "volunteer")
    token_id = in_app(app, lambda: ApiToken.select().first().id)
    auth.login_as("resident")
    response = client.post(f"/account/api-tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account/api-tokens/")})
    assert response.status_code == 404
    assert in_app(app, lambda: ApiToken.get_by_id(token_id).revoked_at) is None


def test_a_token_of_a_switched_off_account_stops_working(app):
    phone = ApiClient(app.test_client(), make_token(app, "resident"))
    assert phone.get("/me").status_code == 200
    in_app(app, lambda: User.update(active=False).where(User.phone == DEMO_PHONES["resident"]).execute())
    assert phone.get("/me").status_code == 401


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Bearer " + "x" * 500, "Bearer 令牌"])
def test_a_bad_token_is_a_401_in_the_one_error_format(app, header):
    response = app.test_client().get("/api/v1/menu", headers={"Authorization": header, **EN})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_anonymous_callers_get_401_not_the_login_page(app):
    response = app.test_client().get("/api/v1/requests", headers=EN)
    assert response.status_code == 401 and response.is_json
    assert error_of(response) == {"code": "unauthorized", "message": "Please sign in, or send a valid API token.",
                                  "fields": {}}
    assert app.test_client().get("/api/v1/menu").status_code == 200  # public


def test_a_role_the_caller_lacks_is_a_403(app):
    resident = ApiClient(app.test_client(), make_token(app, "resident"))
    response = resident.get("/jobs")
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


# ---- the browser session ---------------------------------------------------------------------------


def test_the_session_works_with_the_csrf_header_and_never_without_it(app, client, auth):
    auth.login_as("resident")
    assert client.get("/api/v1/me").get_json()["scopes"] == sorted(
        ["read", "requests", "jobs", "points", "shop", "events", "proposals", "staff"])
    in_app(app, lambda: notifications.notify(person("resident"), "other", "你好"))
    note = client.get("/api/v1/notifications").get_json()["items"][0]
    refused = client.post(f"/api/v1/notifications/{note['id']}/read", json={}, headers=EN)
    assert refused.status_code == 400 and error_of(refused)["code"] == "csrf_failed"
    assert in_app(app, lambda: Notification.get_by_id(note["id"]).read_at) is None
    token = csrf_token(client, "/account")
    done = client.post(f"/api/v1/notifications/{note['id']}/read", json={}, headers={"X-CSRFToken": token})
    assert done.status_code == 200 and done.get_json()["read_at"]


def test_a_token_needs_no_csrf_even_with_a_session_cookie_beside_it(app, client, auth):
    auth.login_as("resident")
    token = make_token(app, "resident")
    in_app(app, lambda: notifications.notify(person("resident"), "other", "你好"))
    response = client.post("/api/v1/notifications/read-all", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json() == {"marked": 1}


# ---- the one error format --------------------------------------------------------------------------


def test_every_refusal_has_the_one_error_format(app):
    anonymous = app.test_client()
    phone = ApiClient(app.test_client(), make_token(app, "resident"))
    cases = {
        404: anonymous.get("/api/v1/no-such-thing", headers=EN),
        405: phone.client.delete("/api/v1/menu", headers=phone.headers()),
        401: anonymous.get("/api/v1/points", headers=EN),
        # Nothing changes without credentials: no token and no session is a 401 before anything else.
        "401 ": anonymous.post("/api/v1/no-such-thing", headers=EN),
    }
    for status, response in cases.items():
        assert response.status_code == int(status) and response.is_json, (status, response.data)
        error_of(response)
    assert cases[405].headers["Allow"] == "GET, HEAD, OPTIONS"  # what is served, HEAD and OPTIONS too
    not_json = phone.client.post("/api/v1/requests", data="description=x", headers={
        **phone.headers(), "Content-Type": "application/x-www-form-urlencoded"})
    assert not_json.status_code == 415 and error_of(not_json)["code"] == "unsupported_media_type"
    broken = phone.client.post("/api/v1/requests", data="{nope", headers={
        **phone.headers(), "Content-Type": "application/json"})
    assert broken.status_code == 400 and error_of(broken)["message"] == "The request body is not valid JSON."
    listed = phone.client.post("/api/v1/requests", json=[1, 2], headers=phone.headers())
    assert listed.status_code == 400
    huge = phone.get("/requests/99999999999999999999")
    assert huge.status_code == 404 and error_of(huge)["code"] == "not_found"
    nul = phone.post("/requests", {"item_id": 1, "description": "漏水\x00了"})
    assert nul.status_code == 422 and "description" in error_of(nul)["fields"]


def test_rate_limits_count_per_token_and_answer_429_in_the_format(app):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = (ApiClient(app.test_client(), make_token(app, "resident", name=n)) for n in ("a", "b"))
    assert [first.get("/menu").status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get("/menu")
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert second.get("/menu").status_code == 200  # another token has its own count


# ---- cursor pages ------------------------------------------------------------------------------------


def test_cursor_pages_walk_everything_once(app):
    def send():
        resident = person("resident")
        for i in range(7):
            notifications.notify(resident, "other", f"消息 {i}")

    in_app(app, send)
    phone = ApiClient(app.test_client(), make_token(app, "resident"))
    seen, cursor = [], None
    while True:
        page = phone.get("/notifications", {"limit": 3, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [n["text"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"消息 {i}" for i in reversed(range(7))]
    bad = phone.get("/notifications", {"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in error_of(bad)["fields"]
    too_many = phone.get("/notifications", {"limit": 1000})
    assert too_many.status_code == 422 and "limit" in error_of(too_many)["fields"]


# ---- idempotency ---------------------------------------------------------------------------------------


def test_a_key_reused_for_another_request_is_refused_and_keys_are_per_person(app):
    in_app(app, lambda: [notifications.notify(person(w), "other", "x") for w in ("resident", "volunteer")])
    resident = ApiClient(app.test_client(), make_token(app, "resident"))
    volunteer = ApiClient(app.test_client(), make_token(app, "volunteer"))
    first = resident.post("/notifications/read-all", key="same-key")
    assert first.get_json() == {"marked": 1}
    replay = resident.post("/notifications/read-all", key="same-key")
    assert replay.get_json() == {"marked": 1} and replay.headers["Idempotent-Replayed"] == "true"
    other = resident.post("/requests", {"description": "x"}, key="same-key")
    assert other.status_code == 422 and error_of(other)["code"] == "idempotency_key_reused"
    assert volunteer.post("/notifications/read-all", key="same-key").get_json() == {"marked": 1}
    bad = resident.post("/notifications/read-all", key="has space")
    assert bad.status_code == 400 and "Idempotency-Key" in error_of(bad)["fields"]
    assert in_app(app, lambda: IdempotencyRecord.select().count()) == 2


def test_a_key_left_in_progress_by_a_dead_worker_is_freed_and_old_replies_are_forgotten(app):
    from datetime import timedelta

    from marketplace.idempotency import forget_old_replies
    from marketplace.timeutil import utcnow

    resident = ApiClient(app.test_client(), make_token(app, "resident"))
    assert resident.post("/notifications/read-all", key="died").status_code == 200
    # As if the worker had died before storing its answer: the key stays "being processed".
    in_app(app, lambda: IdempotencyRecord.update(status=None).execute())
    busy = resident.post("/notifications/read-all", key="died")
    assert busy.status_code == 409 and error_of(busy)["code"] == "idempotency_in_progress"
    in_app(app, lambda: IdempotencyRecord.update(created_at=utcnow() - timedelta(minutes=3)).execute())
    assert resident.post("/notifications/read-all", key="died").status_code == 200  # the retry runs now

    in_app(app, lambda: IdempotencyRecord.update(created_at=utcnow() - timedelta(hours=25)).execute())
    assert in_app(app, forget_old_replies) == 1 and in_app(app, lambda: IdempotencyRecord.select().count()) == 0


def test_notifications_are_written_in_the_recipients_language(app):
    from flask_babel import lazy_gettext as _l

    def send():
        resident = person("resident")
        User.update(locale="en").where(User.id == resident.id).execute()
        return notifications.notify(User.get_by_id(resident.id), "request", _l("This request was not found."),
                                    "/requests/1").text

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from marketplace.db import db

        db.connect(reuse_if_open=True)
        assert send() == "This request was not found."
