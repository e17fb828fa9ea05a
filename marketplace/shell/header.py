"""The layout's head links, header and footer, rendered once per language and kind of visitor.

Every volunteer reading Chinese sees the same header: the same links in the same words. Building
it on every page (25 links, 24 translations) cost about a fifth of a signed-in page (issue 20), so
each fragment is rendered once per key and kept for the life of the process. The key holds all
that decides the fragment: the language, the path the site is mounted at, the community's name and
the visitor's roles (the navigation and the quick links depend on nothing else). What is a
visitor's own (the CSRF token, the page to return to after switching language, the number of
unread messages) is rendered as a placeholder and put in on every page.
"""

import threading

from flask import current_app, render_template, request
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from marketplace import access
from marketplace.i18n import select_locale

# Placeholders for the visitor's own values. Nothing a visitor writes reaches these fragments (only
# translations, the settings' community name and link addresses do), so fixed markers are enough.
CSRF_SLOT, NEXT_SLOT, UNREAD_SLOT = "\x00csrf-token\x00", "\x00next-path\x00", "\x00unread-badge\x00"
MAX_FRAGMENTS = 512  # languages x mount paths x role combinations: far fewer in practice

_lock = threading.Lock()


def _fragments() -> dict:
    """This application's rendered fragments (one dict per app, so tests never share them)."""
    return current_app.extensions.setdefault("layout_fragments", {})


def _rendered(key: tuple, template: str, **context) -> str:
    fragments = _fragments()
    found = fragments.get(key)
    if found is None:
        found = render_template(template, **context)
        with _lock:
            if len(fragments) >= MAX_FRAGMENTS:
                fragments.clear()
            fragments[key] = found
    return found


def _common_key() -> tuple:
    return select_locale(), request.script_root, current_app.config["COMMUNITY_NAME"]


def unread_badge(count: int) -> Markup:
    """The count beside "Messages", said in words to a screen reader."""
    if not count:
        return Markup("")
    label = ngettext("%(num)d new", "%(num)d new", count)
    return Markup(' <span class="count" aria-label="{}">{}</span>').format(label, count)


def site_head() -> Markup:
    return Markup(_rendered(("head", *_common_key()), "shell/_head.html"))


def site_footer() -> Markup:
    return Markup(_rendered(("footer", *_common_key()), "shell/_footer.html"))


def site_header(unread_messages) -> Markup:
    """The header for this visitor: the fragment of their language and roles, with their own CSRF
    token, current page and unread count put in. `unread_messages()` is asked only when signed in."""
    user = current_user._get_current_object()
    signed_in = bool(user and user.is_authenticated)
    roles = frozenset(access.roles(user)) if signed_in else frozenset()
    html = _rendered(("header", *_common_key(), signed_in, roles), "shell/_header.html",
                     csrf_token=lambda: CSRF_SLOT, next_path=NEXT_SLOT, unread_badge=UNREAD_SLOT)
    html = html.replace(CSRF_SLOT, escape(generate_csrf())).replace(NEXT_SLOT, escape(request.full_path))
    return Markup(html.replace(UNREAD_SLOT, unread_badge(unread_messages()) if signed_in else ""))
