"""Every error the app answers, in one place: under /api/v1 in the API's one JSON format, an
HTML page everywhere else.

The API's format, for every 4xx and 5xx:

    {"error": {"code": "invalid", "message": "...", "fields": {"description": "..."}}}

`code` is stable and machine-readable; `message` is in the request's language; `fields` maps
input names to what is wrong with each (empty when the error is not about one field). Service
refusals (DomainError) keep their own code, message and status, so a phone app shows the same
sentence as the web page and can still tell "voucher already used" from "job taken".

The handlers are the app's, not a blueprint's, and choose by path: Flask looks for a handler by
status code before it looks by class, so with one set per blueprint the HTML pages for 404, 429
and CSRF answered API requests that no API route matched.
"""

import logging

import peewee as pw
from flask import g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace.db import is_busy
from marketplace.errors import ApiError, DomainError
from marketplace.ops.logs import logged_path

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def is_api_request() -> bool:
    # Anything that begins like the API is answered like it: "/api/v1%0A" too, not with a page.
    return request.path.startswith(API_PREFIX)


# ---- the API's JSON ----------------------------------------------------------------------------


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
    return ApiError(status_of(error), error.message, code=error.code,
                    fields={error.field: error.message} if error.field else {})


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
    """Any exception an API view may meet, as the API's error response (None: not ours to answer)."""
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


# ---- the pages' HTML ---------------------------------------------------------------------------


def _page(code: int, message: str):
    return render_template("errors/error.html", code=code, message=message), code


def _http_page(error: HTTPException):
    messages = {
        400: _("The request was not understood."),
        403: _("You do not have permission to open this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        410: _("This link is no longer valid."),
        413: _("The file is too large."),
    }
    body, code = _page(error.code, messages.get(error.code, _("Something went wrong.")))
    allow = dict(error.get_headers()).get("Allow")
    return (body, code, {"Allow": allow}) if allow else (body, code)


# ---- both --------------------------------------------------------------------------------------


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        if is_api_request():
            return to_response(error)
        return _page(400, _("This page was open too long or came from elsewhere. Please go back, reload it and try "
                            "again."))

    @app.errorhandler(429)
    def _too_many(error):
        if is_api_request():
            return to_response(error)
        message = _("Too many attempts. Please wait a minute and try again.")
        if request.endpoint == "users.login":
            from marketplace.users.views import render_login

            return render_login(error=message, status=429)
        return _page(429, message)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        return to_response(error) if is_api_request() else _http_page(error)

    @app.errorhandler(ApiError)
    def _api_error(error):
        return response_for(error)

    @app.errorhandler(DomainError)
    def _domain_error(error):
        # The pages catch their services' refusals themselves; one that gets here is a bug.
        return to_response(error) if is_api_request() else _unexpected(error)

    @app.errorhandler(pw.OperationalError)
    @app.errorhandler(pw.InternalError)
    def _database_busy(error):
        if not is_busy(error):
            return _unexpected(error)
        log.warning("Database busy on %s %s: %s", request.method, logged_path(), type(error).__name__)
        if is_api_request():
            response = response_for(ApiError(503, http_messages()[503]))
        else:
            response = app.make_response(_page(503, _("Many people are using the system right now. Please try "
                                                      "again in a moment.")))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(OverflowError)
    @app.errorhandler(pw.DataError)
    def _out_of_range(error):
        """A value the database cannot hold (a number of 2^63 or more in a form or a query on
        SQLite, one beyond a column's range on PostgreSQL): the input was wrong, not the server.
        Ids in paths never get here (marketplace.edge); this is the net for every other number."""
        log.warning("Value out of range on %s %s: %s", request.method, logged_path(), type(error).__name__)
        message = _("A number or a text you sent is out of range. Please check it and try again.")
        if is_api_request():
            return response_for(ApiError(400, message, code="bad_request"))
        return _page(400, message)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("Unhandled error on %s %s", request.method, logged_path())
        if is_api_request():
            return response_for(ApiError(500, http_messages()[500]))
        return _page(500, _("Something went wrong on our side. Please try again in a moment."))

