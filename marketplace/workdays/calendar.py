"""The working-day calendar staff keep: public holidays and make-up working days for the years the
`chinese_calendar` package does not know (and corrections for the years it does).

Deadlines count working days (workdays/days.py), so a missing holiday makes a deadline fall on the
Spring Festival. Every change goes to the audit log. Bad input changes nothing: a range or an
imported file is checked in full first, and written in one transaction.
"""

import csv
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
import peewee as pw
from flask_babel import gettext as _

from marketplace import audit, workdays
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.i18n import is_chinese
from marketplace.timeutil import utcnow
from marketplace.workdays import WorkdayOverride

EDITORS = ("community_admin", "street_officer")
MAX_RANGE_DAYS = 31  # the longest holiday is about nine days; a month is surely a typing slip
MAX_IMPORT_ROWS = 500
MAX_IMPORT_BYTES = 100_000
NOTE_LENGTH = 100

# What people write in the "kind" column, in either language (lower case, no spaces).
HOLIDAY_WORDS = {"holiday", "off", "rest", "休", "假", "假日", "节假日", "休息", "放假", "休假", "0", "false"}
WORKDAY_WORDS = {"workday", "work", "working", "workingday", "make-up", "makeup", "班", "上班", "补班", "调休上班",
                 "工作日", "1", "true"}
DATE_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))\s*$")


def parse_day(text: str) -> date | None:
    """2027-01-01, 2027/1/1, 2027.1.1, 2027年1月1日 or 20270101; None when it is not a date."""
    match = DATE_PATTERN.match(text or "")
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_kind(text: str) -> bool | None:
    """True for a working day, False for a holiday, None when not understood."""
    word = re.sub(r"\s+", "", (text or "")).lower()
    if word in HOLIDAY_WORDS:
        return False
    if word in WORKDAY_WORDS:
        return True
    return None


def _clean_note(note: str) -> str:
    note = " ".join((note or "").split())
    if len(note) > NOTE_LENGTH:
        raise DomainError(_("Please keep the note under %(n)d characters.", n=NOTE_LENGTH), field="note",
                          code="invalid")
    return note


def _check_year(day: date, field: str) -> None:
    this_year = workdays_today().year
    if not this_year - 5 <= day.year <= this_year + 5:
        raise DomainError(
            _("%(day)s is too far from today. Days from %(first)d to %(last)d can be entered.",
              day=day.isoformat(), first=this_year - 5, last=this_year + 5), field=field, code="invalid")


def workdays_today() -> date:
    from marketplace.figures.counting import local_today

    return local_today()


def _write(staff, days: dict[date, tuple[bool, str]]) -> int:
    """Save each day's entry, replacing an earlier one for the same day (the caller holds the
    transaction). Returns how many replaced an earlier entry."""
    existing = workdays.overrides_between(min(days), max(days))
    replaced = sum(1 for day in days if day in existing)
    now = utcnow()
    rows = [{"day": day, "is_workday": working, "note": note, "created_by": staff.id, "created_at": now}
            for day, (working, note) in sorted(days.items())]
    for start in range(0, len(rows), 100):
        chunk = rows[start:start + 100]
        WorkdayOverride.delete().where(WorkdayOverride.day.in_([row["day"] for row in chunk])).execute()
        WorkdayOverride.insert_many(chunk).execute()
    return replaced


@contextmanager
def _saving():
    """One transaction; two staff saving the same day at the same moment get a clear answer."""
    try:
        with db.atomic():
            yield
    except pw.IntegrityError:
        raise DomainError(_("Someone else changed these days just now. Please look again and retry."),
                          status=409, code="edit_conflict") from None


