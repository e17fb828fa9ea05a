"""Accounts: signing up and in, sessions that end on the server, passwords, phone numbers, languages."""

import hashlib
import re
import secrets
from datetime import timedelta

import peewee as pw
from flask_babel import gettext as _

from marketplace import audit
from marketplace.db import STAND_INS, TEXT_STAND_INS, PreparedQuery, db
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users import passwords
from marketplace.users.models import (
    LoginSession,
    RoleGrant,
    User,
    mask_phone,
)

# Mainland China mobile numbers: 11 digits starting 13-19.
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
SESSION_MAX_AGE = timedelta(days=30)  # absolute: no session outlives the remember-me limit
SESSION_TOUCH_EVERY = timedelta(minutes=5)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_phone(raw: str) -> str:
    """Accept what people type: spaces, dashes, a +86 prefix."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not PHONE_PATTERN.match(digits):
        raise DomainError(_("Please enter an 11-digit mainland mobile number, such as 13812345678."), "phone",
                          code="invalid")
    return digits


# ---- accounts ------------------------------------------------------------------------------


def check_new_account(phone: str, display_name: str, password: str) -> tuple[str, str, str]:
    """A new account's number, name and password as they will be stored (the password hashed),
    or the first thing wrong with them."""
    phone = normalize_phone(phone)
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Please tell us your name."), "display_name", code="invalid")
    if len(display_name) > 50:
        raise DomainError(_("Please keep your name to 50 characters."), "display_name", code="invalid")
    passwords.check_policy(password, phone)
    return phone, display_name, passwords.hash_password(password)  # slow on purpose: before any write lock


def create_account(phone: str, display_name: str, password_hash: str, locale: str | None = None) -> User:
    try:
        with db.atomic():
            user = User.create(phone=phone, display_name=display_name, password_hash=password_hash, locale=locale)
            ledger.user_account(user)  # every member has a points account from the start
            return user
    except pw.IntegrityError:
        raise DomainError(_("This phone number is already registered. Please log in instead."), "phone",
                          code="phone_taken") from None


def sign_up(phone: str, display_name: str, password: str, locale: str | None = None) -> User:
    """An account without proof of the number: the operator's `create-admin` and the tests. The
    sign-up page and the API prove the number first (recovery.confirm_sign_up)."""
    return create_account(*check_new_account(phone, display_name, password), locale=locale)


def authenticate(phone: str, password: str) -> User:
    failure = DomainError(_("The phone number or password is not right."), code="wrong_credentials")
    try:
        phone = normalize_phone(phone)
    except DomainError:
        raise failure from None
    user = User.get_or_none(User.phone == phone)
    if not passwords.verify_password(user.password_hash if user else None, password):
        raise failure
    if not user.active:
        raise DomainError(_("This account has been switched off. Please contact your community office."),
                          code="account_inactive")
    if passwords.needs_rehash(user.password_hash):
        User.update(password_hash=passwords.hash_password(password)).where(User.id == user.id).execute()
    return user


def start_session(user: User, user_agent: str = "", remembered: bool = False) -> str:
    """Record a new signed-in browser; returns the id Flask-Login keeps in the cookie."""
    key = secrets.token_urlsafe(32)
    LoginSession.create(user=user, key_hash=_sha256(key), user_agent=(user_agent or "")[:200], remembered=remembered)
    user._session_id = f"{user.id}:{key}"
    return user._session_id


def _session_query(key_hash: str, user_id: int) -> pw.ModelSelect:
    """The session, the person, their role grants (one row each) and their unread count in one
    query, as every signed-in page needs all of them (issue 20: the per-request budget):
    `access.grants` and the navigation's count (notifications.views) read them from here."""
    from marketplace.notifications.models import Notification

    unread = Notification.unread_of(User.id).select(pw.fn.COUNT(Notification.id))
    return (LoginSession.select(LoginSession, User, RoleGrant, unread.alias("unread"))
            .join(User)
            .join(RoleGrant, pw.JOIN.LEFT_OUTER, on=(RoleGrant.user == User.id), attr="grant")
            .where(LoginSession.key_hash == key_hash, LoginSession.user == user_id)
            .order_by(RoleGrant.id))


