"""Helpers for the API tests (no tests here): a token for a demo person, and a client that sends it."""

from marketplace.users import tokens
from tests.conftest import in_app, person

ALL_SCOPES = tuple(tokens.SCOPES)


def make_token(app, who: str, scopes=ALL_SCOPES, name="test app") -> str:
    return in_app(app, lambda: tokens.create_token(person(who), name, scopes)[1])


class ApiClient:
    """The test client with a bearer token (or none) and English unless told otherwise."""

    def __init__(self, client, token=None, lang="en"):
        self.client, self.token, self.lang = client, token, lang

    def headers(self, extra=None, lang=None):
        headers = {"Accept-Language": lang or self.lang}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def get(self, path, query=None, headers=None, lang=None):
        return self.client.get(f"/api/v1{path}", query_string=query, headers=self.headers(headers, lang))

    def post(self, path, body=None, key=None, headers=None, lang=None):
        extra = dict(headers or {})
        if key is not None:
            extra["Idempotency-Key"] = key
        return self.client.post(f"/api/v1{path}", json=body if body is not None else {},
                                headers=self.headers(extra, lang))


def error_of(response) -> dict:
    data = response.get_json()
    assert set(data) == {"error"}, data
    assert set(data["error"]) == {"code", "message", "fields"}, data
    return data["error"]
