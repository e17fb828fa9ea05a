"""Getting back in, and proving a number (issue 16).

- **By SMS**: `request_reset_code(phone)` sends a 6-digit code, valid 10 minutes, to the number
  if it has an account, and answers alike whether or not it has one (the page and the API say
  "if an account uses this number..."), so it cannot be used to test which numbers are
  registered; the limits per number and per address are on the page and the API operation.
- **In person**: a building head or grid administrator whose scope covers the resident checks
  their identity card and `issue_reset_code(staff, user_id)` gives an 8-digit code, valid 30
  minutes, shown once (and printable); audited, and the resident is told.
- **Operator**: `flask --app wsgi reset-password PHONE` does the same from the shell.

`reset_with_code` takes either code: the new password is set, and every session and API token
ends. A code is used once (a conditional update, so two tabs cannot both use it) and burns after
5 wrong tries. Only an HMAC of each code is stored.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications.channels import Outgoing, SendError, channel_for
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users import accounts, passwords, roles
from marketplace.users.models import OneTimeCode, User

log = logging.getLogger(__name__)

SMS_CODE_VALID = timedelta(minutes=10)
STAFF_CODE_VALID = timedelta(minutes=30)
MAX_ATTEMPTS = 5
RESET_PURPOSES = ("reset_sms", "reset_staff")
# Who may hand a reset code over in person (within their scope: roles.person_in_scope).
ISSUERS = ("building_head", "grid_admin", "community_admin", "admin")


def _digest(code: str, phone: str, purpose: str) -> str:
    key = settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_code(digits: int) -> str:
    return "".join(secrets.choice("0123456789") for _i in range(digits))


def _send_sms(phone: str, text: str, locale: str | None) -> None:
    """Straight through the SMS channel, never as an in-app notification: a code must not wait
    in an inbox that someone holding a stolen session could read. A provider's refusal is logged,
    not shown: the answer must not differ between numbers."""
    key = secrets.token_hex(8)
    with force_locale(locale or settings().default_locale):
        rendered = str(text)
    try:
        channel_for("sms", settings().messages).send(
            Outgoing(key=key, kind="account", text=rendered, link="", phone=phone,
                     sent_on=utcnow().strftime("%Y%m%d")))
    except SendError as error:
        log.warning("one-time code %s not sent: %s", key, error)


def _expire_live(phone: str, purposes) -> None:
    now = utcnow()
    (OneTimeCode.update(expires_at=now)
     .where(OneTimeCode.phone == phone, OneTimeCode.purpose.in_(list(purposes)), OneTimeCode.used_at.is_null(),
            OneTimeCode.expires_at > now)
     .execute())


def _create(purpose: str, phone: str, user: User | None, digits: int, valid: timedelta,
            issued_by: User | None = None) -> tuple[str, datetime]:
    code = _new_code(digits)
    now = utcnow()
    with db.atomic():
        _expire_live(phone, RESET_PURPOSES if purpose in RESET_PURPOSES else (purpose,))
        OneTimeCode.create(purpose=purpose, phone=phone, user=user.id if user else None,
                           code_hash=_digest(code, phone, purpose), issued_by=issued_by.id if issued_by else None,
                           created_at=now, expires_at=now + valid)
    return code, now + valid


def _use(phone: str, purposes, code: str) -> OneTimeCode | None:
    """The live code of this number that matches, marked used; None after counting a wrong try."""
    code = (code or "").strip().replace(" ", "")
    now = utcnow()
    live = list(OneTimeCode.select().where(
        OneTimeCode.phone == phone, OneTimeCode.purpose.in_(list(purposes)), OneTimeCode.used_at.is_null(),
        OneTimeCode.expires_at > now, OneTimeCode.attempts < MAX_ATTEMPTS))
    for row in live:
        if code.isdigit() and hmac.compare_digest(row.code_hash, _digest(code, phone, row.purpose)):
            used = (OneTimeCode.update(used_at=now)
                    .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_null()).execute())
            return row if used == 1 else None  # another tab used it first
    if live:
        (OneTimeCode.update(attempts=OneTimeCode.attempts + 1)
         .where(OneTimeCode.id.in_([row.id for row in live])).execute())
    return None


def _wrong_code() -> DomainError:
    return DomainError(_("That code is not right or no longer valid. Codes work once, for a short time: "
                         "ask for a new one if needed."), "code", code="wrong_one_time_code")


# ---- password reset ------------------------------------------------------------------------


def request_reset_code(phone: str) -> None:
    """Sends a code if the number has an active account; the same answer either way."""
    phone = accounts.normalize_phone(phone)
    user = User.get_or_none(User.phone == phone)
    if user is None or not user.active:
        return
    code, _expires = _create("reset_sms", phone, user, 6, SMS_CODE_VALID)
    _send_sms(phone, _l("Your password reset code is %(code)s, valid for %(minutes)d minutes. Do not tell anyone, "
                        "not even staff.", code=code, minutes=SMS_CODE_VALID.seconds // 60), user.locale)


def may_issue_reset_code(staff: User) -> bool:
    return bool(access.roles(staff) & set(ISSUERS))


def issue_reset_code(staff: User | None, user_id: int) -> tuple[User, str, datetime]:
    """A code handed over in person after checking the identity card (staff: None is the
    operator's command). Returns the person, the code (shown once) and when it stops working."""
    if staff is not None:
        if not may_issue_reset_code(staff):
            raise DomainError(_("Only building heads and grid administrators can give a reset code."), status=403,
                              code="forbidden")
        person = roles.person_in_scope(staff, user_id)
        if person.id == staff.id:
            raise DomainError(_("You cannot give yourself a reset code. Please use “Forgot your password?”."),
                              status=403, code="forbidden")
    else:
        person = User.get_or_none(User.id == user_id)
        if person is None:
            raise DomainError(_("This person was not found."), status=404, code="not_found")
    if not person.active:
        raise DomainError(_("This account has been switched off. Please contact your community office."),
                          status=409, code="account_inactive")
    code, expires = _create("reset_staff", person.phone, person, 8, STAFF_CODE_VALID, issued_by=staff)
    audit.record(staff, "users.password.code_issued", person)
    from marketplace.notifications.services import notify

    if staff is not None:
        notify(person, "account", _l("%(name)s gave you a one-time code to set a new password. If you did not ask for "
                                     "it, please tell your community office.", name=staff.display_name), "/account")
    return person, code, expires


def reset_with_code(phone: str, code: str, new_password: str) -> User:
    """Sets the new password with a code sent by SMS or given by staff; every session and API
    token of the account ends."""
    try:
        phone = accounts.normalize_phone(phone)
    except DomainError:
        raise _wrong_code() from None
    try:
        passwords.check_policy(new_password, phone)
    except DomainError as error:
        error.field = "new_password"  # the name the page's form and the API's body give it
        raise
    password_hash = passwords.hash_password(new_password)  # slow: before the write lock
    with db.atomic():
        row = _use(phone, RESET_PURPOSES, code)
        user = User.get_or_none(User.id == row.user_id) if row is not None else None
        if user is None or not user.active or user.phone != phone:
            failure = _wrong_code()
        else:
            failure = None
            User.update(password_hash=password_hash).where(User.id == user.id).execute()
            accounts.end_all_sessions(user)
            audit.record(row.issued_by if row.purpose == "reset_staff" else user, "users.password.reset", user,
                         way="sms" if row.purpose == "reset_sms" else "in_person")
    if failure is not None:
        raise failure  # after the commit: the wrong try stays counted
    from marketplace.notifications.services import notify

    notify(user, "account", _l("Your password was changed with a one-time code. Every device and app was logged "
                               "out. If it was not you, please tell your community office at once."), "/account")
    return user
