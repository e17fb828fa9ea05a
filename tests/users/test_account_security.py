"""Changing one's phone or password needs a fresh login; staff see a full phone number only on
purpose and on the record; the things staff do to a person reach that person as messages."""

import json

from marketplace.audit import AuditLog
from marketplace.demo import DEMO_PASSWORD
from marketplace.notifications.models import Notification
from marketplace.users.models import ResidencyApplication, User
from tests.api.test_api_helpers import make_token
from tests.conftest import DEMO_PHONES, Auth, csrf_token, in_app
from tests.users.test_recovery import _codes_sent

EN = {"Accept-Language": "en"}


def _make_stale(client):
    with client.session_transaction() as session:
        session["fresh_at"] = 0  # logged in long ago (a remembered login)


def _confirm(auth, next_path):
    return auth.post("/account/confirm", {"password": DEMO_PASSWORD, "next": next_path}, token_from="/account/confirm")


def test_changing_the_phone_needs_a_fresh_login_then_moves_the_login_and_ends_other_sessions(app, client, auth,
                                                                                             caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    other_device = app.test_client()
    auth.login_as("resident")
    other_auth = Auth(other_device)
    other_auth.login_as("resident")
    _make_stale(client)

    stale = client.get("/account/phone")
    assert stale.status_code == 302 and "/account/confirm" in stale.location and "account/phone" in stale.location
    assert _confirm(auth, "/account/phone").location.endswith("/account/phone")

    asked = auth.post("/account/phone", {"phone": "139 1234 5678", "password": DEMO_PASSWORD}, headers=EN)
    assert asked.status_code == 302 and asked.location.endswith("/account/phone/confirm")
    assert other_device.get("/account").status_code == 200  # nothing moves before the code
    code = _codes_sent(caplog)[-1]
    done = auth.post("/account/phone/confirm", {"phone": "13912345678", "code": code}, headers=EN,
                     token_from="/account/phone/confirm")
    assert done.status_code == 302 and done.location.endswith("/account")
    assert "Your mobile number has been changed" in client.get("/account", headers=EN).get_data(as_text=True)
    assert other_device.get("/account").status_code == 302  # the other phone's session is over

    fresh = app.test_client()
    assert Auth(fresh).login(DEMO_PHONES["resident"]).status_code == 401  # the old number no longer logs in
    assert Auth(fresh).login("13912345678").status_code == 302

    entry = in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.phone.changed").get())
    details = json.loads(entry.details)
    assert details == {"old": "139****0001", "new": "139****5678"}  # the log never holds a full number


def test_a_bad_or_taken_phone_number_is_refused_with_a_clear_message_and_changes_nothing(app, client, auth):
    auth.login_as("resident")
    for typed, message in (
        ("12345", "Please enter an 11-digit mainland mobile number"),
        (DEMO_PHONES["volunteer"], "This mobile number belongs to another account."),
        (DEMO_PHONES["resident"], "That is already your mobile number."),
    ):
        refused = auth.post("/account/phone", {"phone": typed, "password": DEMO_PASSWORD}, headers=EN)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert in_app(app, lambda: User.select().where(User.phone == DEMO_PHONES["resident"]).count()) == 1
    assert in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.phone.changed").count()) == 0


def test_changing_the_password_needs_a_fresh_login(client, auth):
    auth.login_as("volunteer")
    _make_stale(client)
    stale = client.get("/account/password")
    assert stale.status_code == 302 and "/account/confirm" in stale.location
    stale_post = client.post("/account/password", data={
        "current_password": DEMO_PASSWORD, "new_password": "a new sentence to remember",
        "csrf_token": csrf_token(client, "/account"),
    })
    assert stale_post.status_code == 302 and "/account/confirm" in stale_post.location  # nothing changed
    assert _confirm(auth, "/account/password").location.endswith("/account/password")
    changed = auth.post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": "a new sentence to remember"})
    assert changed.status_code == 302


def test_staff_see_a_masked_phone_until_they_ask_and_each_look_is_in_the_audit_log(app, client, auth):
    resident = in_app(app, lambda: User.get(User.phone == DEMO_PHONES["resident"]).id)
    auth.login_as("grid_admin")
    page = client.get(f"/staff/people/{resident}").get_data(as_text=True)
    assert "139****0001" in page and DEMO_PHONES["resident"] not in page
    shown = auth.post(f"/staff/people/{resident}/phone", token_from=f"/staff/people/{resident}")
    assert shown.status_code == 200 and DEMO_PHONES["resident"] in shown.get_data(as_text=True)
    looks = in_app(app, lambda: [json.loads(e.details)["shown"] for e in AuditLog.select().where(
        AuditLog.action == "users.personal_data.viewed", AuditLog.object_id == resident).order_by(AuditLog.id)])
    assert looks == ["address", "address", "phone"]  # the page twice (once for the form's token), then the number


def test_a_residency_decision_reaches_the_resident_in_their_language_and_opens_once(app, client, auth):
    pending = in_app(app, lambda: ResidencyApplication.get(ResidencyApplication.status == "pending"))
    auth.login_as("building_head")
    assert auth.post(f"/staff/residency/{pending.id}/reject", {"reason": "门牌号不对"}, token_from="/staff/").status_code == 302
    note = in_app(app, lambda: Notification.get(Notification.user == pending.user_id))
    assert "门牌号不对" in note.text and note.read_at is None

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("resident")  # someone else's message does not exist for them
    assert auth.post(f"/messages/{note.id}/open", token_from="/messages/").status_code == 404

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("pending_resident")
    listing = client.get("/messages/").get_data(as_text=True)
    assert "门牌号不对" in listing
    opened = auth.post(f"/messages/{note.id}/open", token_from="/messages/")
    assert opened.status_code == 302 and opened.location.endswith("/account")
    assert in_app(app, lambda: Notification.get_by_id(note.id).read_at) is not None


def test_an_error_log_names_a_secret_link_by_its_pattern_and_never_holds_a_phone_number(app, client, caplog):
    """A crash while someone opens a partner invitation must not put the invitation in the log."""
    from marketplace.ops.logs import TextFormatter

    @app.route("/join-crash/<token>")
    def crash(token):  # a stand-in for any view that fails
        raise RuntimeError("failed for 13912345678")

    crash.allowed = frozenset({"public"})
    with caplog.at_level("ERROR"):
        assert client.get("/join-crash/secret-invitation-token").status_code == 500
    record = next(r for r in caplog.records if r.getMessage().startswith("Unhandled error"))
    assert "secret-invitation-token" not in record.getMessage() and "<token>" in record.getMessage()
    text = TextFormatter("%(message)s").format(record)
    assert "13912345678" not in text and "secret-invitation-token" not in text


def _captured_cookies(client):
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")}


def _replayed(app, cookies):
    """A browser that has nothing but the copied cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def test_cookies_copied_before_logout_password_change_or_deactivation_no_longer_sign_anyone_in(app, client, auth):
    def logged_in(browser):
        return browser.get("/account").status_code == 200

    def only_remember(cookies):
        return {"remember_token": cookies["remember_token"]}

    # Logout.
    auth.login(DEMO_PHONES["volunteer"], remember="y")
    copied = _captured_cookies(client)
    assert logged_in(_replayed(app, copied)) and logged_in(_replayed(app, only_remember(copied)))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    for cookies in (copied, only_remember(copied)):
        answer = _replayed(app, cookies).get("/account")
        assert answer.status_code == 302 and "/login" in answer.location

    # A password change made on another device.
    auth.login(DEMO_PHONES["volunteer"], remember="y")
    copied = _captured_cookies(client)
    other = app.test_client()
    Auth(other).login_as("volunteer")
    Auth(other).post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": "a long new sentence"})
    for cookies in (copied, only_remember(copied)):
        assert _replayed(app, cookies).get("/account").status_code == 302
    assert logged_in(other)  # the device that made the change stays signed in

    # Staff switch the account off.
    auth.login(DEMO_PHONES["resident"], remember="y")
    copied = _captured_cookies(client)
    staff = app.test_client()
    Auth(staff).login_as("community_admin")
    resident = in_app(app, lambda: User.get(User.phone == DEMO_PHONES["resident"]).id)
    assert Auth(staff).post(f"/staff/people/{resident}/deactivate", token_from=f"/staff/people/{resident}").status_code == 302
    for cookies in (copied, only_remember(copied)):
        assert _replayed(app, cookies).get("/account").status_code == 302


def test_in_production_the_cookies_are_secure_and_rate_limits_are_shared_in_redis(monkeypatch):
    from marketplace import config

    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    settings = config.from_environment()
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    assert settings["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_an_idle_session_ends_on_the_server_unless_kept_signed_in_and_none_outlives_30_days(app):
    from datetime import timedelta

    from marketplace.timeutil import utcnow
    from marketplace.users.models import LoginSession

    def signed_in(remember):
        browser = app.test_client()
        Auth(browser).login(DEMO_PHONES["volunteer"], **({"remember": "y"} if remember else {}))
        return browser, in_app(app, lambda: LoginSession.select().order_by(LoginSession.id.desc()).get().id)

    def age(session_id, idle=timedelta(0), old=timedelta(0)):
        in_app(app, lambda: LoginSession.update(last_seen_at=utcnow() - idle, created_at=utcnow() - old)
              .where(LoginSession.id == session_id).execute())

    browser, session_id = signed_in(remember=False)
    age(session_id, idle=timedelta(hours=11))
    assert browser.get("/account").status_code == 200  # and the visit counts as activity
    age(session_id, idle=timedelta(hours=13))
    assert browser.get("/account").status_code == 302  # a copied cookie would fare the same

    kept, kept_id = signed_in(remember=True)
    age(kept_id, idle=timedelta(days=3), old=timedelta(days=3))
    assert kept.get("/account").status_code == 200
    age(kept_id, old=timedelta(days=31))
    assert kept.get("/account").status_code == 302


def test_the_session_cookie_is_renewed_when_the_server_moves_the_idle_clock_not_on_every_page(app):
    """The cookie's expiry slides with the server's idle limit, signed again only when the server
    records activity (every few minutes), not at every page (issue 20: a page's cost)."""
    from marketplace.timeutil import utcnow
    from marketplace.users.accounts import SESSION_TOUCH_EVERY
    from marketplace.users.models import LoginSession

    browser = app.test_client()
    Auth(browser).login_as("volunteer")
    session_id = in_app(app, lambda: LoginSession.select().order_by(LoginSession.id.desc()).get().id)

    def seen():
        return in_app(app, lambda: LoginSession.get_by_id(session_id).last_seen_at)

    def cookie_renewed(response) -> bool:
        return any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))

    assert browser.get("/account").status_code == 200
    quiet = browser.get("/account")
    assert quiet.status_code == 200 and not cookie_renewed(quiet)
    before = utcnow() - SESSION_TOUCH_EVERY - SESSION_TOUCH_EVERY
    in_app(app, lambda: LoginSession.update(last_seen_at=before).where(LoginSession.id == session_id).execute())
    touched = browser.get("/account")
    assert touched.status_code == 200 and cookie_renewed(touched) and seen() > before
    renewed = next(h for h in touched.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Expires=" in renewed  # a lasting cookie, its expiry counted from now
    assert not cookie_renewed(browser.get("/account"))
    assert browser.get("/account").status_code == 200  # the renewed cookie still signs them in


def test_sign_up_attempts_for_one_number_are_limited_whatever_the_address(app, client):
    app.config["RECOVERY_CODES_PER_NUMBER"] = "3 per hour"  # the text messages one number may be sent
    answers = []
    for attempt in range(5):
        address = {"REMOTE_ADDR": f"10.0.0.{attempt + 1}"}  # a new address each time
        token = csrf_token(client, "/signup")
        answers.append(client.post("/signup", data={"phone": DEMO_PHONES["resident"], "csrf_token": token},
                                   environ_base=address, headers=EN).status_code)
    assert answers[:3] == [302, 302, 302] and answers[3:] == [429, 429]  # as if it worked, then refused
    other = client.post("/signup", data={"phone": "13912340000", "csrf_token": csrf_token(client, "/signup")},
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302  # another number from a new address is not held up


def test_api_tokens_end_with_a_password_change_or_log_out_everywhere_and_need_a_fresh_password(app, client, auth):
    def balance_with(token):
        return app.test_client().get("/api/v1/points", headers={"Authorization": f"Bearer {token}"}).status_code

    auth.login_as("resident")
    _make_stale(client)
    stale = auth.post("/account/api-tokens/", {"name": "偷来的会话", "scopes": "points"}, token_from="/account/api-tokens/")
    assert stale.status_code == 302 and "/account/confirm" in stale.location  # a copied session makes no token
    token = make_token(app, "resident")
    assert balance_with(token) == 200
    _confirm(auth, "/account/password")
    auth.post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": "a new sentence to remember"})
    assert balance_with(token) == 401

    token = make_token(app, "resident")
    auth.post("/account/logout-everywhere", token_from="/account")
    assert balance_with(token) == 401


def test_the_login_limit_per_number_and_address_counts_every_way_of_typing_the_number(app, client):
    """Issue 16: a number is refused only to the address that failed on it (the owner elsewhere
    still gets in; tests/users/test_login_limits.py); every spelling of the number counts alike."""
    app.config["LOGIN_FAILURES_PER_NUMBER_AND_ADDRESS"] = 3
    spellings = ["13900000001", "139 0000 0001", "+8613900000001", "139-0000-0001", "008613900000001"]
    answers = []
    for typed in spellings:
        token = csrf_token(client)
        answers.append(client.post("/login", data={"phone": typed, "password": "wrong password", "csrf_token": token},
                                   environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code)
    assert answers == [401, 401, 401, 429, 429]


def test_re_entering_the_password_is_limited_per_account_whatever_the_address(app, client, auth):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    auth.login_as("community_admin")
    answers = []
    for n in range(5):
        token = csrf_token(client, "/account/confirm")
        answers.append(client.post("/account/confirm", data={"password": "a guess", "csrf_token": token},
                                   environ_base={"REMOTE_ADDR": f"10.0.2.{n + 1}"}).status_code)
    assert answers == [422, 422, 422, 429, 429]


def test_a_made_up_cursor_is_refused_with_a_clear_message_not_an_error(app, client, auth):
    import base64

    auth.login_as("volunteer")
    nested = base64.urlsafe_b64encode(b"[" * 1100).decode()
    for cursor in (nested, "A" * 5000, "zzzz"):
        page = client.get(f"/jobs/?after={cursor}", headers=EN)
        assert page.status_code == 400 and "This cursor is not valid" in page.get_data(as_text=True)
    token = make_token(app, "volunteer")
    answer = app.test_client().get(f"/api/v1/jobs?cursor={nested}", headers={"Authorization": f"Bearer {token}", **EN})
    assert answer.status_code == 422, answer.get_json()  # the API's answer to any invalid input
    assert "cursor" in str(answer.get_json())


def test_an_older_password_hash_is_upgraded_at_the_next_login(app, client, auth):
    from argon2 import PasswordHasher

    from marketplace.users import passwords

    app.config["PASSWORD_HASH_PROFILE"] = "RFC_9106_LOW_MEMORY"  # as deployed (the suite's is cheaper)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(DEMO_PASSWORD)
    in_app(app, lambda: User.update(password_hash=weak).where(User.phone == DEMO_PHONES["volunteer"]).execute())
    assert in_app(app, lambda: passwords.needs_rehash(weak))
    auth.login_as("volunteer")
    stored = in_app(app, lambda: User.get(User.phone == DEMO_PHONES["volunteer"]).password_hash)
    assert stored != weak and not in_app(app, lambda: passwords.needs_rehash(stored))
    assert in_app(app, lambda: passwords.verify_password(stored, DEMO_PASSWORD))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's low-memory profile


def test_behind_a_proxy_the_limit_counts_the_forwarded_client_and_without_one_a_forged_header_changes_nothing(
        database_url, tmp_path):
    from tests.conftest import demo_app

    def attempts(hops):
        with demo_app(database_url, tmp_path / f"hops{hops}", PROXY_FIX_HOPS=hops, LOGIN_RATE_LIMIT="2 per minute") as app:
            browser = app.test_client()
            answers = []
            for n in range(3):  # three numbers (so the per-number limit stays out of it), three claimed clients
                token = csrf_token(browser)
                answers.append(browser.post("/login", data={"phone": f"1391234000{n}", "password": "wrong password",
                                                            "csrf_token": token},
                                            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"}).status_code)
            return answers

    assert attempts(hops=1) == [401, 401, 401]  # three clients behind the proxy, each within its limit
    assert attempts(hops=0) == [401, 401, 429]  # no proxy configured: the header is not believed
