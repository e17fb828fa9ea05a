"""Time helpers: the database stores naive UTC; pages show the community's local time."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def utc_start_of_day(day: date, zone: tzinfo) -> datetime:
    """The first moment of a local day, as naive UTC: where "from this day" filters start. The
    calendar's ends (0001-01-01, the day after 9999-12-31) leave Python's range once moved to
    another zone: they mean "from the beginning" and "to the end"."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if day.year < 5000 else datetime.max


def utc_end_of_day(day: date, zone: tzinfo) -> datetime:
    """The first moment after a local day, as naive UTC: where "until this day" filters stop."""
    if day >= date.max:
        return datetime.max
    return utc_start_of_day(day + timedelta(days=1), zone)
