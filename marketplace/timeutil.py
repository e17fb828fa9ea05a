"""Time helpers: the database stores naive UTC; pages show the community's local time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
