"""Personal API tokens: a person's credential for a phone app or a mini-program, beside their
password and login sessions. Making, listing, revoking, and finding the one a request carries;
how a request presents it (the Authorization header) is the API's business (api/auth.py).
"""

import hashlib
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.timeutil import utcnow
from marketplace.users.models import ApiToken, User

TOKEN_PREFIX = "mkt_"
SCOPES = {
    "read": _l("See my requests, jobs, vouchers, events record and notifications"),
    "requests": _l("Ask for services, and cancel, confirm, dispute and rate my requests"),
    "jobs": _l("Take, give back and finish jobs"),
    "points": _l("See my points balance and statement"),
    "shop": _l("Redeem offers, cancel vouchers and take vouchers at my shop's counter"),
    "events": _l("Sign up for events and check in and out"),
    "proposals": _l("Propose matters for my building, support them, vote and evaluate for my household"),
    "staff": _l("As staff: hand matters to departments, record answers and decide reopening"),
}
MAX_TOKENS_PER_USER = 20
TOUCH_EVERY_SECONDS = 60


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, name: str, scopes) -> tuple[ApiToken, str]:
    """A new token: returns the row and the token itself, which is shown once and never kept."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Please give the token a name, such as the app it is for."), field="name",
                          code="invalid")
    if len(name) > 60:
        raise DomainError(_("Please keep the name under 60 characters."), field="name", code="invalid")
    chosen = [s for s in SCOPES if s in set(scopes or ())]
    if not chosen or len(chosen) != len(set(scopes or ())):
        raise DomainError(_("Please choose at least one thing the token may do."), field="scopes", code="invalid")
    with db.atomic():
        active = ApiToken.select().where(ApiToken.user == user.id, ApiToken.revoked_at.is_null()).count()
        if active >= MAX_TOKENS_PER_USER:
            raise DomainError(_("You have %(count)d tokens; please revoke one you no longer use first.",
                                count=active), status=409, code="too_many_tokens")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken.create(user=user.id, name=name, token_hash=hash_token(token), prefix=token[:10],
                              scopes=" ".join(chosen), created_at=utcnow())
    return row, token


OPERATOR_TOKEN_NAME = "flask api-token"
OPERATOR_TOKEN_ISSUED = "users.token.issued_by_operator"


def issue_operator_token(phone: str) -> tuple[ApiToken, str]:
    """`flask --app wsgi api-token PHONE`: a new personal token with every scope for that account,
    for integrations and scripted checks. Recorded in the audit log (the operator at the console
    has no account of their own here), with the token's visible prefix, never the token."""
    from marketplace import audit

    user = User.get_or_none(User.phone == (phone or "").strip())
    if user is None or not user.active:
        raise DomainError(_("No active account has this phone number."), status=404, code="not_found")
    with db.atomic():
        row, token = create_token(user, OPERATOR_TOKEN_NAME, list(SCOPES))
        audit.record(None, OPERATOR_TOKEN_ISSUED, user, token=row.prefix, scopes=row.scopes)
    return row, token


def revoke_all_tokens(user) -> int:
    return ApiToken.update(revoked_at=utcnow()).where(ApiToken.user == user.id, ApiToken.revoked_at.is_null()).execute()


def revoke_token(user, token_id: int) -> ApiToken:
    row = ApiToken.get_or_none(ApiToken.id == token_id, ApiToken.user == user.id)
    if row is None:
        raise DomainError(_("This token was not found."), status=404, code="not_found")
    ApiToken.update(revoked_at=utcnow()).where(ApiToken.id == row.id, ApiToken.revoked_at.is_null()).execute()
    return ApiToken.get_by_id(row.id)


def tokens_of(user):
    return ApiToken.select().where(ApiToken.user == user.id).order_by(ApiToken.revoked_at.is_null(False), ApiToken.id.desc())


def active_token(raw: str) -> ApiToken | None:
    """The live token `raw` names, with its (active) owner loaded; None for anything else.
    Its last use is noted at most once a minute, so a busy app does not write on every call."""
    if not raw.isascii() or not 0 < len(raw) <= 200:
        return None
    row = (ApiToken.select(ApiToken, User).join(User)
           .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_null()).first())
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row
