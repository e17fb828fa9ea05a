"""Flask extensions, created once here and bound to the app in create_app()."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def phone_in_form() -> str:
    """Rate-limit key for login: the account being tried, so one phone cannot be guessed
    from many addresses."""
    return "phone:" + (request.form.get("phone") or "").strip()[:20]
