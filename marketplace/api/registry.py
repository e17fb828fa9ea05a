"""The API's routes, each declared once with everything about it: who may call it, the token
scope it needs, its input, its answer and the statuses it gives. The declaration builds the
Flask route, checks the input, keeps the idempotency promise, and is what openapi.py turns into
the OpenAPI document, so the document describes the code that runs.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, current_app, g, jsonify, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from marketplace import edge
from marketplace.access import PUBLIC
from marketplace.api import auth
from marketplace.api.error_codes import codes_of_handler
from marketplace.api.schema import LIMIT_DEFAULT, MAX_ID, PAGE_FIELDS, Fields, Invalid, QueryForm
from marketplace.db import db
from marketplace.error_handlers import API_PREFIX, to_response
from marketplace.errors import STATUS_CODES, ApiError, DomainError
from marketplace.extensions import limiter
from marketplace.idempotency import IDEMPOTENCY_KEEP, IdempotencyRecord
from marketplace.timeutil import utcnow

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")  # visible ASCII, as HTTP headers carry it
# A key still "being processed" after this long belongs to a worker that died mid-request (or
# could not store the answer): a retry may run again, and the services' own keys stop doubles.
IDEMPOTENCY_ABANDONED = timedelta(minutes=2)
COMPONENTS: dict[str, dict] = {}
OPERATIONS: list["Operation"] = []


def component(name: str, schema: dict) -> dict:
    """A named response schema; returns a $ref to it."""
    COMPONENTS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(ref: dict) -> dict:
    return {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": ref},
        "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null at the end."},
    }}


@dataclass
class Operation:
    method: str
    rule: str  # Flask rule under /api/v1, e.g. /requests/<int:request_id>
    handler: object
    summary: str
    tag: str
    allow: frozenset
    scope: str | None
    response: dict | None
    status: int = 200
    query: Fields | QueryForm | None = None
    body: object = None
    paginated: bool = False
    errors: tuple = ()
    key_required: bool = False
    limits: tuple = ()
    description: str = ""

    @property
    def endpoint(self) -> str:
        return self.handler.__name__

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<int:(\w+)>", self.rule)

    @property
    def openapi_path(self) -> str:
        return "/api/v1" + re.sub(r"<int:(\w+)>", r"{\1}", self.rule)

    @property
    def public(self) -> bool:
        return PUBLIC in self.allow

    def statuses(self) -> list[int]:
        return sorted({self.status, *self.error_codes()})

    def _request_statuses(self) -> set[int]:
        """The error statuses of the request itself, whatever the services say."""
        codes = {401, 429, 503, *self.errors}
        if self.scope or not self.public:
            codes.add(403)
        if self.path_params:
            codes.add(404)
        if self.method == "POST":
            codes |= {400, 409, 422}  # CSRF or a bad Idempotency-Key; a key still in use; a key reused
        if self.body is not None:
            codes |= {400, 413, 415, 422}
        if self.query is not None or self.paginated:
            codes.add(422)
        return codes

    def error_codes(self) -> dict[int, list[str]]:
        """Each error status this operation may answer, with the codes its body may carry: those
        about the request itself (token, scope, headers, input), and those of the services it
        calls, read off their raise sites (api/error_codes.py)."""
        found: dict[int, set[str]] = {}
        for status, code in codes_of_handler(self.handler):
            found.setdefault(status, set()).add(code)
        generic = {401: {"unauthorized", "invalid_token"}, 429: {"rate_limited"}, 503: {"unavailable"}}
        if self.scope:
            generic[403] = {"insufficient_scope"}
        if not self.public:
            generic.setdefault(403, set()).add("forbidden")
        if self.path_params:
            generic[404] = {"not_found"}
        if self.method == "POST":
            generic[400] = {"bad_request", "csrf_failed"}
            generic[409] = {"idempotency_in_progress"}
            generic[422] = {"idempotency_key_reused"}
        if self.body is not None:
            generic.setdefault(400, set()).add("bad_request")
            generic[413], generic[415] = {"too_large"}, {"unsupported_media_type"}
        if self.body is not None or self.query is not None or self.paginated:
            generic.setdefault(422, set()).add("invalid")
        if self.paginated:
            generic.setdefault(422, set()).add("invalid_cursor")
        for status, codes in generic.items():
            found.setdefault(status, set()).update(codes)
        for status in self._request_statuses() - set(found):
            found[status] = {STATUS_CODES.get(status, "error")}
        return {status: sorted(codes) for status, codes in sorted(found.items())}


def operation(method, rule, *, summary, tag, allow, scope=None, response=None, status=200, query=None, body=None,
              paginated=False, errors=(), key_required=False, limits=()):
    """Declare and register one API route. The handler gets the calling user (None when
    anonymous), the path values and the parsed input as keyword arguments."""

    def decorator(handler):
        op = Operation(method, rule, handler, summary, tag, frozenset(allow), scope, response, status, query, body,
                       paginated, tuple(errors), key_required, tuple(limits),
                       description=(handler.__doc__ or "").strip())
        def route(**values):
            return _dispatch(op, **values)

        route.__name__, route.__module__, route.__qualname__ = op.endpoint, handler.__module__, op.endpoint
        route.allowed = op.allow
        for limit_value, key_func in op.limits:
            route = limiter.limit(limit_value, key_func=key_func)(route)
            route.allowed = op.allow
        bp.add_url_rule(rule, endpoint=op.endpoint, view_func=route, methods=[method])
        OPERATIONS.append(op)
        return handler

    return decorator


def caller():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _dispatch(op: Operation, **values):
    if any(value > MAX_ID for value in values.values()):
        raise ApiError(404, _("This was not found."))
    if op.scope and op.scope not in auth.scopes_of_request():
        raise ApiError(403, _("This token may not do this: it needs the “%(scope)s” permission.", scope=op.scope),
                       code="insufficient_scope")
    if op.method == "POST":
        return _idempotent(op, lambda: _run(op, values))
    return _run(op, values)


def _json_body() -> dict:
    if not request.is_json and request.mimetype and (request.content_length or 0) > 0:
        raise ApiError(415, _("Please send JSON (Content-Type: application/json)."))
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if not request.is_json:
        raise ApiError(415, _("Please send JSON (Content-Type: application/json)."))
    try:
        data = edge.parse_json(raw)
    except ValueError:
        raise ApiError(400, _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, _("The request body must be a JSON object."))
    return data


def _run(op: Operation, values: dict):
    kwargs = dict(values)
    try:
        if op.query is not None:
            kwargs.update(op.query.parse_query(request.args))
        if op.paginated:
            page = Fields(**PAGE_FIELDS).parse_query(request.args)
            kwargs["cursor"], kwargs["limit"] = page["cursor"], page["limit"] or LIMIT_DEFAULT
        if op.body is not None:
            kwargs.update(op.body.parse(_json_body()))
        result = op.handler(caller(), **kwargs)
    except Invalid as error:
        raise ApiError(422, _("Some of the input is not right."), fields=error.fields) from None
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    response = jsonify(result)
    response.status_code = status
    return response


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(edge.parse_json(raw), sort_keys=True, separators=(",", ":")).encode() if raw.strip() else b""
    except (ValueError, RecursionError):
        body = raw
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def _answer(run):
    try:
        return run()
    except (ApiError, DomainError, HTTPException) as error:
        return to_response(error)


def _idempotent(op: Operation, run):
    """A POST with an Idempotency-Key is done once per person and key: a retry gets the first
    answer. The key is claimed by an insert first (DESIGN.md §5: "select, then insert" races),
    so of two copies arriving together one runs and the other hears it is still running."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        if op.key_required:
            message = _("Please send an Idempotency-Key header, so that a retry cannot do this twice.")
            raise ApiError(400, message, fields={"Idempotency-Key": message})
        return _answer(run)
    if not IDEMPOTENCY_KEY.match(key):
        message = _("An Idempotency-Key is 1 to 100 visible ASCII characters.")
        raise ApiError(400, message, fields={"Idempotency-Key": message})
    user = caller()
    if user is None:
        return _answer(run)
    fingerprint, now = _fingerprint(), utcnow()
    IdempotencyRecord.delete().where(IdempotencyRecord.user == user.id,
                                     IdempotencyRecord.created_at < now - IDEMPOTENCY_KEEP).execute()
    IdempotencyRecord.delete().where(IdempotencyRecord.user == user.id, IdempotencyRecord.key == key,
                                     IdempotencyRecord.status.is_null(),
                                     IdempotencyRecord.created_at < now - IDEMPOTENCY_ABANDONED).execute()
    token = g.get("api_token")
    claimed = db.execute(IdempotencyRecord.insert(
        user=user.id, token=token.id if token is not None else None, key=key, fingerprint=fingerprint,
        created_at=now,
    ).on_conflict_ignore()).rowcount == 1
    if not claimed:
        first = IdempotencyRecord.get_or_none(IdempotencyRecord.user == user.id, IdempotencyRecord.key == key)
        if first is not None and first.fingerprint != fingerprint:
            raise ApiError(422, _("This Idempotency-Key was already used for a different request."),
                           code="idempotency_key_reused")
        if first is None or first.status is None:
            raise ApiError(409, _("A request with this Idempotency-Key is still being processed. Please try again in a moment."),
                           code="idempotency_in_progress")
        response = make_response(first.body, first.status)
        response.mimetype = "application/json"
        response.headers["Idempotent-Replayed"] = "true"
        return response
    record = IdempotencyRecord.user == user.id, IdempotencyRecord.key == key
    try:
        response = _answer(run)
    except BaseException:
        IdempotencyRecord.delete().where(*record).execute()
        raise
    if response.status_code >= 500 or response.status_code == 429:
        IdempotencyRecord.delete().where(*record).execute()
    else:
        IdempotencyRecord.update(status=response.status_code, body=response.get_data(as_text=True)).where(
            *record).execute()
    return response


def config_limit(name: str, default: str):
    return lambda: current_app.config.get(name, default)
