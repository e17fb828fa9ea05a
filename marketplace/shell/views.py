"""/favicon.ico, the web app manifest, the site's service worker and the page it shows offline."""

from flask import Blueprint, current_app, jsonify, make_response, render_template, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from marketplace.access import PUBLIC, allow
from marketplace.config import PROJECT_ROOT
from marketplace.i18n import select_locale
from marketplace.shell import header
from marketplace.shell.navigation import quick_links

bp = Blueprint("shell", __name__)
ICONS = PROJECT_ROOT / "static" / "icons"
THEME = "#0b5cad"


@bp.app_context_processor
def _header_links():
    return {"quick_links": lambda: [(url_for(endpoint), label) for endpoint, label in quick_links(current_user)]}


for _fragment in (header.site_head, header.site_header, header.site_footer):
    bp.add_app_template_global(_fragment)


@bp.app_template_global()
def field_attrs(field) -> dict:
    """What a form field tells screen readers (templates/_form.html): its hint and its errors as
    its description, and aria-invalid while it has errors. `{{ field(**field_attrs(field)) }}`"""
    described = [f"{field.id}-help"] if field.description else []
    described += [f"{field.id}-error{n}" for n in range(1, len(field.errors or ()) + 1)]
    attrs = {"aria-describedby": " ".join(described)} if described else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


@bp.app_template_global()
def rating_words(stars) -> str:
    """A rating as a screen reader should say it ("4 of 5 stars"), not as the digit or the
    star characters a sighted person sees."""
    return ngettext("%(num)d of 5 stars", "%(num)d of 5 stars", int(stars))


@bp.route("/favicon.ico")
@allow(PUBLIC)
def favicon():
    """Browsers ask for it by themselves on every site: a 404 there fills logs and consoles."""
    return send_from_directory(ICONS, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 86400)


@bp.route("/manifest.webmanifest")
@allow(PUBLIC)
def manifest():
    """The web app manifest, in the language the person reads the site in (the home-screen name
    is the one they see every day)."""
    lang = "zh-Hans" if select_locale() == "zh_Hans" else "en"
    document = {
        "name": _("%(community)s · Community services", community=current_app.config["COMMUNITY_NAME"]),
        "short_name": _("Community services"),
        "description": _("Ask for help, sign up for events, use your points."),
        "lang": lang,
        "dir": "ltr",
        "id": "/",
        "start_url": url_for("public.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-maskable-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = jsonify(document)
    response.mimetype = "application/manifest+json"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


@bp.route("/sw.js")
@allow(PUBLIC)
def service_worker():
    """The site's service worker, served from the root so that it may control every page (the
    event scanner keeps its own, narrower one at /events/sw.js)."""
    response = make_response(send_from_directory(PROJECT_ROOT / "static" / "js", "site-sw.js", max_age=0))
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
@allow(PUBLIC)
def offline():
    """What the service worker shows when a page cannot be reached: kept once, shown offline."""
    return render_template("shell/offline.html")
