"""The API's one error format, for every 4xx and 5xx under /api/v1:

    {"error": {"code": "invalid", "message": "...", "fields": {"description": "..."}}}

`message` is in the request's language; `fields` maps input names to what is wrong with each
(empty when the error is not about one field). Service refusals (DomainError) keep their own
message and status, so a phone app shows the same sentence as the web page.
"""

import logging

import peewee as pw
from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions

from marketplace.errors import DomainError
from marketplace.ops.logs import logged_path

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.fields = fields or {}
        self.headers = headers or {}


def http_messages() -> dict:
    return {
        400: _("The request was not understood."),
        401: _("Please sign in, or send a valid API token."),
        403: _("You do not have permission to do this."),
        404: _("This was not found."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with the current state; please look again."),
        410: _("This link is no longer valid."),
        413: _("The request is too large."),
        415: _("Please send JSON."),
        422: _("Some of the input is not right."),
        429: _("Too many requests. Please wait a minute and try again."),
        500: _("Something went wrong on our side. Please try again in a moment."),
        503: _("Many people are using the system right now. Please try again in a moment."),
    }


def status_of(error: DomainError) -> int:
    """A service's 400 refuses what was sent, though it was well-formed: 422 in the API."""
    return 422 if error.status == 400 else error.status


def from_domain(error: DomainError) -> ApiError:
    status = status_of(error)
    return ApiError(status, error.message, fields={error.field: error.message} if error.field else {})


def from_http(error: HTTPException) -> ApiError:
    status = error.code or 500
    if isinstance(error, CSRFError):
        return ApiError(400, _("The security token is missing or expired. Please reload the page and try again, "
                               "or send an API token."), code="csrf_failed")
    headers = {}
    if status == 401 and g.get("api_token_refused"):
        return invalid_token()
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    messages = http_messages()
    if status not in messages:
        status = 400 if status < 500 else 500
    return ApiError(status, messages[status], headers=headers)


def invalid_token() -> ApiError:
    return ApiError(401, _("This API token is not valid or has been revoked."), code="invalid_token",
                    headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})


def response_for(error: ApiError):
    response = jsonify(error={"code": error.code, "message": error.message, "fields": error.fields})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def to_response(error: Exception):
    """Any exception a view may meet, as the API's error response (None: not ours to answer)."""
    if isinstance(error, ApiError):
        return response_for(error)
    if isinstance(error, DomainError):
        return response_for(from_domain(error))
    if isinstance(error, HTTPException):
        response = response_for(from_http(error))
        if error.code == 429:
            # Flask-Limiter's Retry-After and X-RateLimit-* headers are on its own response.
            original = error.get_response()
            for name, value in original.headers.items():
                if name.lower().startswith(("retry-after", "x-ratelimit")):
                    response.headers[name] = value
        return response
    return None


def _busy(error) -> bool:
    from marketplace import _is_busy

    return _is_busy(error)


def register(bp) -> None:
    """Blueprint handlers, one per HTTP status: Flask looks for a handler by status code before
    it looks by class, so the app's HTML pages for 404, 429 and CSRF would otherwise answer."""

    def _http(error):
        return to_response(error)

    for code in default_exceptions:
        bp.register_error_handler(code, _http)
    bp.register_error_handler(HTTPException, _http)
    bp.register_error_handler(ApiError, response_for)
    bp.register_error_handler(DomainError, to_response)

    @bp.errorhandler(pw.OperationalError)
    @bp.errorhandler(pw.InternalError)
    def _database(error):
        if not _busy(error):
            return _unexpected(error)
        log.warning("Database busy on %s %s: %s", request.method, logged_path(), type(error).__name__)
        response = response_for(ApiError(503, http_messages()[503]))
        response.headers["Retry-After"] = "2"
        return response

    @bp.errorhandler(Exception)
    def _unexpected(error):
        log.exception("Unhandled error on %s %s", request.method, logged_path())
        return response_for(ApiError(500, http_messages()[500]))
