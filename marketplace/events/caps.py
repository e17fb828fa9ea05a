"""Earning caps on event hours (EVENT_HOURS_CAP_DAY, EVENT_HOURS_CAP_MONTH: ledger/policy.py).

A volunteer's hours at events are paid up to the cap of the day (the community's local day of
the check-in) and of the month; what is above it is recorded as capped (a CappedEarning row,
shown on the points page and counted on the board), never silently lost. The hours served stay
on the volunteer's record: only the points are capped. Callers hold the ledger's lock, so two
check-outs of the same volunteer at once cannot both use the same room under the cap.
"""

from datetime import UTC, datetime, timedelta

from peewee import fn

from marketplace.events.models import Attendance
from marketplace.ledger.models import CappedEarning
from marketplace.settings import settings


def _bounds(moment: datetime, rule: str) -> tuple[datetime, datetime]:
    """The local day or month `moment` (naive UTC) falls in, as naive UTC bounds."""
    zone = settings().timezone
    local = moment.replace(tzinfo=UTC).astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if rule == "month":
        start = start.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        end = start + timedelta(days=1)
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    # Re-attach the zone to each (a month may cross a change of offset), then back to UTC.
    return (start.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None),
            end.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None))


def capped_so_far(attendance_id: int) -> tuple[int, int]:
    """(minutes, points) the caps held back of one attendance, net of later corrections."""
    row = (CappedEarning.select(fn.COALESCE(fn.SUM(CappedEarning.minutes), 0), fn.COALESCE(fn.SUM(CappedEarning.points), 0))
           .where(CappedEarning.source == "event", CappedEarning.ref == f"attendance:{attendance_id}").tuples().first())
    return int(row[0]), int(row[1])


def _paid_minutes(user_id: int, start: datetime, end: datetime, exclude_id: int) -> int:
    rows = list(Attendance.select(Attendance.id, Attendance.minutes).where(
        Attendance.user == user_id, Attendance.state == "out", Attendance.checked_in_at >= start,
        Attendance.checked_in_at < end, Attendance.id != exclude_id).tuples())
    if not rows:
        return 0
    served = sum(minutes or 0 for _id, minutes in rows)
    held = (CappedEarning.select(fn.COALESCE(fn.SUM(CappedEarning.minutes), 0))
            .where(CappedEarning.source == "event", CappedEarning.ref.in_([f"attendance:{i}" for i, _m in rows]))
            .scalar())
    return served - int(held or 0)


def event_pay(user_id: int, attendance_id: int, checked_in_at: datetime, minutes: int) -> tuple[int, str | None]:
    """(minutes to pay, the rule that capped them or None) for `minutes` served at one attendance."""
    policy = settings().points_policy
    paid, rule = minutes, None
    for name, hours in (("day", policy.event_hours_cap_day), ("month", policy.event_hours_cap_month)):
        if hours > 0:
            start, end = _bounds(checked_in_at, name)
            room = max(0, hours * 60 - _paid_minutes(user_id, start, end, attendance_id))
            if paid > room:
                paid, rule = room, name
    return paid, rule


def record_capped(user_id: int, attendance_id: int, rule: str | None, minutes: int, points: int) -> None:
    """Record what a cap held back (or, after a correction, gave back: negative)."""
    if minutes or points:
        CappedEarning.create(user=user_id, source="event", ref=f"attendance:{attendance_id}", rule=rule or "day",
                             minutes=minutes, points=points)

