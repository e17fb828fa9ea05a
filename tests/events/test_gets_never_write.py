"""GETs never write (issue 19, finding 5): opening a kiosk or poster link with a bad, forged or
expired code shows the refusal and goes to the application log; the scan log gets a row only
when the volunteer presses the button (the POST)."""

import pytest

from marketplace.events import tokens
from marketplace.events.models import Scan
from tests.conftest import csrf_token, in_app


def _bad_links(app) -> dict[str, str]:
    return {
        "kiosk forged": "/events/k/1.123.i.AAAAAAAAAAAAAAAA",
        "kiosk garbage": "/events/k/not-a-token",
        "kiosk expired": "/events/k/" + in_app(app, lambda: tokens.kiosk_token(1, "in", tokens.current_step() - 5)),
        "poster forged": "/events/p/1.1.AAAAAAAAAAAAAAAA",
        "poster garbage": "/events/p/not-a-token",
    }


@pytest.mark.parametrize("which", ["kiosk forged", "kiosk garbage", "kiosk expired", "poster forged",
                                   "poster garbage"])
def test_finding_5_opening_a_bad_door_link_stores_nothing(app, client, auth, caplog, which):
    auth.login_as("volunteer")
    path = _bad_links(app)[which]
    scans = lambda: Scan.select().count()  # noqa: E731
    before = in_app(app, scans)
    caplog.set_level("INFO", logger="marketplace.events.door")
    opened = client.get(path, headers={"Accept-Language": "en"})
    assert 400 <= opened.status_code < 500
    assert in_app(app, scans) == before
    assert any("refused" in r.getMessage() and r.name == "marketplace.events.door" for r in caplog.records)
    assert path.rsplit("/", 1)[1] not in caplog.text  # the log line names no token
    pressed = client.post(path, data={"csrf_token": csrf_token(client, "/events/"), "action": "in"},
                          headers={"Accept-Language": "en"})
    assert 400 <= pressed.status_code < 500
    assert in_app(app, scans) == before + 1  # the press is what staff see
