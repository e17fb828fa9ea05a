"""No 5xx on any input (issue 19, point 4): every route of the URL map, pages and API alike,
called with hostile values, as a resident and as an administrator.

Hostile values: ids of 2^63 and more, negative, zero, Unicode digits; NUL, newline and other
control characters, invalid UTF-8, path tricks and markup in text arguments; extreme,
impossible and malformed dates; empty values; 1 MB bodies and the longest query string gunicorn
lets through; duplicated query parameters; JSON
100,000 levels deep, of the wrong type or with the wrong content type. Every answer must be
below 500; the GETs must change nothing. The sweep reports how many requests it made.

Each route's valid path comes from the access table (tests/test_access_table.py), so that the
hostile query and form values reach the views and services, not only the 404 of a missing object.
"""

import json
import uuid
from urllib.parse import quote

import pytest

from marketplace.db import db
from tests.api.test_api_helpers import make_token
from tests.conftest import DEMO_PHONES, Auth, csrf_token, database_url_for, demo_app
from tests.test_access_table import ROUTES, demo_ids, row_fingerprint

MB = "x" * (1 << 20)
# gunicorn refuses a request line over `limit_request_line` (deploy/gunicorn.conf.py: 8190 bytes)
# before the app sees it, so the longest query value that can arrive is a little under that.
# (A 1 MB query string made a quarter of the sweep's time, all of it in the test client.)
LONGEST_QUERY_VALUE = "x" * 8000
BAD_IDS = ["9223372036854775808", "-1", "0", "%E1%A7%97"]
BAD_TEXTS = ["%00", "a%0A%07b", "%FF%FE", "..%2F..%2Fetc", "x" * 2000]
BAD_QUERY_VALUES = ["", "\x00", "-1", "9223372036854775808", "᧗", "0001-01-01", "9999-12-31", "2024-02-30",
                    "[[[[\u202e\r\n"]
QUERY_NAMES = ["since", "until", "after", "cursor", "limit", "kind", "category", "grid", "show", "q", "page",
               "mode", "building", "unread", "status", "day", "year", "month", "next", "code", "lang", "sort"]
FORM_NAMES = ["description", "reason", "note", "code", "key", "phone", "display_name", "password", "amount",
              "points", "title", "price", "stock", "rating", "comment", "action", "household", "name", "scopes",
              "since", "until", "date", "day", "at", "text", "starts_at", "ends_at", "capacity", "department",
              "outcome", "role", "category", "preferred_date", "preferred_period", "valid_from", "valid_until",
              "per_person_limit", "is_workday", "count", "outcome_note", "current_password", "new_password"]
FORM_VALUES = ["", "-1", "9223372036854775808", "١٢", "0001-01-01", "9999-12-31T23:59", "\u202e\x07\x1b"]
JSON_VALUES = [None, -1, 2**63, 2.7, True, "", "\u0000", "᧗", "9999-12-31", []]
SESSION_ENDERS = {"users.logout", "users.logout_everywhere"}


@pytest.fixture
def sweep_app(request, tmp_path):
    unlimited = "1000000 per minute"
    with demo_app(database_url_for(request.config, tmp_path), tmp_path, RATELIMIT_ENABLED=False,
                  API_RATE_LIMIT=unlimited, LOGIN_RATE_LIMIT=unlimited, SIGNUP_RATE_LIMIT=unlimited,
                  ONSITE_CODE_RATE_LIMIT=unlimited, VOUCHER_SCAN_RATE_LIMIT=unlimited,
                  EVENT_CODE_RATE_LIMIT=unlimited, REQUEST_LOG=False) as app:
        yield app


def _fingerprint(app) -> dict:
    with app.app_context(), db.connection_context():
        return row_fingerprint()


def _body_fields(app) -> dict[str, list[str]]:
    """Each API operation's body fields, from the OpenAPI document."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    fields = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            schema = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in schema:
                schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            fields[(method.upper(), path)] = list(schema.get("properties", {}))
    return fields


class Sweep:
    def __init__(self, app, client, who):
        self.app, self.client, self.who = app, client, who
        self.auth = Auth(client)
        self.token = make_token(app, who)
        self.count, self.failures, self.logins = 0, [], 0
        self.csrf_token = None

    def login(self):
        self.logins += 1
        self.auth.login(DEMO_PHONES[self.who])
        self.csrf_token = None  # a new session has a CSRF token of its own

    def send(self, method, path, **kwargs):
        api = path.startswith("/api/")
        headers = kwargs.pop("headers", {})
        if api:
            headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": uuid.uuid4().hex, **headers}
        self.count += 1
        try:
            response = self.client.open(path, method=method, headers=headers, **kwargs)
        except Exception as error:  # noqa: BLE001 - a crash is what we are looking for
            self.failures.append(f"{self.who} {method} {path[:120]}: {type(error).__name__}: {error}"[:300])
            return None
        if response.status_code >= 500:
            self.failures.append(f"{self.who} {method} {path[:120]} {str(kwargs)[:80]}: {response.status_code}")
        if not api and response.status_code == 302 and "/login" in (response.location or "") and \
                not path.startswith(("/login", "/signup")):
            self.login()  # a sweep of the account pages may have ended the session: carry on signed in
        return response

    def csrf(self):
        """The session's CSRF token, read once per session (it is valid for every form of it)."""
        if self.csrf_token is None:
            self.csrf_token = csrf_token(self.client, "/")
        return self.csrf_token


