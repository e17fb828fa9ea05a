"""Working days by the official Chinese calendar, with corrections kept by staff.

`chinese_calendar` knows public holidays and make-up working days up to 2026 only. For any day,
a staff override (WorkdayOverride) wins; otherwise the package decides for the years it knows;
otherwise Monday to Friday are working days, so deadlines keep working in 2027 and after while
the staff enter next year's holidays (the calendar page warns when they are missing).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import peewee as pw

from marketplace.db import BaseModel
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import User


class WorkdayOverride(BaseModel):
    day = pw.DateField(unique=True)
    is_workday = pw.BooleanField()
    note = pw.CharField(max_length=100, default="")  # 春节, 调休上班 ...
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)


def package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _default_is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def overrides_between(first: date, last: date) -> dict[date, bool]:
    rows = WorkdayOverride.select(WorkdayOverride.day, WorkdayOverride.is_workday).where(
        WorkdayOverride.day.between(first, last)
    )
    return {row.day: row.is_workday for row in rows}


def is_workday(day: date) -> bool:
    override = overrides_between(day, day).get(day)
    return _default_is_workday(day) if override is None else override


def local_zone() -> ZoneInfo:
    return settings().timezone


def local_date(moment: datetime) -> date:
    """The community's date at `moment` (naive UTC)."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(local_zone()).date()


def last_working_day(on_or_before: date) -> date:
    """The latest working day on or before a day (one query for the overrides of the weeks
    before it: the longest run of days off, the Spring Festival, is under two weeks)."""
    overrides = overrides_between(on_or_before - timedelta(days=30), on_or_before)
    day = on_or_before
    while not (overrides[day] if day in overrides else _default_is_workday(day)):
        day -= timedelta(days=1)
    return day


def add_working_days(start: datetime, days: int) -> datetime:
    """The deadline `days` working days after `start` (naive UTC): the end of that local working
    day, as naive UTC. A request made on Friday evening with 5 days is due the next Friday."""
    local_start = local_date(start)
    # Long holidays (Spring Festival, National Day) add at most ~10 non-working days per 5.
    horizon = local_start + timedelta(days=days * 3 + 20)
    overrides = overrides_between(local_start, horizon)
    day, counted = local_start, 0
    while counted < days:
        day += timedelta(days=1)
        working = overrides.get(day)
        if working is None:
            working = _default_is_workday(day)
        counted += working
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=local_zone())
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def due_day(deadline: datetime) -> date:
    """The day a deadline names. Deadlines are stored as the end of their last working day (the
    next local midnight, naive UTC); people read them as that working day, on pages and in CSV."""
    local = deadline.replace(tzinfo=ZoneInfo("UTC")).astimezone(local_zone())
    return (local - timedelta(seconds=1)).date()


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days from start's local date (exclusive) to end's (inclusive)."""
    zone = local_zone()
    first = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
    last = end.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
    overrides = overrides_between(first, last)
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        working = overrides.get(day)
        count += _default_is_workday(day) if working is None else working
    return count


def coverage(years) -> dict[int, str]:
    """For each year: "package" (the official calendar is built in), "staff" (holidays entered
    by staff), or "missing" (weekends only: deadlines may land on a public holiday)."""
    entered = {day.year for (day,) in WorkdayOverride.select(WorkdayOverride.day).tuples()}
    result = {}
    for year in years:
        if package_knows(year):
            result[year] = "package"
        elif year in entered:
            result[year] = "staff"
        else:
            result[year] = "missing"
    return result
