"""Sweeps over the whole URL map: CSRF on every unsafe method, no GET that changes a row, and
the security headers on every page, for every kind of person (issue 9)."""

import peewee as pw
import pytest

from marketplace.audit import AuditHead, AuditLog
from marketplace.events.models import Badge
from marketplace.schema import ALL_MODELS
from marketplace.users.models import LoginSession
from tests.test_access_table import IDENTITIES, ROUTES, demo_ids

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Rows a GET may legitimately write: the audit trail of staff looking at personal data, the
# "last seen" time of a login session, and a volunteer's badge, issued the first time they open it.
WRITTEN_BY_READING = {AuditLog, AuditHead, LoginSession, Badge}


def _rules(app):
    # Routes without a row in the access table are reported by that test; they are skipped here.
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint in ROUTES]


def _path(app, ids, rule):
    template, _expected = ROUTES[rule.endpoint]
    return template.format(**ids)


@pytest.mark.parametrize("identity", ["anonymous", "resident", "admin"])
def test_every_unsafe_method_without_a_csrf_token_is_refused(app, client, auth, identity):
    ids = demo_ids(app)
    if identity != "anonymous":
        auth.login_as(identity)
    accepted = []
    for rule in _rules(app):
        path = _path(app, ids, rule)
        for method in sorted(rule.methods & UNSAFE):
            response = client.open(path, method=method, data={"anything": "1"})
            expected = {400, 401} if path.startswith("/api/") else {400}
            if path.startswith("/messages/receipts/"):
                # The providers' callbacks carry no session and no CSRF token: they are refused
                # without their own signature instead (tests/notifications/test_channels.py).
                expected = {403}
            if path.startswith(("/api/v1/password/", "/api/v1/signup")) and identity == "anonymous":
                # Getting back in and signing up need no session (issue 16), so there is no cookie to forge with:
                # a cross-site form's post is refused for not being JSON, which no form can send.
                expected = {415}
            if response.status_code not in expected:
                accepted.append(f"{method} {path}: {response.status_code}")
    assert not accepted, "unsafe requests without a CSRF token were not refused:\n" + "\n".join(accepted)


def _fingerprint():
    rows = {}
    for model in ALL_MODELS:
        if model in WRITTEN_BY_READING:
            continue
        rows[model._meta.table_name] = (model.select().count(), model.select(pw.fn.MAX(model.id)).scalar())
    return rows


@pytest.mark.parametrize("identity", IDENTITIES)
def test_no_get_changes_any_row_and_every_page_carries_the_security_headers(app, client, auth, identity):
    ids = demo_ids(app)
    if identity != "anonymous":
        auth.login_as(identity)
    with app.app_context():
        before = _fingerprint()
    missing = []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        response = client.get(_path(app, ids, rule))
        headers = response.headers
        if response.mimetype == "text/html":
            csp = headers.get("Content-Security-Policy", "")
            for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'self'",
                         "form-action 'self'"):
                if part not in csp:
                    missing.append(f"{rule.rule}: CSP lacks {part}")
            if "'unsafe-inline'" in csp:
                missing.append(f"{rule.rule}: CSP allows inline script")
            if headers.get("X-Content-Type-Options") != "nosniff" or not headers.get("Referrer-Policy"):
                missing.append(f"{rule.rule}: nosniff or Referrer-Policy missing")
        if identity != "anonymous" and headers.get("Cache-Control") != "no-store":
            missing.append(f"{rule.rule}: signed in, but may be cached ({headers.get('Cache-Control')})")
    with app.app_context():
        after = _fingerprint()
    changed = {table: (before[table], after[table]) for table in before if before[table] != after[table]}
    assert not changed, f"GET requests changed rows: {changed}"
    assert not missing, "\n".join(missing)


def test_session_and_remember_cookies_are_httponly_samesite_and_remembered_at_most_30_days(app, client, auth):
    response = auth.login("13900000003", remember="y")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
    expires = [part.strip() for part in cookies["remember_token"].split(";") if part.strip().startswith("Expires=")][0]
    from datetime import UTC, datetime, timedelta
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(expires[len("Expires="):]) <= datetime.now(UTC) + timedelta(days=30, minutes=1)


@pytest.mark.parametrize("identity", ["resident", "volunteer", "partner_staff"])
def test_walking_object_ids_never_shows_another_persons_phone(app, client, auth, identity):
    """Each person tries ids 1-12 on every route that takes an id: no page answers with someone
    else's full phone number (the people here claimed nothing, so they may see only their own)."""
    from marketplace.menu.models import ServiceItem
    from marketplace.service_requests import services as requests
    from marketplace.users.models import User
    from tests.conftest import DEMO_PHONES

    with app.test_request_context():
        for phone in ("13900000001", "13900000002"):  # two residents ask for help
            requests.book(User.get(User.phone == phone), ServiceItem.get(ServiceItem.code == "smartphone_basics").id,
                          "想学用手机挂号")
    own = DEMO_PHONES[identity]
    others = [p for p in ("13900000001", "13900000002", "13900000003", "13900000004") if p != own]
    auth.login_as(identity)
    leaks = []
    for rule in app.url_map.iter_rules():
        params = [name for name, conv in rule._converters.items() if type(conv).__name__ == "IntegerConverter"]
        if not params or "GET" not in rule.methods:
            continue
        for number in range(1, 13):
            path = rule.build({name: number for name in rule.arguments} | {name: number for name in params},
                              append_unknown=False)[1]
            body = client.get(path).get_data(as_text=True)
            leaks += [f"{path} shows {phone}" for phone in others if phone in body]
    assert not leaks, "\n".join(leaks[:20])
