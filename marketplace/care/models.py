"""Care for key groups (issue 16, item 7): the key-group register, care pairs and their visits.

- **KeyGroupMember**: one resident in one key group (elderly living alone, a person with a
  disability, a retired soldier, ...), with a note. Sensitive personal information (PIPL Art. 28):
  read only through care.services, which checks scope and writes the audit entry.
- **CarePair**: a volunteer paired with a member for recurring visits (weekly, fortnightly,
  monthly), from a start day, optionally on a weekday; active, paused or ended by staff.
- **CareVisit**: one visit, due on one day (unique per pair and day, so the visits of a pair are
  made once however often and wherever they are made). Confirmed once, with the resident's
  on-site code or by staff by phone; its pay is the one `earn_care` transfer it points at.
  `missed_told_at` is set by the one conditional UPDATE that tells the building head.
"""

import calendar
from datetime import date, timedelta

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.ledger.models import Transfer
from marketplace.places.models import Household
from marketplace.timeutil import utcnow
from marketplace.users.models import User

KEY_GROUPS = ("elderly_alone", "disability", "retired_soldier", "other")
FREQUENCIES = ("weekly", "fortnightly", "monthly")
# What a visit counts for when the staff pairing say nothing else (the page, the API).
VISIT_MINUTES = 60
VISIT_POINTS = 10
PAIR_STATES = ("active", "paused", "ended")
VISIT_STATES = ("due", "confirmed")
CONFIRM_METHODS = ("code", "phone")


class KeyGroupMember(BaseModel):
    resident = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    household = pw.ForeignKeyField(Household, backref="+", on_delete="CASCADE")
    key_group = pw.CharField(max_length=20, constraints=[check_in("key_group", KEY_GROUPS)])
    note = pw.CharField(max_length=300, default="")
    added_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("resident", "key_group"), True),)


class CarePair(BaseModel):
    member = pw.ForeignKeyField(KeyGroupMember, backref="pairs", on_delete="CASCADE")
    volunteer = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    frequency = pw.CharField(max_length=12, constraints=[check_in("frequency", FREQUENCIES)])
    weekday = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (weekday BETWEEN 0 AND 6)")])  # 0 = Monday
    starts_on = pw.DateField()
    minutes = pw.IntegerField(default=VISIT_MINUTES, constraints=[pw.SQL("CHECK (minutes > 0)")])
    points = pw.IntegerField(default=VISIT_POINTS, constraints=[pw.SQL("CHECK (points >= 0)")])
    state = pw.CharField(max_length=10, default="active", constraints=[check_in("state", PAIR_STATES)])
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    changed_at = pw.DateTimeField(null=True)


class CareVisit(BaseModel):
    pair = pw.ForeignKeyField(CarePair, backref="visits", on_delete="CASCADE")
    due_on = pw.DateField(index=True)
    state = pw.CharField(max_length=10, default="due", constraints=[check_in("state", VISIT_STATES)])
    onsite_code = pw.CharField(max_length=6)  # shown only to the resident, typed by the volunteer
    code_failures = pw.IntegerField(default=0)
    method = pw.CharField(max_length=5, null=True, constraints=[check_in("method", CONFIRM_METHODS)])
    confirmed_at = pw.DateTimeField(null=True)
    confirmed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    note = pw.CharField(max_length=300, default="")
    minutes = pw.IntegerField(null=True)  # the hours and points it earned, fixed when confirmed
    points = pw.IntegerField(null=True)
    transfer = pw.ForeignKeyField(Transfer, null=True, unique=True, backref="+", on_delete="RESTRICT")
    missed_told_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("pair", "due_on"), True),)


# ---- when visits fall due ------------------------------------------------------------------


def first_due(starts_on: date, weekday: int | None) -> date:
    """The first visit: the start day, or the first chosen weekday on or after it."""
    if weekday is None:
        return starts_on
    return starts_on + timedelta(days=(weekday - starts_on.weekday()) % 7)


def _add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def due_dates(frequency: str, starts_on: date, weekday: int | None, first: date, last: date) -> list[date]:
    """The days a pair's visits fall due between `first` and `last` (both included).

    Weekly and fortnightly: every 7 or 14 days from the first visit. Monthly: on the first
    visit's day of the month (the month's last day when it is shorter: the 31st becomes the 30th,
    the 28th or 29th); with a weekday, on the first such weekday on or after that day.

    A visit due on a public holiday stays on its day: a key-group resident lives alone on
    holidays too (the Spring Festival is when a visit matters most), and a volunteer is a
    neighbour, not an office. Working days count only for staff: the building head hears of a
    missed visit on the next working day (care.services.tell_missed)."""
    start = first_due(starts_on, weekday)
    days: list[date] = []
    if frequency in ("weekly", "fortnightly"):
        step = 7 if frequency == "weekly" else 14
        day = start
        if day < first:
            day += timedelta(days=step * -(-(first - day).days // step))
        while day <= last:
            days.append(day)
            day += timedelta(days=step)
        return days
    anchor = start.day if weekday is None else starts_on.day
    months = 0
    while True:
        base = _add_months(date(starts_on.year, starts_on.month, 1), months, anchor)
        day = base if weekday is None else first_due(base, weekday)
        months += 1
        if day < start:
            continue
        if day > last:
            return days
        if day >= first:
            days.append(day)


def care_minutes_of(volunteer_id: int) -> tuple[int, int]:
    """(by code, by phone) minutes of a volunteer's confirmed visits: the hours a care pair adds
    to the volunteer's record (events.records), kept apart as credit and honour hours are: a code
    typed at the door is recorded by the system, a staff member's phone call by hand."""
    rows = (CareVisit.select(CareVisit.method, pw.fn.SUM(CareVisit.minutes))
            .join(CarePair).where(CarePair.volunteer == volunteer_id, CareVisit.state == "confirmed")
            .group_by(CareVisit.method).tuples())
    totals = {method: int(total or 0) for method, total in rows}
    return totals.get("code", 0), totals.get("phone", 0)