def add_days(staff, first_text: str, last_text: str, kind: str, note: str) -> tuple[int, int]:
    """Mark the first day (to the last, inclusive) as holidays or as make-up working days.
    Returns (days written, of which replaced an earlier entry)."""
    first = parse_day(first_text)
    if first is None:
        if (first_text or "").strip():
            raise DomainError(_("“%(text)s” is not a date. Please write it like 2027-01-01.", text=first_text.strip()[:30]),
                              field="first", code="invalid")
        raise DomainError(_("Please enter the first day, like 2027-01-01."), field="first", code="invalid")
    last = parse_day(last_text) if (last_text or "").strip() else first
    if last is None:
        raise DomainError(_("“%(text)s” is not a date. Please write it like 2027-01-01.", text=last_text.strip()[:30]),
                          field="last", code="invalid")
    if last < first:
        raise DomainError(_("The last day is before the first day."), field="last", code="invalid")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise DomainError(_("Please enter at most %(n)d days at a time.", n=MAX_RANGE_DAYS), field="last",
                          code="invalid")
    working = {"holiday": False, "workday": True}.get(kind)
    if working is None:
        raise DomainError(_("Please choose a holiday or a make-up working day."), field="kind", code="invalid")
    _check_year(first, "first")
    _check_year(last, "last")
    note = _clean_note(note)
    days = {first + timedelta(days=n): (working, note) for n in range((last - first).days + 1)}
    with _saving():
        replaced = _write(staff, days)
        audit.record(staff, "workdays.days.set", None, first=first.isoformat(), last=last.isoformat(),
                     working=working, note=note, replaced=replaced)
    return len(days), replaced


def remove_day(staff, override_id: int) -> WorkdayOverride:
    """Back to what the official calendar (or Monday to Friday) says for that day."""
    with db.atomic():
        override = WorkdayOverride.get_or_none(WorkdayOverride.id == override_id)
        if override is None:
            raise DomainError(_("This day was not found. Someone may have removed it already."), status=404,
                              code="not_found")
        WorkdayOverride.delete().where(WorkdayOverride.id == override.id).execute()
        audit.record(staff, "workdays.day.removed", override, day=override.day.isoformat(),
                     working=override.is_workday, note=override.note)
    return override


@dataclass
class ImportResult:
    days: int
    replaced: int
    years: list[int]


def _decode(raw: bytes) -> str:
    """Excel saves CSV as UTF-8 with a BOM, or (on Chinese Windows) as GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(_("The file could not be read. Please save it as CSV (UTF-8)."), field="file", code="invalid")


def import_days(staff, raw: bytes | str) -> ImportResult:
    """Rows of: date, kind (holiday or workday, 休 or 班), note (optional). A first row of column
    names is skipped. Either every row is right and all of them are saved, or nothing is, and the
    message names each wrong row."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_IMPORT_BYTES:
            raise DomainError(_("The file is too large: a year's calendar is a few dozen lines."), field="file",
                              code="invalid")
        raw = _decode(raw)
    rows = [row for row in csv.reader(io.StringIO(raw.lstrip("\ufeff"))) if any(cell.strip() for cell in row)]
    first_line = 1
    if rows and not any(ch.isdigit() for ch in rows[0][0]):  # column names, such as "date,kind,note" / "日期,类型,备注"
        rows, first_line = rows[1:], 2
    if not rows:
        raise DomainError(_("There are no days in it. Each line needs a date and a kind, like: 2027-01-01,holiday"),
                          field="file", code="invalid")
    if len(rows) > MAX_IMPORT_ROWS:
        raise DomainError(_("Please import at most %(n)d lines at a time.", n=MAX_IMPORT_ROWS), field="file",
                          code="invalid")
    problems: list[str] = []
    days: dict[date, tuple[bool, str]] = {}
    this_year = workdays_today().year
    for number, row in enumerate(rows, start=first_line):
        cells = [cell.strip() for cell in row] + ["", "", ""]
        day, working, note = parse_day(cells[0]), parse_kind(cells[1]), " ".join(cells[2].split())
        if day is None:
            problems.append(_("Line %(n)d: “%(text)s” is not a date (write it like 2027-01-01).", n=number,
                              text=cells[0][:30]))
        elif not this_year - 5 <= day.year <= this_year + 5:
            problems.append(_("Line %(n)d: %(day)s is too far from today.", n=number, day=day.isoformat()))
        if working is None:
            problems.append(_("Line %(n)d: “%(text)s” should say holiday or workday (休 or 班).", n=number,
                              text=cells[1][:30]))
        if len(note) > NOTE_LENGTH:
            problems.append(_("Line %(n)d: the note is longer than %(max)d characters.", n=number, max=NOTE_LENGTH))
        if day is not None and working is not None:
            if day in days and days[day][0] != working:
                problems.append(_("Line %(n)d: %(day)s is listed both as a holiday and as a working day.", n=number,
                                  day=day.isoformat()))
            days[day] = (working, note)
    if problems:
        shown = problems[:10]
        if len(problems) > 10:
            shown.append(_("… and %(n)d more.", n=len(problems) - 10))
        raise DomainError(_("Nothing was imported. Please correct these lines and try again:") + " " + " ".join(shown),
                          field="file", status=422, code="invalid")
    with _saving():
        replaced = _write(staff, days)
        years = sorted({day.year for day in days})
        audit.record(staff, "workdays.imported", None, days=len(days), replaced=replaced, years=years)
    return ImportResult(len(days), replaced, years)


