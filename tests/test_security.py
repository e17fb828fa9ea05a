"""Sweeps over the whole URL map: CSRF on every unsafe method, and no other person's phone number
behind any object id (issue 9). No GET changing a row and the security headers on every page are
checked in the access table's pass (tests/test_access_table.py)."""

import pytest

from tests.test_access_table import ROUTES, demo_ids

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


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


# No GET changes a row, and every page carries the security headers, for every kind of person:
# checked in the access table's pass over every route (tests/test_access_table.py).


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
