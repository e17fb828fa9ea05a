"""Flask extensions, created once here and bound to the app in create_app()."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def phone_in_form() -> str:
    """Rate-limit key for login and sign-up: the number being tried, so one account cannot be
    guessed from many addresses. Normalised, so "139 0000 0001" and "+8613900000001" share
    a count with 13900000001."""
    from marketplace.errors import DomainError
    from marketplace.users.services import normalize_phone

    raw = (request.form.get("phone") or "").strip()
    try:
        return "phone:" + normalize_phone(raw)
    except DomainError:
        return "phone:" + raw[:20]


def signed_in_user() -> str:
    """Rate-limit key for what only a signed-in person can try (re-entering the password): the
    account, so a stolen session cannot guess from many addresses."""
    return f"user:{current_user.get_id()}"
