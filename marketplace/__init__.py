"""The community service marketplace: a Flask application built by create_app()."""

import logging

import peewee as pw
from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace import access, config, i18n, ops
from marketplace.config import PROJECT_ROOT
from marketplace.ops.logs import logged_path

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    settings = config.from_environment()
    if test_config:
        settings.update(test_config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace import db

    db.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_security_headers(app)
    access.init_app(app)
    ops.init_app(app)  # /healthz and JSON request logs

    from marketplace import cli

    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from marketplace.extensions import babel, csrf, limiter, login_manager
    from marketplace.users import services as user_services

    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(PROJECT_ROOT / "marketplace" / "translations"),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "users.login"
    login_manager.login_message = None  # the login page itself says why it is shown
    login_manager.session_protection = "basic"
    login_manager.user_loader(user_services.load_session)


def _register_blueprints(app: Flask) -> None:
    from marketplace import api
    from marketplace.audit.views import bp as audit_bp
    from marketplace.events.views import bp as events_bp
    from marketplace.ledger.views import bp as ledger_bp
    from marketplace.menu.views import bp as menu_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.partners.views import bp as partners_bp
    from marketplace.places.views import bp as places_bp
    from marketplace.public.fund_views import bp as funds_bp
    from marketplace.public.views import bp as public_bp
    from marketplace.service_requests.views import bp as requests_bp
    from marketplace.shop.views import bp as shop_bp
    from marketplace.staff import dashboards, exports  # noqa: F401 - they add their pages to the staff blueprint
    from marketplace.staff.views import bp as staff_bp
    from marketplace.users.views import bp as users_bp
    from marketplace.workdays.views import bp as workdays_bp

    for blueprint in (public_bp, users_bp, menu_bp, places_bp, partners_bp, staff_bp, audit_bp, workdays_bp, funds_bp,
                      ledger_bp, shop_bp, requests_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(events_bp)
    app.register_blueprint(notifications_bp)
    api.init_app(app)  # the JSON API at /api/v1 and the API token pages

    # The static files are for everyone.
    app.view_functions["static"].allowed = frozenset({access.PUBLIC})

    @app.context_processor
    def _template_helpers():
        from flask_login import current_user

        return {
            "has_role": lambda *r: access.has_role(current_user, *r),
            "is_staff": lambda: access.is_staff(current_user),
            "locales": i18n.LABELS,
            "current_locale": i18n.select_locale(),
            "community_name": app.config["COMMUNITY_NAME"],
        }


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        message = _("This page was open too long or came from elsewhere. Please go back, reload it and try again.")
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(429)
    def _too_many(error):
        message = _("Too many attempts. Please wait a minute and try again.")
        if request.endpoint == "users.login":
            from marketplace.users.views import render_login

            return render_login(error=message, status=429)
        return render_template("errors/error.html", code=429, message=message), 429

    @app.errorhandler(HTTPException)
    def _http_error(error):
        messages = {
            400: _("The request was not understood."),
            403: _("You do not have permission to open this page."),
            404: _("This page does not exist."),
            405: _("This action is not allowed here."),
            410: _("This link is no longer valid."),
            413: _("The file is too large."),
        }
        message = messages.get(error.code, _("Something went wrong."))
        return render_template("errors/error.html", code=error.code, message=message), error.code

    @app.errorhandler(pw.OperationalError)
    @app.errorhandler(pw.InternalError)
    def _database_busy(error):
        if not _is_busy(error):
            return _unexpected(error)
        log.warning("Database busy on %s %s: %s", request.method, logged_path(), type(error).__name__)
        message = _("Many people are using the system right now. Please try again in a moment.")
        response = app.make_response((render_template("errors/error.html", code=503, message=message), 503))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("Unhandled error on %s %s", request.method, logged_path())
        message = _("Something went wrong on our side. Please try again in a moment.")
        return render_template("errors/error.html", code=500, message=message), 500


# SQLSTATEs for "try again": lock timeout, deadlock, serialization failure, too many connections.
BUSY_SQLSTATES = {"55P03", "40P01", "40001", "53300"}


def _is_busy(error) -> bool:
    """A database that is momentarily busy (SQLite locked, PostgreSQL lock or pool pressure)."""
    cause = getattr(error, "orig", None) or error.__cause__ or error
    if getattr(cause, "pgcode", None) in BUSY_SQLSTATES:
        return True
    text = str(error).lower()
    return "database is locked" in text or "database is busy" in text or "too many connections" in text


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
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