# Compiled once: for this join of four tables peewee's writing of the SQL cost more than running it.
_SESSION_ROWS = PreparedQuery(_session_query, TEXT_STAND_INS[0], STAND_INS[0])


def _session_rows(key_hash: str, user_id: int) -> list:
    return _SESSION_ROWS.rows(key_hash, user_id)


def load_session(session_id: str) -> User | None:
    user_id, _sep, key = (session_id or "").partition(":")
    if not user_id.isdigit() or not key:
        return None
    rows = _session_rows(_sha256(key), int(user_id))
    row = rows[0] if rows else None
    if row is None or not row.user.active:
        return None
    now = utcnow()
    # Absolute limit for every session; an idle limit for those not kept by "keep me signed in"
    # (enforced here, on the server, so a copied cookie ages like the browser's own).
    idle_limit = SESSION_MAX_AGE if row.remembered else timedelta(hours=settings().session_idle_hours)
    if now - row.created_at > SESSION_MAX_AGE or now - row.last_seen_at > idle_limit:
        row.delete_instance()
        return None
    user = row.user
    user.session_touched = now - row.last_seen_at > SESSION_TOUCH_EVERY  # the idle clock moves on
    if user.session_touched:
        LoginSession.update(last_seen_at=now).where(LoginSession.id == row.id).execute()
    user._session_id = session_id
    user.unread_at_load = row.unread
    user.grants_at_load = [r.user.grant for r in rows if r.user.grant is not None]
    return user


def end_session(session_id: str) -> None:
    _user_id, _sep, key = (session_id or "").partition(":")
    LoginSession.delete().where(LoginSession.key_hash == _sha256(key)).execute()


def end_all_sessions(user: User, keep_session_id: str | None = None) -> int:
    """Every signed-in browser but (optionally) this one, and every API token: whoever had a
    copy of either is locked out (after a password or phone change, "log out on all devices",
    or staff switching the account off)."""
    from marketplace.users.tokens import revoke_all_tokens

    revoke_all_tokens(user)
    query = LoginSession.delete().where(LoginSession.user == user.id)
    if keep_session_id:
        _u, _s, key = keep_session_id.partition(":")
        query = query.where(LoginSession.key_hash != _sha256(key))
    return query.execute()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Every other signed-in browser is signed out: whoever knew the old password is locked out."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise DomainError(_("Your current password is not right."), "current_password", code="wrong_password")
    passwords.check_policy(new_password, user.phone)
    password_hash = passwords.hash_password(new_password)  # before the write lock, not under it
    with db.atomic():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        end_all_sessions(user, keep_session_id=getattr(user, "_session_id", None))


def new_phone_for(user: User, new_phone: str) -> str:
    """The number a person may move their login to, or why not."""
    phone = normalize_phone(new_phone)
    if phone == user.phone:
        raise DomainError(_("That is already your mobile number."), "phone", code="invalid")
    if User.select().where(User.phone == phone).exists():
        raise DomainError(_("This mobile number belongs to another account."), "phone", code="phone_taken")
    return phone


def change_phone(user: User, new_phone: str) -> User:
    """The phone number is what one logs in with: other signed-in browsers are signed out, and
    the change is in the audit log (so a stolen session cannot quietly take the account over).
    Only after the new number is proven (recovery.confirm_phone_change holds the transaction)."""
    phone = new_phone_for(user, new_phone)
    with db.atomic():
        try:
            with db.atomic():
                User.update(phone=phone).where(User.id == user.id).execute()
        except pw.IntegrityError:  # taken at the same moment by someone else
            raise DomainError(_("This mobile number belongs to another account."), "phone",
                              code="phone_taken") from None
        end_all_sessions(user, keep_session_id=getattr(user, "_session_id", None))
        audit.record(user, "users.phone.changed", user, old=user.masked_phone(), new=mask_phone(phone))
    user.phone = phone
    return user


def set_locale(user: User, locale: str) -> None:
    User.update(locale=locale).where(User.id == user.id).execute()


def set_active(staff: User, user: User, active: bool) -> None:
    with db.atomic():
        User.update(active=active).where(User.id == user.id).execute()
        if not active:
            end_all_sessions(user)
        audit.record(staff, "users.account.activated" if active else "users.account.deactivated", user)
