"""Language choice: the visitor's explicit choice, then their account's, then the browser's."""

from flask import request, session
from flask_babel import get_locale

SUPPORTED = ("zh_Hans", "en")
LABELS = {"zh_Hans": "中文", "en": "English"}


def is_chinese() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "zh"


def localized(zh: str, en: str) -> str:
    """Pick the Chinese or English text of a data row by the page's language."""
    return zh if is_chinese() else (en or zh)


def normalize(tag: str | None) -> str | None:
    if not tag:
        return None
    tag = tag.replace("-", "_")
    if tag.lower().startswith("zh"):
        return "zh_Hans"
    if tag.lower().startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """The request's language; outside a request (a job of the scheduler, a command), the
    community's default, unless the caller chose one with flask_babel.force_locale."""
    from flask import has_request_context
    from flask_login import current_user

    from marketplace.settings import settings

    if not has_request_context():
        return settings().default_locale
    chosen = normalize(session.get("lang"))
    if chosen:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    best = request.accept_languages.best_match(["zh-CN", "zh", "zh-Hans", "zh-TW", "en", "en-US", "en-GB"])
    return normalize(best) or settings().default_locale


def template_translations() -> dict:
    """`gettext` (and so `_`) and `ngettext` for one render, bound to that render's translations.

    Flask-Babel's own template functions look the translations up again at every call (a chain of
    context lookups each time; 80 of them on a statement page). These behave as Jinja's new-style
    gettext does (autoescaped, always %-formatted) with one lookup per render, which also follows
    a `force_locale` around the render (a message in its reader's language)."""
    from flask_babel import get_translations
    from jinja2 import pass_context
    from markupsafe import Markup

    translations = get_translations()

    @pass_context
    def gettext(context, string, **variables):
        text = translations.ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}
