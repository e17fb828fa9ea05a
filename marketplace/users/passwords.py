"""Password hashing and policy.

argon2id through argon2-cffi (DESIGN.md §5: Werkzeug's default scrypt cost is below OWASP's
minimum). Policy after NIST SP 800-63B: a length range, a list of common passwords (about 49,000,
see the head of data/common_passwords.txt for its source and licence), the words of this site
and its published demo password, no composition rules. Each refusal says why.
"""

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from marketplace.errors import DomainError

MIN_LENGTH = 8
MAX_LENGTH = 64


@lru_cache(maxsize=4)
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """argon2id with one of argon2-cffi's profiles (config PASSWORD_HASH_PROFILE): RFC 9106's "low
    memory" one in every deployment; the test suite's "CHEAPEST", so that its thousands of logins
    do not spend minutes hashing. With it, a hash to verify against when the phone is unknown, so
    both answers take as long."""
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    return hasher, hasher.hash("not a real password, only for timing")


def _hasher() -> tuple[PasswordHasher, str]:
    from marketplace.settings import settings

    return _hasher_for(settings().password_hash_profile)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
    return frozenset(
        line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("# ")
    )


# The README and the `seed-demo` command publish the demo accounts' password (marketplace.demo):
# the demo accounts keep it, no new or changed password may be it.
PUBLISHED_PASSWORDS = frozenset({"beiyuan-demo-2026"})
# Words anyone guessing at this site tries first, with digits or symbols around them.
SITE_WORDS = frozenset({"beiyuan", "admin", "password", "marketplace", "community", "volunteer", "shequ", "jiedao"})
MIN_DISTINCT = 4


def _core(password: str) -> str:
    """The letters of a password, without the digits and symbols people pad a word with."""
    return re.sub(r"[\d\W_]+", "", password.lower())


def check_policy(password: str, phone: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError(_("Use at least %(n)d characters for your password.", n=MIN_LENGTH), "password",
                          code="weak_password")
    if len(password) > MAX_LENGTH:
        raise DomainError(_("Use at most %(n)d characters for your password.", n=MAX_LENGTH), "password",
                          code="weak_password")
    if not password.strip():
        raise DomainError(_("A password of spaces only is easy to guess. Please use letters, digits or words."),
                          "password", code="weak_password")
    if len(set(password)) < MIN_DISTINCT:
        raise DomainError(
            _("Your password repeats the same few characters. Please use at least %(n)d different characters.",
              n=MIN_DISTINCT), "password", code="weak_password")
    if password in PUBLISHED_PASSWORDS:
        raise DomainError(_("This is the demo password published for everyone to read. Please choose your own."),
                          "password", code="weak_password")
    core = _core(password)
    if (password.lower() in common_passwords() or password.lower().strip() in common_passwords()
            or core in SITE_WORDS or (phone and phone in password)):
        raise DomainError(
            _("This password is too easy to guess. Please choose another, such as a short sentence you remember."),
            "password",
            code="weak_password",
        )


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(stored_hash or dummy, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(stored_hash)
