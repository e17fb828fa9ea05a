"""The settings the services need, as plain values, readable wherever they run: in a web
request, in a job of the scheduler (an app context, no request), in a `flask` command or a
script.

Services call `settings()` instead of reading `current_app.config`, so none of them needs a
request, and a test or a job may pass its own values (`Settings.from_config({...})`). The values
come from the app's config as it is now (tests and operators may change it after start-up);
outside any app context, from the app the factory made last.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import flask
from flask import current_app, has_app_context

from marketplace.notifications.settings import MessageSettings
from marketplace.users.login_settings import LoginLimitSettings

_last_config: Mapping | None = None


@dataclass(frozen=True)
class PointsPolicy:
    """Earning caps and expiry (ledger/policy.py applies them). 0 means no cap, or no expiry."""

    event_hours_cap_day: int = 0
    event_hours_cap_month: int = 0
    request_points_cap_day: int = 0
    request_points_cap_month: int = 0
    expiry_months: int = 0
    expiry_period: str = "year"  # year, quarter or month

    @classmethod
    def from_config(cls, config: Mapping) -> "PointsPolicy":
        period = str(config.get("POINTS_EXPIRY_PERIOD") or "year")
        return cls(
            event_hours_cap_day=max(0, int(config.get("EVENT_HOURS_CAP_DAY") or 0)),
            event_hours_cap_month=max(0, int(config.get("EVENT_HOURS_CAP_MONTH") or 0)),
            request_points_cap_day=max(0, int(config.get("REQUEST_POINTS_CAP_DAY") or 0)),
            request_points_cap_month=max(0, int(config.get("REQUEST_POINTS_CAP_MONTH") or 0)),
            expiry_months=max(0, int(config.get("POINTS_EXPIRY_MONTHS") or 0)),
            expiry_period=period if period in ("year", "quarter", "month") else "year",
        )


@dataclass(frozen=True)
class Settings:
    community_name: str
    default_locale: str
    timezone_name: str
    secret_key: str
    upload_folder: Path
    photo_max_bytes: int
    contact_days_after_done: int
    session_idle_hours: int
    adjustment_approval_threshold: int
    voucher_valid_days: int
    event_checkin_opens_minutes: int
    event_checkout_grace_minutes: int
    event_offline_scan_max_hours: int
    volunteer_star_hours: tuple[int, ...]
    honour_approval_minutes: int
    stars_count_honour_hours: bool
    points_policy: PointsPolicy
    figures_max_age_seconds: int
    instance_path: Path
    ledger_signing_key: str  # a path, a PEM value, or "" for instance/ledger_signing_key.pem
    ledger_checkpoint_log: Path
    messages: MessageSettings
    login_limits: LoginLimitSettings
    password_hash_profile: str  # one of argon2.profiles (users/passwords.py)

    @classmethod
    def from_config(cls, config: Mapping) -> "Settings":
        return cls(
            community_name=config["COMMUNITY_NAME"],
            default_locale=config["BABEL_DEFAULT_LOCALE"],
            timezone_name=config["BABEL_DEFAULT_TIMEZONE"],
            secret_key=config["SECRET_KEY"],
            upload_folder=Path(config["UPLOAD_FOLDER"]),
            photo_max_bytes=config["PHOTO_MAX_BYTES"],
            contact_days_after_done=config["CONTACT_DAYS_AFTER_DONE"],
            session_idle_hours=config["SESSION_IDLE_HOURS"],
            adjustment_approval_threshold=config["ADJUSTMENT_APPROVAL_THRESHOLD"],
            voucher_valid_days=config["VOUCHER_VALID_DAYS"],
            event_checkin_opens_minutes=config["EVENT_CHECKIN_OPENS_MINUTES"],
            event_checkout_grace_minutes=config["EVENT_CHECKOUT_GRACE_MINUTES"],
            event_offline_scan_max_hours=config["EVENT_OFFLINE_SCAN_MAX_HOURS"],
            volunteer_star_hours=tuple(config["VOLUNTEER_STAR_HOURS"]),
            honour_approval_minutes=int(config.get("HONOUR_APPROVAL_MINUTES", 240)),
            stars_count_honour_hours=bool(config.get("STARS_COUNT_HONOUR_HOURS", False)),
            points_policy=PointsPolicy.from_config(config),
            figures_max_age_seconds=config["FIGURES_MAX_AGE_SECONDS"],
            instance_path=Path(config["INSTANCE_PATH"]),
            ledger_signing_key=config.get("LEDGER_SIGNING_KEY") or "",
            ledger_checkpoint_log=Path(config.get("LEDGER_CHECKPOINT_LOG")
                                       or Path(config["INSTANCE_PATH"]) / "ledger_checkpoints.jsonl"),
            messages=MessageSettings.from_config(config),
            login_limits=LoginLimitSettings.from_config(config),
            password_hash_profile=config.get("PASSWORD_HASH_PROFILE") or "RFC_9106_LOW_MEMORY",
        )

    @cached_property
    def timezone(self) -> ZoneInfo:
        """The community's time zone: days, "today" and local times are counted in it."""
        return ZoneInfo(self.timezone_name)


class Config(flask.Config):
    """Flask's config that counts its changes, so the Settings read from it are built once and
    again only after a change (a test's, or an operator's at start-up), not at every call: a
    page of 20 jobs asked for the time zone 20 times, each time building all of them."""

    changes = 0

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.changes += 1

    def __delitem__(self, key):
        super().__delitem__(key)
        self.changes += 1

    def update(self, *args, **kwargs):
        super().update(*args, **kwargs)
        self.changes += 1

    def setdefault(self, key, default=None):
        self.changes += key not in self
        return super().setdefault(key, default)

    def pop(self, *args):
        self.changes += 1
        return super().pop(*args)


def settings() -> Settings:
    if has_app_context():
        return _of(current_app.config)
    if _last_config is None:
        raise RuntimeError("No settings yet: create the app (marketplace.create_app) first.")
    return _of(_last_config)


def _of(config: Mapping) -> Settings:
    if not isinstance(config, Config):  # a plain mapping: nothing tells when it changes
        return Settings.from_config(config)
    built = config.__dict__.get("_settings")
    if built is None or built[0] != config.changes:
        built = config._settings = (config.changes, Settings.from_config(config))
    return built[1]


def init_app(app) -> None:
    global _last_config
    _last_config = app.config
