"""The API's contract matches the server (issue 19, finding 6): empty or invalid query values
are refused as the document says, anything under /api/v1 answers in JSON, Allow lists only the
methods really served, TRACE is a 405 with Allow, and only the digits 0-9 make a number."""

import pytest

from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import csrf_token

EN = {"Accept-Language": "en"}


@pytest.fixture
def api(app, client):
    return ApiClient(client, make_token(app, "resident"))


@pytest.mark.parametrize("path, name", [
    ("/jobs?limit=", "limit"), ("/points/statement?since=", "since"), ("/points/statement?kind=", "kind"),
    ("/notifications?unread=", "unread"), ("/requests?limit=", "limit"),
])
def test_finding_6_empty_query_values_are_refused_where_the_document_allows_none(app, client, path, name):
    who = "volunteer" if path.startswith("/jobs") else "resident"
    answer = ApiClient(client, make_token(app, who)).get(path)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert name in error_of(answer)["fields"]


@pytest.mark.parametrize("value", ["᧗", "١٢", "７"])
def test_finding_6_unicode_digits_are_not_numbers_in_queries(app, client, value):
    answer = ApiClient(client, make_token(app, "resident")).get("/requests", {"limit": value})
    assert answer.status_code == 422 and "limit" in error_of(answer)["fields"]


@pytest.mark.parametrize("path", ["/api/v1%0A", "/api/v1/req%0Auests", "/api/v1/requests/1%0A", "/api/v1/nothing"])
def test_finding_6_a_path_under_the_api_answers_json(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and answer.is_json and error_of(answer)["code"] == "not_found"


@pytest.mark.parametrize("method", ["TRACE", "DELETE", "PUT", "PATCH"])
def test_finding_6_allow_lists_only_the_methods_served(api, method):
    answer = api.client.open("/api/v1/menu", method=method, headers=api.headers())
    assert answer.status_code == 405 and answer.is_json
    assert answer.headers["Allow"] == "GET, HEAD, OPTIONS"
    posted = api.client.open("/api/v1/requests/1/cancel", method=method, headers=api.headers())
    assert posted.status_code == 405 and posted.headers["Allow"] == "OPTIONS, POST"


def test_finding_6_options_lists_only_the_methods_served(client):
    assert client.options("/api/v1/menu").headers["Allow"] == "GET, HEAD, OPTIONS"


def test_finding_6_trace_on_a_page_is_a_405_with_allow(client):
    answer = client.open("/menu/", method="TRACE")
    assert answer.status_code == 405 and set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("typed, kept", [("١٢", None), ("᧗", None), ("１２", 12), ("12", 12)])
def test_finding_6_the_adjustment_form_takes_only_digits_0_to_9(app, client, auth, typed, kept):
    from marketplace.ledger.models import Account, Adjustment, Transfer
    from tests.conftest import in_app, person

    auth.login_as("community_admin")
    account_id = in_app(app, lambda: Account.get(Account.user == person("resident").id).id)
    before = in_app(app, lambda: (Adjustment.select().count(), Transfer.select().count()))
    path = f"/points/accounts/{account_id}/adjust"
    answer = client.post(path, headers=EN, data={"direction": "credit", "amount": typed, "reason": "志愿服务补录",
                                                 "csrf_token": csrf_token(client, path)})
    after = in_app(app, lambda: (Adjustment.select().count(), Transfer.select().count()))
    if kept is None:
        assert answer.status_code in (400, 422) and after == before
    else:
        assert answer.status_code == 302 and after != before
