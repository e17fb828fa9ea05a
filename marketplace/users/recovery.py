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

**Proof of the number** uses the same codes (purposes `signup` and `phone`):

- **Sign-up**: `request_signup_code(phone)` texts a code to a number that has no account, and to
  a number that has one a message that someone tried to open an account with it; the answer is
  the same either way. `confirm_sign_up` creates the account only with the right code. Creating
  it first and holding it "unconfirmed" was the other way: it would be an account the resident
  cannot log in to, and a stranger's unconfirmed one would block the number's real owner; here
  nothing exists until the number is proven, and the resident has nothing to be confused by.
- **Phone change**: `request_phone_change_code(user, phone, password)` needs the password and
  texts a code to the NEW number; `confirm_phone_change` moves the login only with that code
  (bound to the account), ends the other sessions, audits it and texts the OLD number.
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
SIGNUP = "signup"  # proving a number before its account exists
PHONE_CHANGE = "phone"  # proving a signed-in person's new number
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


def _use(phone: str, purposes, code: str, user_id: int | None = None) -> OneTimeCode | None:
    """The live code of this number that matches, marked used; None after counting a wrong try.
    With `user_id`, only codes issued to that account count (a phone change's)."""
    code = (code or "").strip().replace(" ", "")
    now = utcnow()
    live = OneTimeCode.select().where(
        OneTimeCode.phone == phone, OneTimeCode.purpose.in_(list(purposes)), OneTimeCode.used_at.is_null(),
        OneTimeCode.expires_at > now, OneTimeCode.attempts < MAX_ATTEMPTS)
    live = list(live.where(OneTimeCode.user == user_id) if user_id is not None else live)
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


# ---- proof of the number: sign-up and phone change -------------------------------------------


def request_signup_code(phone: str, locale: str | None = None) -> None:
    """A code to a number with no account; to a number with one, a text telling its owner that
    someone tried to open an account with it. The caller's answer is the same either way."""
    phone = accounts.normalize_phone(phone)
    owner = User.get_or_none(User.phone == phone)
    if owner is not None:
        _send_sms(phone, _l("Someone tried to open a new account with your mobile number. If it was you, please "
                            "just log in; if you forgot your password, use “Forgot your password?”."),
                  owner.locale)
        return
    code, _expires = _create(SIGNUP, phone, None, 6, SMS_CODE_VALID)
    _send_sms(phone, _l("Your code to open an account is %(code)s, valid for %(minutes)d minutes. Do not tell "
                        "anyone, not even staff.", code=code, minutes=SMS_CODE_VALID.seconds // 60), locale)


def confirm_sign_up(phone: str, code: str, display_name: str, password: str, locale: str | None = None) -> User:
    """The account is created only with the code sent to the number. The name and password are
    checked before the code is tried, so a typo there does not cost one of its 5 tries."""
    try:
        phone = accounts.normalize_phone(phone)
    except DomainError:
        raise _wrong_code() from None
    phone, display_name, password_hash = accounts.check_new_account(phone, display_name, password)
    with db.atomic():
        row = _use(phone, (SIGNUP,), code)
        user = None if row is None else accounts.create_account(phone, display_name, password_hash, locale)
    if user is None:
        raise _wrong_code()  # after the commit: the wrong try stays counted
    return user


def request_phone_change_code(user: User, new_phone: str, password: str) -> None:
    """The password, then a code texted to the NEW number (so the login cannot be moved to a
    number that is not the person's)."""
    if not passwords.verify_password(user.password_hash, password or ""):
        raise DomainError(_("Your password is not right."), "password", code="wrong_password")
    phone = accounts.new_phone_for(user, new_phone)
    code, _expires = _create(PHONE_CHANGE, phone, user, 6, SMS_CODE_VALID)
    _send_sms(phone, _l("Your code to make this your login number is %(code)s, valid for %(minutes)d minutes. Do "
                        "not tell anyone, not even staff.", code=code, minutes=SMS_CODE_VALID.seconds // 60),
              user.locale)


def confirm_phone_change(user: User, new_phone: str, code: str) -> User:
    """The number changes only with the code sent to it for this account; the other sessions
    end, the change is audited (accounts.change_phone), and the old number is told by text."""
    try:
        phone = accounts.normalize_phone(new_phone)
    except DomainError:
        raise _wrong_code() from None
    old_phone = user.phone
    with db.atomic():
        row = _use(phone, (PHONE_CHANGE,), code, user_id=user.id)
        if row is not None:
            accounts.change_phone(user, phone)
    if row is None:
        raise _wrong_code()  # after the commit: the wrong try stays counted
    _send_sms(old_phone, _l("The login number of your account was changed to %(phone)s. If it was not you, please "
                            "tell your community office at once.", phone=user.masked_phone()), user.locale)
    return user
