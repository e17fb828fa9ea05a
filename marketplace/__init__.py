"""The community service marketplace: a Flask application built by create_app()."""

import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace import access, config, edge, error_handlers, i18n, ops, settings
from marketplace.config import PROJECT_ROOT

log = logging.getLogger(__name__)


class MarketplaceApp(Flask):
    config_class = settings.Config  # counts its changes, so settings() is built once per change


def create_app(test_config: dict | None = None) -> Flask:
    values = config.from_environment()
    if test_config:
        values.update(test_config)
    app = MarketplaceApp(
        __name__,
        instance_path=values["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(values)
    from marketplace.notifications import settings as message_settings

    message_settings.apply_defaults(app, os.environ.get("MARKETPLACE_ENV") == "production")
    settings.init_app(app)  # what services read, in requests, jobs and commands alike
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace import db

    db.init_app(app)
    _init_extensions(app)
    edge.init_app(app)  # ids in URLs, NUL characters: before the routes are added
    _register_blueprints(app)
    error_handlers.init_app(app)  # HTML pages, and JSON under /api/v1
    _register_security_headers(app)
    access.init_app(app)
    ops.init_app(app)  # /healthz and JSON request logs
    from marketplace import queue

    queue.init_app(app)  # huey: SQLite in instance/ or Redis (TASK_QUEUE_URL)

    from marketplace import cli

    cli.init_app(app)
    _cache_compiled_templates(app)
    if app.config["QUEUE_IN_PROCESS"] and not app.config["TASK_QUEUE_IMMEDIATE"]:
        from marketplace.notifications import tasks  # noqa: F401 - the tasks a consumer runs
        from marketplace.ops import periodic  # noqa: F401

        app.extensions["queue_consumer"] = queue.start_in_process(app)  # `make run`: messages and periodic jobs without a second command
    return app


def _init_extensions(app: Flask) -> None:
    from marketplace.extensions import babel, csrf, limiter, login_manager

    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(PROJECT_ROOT / "marketplace" / "translations"),
    )
    csrf.init_app(app)
    # The limiter is one object for every app made in a process, and init_app takes a missing
    # RATELIMIT_ENABLED from its last value: say it for each app, so one app made without limits
    # (a test's) never leaves the next without them.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "users.login"
    login_manager.login_message = None  # the login page itself says why it is shown
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)


def _load_user(session_id: str):
    """The signed-in person of this request (users.accounts.load_session). The session cookie is
    signed again only when the server moved the session's idle clock (every few minutes), not on
    every request (SESSION_REFRESH_EACH_REQUEST is off): its expiry still slides with the server's
    idle limit, and a page no longer pays for signing a cookie that did not change (issue 20)."""
    from flask import session

    from marketplace.users import services as user_services

    user = user_services.load_session(session_id)
    if user is not None and user.session_touched:
        session.modified = True
    return user


def _cache_compiled_templates(app: Flask) -> None:
    """Jinja's bytecode cache in instance/: a worker that starts loads each template compiled
    by an earlier one instead of compiling it again (issue 20)."""
    from jinja2 import FileSystemBytecodeCache

    folder = app.config.get("TEMPLATE_CACHE_FOLDER") or os.path.join(app.instance_path, "jinja-cache")
    os.makedirs(folder, exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(folder)


def _register_blueprints(app: Flask) -> None:
    from marketplace import api
    from marketplace.audit.views import bp as audit_bp
    from marketplace.care.views import bp as care_bp
    from marketplace.events import staff_views  # noqa: F401 - it adds its pages to the events blueprint
    from marketplace.events.views import bp as events_bp
    from marketplace.ledger.views import bp as ledger_bp
    from marketplace.menu.views import bp as menu_bp
    from marketplace.notifications import message_views  # noqa: F401 - adds its pages to the messages blueprint
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.partners.views import bp as partners_bp
    from marketplace.places.views import bp as places_bp
    from marketplace.proposals.views import bp as proposals_bp
    from marketplace.proxy.views import bp as proxy_bp
    from marketplace.proxy.views import family_bp
    from marketplace.public import data_views  # noqa: F401 - adds the open-data files to the board
    from marketplace.public.fund_views import bp as funds_bp
    from marketplace.public.views import bp as public_bp
    from marketplace.rights.views import bp as rights_bp
    from marketplace.rights.views import staff_bp as rights_staff_bp
    from marketplace.service_requests.views import bp as requests_bp
    from marketplace.shell.views import bp as shell_bp
    from marketplace.shop.views import bp as shop_bp
    from marketplace.staff import dashboards, exports  # noqa: F401 - they add their pages to the staff blueprint
    from marketplace.staff.views import bp as staff_bp
    from marketplace.users import recovery_views  # noqa: F401 - adds its pages to the users blueprint
    from marketplace.users.token_views import pages as api_tokens_bp
    from marketplace.users.views import bp as users_bp
    from marketplace.workdays.views import bp as workdays_bp

    for blueprint in (public_bp, users_bp, menu_bp, places_bp, partners_bp, staff_bp, audit_bp, workdays_bp, funds_bp,
                      ledger_bp, shop_bp, requests_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(events_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(rights_bp)  # my data, closing my account
    app.register_blueprint(rights_staff_bp)  # staff closing a resident's account in person
    app.register_blueprint(proxy_bp)  # acting on behalf of a resident (issue 16)
    app.register_blueprint(family_bp)  # family links: a resident's consent that a relative acts for them
    app.register_blueprint(proposals_bp)  # matters the residents decide together
    app.register_blueprint(care_bp)  # care pairs for key groups (issue 16)
    app.register_blueprint(shell_bp)  # favicon, manifest, service worker, offline page, header links
    api.init_app(app)  # the JSON API at /api/v1

    # The static files are for everyone.
    app.view_functions["static"].allowed = frozenset({access.PUBLIC})

    @app.context_processor
    def _template_helpers():
        from flask_login import current_user

        user = current_user._get_current_object()  # once per render, not through the proxy at every call
        return {
            **i18n.template_translations(),
            "has_role": lambda *r: access.has_role(user, *r),
            "is_staff": lambda: access.is_staff(user),
            "locales": i18n.LABELS,
            "current_locale": i18n.select_locale(),
            "community_name": app.config["COMMUNITY_NAME"],
        }


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
            "form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            # Personal data (pages, CSV statements, photos) must not stay in shared caches.
            response.headers["Cache-Control"] = "no-store"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
