"""The JSON API v1 (/api/v1) for phone apps and mini-programs.

One module per resource (menu, requests, jobs, events, points, shop, notifications), each
calling the same services as the HTML pages; registry.py declares the routes, auth.py says who
is calling, openapi.py describes it all. Its errors take one shape, given by the app's error
handlers (marketplace/error_handlers.py); the tokens themselves are the person's credentials
(users/tokens.py).
"""

from babel import Locale
from flask import current_app, g, request
from flask_login import current_user

from marketplace.access import PUBLIC, allow
from marketplace.api import auth
from marketplace.api.registry import bp
from marketplace.error_handlers import http_messages, invalid_token
from marketplace.errors import ApiError
from marketplace.i18n import SUPPORTED, normalize
from marketplace.i18n import select_locale as page_locale


def _request_language() -> str:
    """The request's language: what the client asks for in Accept-Language, else what the
    pages would use (the person's choice, then the default)."""
    if request.headers.get("Accept-Language"):
        best = request.accept_languages.best_match(["zh-CN", "zh", "zh-Hans", "zh-TW", "en", "en-US", "en-GB"])
        if normalize(best) in SUPPORTED:
            return normalize(best)
    return page_locale()


def _before_anything(endpoint, values):
    """Runs before every other hook (rate limit, @allow): who is calling, in which language,
    and whether a state-changing call is allowed to be made at all."""
    from types import SimpleNamespace

    auth.load_token_user(endpoint, values)
    # Flask-Babel keeps the request's locale here; chosen before any message is translated.
    g._flask_babel = SimpleNamespace(babel_locale=Locale.parse(_request_language()))
    if request.method in ("GET", "HEAD", "OPTIONS") or g.api_token is not None or g.api_token_refused:
        return
    # A change without a token rides on the browser's session: it must prove it comes from our
    # own pages with the CSRF header, as the pages' forms do with their hidden field (and
    # before anything else looks at it, as for the pages). Without a session either: 401.
    if not current_user.is_authenticated and _public_operation(endpoint):
        return  # a public change (getting back in) rides on no session, so needs no CSRF header
    if not current_user.is_authenticated:
        raise ApiError(401, http_messages()[401],
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    from marketplace.extensions import csrf

    csrf.protect()


def _public_operation(endpoint) -> bool:
    from marketplace.api.registry import OPERATIONS

    return any(op.public and f"api.{op.endpoint}" == endpoint for op in OPERATIONS)


def _after_auth():
    """After the app's hooks, so that the rate limit counted it: a refused token is a 401, even
    on the public routes."""
    if g.get("api_token_refused"):
        raise invalid_token()


SERVED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def methods_served(path: str) -> set[str]:
    """The methods a real API route answers at this path (not the catch-all below): what
    `Allow` lists, on a 405 and on OPTIONS alike."""
    from werkzeug.exceptions import HTTPException

    adapter = current_app.url_map.bind_to_environ(request.environ)
    methods = set()
    for method in SERVED_METHODS:
        try:
            endpoint, _args = adapter.match(path_info=path, method=method)
        except HTTPException:  # not found, not allowed, or a redirect for a missing slash
            continue
        if endpoint != "api.not_found":
            methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else methods


def _true_allow(response):
    """Flask's automatic OPTIONS and werkzeug's 405 list every method of every rule matching the
    path, the catch-all's PUT, PATCH and DELETE among them: list what is really served."""
    if "Allow" in response.headers and request.path.startswith(bp.url_prefix):
        methods = methods_served(request.path)
        if methods:
            response.headers["Allow"] = ", ".join(sorted(methods))
    return response


@bp.route("/", defaults={"path": ""}, methods=[*SERVED_METHODS, "TRACE"])
@bp.route("/<path:path>", methods=[*SERVED_METHODS, "TRACE"])
@allow(PUBLIC)
def not_found(path):
    """Whatever under /api/v1 matches no route: 405 when the path exists for another method."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    methods = methods_served(request.path) - {request.method}
    if methods - {"HEAD", "OPTIONS"}:
        raise MethodNotAllowed(valid_methods=sorted(methods))
    raise NotFound()


_configured = False


def init_app(app) -> None:
    """Register the API (called once from create_app)."""
    from marketplace.api import (  # noqa: F401 (each module declares its routes)
        care,
        corrections,
        events,
        family,
        jobs,
        me,
        menu,
        my_data,
        notifications,
        openapi,
        points,
        policy,
        promises,
        proposals,
        recovery,
        requests,
        shop,
    )
    from marketplace.extensions import csrf, limiter, login_manager

    global _configured
    if not _configured:  # the blueprint is module-level: set it up once, however many apps are made
        _configured = True
        bp.url_value_preprocessor(_before_anything)
        bp.before_request(_after_auth)
        csrf.exempt(bp)  # checked in _after_auth instead: only for the session, never for a token
        limiter.limit(lambda: current_app.config["API_RATE_LIMIT"],
                      key_func=auth.rate_limit_key)(bp)
        login_manager.blueprint_login_views["api"] = None  # anonymous: 401, not the login page
    app.register_blueprint(bp)
    app.after_request(_true_allow)
