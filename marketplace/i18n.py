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
