"""Signed codes for event check-in: the kiosk's rotating QR and six digits, the printed poster,
and each volunteer's badge (DESIGN.md §5, "Signed QR tokens").

Why not itsdangerous: its timestamps are whole seconds and it refuses a token from the future,
so one web host whose clock runs ahead makes tokens the others reject. Here the token carries
the number of the 30-second step it was made in, and the checker accepts its own current step
and the one before (a code shown just before the change still works for the person already
pointing their phone at it), plus a few seconds of clock difference between hosts.

Each purpose has its own key, derived from SECRET_KEY and a salt, so a code made for one thing
(a badge, say) can never pass as another (a kiosk code). Signatures are truncated HMAC-SHA256:
96 bits for QR tokens, which no one guesses, and short enough to keep the QR codes coarse and
quick to read across a crowded doorway.
"""

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from marketplace.settings import settings

STEP_SECONDS = 30
CLOCK_SKEW_SECONDS = 5  # how far another host's clock may run ahead of ours
SALTS = {
    "kiosk": b"marketplace.events.kiosk",
    "kiosk-code": b"marketplace.events.kiosk-code",
    "poster": b"marketplace.events.poster",
    "badge": b"marketplace.events.badge",
}
ACTION_LETTERS = {"in": "i", "out": "o"}
LETTER_ACTIONS = {v: k for k, v in ACTION_LETTERS.items()}
# Badge codes use letters and digits people read out without mistakes (no 0/O, 1/I/L).
BADGE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BADGE_SIG_LENGTH = 10  # 49 bits: guessed at a rate-limited scanner never

_KIOSK = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([io])\.([A-Za-z0-9_-]{16})$")
_POSTER = re.compile(r"^(\d{1,12})\.(\d{1,6})\.([A-Za-z0-9_-]{16})$")
_BADGE = re.compile(r"^(\d{1,12})-([" + BADGE_ALPHABET + r"]{" + str(BADGE_SIG_LENGTH) + r"})$")


class BadToken(Exception):
    """The text is not a token of this kind, or its signature is wrong."""


def _key(purpose: str) -> bytes:
    secret = settings().secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, SALTS[purpose], hashlib.sha256).digest()


def _mac(purpose: str, message: str) -> bytes:
    return hmac.new(_key(purpose), message.encode(), hashlib.sha256).digest()


def _sig(purpose: str, message: str) -> str:
    return base64.urlsafe_b64encode(_mac(purpose, message)[:12]).decode().rstrip("=")


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def step_is_fresh(step: int, now: float | None = None) -> bool:
    """The current step or the one before it, with a little room for a host whose clock is ahead."""
    now = time.time() if now is None else now
    return current_step(now) - 1 <= step <= current_step(now + CLOCK_SKEW_SECONDS)


def seconds_left(step: int, now: float | None = None) -> int:
    """How long a code made in `step` keeps working (until the step after next begins)."""
    now = time.time() if now is None else now
    return max(0, int((step + 2) * STEP_SECONDS - now))


# ---- the kiosk's rotating QR ---------------------------------------------------------------


@dataclass(frozen=True)
class KioskToken:
    event_id: int
    step: int
    action: str  # "in" or "out"


def kiosk_token(event_id: int, action: str, step: int | None = None) -> str:
    step = current_step() if step is None else step
    body = f"{event_id}.{step}.{ACTION_LETTERS[action]}"
    return f"{body}.{_sig('kiosk', body)}"


def read_kiosk_token(token: str) -> KioskToken:
    """The token's content if its signature is right. Whether it is still fresh is for the
    caller to judge (step_is_fresh), so that "expired" and "forged" get different messages."""
    match = _KIOSK.match(token or "")
    if not match:
        raise BadToken
    body = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(_sig("kiosk", body), match.group(4)):
        raise BadToken
    return KioskToken(int(match.group(1)), int(match.group(2)), LETTER_ACTIONS[match.group(3)])


def kiosk_code(event_id: int, action: str, step: int | None = None) -> str:
    """Six digits shown under the kiosk QR, for phones whose camera will not read it."""
    step = current_step() if step is None else step
    number = int.from_bytes(_mac("kiosk-code", f"{event_id}.{step}.{ACTION_LETTERS[action]}")[:4], "big")
    return f"{number % 1_000_000:06d}"


def match_kiosk_code(event_id: int, code: str, now: float | None = None) -> str | None:
    """The action ("in"/"out") whose fresh six-digit code this is, or None."""
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(digits) != 6:
        return None
    now = time.time() if now is None else now
    steps = range(current_step(now) - 1, current_step(now + CLOCK_SKEW_SECONDS) + 1)
    for action in ACTION_LETTERS:
        for step in steps:
            if hmac.compare_digest(kiosk_code(event_id, action, step), digits):
                return action
    return None


# ---- the printed poster --------------------------------------------------------------------


def poster_token(event_id: int, version: int) -> str:
    body = f"{event_id}.{version}"
    return f"{body}.{_sig('poster', body)}"


def read_poster_token(token: str) -> tuple[int, int]:
    """(event id, poster version). Whether the event is on now is the caller's to check."""
    match = _POSTER.match(token or "")
    if not match:
        raise BadToken
    body = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(_sig("poster", body), match.group(3)):
        raise BadToken
    return int(match.group(1)), int(match.group(2))


# ---- volunteers' badges --------------------------------------------------------------------


def _badge_sig(user_id: int, serial: int) -> str:
    number = int.from_bytes(_mac("badge", f"{user_id}.{serial}")[:8], "big")
    letters = []
    for _ in range(BADGE_SIG_LENGTH):
        number, index = divmod(number, len(BADGE_ALPHABET))
        letters.append(BADGE_ALPHABET[index])
    return "".join(letters)


def badge_token(user_id: int, serial: int) -> str:
    return f"{user_id}-{_badge_sig(user_id, serial)}"


def format_badge(token: str) -> str:
    """For reading out and typing: 17-K7Q2M-9XD4P."""
    user_id, sig = token.split("-", 1)
    return f"{user_id}-{sig[:5]}-{sig[5:]}"


def normalize_badge(raw: str) -> str:
    """What a scanner or a person gives: the badge's whole URL, or the code typed with spaces,
    dashes and lower case."""
    text = (raw or "").strip()
    if "/b/" in text:
        text = text.rsplit("/b/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    # The signature is the last 10 characters whatever separates them (it may begin with a digit).
    compact = "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())
    if len(compact) <= BADGE_SIG_LENGTH:
        return compact
    return f"{compact[:-BADGE_SIG_LENGTH]}-{compact[-BADGE_SIG_LENGTH:]}"


def read_badge(token: str) -> tuple[int, str]:
    """(user id, signature) of a well-formed badge code; the signature is checked against the
    badge's current serial by the caller."""
    match = _BADGE.match(token or "")
    if not match:
        raise BadToken
    return int(match.group(1)), match.group(2)


def badge_matches(user_id: int, serial: int, sig: str) -> bool:
    return hmac.compare_digest(_badge_sig(user_id, serial), sig)


def looks_like_kiosk_or_poster(raw: str) -> bool:
    text = (raw or "").strip()
    return "/events/k/" in text or "/events/p/" in text or bool(_KIOSK.match(text) or _POSTER.match(text))
