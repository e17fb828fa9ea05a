"""The resident's one-time on-site code: the rule written once, for a request finished on site
(service_requests.services.finish_on_site) and a care visit confirmed at the door
(care.services.confirm_with_code).

A code is six digits shown only to the resident. The helper types (or scans) it at the door;
full-width digits from a Chinese keyboard count as digits and anything else is dropped. Wrong
codes are counted on the row they were typed for, and after ATTEMPTS the code stops working, so
six digits cannot be guessed by trying (10^6 / 5).
"""

import secrets
import unicodedata

from flask_babel import gettext as _

from marketplace.errors import DomainError

ATTEMPTS = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def normalize(code: str | None) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", code or "") if ch in "0123456789")


def used_up(failures: int) -> bool:
    """Whether the code has stopped working after too many wrong tries."""
    return failures >= ATTEMPTS


def matches(typed: str | None, expected: str) -> bool:
    return secrets.compare_digest(normalize(typed), expected or "")


def wrong_code(failures_before: int) -> DomainError:
    """The answer to a wrong code, once its try is counted (the caller raises it after the
    transaction that counted it commits)."""
    left = ATTEMPTS - failures_before - 1
    return DomainError(_("That code is not right. %(left)d tries left.", left=left), field="code", code="wrong_code")
