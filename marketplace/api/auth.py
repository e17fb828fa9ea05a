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

from flask import g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from marketplace.users.tokens import SCOPES, active_token


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
    row = active_token(raw)
    if row is None:
        g.api_token_refused = True  # answered 401 by require_valid_token, after the rate limit counted it
        g._login_user = _anonymous()
        return
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
