"""Logs that cannot leak (issue 19, finding 3): secret link tokens are hidden in the request log
whether or not a route matched, and a client's X-Request-ID is kept only when it is a UUID."""

import json

import pytest

from marketplace.events import tokens
from marketplace.partners.invitations import invite_partner_staff
from marketplace.partners.models import PartnerEnterprise
from tests.conftest import in_app, person

UUID = "0f5d3c4e-8a1b-4c2d-9e3f-123456789abc"


def _request_lines(err: str) -> list[dict]:
    lines = [json.loads(line) for line in err.splitlines() if line.strip().startswith("{")]
    return [line for line in lines if line["logger"] == "marketplace.requests"]


def test_finding_3_secret_tokens_in_unmatched_paths_are_not_logged(app, client, capsys):
    invitation = in_app(app, lambda: invite_partner_staff(
        person("community_admin"), PartnerEnterprise.select().first().id, "新同事"))
    kiosk = in_app(app, lambda: tokens.kiosk_token(1, "in"))
    capsys.readouterr()
    paths = {
        f"/join/{invitation}/": ("/join/<token>/", 404),  # trailing slash: no route matches
        f"/events/k/{kiosk}/": ("/events/k/<token>/", 404),
        f"/events/k/{kiosk}/extra": ("/events/k/<token>/extra", 404),
        f"/join/{invitation}": ("/join/<token>", None),  # the route itself, as before
        f"/no-such-place/{invitation}": ("/no-such-place/<redacted>", 404),  # token-shaped on any path
    }
    for path in paths:
        client.get(path)
    err = capsys.readouterr().err
    assert invitation not in err and kiosk not in err
    logged = {line["path"]: line["status"] for line in _request_lines(err)}
    for shown, status in paths.values():
        assert shown in logged and (status is None or logged[shown] == status), (shown, logged)
    # The invitation still works: hiding it from the log did not spend it.
    assert client.get(f"/join/{invitation}").status_code in (200, 302)


@pytest.mark.parametrize("sent, kept", [
    (UUID, True),
    (UUID.replace("-", ""), True),
    ("13900000001", False),  # a phone number
    ("0f5d3c4e13900000001abcdef0000abc", False),  # a UUID's shape around a phone number
    ("eyJhbGciOi.eyJzdWIiOiIxMzkwMDAwMDAwMSJ9.c2lnbmF0dXJl", False),  # a token
    ("from-the-proxy-42", False),
    ("x" * 5000, False),
])
def test_finding_3_a_client_request_id_is_kept_only_in_a_strict_format(client, capsys, sent, kept):
    capsys.readouterr()
    response = client.get("/menu/", headers={"X-Request-ID": sent})
    [line] = [line for line in _request_lines(capsys.readouterr().err) if line["path"] == "/menu/"]
    assert (line["request_id"] == sent) is kept
    assert response.headers["X-Request-ID"] == line["request_id"]
    if not kept:
        assert sent not in json.dumps(line) and len(line["request_id"]) == 32
