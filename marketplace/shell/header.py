"""The layout's head links, header and footer, rendered once per language and kind of visitor.

Every volunteer reading Chinese sees the same header: the same links in the same words. Building
it on every page (25 links, 24 translations) cost about a fifth of a signed-in page (issue 20), so
each fragment is rendered once per key and kept (marketplace.cache.fragment). The key holds all
that decides the fragment: the language, the path the site is mounted at, the settings (the
community's name) and the visitor's roles (the navigation and the quick links depend on nothing
else). What is a visitor's own (the CSRF token, the page to return to after switching language,
the number of unread messages) is rendered as a placeholder and put in on every page.
"""

from flask import render_template, request
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from marketplace import access
from marketplace.cache import fragment

# Placeholders for the visitor's own values. Nothing a visitor writes reaches these fragments (only
# translations, the settings' community name and link addresses do), so fixed markers are enough.
CSRF_SLOT, NEXT_SLOT, UNREAD_SLOT = "\x00csrf-token\x00", "\x00next-path\x00", "\x00unread-badge\x00"


def unread_badge(count: int) -> Markup:
    """The count beside "Messages", said in words to a screen reader."""
    if not count:
        return Markup("")
    label = ngettext("%(num)d new", "%(num)d new", count)
    return Markup(' <span class="count" aria-label="{}">{}</span>').format(label, count)


def site_head() -> Markup:
    return Markup(fragment(("layout head",), lambda: render_template("shell/_head.html")))


def site_footer() -> Markup:
    return Markup(fragment(("layout footer",), lambda: render_template("shell/_footer.html")))


def site_header(unread_messages) -> Markup:
    """The header for this visitor: the fragment of their language and roles, with their own CSRF
    token, current page and unread count put in. `unread_messages()` is asked only when signed in."""
    user = current_user._get_current_object()
    signed_in = bool(user and user.is_authenticated)
    roles = frozenset(access.roles(user)) if signed_in else frozenset()
    html = fragment(("layout header", signed_in, roles), lambda: render_template(
        "shell/_header.html", csrf_token=lambda: CSRF_SLOT, next_path=NEXT_SLOT, unread_badge=UNREAD_SLOT))
    html = html.replace(CSRF_SLOT, escape(generate_csrf())).replace(NEXT_SLOT, escape(request.full_path))
    return Markup(html.replace(UNREAD_SLOT, unread_badge(unread_messages()) if signed_in else ""))
