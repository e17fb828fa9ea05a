"""Configuration from environment variables, with defaults that need no external service.

Everything an operator may change is read here and only here; the rest of the code reads
`current_app.config`.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from marketplace.users import login_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"

SUPPORTED_LOCALES = ("zh_Hans", "en")


def _instance_path() -> Path:
    return Path(os.environ.get("MARKETPLACE_INSTANCE_PATH", DEFAULT_INSTANCE))


def _load_or_create_secret_key(instance: Path) -> str:
    """A random key made on first run and kept in instance/, so restarts keep sessions valid."""
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Create with 0600 so other local users cannot read it.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def from_environment() -> dict:
    instance = _instance_path()
    production = os.environ.get("MARKETPLACE_ENV", "development") == "production"
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'marketplace.db'}"),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _load_or_create_secret_key(instance),
        "COMMUNITY_NAME": os.environ.get("COMMUNITY_NAME", "北苑街道"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LANGUAGE", "zh_Hans"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        # memory:// counts per process; several workers (production) must share Redis.
        "RATELIMIT_STORAGE_URI": os.environ.get(
            "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0" if production else "memory://"
        ),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "marketplace"),
        # Anonymous visitors' menu, events list and public board are kept this long (0: off);
        # shared through Redis when this (or else RATELIMIT_STORAGE_URI) is redis://, otherwise
        # per process. See marketplace/cache.py.
        "PAGE_CACHE_SECONDS": int(os.environ.get("PAGE_CACHE_SECONDS", "60")),
        "PAGE_CACHE_STORAGE_URI": os.environ.get("PAGE_CACHE_STORAGE_URI", ""),
        # Templates compiled once and kept here, so a worker that starts loads them compiled
        # ("" for instance/jinja-cache). Any process may share it: files are replaced whole.
        "TEMPLATE_CACHE_FOLDER": os.environ.get("TEMPLATE_CACHE_FOLDER", ""),
        # All attempts from one address, right or wrong: a flood guard only, loose enough for a
        # room of volunteers on one Wi-Fi. Failures are counted by users/login_limits.py.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "60 per minute"),
        **login_settings.from_environment(),
        "SIGNUP_RATE_LIMIT": os.environ.get("SIGNUP_RATE_LIMIT", "10 per hour"),
        # Per API token (or per signed-in browser, or per address when anonymous).
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "120 per minute"),
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", "0")),
        # Cookies: never readable from JavaScript, not sent on cross-site POSTs,
        # and Secure whenever the site is served over HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # Sessions: 12 idle hours end one (on the server too), "keep me signed in" lasts 30
        # days at most from login; see README "Sessions".
        "SESSION_IDLE_HOURS": int(os.environ.get("SESSION_IDLE_HOURS", "12")),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(os.environ.get("SESSION_IDLE_HOURS", "12"))),
        # The cookie is signed again when the server moves the session's idle clock (marketplace._load_user).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        # Points: a staff adjustment above this many points waits for a second staff member.
        "ADJUSTMENT_APPROVAL_THRESHOLD": int(os.environ.get("ADJUSTMENT_APPROVAL_THRESHOLD", "100")),
        "VOUCHER_VALID_DAYS": int(os.environ.get("VOUCHER_VALID_DAYS", "30")),
        # The Ed25519 key that signs ledger checkpoints: a file path or the PEM itself; by default
        # instance/ledger_signing_key.pem, made on first use. Never in the database or a backup.
        "LEDGER_SIGNING_KEY": os.environ.get("LEDGER_SIGNING_KEY", ""),
        # Every checkpoint is also appended here (default instance/ledger_checkpoints.jsonl).
        "LEDGER_CHECKPOINT_LOG": os.environ.get("LEDGER_CHECKPOINT_LOG", ""),
        # Photos residents attach to requests: kept in instance/uploads, never served from static/.
        "UPLOAD_FOLDER": Path(os.environ.get("UPLOAD_FOLDER", str(instance / "uploads"))),
        "PHOTO_MAX_BYTES": int(os.environ.get("PHOTO_MAX_MB", "5")) * 1024 * 1024,
        # Retention (PIPL Art. 19, see rights/retention.py): days a closed matter's photo and a
        # message's delivery record are kept; 0 keeps them forever.
        "RETENTION_PHOTO_DAYS": int(os.environ.get("RETENTION_PHOTO_DAYS", "180")),
        "RETENTION_DELIVERY_DAYS": int(os.environ.get("RETENTION_DELIVERY_DAYS", "90")),
        # A helper reads the resident's phone, address and photo while the job is theirs and for
        # this many days after it is done; never after a cancellation or release.
        "CONTACT_DAYS_AFTER_DONE": int(os.environ.get("CONTACT_DAYS_AFTER_DONE", "7")),
        "ONSITE_CODE_RATE_LIMIT": os.environ.get("ONSITE_CODE_RATE_LIMIT", "10 per minute"),
        "VOUCHER_SCAN_RATE_LIMIT": os.environ.get("VOUCHER_SCAN_RATE_LIMIT", "30 per minute"),
        # Events: volunteers' star levels by cumulative hours (1 to 5 stars), when check-in opens
        # before the start, how long after the end one may still check out, and how old a scan
        # queued on an offline scanner may be when it finally arrives.
        "VOLUNTEER_STAR_HOURS": tuple(
            int(h) for h in os.environ.get("VOLUNTEER_STAR_HOURS", "100,300,600,1000,1500").split(",")
        ),
        "EVENT_CHECKIN_OPENS_MINUTES": int(os.environ.get("EVENT_CHECKIN_OPENS_MINUTES", "30")),
        "EVENT_CHECKOUT_GRACE_MINUTES": int(os.environ.get("EVENT_CHECKOUT_GRACE_MINUTES", "60")),
        "EVENT_OFFLINE_SCAN_MAX_HOURS": int(os.environ.get("EVENT_OFFLINE_SCAN_MAX_HOURS", "24")),
        "EVENT_CODE_RATE_LIMIT": os.environ.get("EVENT_CODE_RATE_LIMIT", "10 per minute"),
        # Hours staff add by hand (a check-in by hand) are honour hours, kept apart from the credit
        # hours recorded at the door; more of them than this (in minutes) at one event wait for a
        # second staff member before they are paid. Star levels count credit hours only, unless
        # STARS_COUNT_HONOUR_HOURS is on.
        "HONOUR_APPROVAL_MINUTES": int(os.environ.get("HONOUR_APPROVAL_MINUTES", "240")),
        "STARS_COUNT_HONOUR_HOURS": _flag("STARS_COUNT_HONOUR_HOURS", False),
        # Points policy (ledger/policy.py), shown in plain words on the points page and the board.
        # Earning caps (0: none): event hours paid per volunteer per day and per month, and
        # points from requests per helper per day and per month; what a cap holds back is
        # recorded as capped. Expiry (off while POINTS_EXPIRY_MONTHS is 0): at the end of each
        # period (year, quarter or month), points earned more than that many months before go
        # back to the community, with messages 30 and 7 days before.
        "EVENT_HOURS_CAP_DAY": int(os.environ.get("EVENT_HOURS_CAP_DAY", "0")),
        "EVENT_HOURS_CAP_MONTH": int(os.environ.get("EVENT_HOURS_CAP_MONTH", "0")),
        "REQUEST_POINTS_CAP_DAY": int(os.environ.get("REQUEST_POINTS_CAP_DAY", "0")),
        "REQUEST_POINTS_CAP_MONTH": int(os.environ.get("REQUEST_POINTS_CAP_MONTH", "0")),
        "POINTS_EXPIRY_MONTHS": int(os.environ.get("POINTS_EXPIRY_MONTHS", "0")),
        "POINTS_EXPIRY_PERIOD": os.environ.get("POINTS_EXPIRY_PERIOD", "year"),
        # Dashboards and the public board show stored figures up to this old (the scheduler
        # refreshes them sooner); 0 counts them afresh on every page.
        "FIGURES_MAX_AGE_SECONDS": int(os.environ.get("FIGURES_MAX_AGE_SECONDS", "900")),
    }