def _paths(rule, valid_path, adapter):
    """The valid path, then the path with each argument in turn replaced by hostile values."""
    try:
        _endpoint, values = adapter.match(valid_path.split("?", 1)[0], method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])
    except Exception:  # noqa: BLE001 - a redirect or a route that needs its own method
        values = {}
    hostile = []
    for name in rule.arguments:
        converter = rule._converters.get(name)
        bad = BAD_IDS if type(converter).__name__ in ("IdConverter", "IntegerConverter") else BAD_TEXTS
        for value in bad:
            path = ""
            for is_dynamic, part in _parts(rule):
                if not is_dynamic:
                    path += part
                elif part == name:
                    path += value
                else:
                    path += quote(str(values.get(part, "1")), safe="")
            hostile.append(path)
    return hostile


def _parts(rule):
    import re

    at = 0
    for found in re.finditer(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule):
        yield False, rule.rule[at:found.start()]
        yield True, found.group(1)
        at = found.end()
    yield False, rule.rule[at:]


def _sweep_rule(sweep, rule, valid, adapter, fields):
    methods = rule.methods - {"HEAD", "OPTIONS"}
    api = valid.startswith("/api/")
    hostile_paths = _paths(rule, valid, adapter)
    if "GET" in methods:
        # Every name gets every value once (each request a different mix), then all of them twice.
        for shift in range(len(BAD_QUERY_VALUES)):
            query = [(name, BAD_QUERY_VALUES[(shift + at) % len(BAD_QUERY_VALUES)])
                     for at, name in enumerate(QUERY_NAMES)]
            sweep.send("GET", valid.split("?", 1)[0], query_string=query)
        sweep.send("GET", valid.split("?", 1)[0], query_string=[(n, v) for n in QUERY_NAMES for v in ("1", "-1")])
        sweep.send("GET", valid.split("?", 1)[0], query_string={"q": LONGEST_QUERY_VALUE})
        for path in hostile_paths:
            sweep.send("GET", path)
    if "POST" in methods and rule.endpoint not in SESSION_ENDERS:
        if api:
            openapi_path = "/api/v1" + valid.split("/api/v1", 1)[1]
            names = next((names for (m, p), names in fields.items()
                          if m == "POST" and _same_template(p, openapi_path)), []) or ["x"]
            for value in JSON_VALUES:
                sweep.send("POST", valid, data=json.dumps({n: value for n in names}),
                           content_type="application/json")
            sweep.send("POST", valid, data=json.dumps({names[0]: MB}), content_type="application/json")
            sweep.send("POST", valid, data="[" * 100_000, content_type="application/json")
            sweep.send("POST", valid, data="{\"a\": 1", content_type="application/json")
            sweep.send("POST", valid, data=b"\xff\xfe{}", content_type="application/json")
            sweep.send("POST", valid, data="a=1", content_type="application/x-www-form-urlencoded")
            sweep.send("POST", valid, data=json.dumps([1]), content_type="text/plain")
            for path in hostile_paths:
                sweep.send("POST", path, data="{}", content_type="application/json")
        else:
            token = sweep.csrf()
            for value in FORM_VALUES:
                sweep.send("POST", valid, data={"csrf_token": token, **{n: value for n in FORM_NAMES}})
            sweep.send("POST", valid, data={"csrf_token": token, "description": MB})
            sweep.send("POST", valid, data={"csrf_token": [token, token], "code": ["1", "2"], "key": ["a", "b"]})
            sweep.send("POST", valid, data="[" * 100_000, content_type="application/json")
            sweep.send("POST", valid, data=b"\xff\xfe", content_type="multipart/form-data; boundary=x")
            for path in hostile_paths:
                sweep.send("POST", path, data={"csrf_token": token})


def _same_template(template: str, path: str) -> bool:
    import re

    return re.fullmatch(re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(template)), path) is not None


def test_hostile_input_sweep_answers_no_5xx(request, sweep_app, capsys):
    app = sweep_app
    ids = demo_ids(app)
    fields = _body_fields(app)
    adapter = app.url_map.bind("localhost")
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint in ROUTES]
    before = None
    sweeps = []
    for who in ("resident", "admin"):
        sweep = Sweep(app, app.test_client(), who)
        sweep.login()
        sweeps.append(sweep)
        # The GETs first, all of them, and nothing may change; then the POSTs.
        before = _fingerprint(app)
        for rule in rules:
            if "GET" in rule.methods:
                valid = ROUTES[rule.endpoint][0].format(**ids)
                _sweep_rule(sweep, _only(rule, "GET"), valid, adapter, fields)
        assert _fingerprint(app) == before, f"hostile GETs as {who} changed rows"
        for rule in rules:
            if "POST" in rule.methods:
                valid = ROUTES[rule.endpoint][0].format(**ids)
                _sweep_rule(sweep, _only(rule, "POST"), valid, adapter, fields)
    total = sum(s.count for s in sweeps)
    failures = [f for s in sweeps for f in s.failures]
    with capsys.disabled():
        print(f"\nhostile-input sweep ({request.config.getoption('--db')}): {total} requests over {len(rules)} "
              f"routes, {len(failures)} answered 5xx ({sum(s.logins for s in sweeps)} logins)")
    assert total > 3000
    assert not failures, "\n".join(failures[:50])


class _only:
    """A rule seen with one method, so that a route taking GET and POST is swept once for each."""

    def __init__(self, rule, method):
        self._rule, self.methods = rule, {method}

    def __getattr__(self, name):
        return getattr(self._rule, name)


def test_the_longest_query_value_swept_is_as_long_as_gunicorn_lets_through():
    """The sweep's long query value stands for the longest one a deployed server passes on: if the
    request line limit is raised, the sweep must send longer values too."""
    import re
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py").read_text()
    limit = int(re.search(r"^limit_request_line = (\d+)", conf, re.M).group(1))
    assert limit - 200 <= len(LONGEST_QUERY_VALUE) < limit