# ---- what the page shows ---------------------------------------------------------------------


@dataclass
class Day:
    day: date
    working: bool
    source: str  # "staff", "package" (the official calendar) or "weekday" (Monday to Friday only)
    name: str = ""

    @property
    def exceptional(self) -> bool:
        """A holiday on a weekday, or a working day at the weekend."""
        return self.working == (self.day.weekday() >= 5)


def _holiday_name(day: date) -> str:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return ""
    if not name:
        return ""
    for holiday in chinese_calendar.Holiday:
        if holiday.value == name:
            return holiday.chinese if is_chinese() else holiday.value
    return name


def year_days(year: int) -> list[list[Day]]:
    """The year's days, month by month, with where each answer comes from."""
    overrides = {o.day: o for o in WorkdayOverride.select().where(
        WorkdayOverride.day.between(date(year, 1, 1), date(year, 12, 31)))}
    known = workdays.package_knows(year)
    months: list[list[Day]] = [[] for _ in range(12)]
    day = date(year, 1, 1)
    while day.year == year:
        override = overrides.get(day)
        if override is not None:
            entry = Day(day, override.is_workday, "staff", override.note)
        elif known:
            working = chinese_calendar.is_workday(day)
            entry = Day(day, working, "package")
            if entry.exceptional:
                entry.name = _holiday_name(day)
        else:
            entry = Day(day, day.weekday() < 5, "weekday")
        months[day.month - 1].append(entry)
        day += timedelta(days=1)
    return months


def exceptions(year: int) -> list[Day]:
    """The days that differ from Monday-to-Friday, and every staff entry: what the CSV holds."""
    return [d for month in year_days(year) for d in month if d.exceptional or d.source == "staff"]


def overrides_in(year: int):
    return (WorkdayOverride.select().where(WorkdayOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(WorkdayOverride.day))


@dataclass
class YearCoverage:
    year: int
    status: str  # package, staff, missing
    holidays: int  # weekdays off
    makeup_days: int  # weekend days worked


def coverage(years) -> list[YearCoverage]:
    status = workdays.coverage(years)
    result = []
    for year in years:
        found = exceptions(year)
        result.append(YearCoverage(
            year, status[year],
            sum(1 for d in found if not d.working and d.day.weekday() < 5),
            sum(1 for d in found if d.working and d.day.weekday() >= 5),
        ))
    return result


def years_to_show(today: date | None = None) -> list[int]:
    """Last year, this year, next year, and any other year staff have entered days for."""
    today = today or workdays_today()
    entered = {row.day.year for row in WorkdayOverride.select(WorkdayOverride.day)}
    return sorted({today.year - 1, today.year, today.year + 1} | entered)


def next_year_missing(today: date | None = None) -> int | None:
    """Next year, when neither the package nor staff have its holidays yet."""
    year = (today or workdays_today()).year + 1
    return year if workdays.coverage([year])[year] == "missing" else None
