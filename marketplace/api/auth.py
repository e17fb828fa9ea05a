"""Who is calling the API: a personal token (`Authorization: Bearer ...`) or the browser's
signed-in session.

- A token is looked up before Flask's other hooks run (a URL value preprocessor runs first),
  and becomes the request's `current_user`, so `@allow(...)` and the services see the token's
  owner exactly as they see a signed-in person on the web pages.
- Requests with a token are exempt from CSRF (a token is not sent by the browser on its own, so
  another site cannot ride on it); requests on the session must carry the CSRF token in an
  `X-CSRFToken` header, as the pages' forms carry it in a field.
- Each token can do only what its scopes allow; the session can do all of it.
- Rate limits count per token (per person on the session, per address otherwise).
"""

import hashlib
import secrets

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user

from marketplace.api.models import ApiToken
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.timeutil import utcnow

TOKEN_PREFIX = "mkt_"
SCOPES = {
    "read": _l("See my requests, jobs, vouchers, events record and notifications"),
    "requests": _l("Ask for services, and cancel, confirm, dispute and rate my requests"),
    "jobs": _l("Take, give back and finish jobs"),
    "points": _l("See my points balance and statement"),
    "shop": _l("Redeem offers, cancel vouchers and take vouchers at my shop's counter"),
    "events": _l("Sign up for events and check in and out"),
}
MAX_TOKENS_PER_USER = 20
TOUCH_EVERY_SECONDS = 60


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, name: str, scopes) -> tuple[ApiToken, str]:
    """A new token: returns the row and the token itself, which is shown once and never kept."""
    from flask_babel import gettext as _

    name = (name or "").strip()
    if not name:
        raise DomainError(_("Please give the token a name, such as the app it is for."), field="name")
    if len(name) > 60:
        raise DomainError(_("Please keep the name under 60 characters."), field="name")
    chosen = [s for s in SCOPES if s in set(scopes or ())]
    if not chosen or len(chosen) != len(set(scopes or ())):
        raise DomainError(_("Please choose at least one thing the token may do."), field="scopes")
    with db.atomic():
        active = ApiToken.select().where(ApiToken.user == user.id, ApiToken.revoked_at.is_null()).count()
        if active >= MAX_TOKENS_PER_USER:
            raise DomainError(_("You have %(count)d tokens; please revoke one you no longer use first.",
                                count=active), status=409)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken.create(user=user.id, name=name, token_hash=hash_token(token), prefix=token[:10],
                              scopes=" ".join(chosen), created_at=utcnow())
    return row, token


def revoke_all_tokens(user) -> int:
    return ApiToken.update(revoked_at=utcnow()).where(ApiToken.user == user.id, ApiToken.revoked_at.is_null()).execute()


def revoke_token(user, token_id: int) -> ApiToken:
    from flask_babel import gettext as _

    row = ApiToken.get_or_none(ApiToken.id == token_id, ApiToken.user == user.id)
    if row is None:
        raise DomainError(_("This token was not found."), status=404)
    ApiToken.update(revoked_at=utcnow()).where(ApiToken.id == row.id, ApiToken.revoked_at.is_null()).execute()
    return ApiToken.get_by_id(row.id)


def tokens_of(user):
    return ApiToken.select().where(ApiToken.user == user.id).order_by(ApiToken.revoked_at.is_null(False), ApiToken.id.desc())


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or ""


def load_token_user(endpoint, values) -> None:
    """URL value preprocessor of the API blueprint: runs before every before_request hook."""
    g.api_token = None
    g.api_token_refused = False
    raw = bearer_token()
    if raw is None:
        return
    row = None
    if raw.isascii() and 0 < len(raw) <= 200:
        from marketplace.users.models import User

        row = (ApiToken.select(ApiToken, User).join(User)
               .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_null()).first())
    if row is None or not row.user.active:
        g.api_token_refused = True  # answered 401 by require_valid_token, after the rate limit counted it
        g._login_user = _anonymous()
        return
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    user = row.user
    user._session_id = f"token:{row.id}"
    g.api_token = row
    g._login_user = user  # Flask-Login's current_user for this request; the session is not touched


def _anonymous():
    from marketplace.extensions import login_manager

    return login_manager.anonymous_user()


def scopes_of_request() -> frozenset[str]:
    token = g.get("api_token")
    if token is not None:
        return token.scope_set
    if current_user.is_authenticated:
        return frozenset(SCOPES)
    return frozenset()


def rate_limit_key() -> str:
    token = g.get("api_token")
    if token is not None:
        return f"api:token:{token.id}"
    if current_user.is_authenticated:
        return f"api:user:{current_user.id}"
    return f"api:ip:{get_remote_address()}"


def per_user_key(prefix: str):
    def key() -> str:
        return f"{prefix}:{current_user.id}" if current_user.is_authenticated else f"{prefix}:anonymous"

    key.__name__ = f"per_user_{prefix.replace('-', '_')}"
    return key
