"""Login limits that protect the owner (issue 16).

A limit per number refused the owner too: ten wrong passwords a minute from anywhere kept a
resident out for good. So failures are counted three ways, over a window (15 minutes):

- per (number, address): after 5 failures that address may not try that number again until the
  window ends; the owner at home, on another address, is not concerned;
- per address, whatever the number: after 50 failures the address is refused (one machine
  guessing many numbers); successes are not counted, so a room of volunteers on one Wi-Fi
  logging in together is not stopped;
- per number, from everywhere: never a refusal, only a growing delay before the answer (from the
  6th failure: 0.25 s, doubling every 5 failures, at most 4 s), so guessing from many addresses
  is slow and the owner still gets in.

The totals live in the rate limiter's storage: Redis when configured (shared by every worker
and host), else memory (one process). Figures: README, "Login limits".
"""

import hashlib
import logging
import time
from functools import lru_cache

from flask_babel import gettext as _
from limits.storage import Storage, storage_from_string

from marketplace.errors import DomainError
from marketplace.settings import settings
from marketplace.users import accounts
from marketplace.users.login_settings import LoginLimitSettings
from marketplace.users.models import User

log = logging.getLogger(__name__)
pause = time.sleep  # tests replace it to see the delay without waiting for it


@lru_cache(maxsize=64)
def _storage(uri: str, partition: str) -> Storage:
    """One storage per URI (and per app for memory://, so two apps in one process do not share
    counts)."""
    return storage_from_string(uri)


def _keys(limits: LoginLimitSettings, phone: str, address: str) -> tuple[str, str, str]:
    # The number is hashed: a Redis dump must not be a list of phone numbers.
    number = hashlib.sha256(f"login:{phone}".encode()).hexdigest()[:32]
    prefix = f"{limits.key_prefix}/login-failures"
    return f"{prefix}/pair/{number}/{address}", f"{prefix}/address/{address}", f"{prefix}/number/{number}"


def _phone_key(phone: str) -> str:
    try:
        return accounts.normalize_phone(phone)
    except DomainError:
        return (phone or "").strip()[:20]


def delay_for(failures: int, limits: LoginLimitSettings) -> float:
    """Seconds to wait before answering for a number that failed this many times."""
    over = failures - limits.per_number_before_delay
    if over < 0:
        return 0.0
    return min(limits.delay_max_seconds, 0.25 * 2 ** (over // 5))


def _counts(limits: LoginLimitSettings, keys) -> list[int]:
    """The totals; all 0 when the storage cannot be reached (Redis down): people can still log
    in, the per-address flood guard still holds, and the log says so."""
    try:
        storage = _storage(limits.storage_uri, limits.partition)
        return [storage.get(key) for key in keys]
    except Exception as error:  # noqa: BLE001 - any storage failure, whatever its driver's type
        log.warning("login limits not checked: %s", type(error).__name__)
        return [0 for _key in keys]


def check(phone: str, address: str) -> float:
    """Refuses an address that failed too often (for this number, or for any); returns the delay
    to wait for this number."""
    limits = settings().login_limits
    if not limits.enabled:
        return 0.0
    pair, per_address, number = _counts(limits, _keys(limits, _phone_key(phone), address))
    if pair >= limits.per_number_and_address or per_address >= limits.per_address:
        minutes = max(1, round(limits.window_seconds / 60))
        raise DomainError(
            _("Too many wrong tries from here. Please wait %(minutes)d minutes, or get a new password with "
              "“Forgot your password?”.", minutes=minutes),
            status=429, code="too_many_attempts")
    return delay_for(number, limits)


def record_failure(phone: str, address: str) -> None:
    limits = settings().login_limits
    if not limits.enabled:
        return
    try:
        storage = _storage(limits.storage_uri, limits.partition)
        for key in _keys(limits, _phone_key(phone), address):
            storage.incr(key, limits.window_seconds)
    except Exception as error:  # noqa: BLE001 - as in _counts
        log.warning("login failure not counted: %s", type(error).__name__)


def record_success(phone: str, address: str) -> None:
    """The owner's own address starts afresh; the number's total stays (a guesser elsewhere is
    still slowed)."""
    limits = settings().login_limits
    if limits.enabled:
        try:
            _storage(limits.storage_uri, limits.partition).clear(_keys(limits, _phone_key(phone), address)[0])
        except Exception as error:  # noqa: BLE001 - as in _counts
            log.warning("login count not cleared: %s", type(error).__name__)


def authenticate(phone: str, password: str, address: str) -> User:
    """`accounts.authenticate` behind the limits: what the login page, re-entering the password
    and the API's login call."""
    delay = check(phone, address)
    if delay:
        pause(delay)
    try:
        user = accounts.authenticate(phone, password)
    except DomainError as error:
        if error.code == "wrong_credentials":
            record_failure(phone, address)
        raise
    record_success(phone, address)
    return user
