"""Password hashing and policy.

argon2id through argon2-cffi (DESIGN.md §5: Werkzeug's default scrypt cost is below OWASP's
minimum). Policy after NIST SP 800-63B: a length range and a list of common passwords, no
composition rules.
"""

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from marketplace.errors import DomainError

MIN_LENGTH = 8
MAX_LENGTH = 64
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile
# A hash to verify against when the phone is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def check_policy(password: str, phone: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError(_("Use at least %(n)d characters for your password.", n=MIN_LENGTH), "password",
                          code="weak_password")
    if len(password) > MAX_LENGTH:
        raise DomainError(_("Use at most %(n)d characters for your password.", n=MAX_LENGTH), "password",
                          code="weak_password")
    if password.lower() in common_passwords() or (phone and phone in password):
        raise DomainError(
            _("This password is too easy to guess. Please choose another, such as a short sentence you remember."),
            "password",
            code="weak_password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
