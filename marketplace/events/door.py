"""The door: checking in and out by the kiosk's rotating QR, the printed poster and the door code,
turning attendance into hours and points, and closing the door after an event.

How the check-in stays correct when many people scan at once:

- one attendance row per volunteer and event, enforced by a unique index: of two simultaneous
  scans of the same person, one inserts and the other finds it ("already checked in at 09:02");
- a check-out is a conditional UPDATE (`... WHERE state = 'in'`), and its points go through
  the ledger with the key `attendance:<id>:pay`, so hours are paid exactly once;
- scans from the staff scanner carry a device nonce, unique in the scan log: a scan re-sent
  after the network came back finds its first answer instead of being recorded again.

Refused scans are written to the scan log (after the refused work is rolled back) so staff can
see who tried what, when.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from flask_babel import format_decimal
from flask_babel import gettext as _
from peewee import fn

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import caps, tokens
from marketplace.events.honour import waits_for_second_approval
from marketplace.events.models import Attendance, Event, Scan, Signup
from marketplace.events.organising import get_event, get_managed
from marketplace.events.permissions import is_volunteer, may_attend  # noqa: F401 - is_volunteer: the services read it here
from marketplace.events.timing import (
    _dt,
    _epoch,
    _now,
    _t,
    clipped_minutes,
    door_closed_before,
    door_window,
    points_for,
)
from marketplace.ledger import services as ledger
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import User

log = logging.getLogger(__name__)

KIOSK_SWITCH_TO_OUT = timedelta(minutes=30)  # the kiosk offers check-out in the last half hour


def _check_in_refusal(event: Event, at: datetime) -> DomainError | None:
    if event.status == "cancelled":
        return DomainError(_("This event was cancelled."), status=409, code="event_cancelled")
    if event.status != "published":
        return DomainError(_("This event is not open yet."), status=409, code="event_not_open")
    window = door_window(event)
    if at < window.opens_at:
        return DomainError(
            _("Check-in opens at %(time)s, %(minutes)d minutes before the start.", time=_dt(window.opens_at),
              minutes=settings().event_checkin_opens_minutes), status=409, code="check_in_not_open")
    if at >= event.ends_at:
        return DomainError(_("This event ended at %(time)s; check-in is closed.", time=_dt(event.ends_at)), status=409,
                           code="check_in_closed")
    return None


def _check_out_refusal(event: Event, at: datetime) -> DomainError | None:
    if event.status != "published":
        return DomainError(_("This event is not open."), status=409, code="event_not_open")
    window = door_window(event)
    if at < window.opens_at:
        return DomainError(_("This event has not begun yet."), status=409, code="event_not_begun")
    if not window.is_open(at):
        return DomainError(
            _("Check-out closed at %(time)s. The staff will confirm your hours.", time=_dt(window.closes_at)),
            status=409, code="check_out_closed")
    return None


# ---- checking in and out -------------------------------------------------------------------


@dataclass
class ScanResult:
    outcome: str  # checked_in, checked_out or already
    message: str
    event: Event
    volunteer: User
    attendance: Attendance | None = None
    at: datetime | None = None
    replay: bool = field(default=False)

    @property
    def checked_in(self) -> bool:
        return self.attendance is not None and self.attendance.state == "in"


def _insert_ignored(query) -> bool:
    """Run an INSERT ... ON CONFLICT DO NOTHING; True if the row went in. The row count is
    the only answer both databases give right (SQLite's last row id is left over from before)."""
    return db.execute(query.on_conflict_ignore()).rowcount == 1


def _log_scan(event, volunteer, scanner, method, action, at, outcome, message, nonce=None, attendance=None) -> None:
    Scan.insert(
        event=event.id if event is not None else None,
        user=volunteer.id if volunteer is not None else None,
        scanner=scanner.id if scanner is not None else None,
        method=method, action=action, nonce=nonce, scanned_at=at, received_at=utcnow(),
        outcome=outcome, message=message[:300], attendance=attendance.id if attendance is not None else None,
    ).on_conflict_ignore().execute()


def _refuse(error: DomainError, event, volunteer, scanner, method, action, at, nonce=None, store=True) -> NoReturn:
    """Log a refused scan for staff, then raise it. Runs after the refused work rolled back.
    A link merely opened (a GET) stores nothing: it goes to the application log, and the scan
    log gets the row when the volunteer presses the button (the POST)."""
    if store:
        with db.atomic():
            _log_scan(event, volunteer, scanner, method, action, at, "refused", error.message, nonce)
    else:
        log.info("refused %s link opened by user %s for event %s: %s", method, getattr(volunteer, "id", None),
                 getattr(event, "id", None), error.code,
                 extra={"scan_method": method, "event_id": getattr(event, "id", None), "refusal": error.code})
    raise error


def _replay(scan: Scan) -> ScanResult:
    """The first answer to a re-sent scan: nothing is recorded again."""
    if scan.outcome == "refused":
        raise DomainError(scan.message, status=409, code="scan_refused")
    attendance = Attendance.get_by_id(scan.attendance_id) if scan.attendance_id else None
    return ScanResult(scan.outcome, scan.message, Event.get_by_id(scan.event_id), User.get_by_id(scan.user_id),
                      attendance, scan.scanned_at, replay=True)


def _check_in(event: Event, volunteer: User, method: str, at: datetime, actor, note: str, manual: bool,
              self_service: bool) -> ScanResult:
    refusal = _check_in_refusal(event, at)
    if refusal is not None:
        raise refusal
    if not volunteer.active:
        raise DomainError(_("This account is switched off."), status=403, code="account_inactive")
    if not may_attend(event, volunteer):
        raise DomainError(_("Only volunteers can check in at events.") if self_service else
                          _("%(name)s is not a volunteer.", name=volunteer.display_name), status=403,
                          code="volunteers_only")
    signup = Signup.get_or_none(Signup.event == event.id, Signup.user == volunteer.id)
    confirmed = signup is not None and signup.status == "confirmed"
    if not confirmed and not (manual or event.allow_walk_ins):
        existing = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == volunteer.id)
        if existing is None:
            if signup is not None and signup.status == "waitlisted":
                message = (_("You are on the waiting list for this event, not confirmed. Please talk to the staff at the door.")
                           if self_service else
                           _("%(name)s is on the waiting list, not confirmed.", name=volunteer.display_name))
            else:
                message = (_("You have not signed up for this event. Please talk to the staff at the door.")
                           if self_service else
                           _("%(name)s has not signed up for this event.", name=volunteer.display_name))
            raise DomainError(message, status=403, code="not_signed_up")
    inserted = _insert_ignored(Attendance.insert(
        event=event.id, user=volunteer.id, signup=signup.id if signup is not None else None, state="in",
        checked_in_at=at, in_method=method, in_by=actor.id if actor is not None else None, note=note[:300],
        created_at=utcnow(),
    ))
    attendance = Attendance.get(Attendance.event == event.id, Attendance.user == volunteer.id)
    who = {"name": volunteer.display_name}
    if not inserted:
        if attendance.state == "in":
            message = _("Already checked in at %(time)s.", time=_t(attendance.checked_in_at)) if self_service else \
                _("%(name)s already checked in at %(time)s.", time=_t(attendance.checked_in_at), **who)
        else:
            message = _("Already checked out at %(time)s.", time=_t(attendance.checked_out_at)) if self_service else \
                _("%(name)s already checked out at %(time)s.", time=_t(attendance.checked_out_at), **who)
        return ScanResult("already", message, event, volunteer, attendance, at)
    message = _("Checked in at %(time)s. Thank you for helping!", time=_t(at)) if self_service else \
        _("%(name)s checked in at %(time)s.", time=_t(at), **who)
    return ScanResult("checked_in", message, event, volunteer, attendance, at)


def _close(attendance: Attendance, event: Event, at: datetime, method: str, actor, note: str = "") -> Attendance | None:
    """Check out: fix the hours and pay them, once. None if someone else closed it first."""
    minutes = clipped_minutes(event, attendance.checked_in_at, at)
    # Many honour hours (added by hand) wait for a second staff member before they are paid.
    waits = waits_for_second_approval(attendance, minutes)
    # The ledger's lock first (as every posting takes it), so the room under an earning cap is
    # read and used by one check-out at a time.
    with ledger.ledger_transaction():
        paid, rule = caps.event_pay(attendance.user_id, attendance.id, attendance.checked_in_at, minutes)
        points = points_for(event, paid)
        changes = {"state": "review" if waits else "out", "checked_out_at": at, "out_method": method,
                   "out_by": actor.id if actor is not None else None, "minutes": minutes, "points": points}
        if note:
            changes["note"] = (f"{attendance.note} · {note}" if attendance.note else note)[:300]
        closed = Attendance.update(**changes).where(
            Attendance.id == attendance.id, Attendance.state == attendance.state
        ).execute()
        if closed != 1:
            return None
        held_minutes, held_points = caps.capped_so_far(attendance.id)  # a re-close after a review
        caps.record_capped(attendance.user_id, attendance.id, rule, minutes - paid - held_minutes,
                           points_for(event, minutes) - points - held_points)
        if points > 0 and not waits:
            transfer = ledger.award(
                actor, attendance.user, points, "earn_event", f"event:{event.id}", f"attendance:{attendance.id}:pay",
                memo=event.title,
            )
            Attendance.update(transfer=transfer).where(Attendance.id == attendance.id).execute()
    return Attendance.get_by_id(attendance.id)


def _already_out(attendance: Attendance, volunteer: User, self_service: bool) -> str:
    if self_service:
        return _("Already checked out at %(time)s.", time=_t(attendance.checked_out_at))
    return _("%(name)s already checked out at %(time)s.", name=volunteer.display_name, time=_t(attendance.checked_out_at))


def _check_out(event: Event, volunteer: User, method: str, at: datetime, actor, note: str, manual: bool,
               self_service: bool) -> ScanResult:
    attendance = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == volunteer.id)
    if attendance is None:
        raise DomainError(_("You have not checked in at this event, so you cannot check out. Please talk to the staff.")
                          if self_service else
                          _("%(name)s has not checked in at this event.", name=volunteer.display_name), status=409,
                          code="not_checked_in")
    # An automatic check-out at the end is only a placeholder: a real one (a scan queued on an
    # offline scanner, say) replaces it.
    if attendance.state == "out" or (attendance.state == "review" and attendance.out_method != "auto"):
        return ScanResult("already", _already_out(attendance, volunteer, self_service), event, volunteer, attendance, at)
    refusal = None if manual else _check_out_refusal(event, at)
    if refusal is not None:
        raise refusal
    if at < attendance.checked_in_at:
        raise DomainError(_("A check-out cannot be before the check-in at %(time)s.", time=_t(attendance.checked_in_at)),
                          status=409, code="check_out_before_check_in")
    closed = _close(attendance, event, at, method, actor, note)
    if closed is None:
        attendance = Attendance.get_by_id(attendance.id)
        return ScanResult("already", _already_out(attendance, volunteer, self_service), event, volunteer, attendance, at)
    hours = _hours_text(closed.minutes)
    if closed.state == "review":
        return ScanResult("checked_out", _waiting_text(closed, volunteer, at, self_service), event, volunteer, closed, at)
    if self_service:
        message = _("Checked out at %(time)s: %(hours)s hours, %(points)d points. Thank you!",
                    time=_t(at), hours=hours, points=closed.points)
    else:
        message = _("%(name)s checked out at %(time)s: %(hours)s hours, %(points)d points.",
                    name=volunteer.display_name, time=_t(at), hours=hours, points=closed.points)
    return ScanResult("checked_out", message, event, volunteer, closed, at)


def _waiting_text(attendance: Attendance, volunteer: User, at: datetime, self_service: bool) -> str:
    """Honour hours above the setting: recorded, paid after a second staff member approves them."""
    hours = _hours_text(attendance.minutes)
    if self_service:
        return _("Checked out at %(time)s: %(hours)s hours, paid when a second staff member approves them. Thank you!",
                 time=_t(at), hours=hours)
    return _("%(name)s checked out at %(time)s: %(hours)s honour hours, waiting for a second staff member to approve them.",
             name=volunteer.display_name, time=_t(at), hours=hours)


def _hours_text(minutes: int | None) -> str:
    return format_decimal(round((minutes or 0) / 60, 1), "0.#")


def _record(event: Event, volunteer: User, action: str, method: str, at: datetime, actor=None, nonce: str | None = None,
            note: str = "", manual: bool = False, self_service: bool = True, on_done=None) -> ScanResult:
    """One check-in or check-out, in one transaction; a refusal is logged and raised. `on_done`
    is called with the result, in the same transaction, when someone was checked in or out (the
    record of an act done for them stands or falls with the act)."""
    try:
        with db.atomic():
            if nonce is not None:
                # Claim the nonce first: a second copy of this scan waits here until the first
                # commits, then finds it.
                claimed = _insert_ignored(Scan.insert(
                    event=event.id, user=volunteer.id, scanner=actor.id if actor is not None else None, method=method,
                    action=action, nonce=nonce, scanned_at=at, received_at=utcnow(), outcome="refused", message="",
                ))
                if not claimed:
                    return _replay(Scan.get(Scan.nonce == nonce))
            work = _check_in if action == "in" else _check_out
            result = work(event, volunteer, method, at, actor, note, manual, self_service)
            if on_done is not None and result.outcome in ("checked_in", "checked_out"):
                on_done(result)
            values = {"outcome": result.outcome, "message": result.message[:300],
                      "attendance": result.attendance.id if result.attendance else None}
            if nonce is not None:
                Scan.update(**values).where(Scan.nonce == nonce).execute()
            else:
                _log_scan(event, volunteer, actor, method, action, at, result.outcome, result.message, None,
                          result.attendance)
            return result
    except DomainError as error:
        _refuse(error, event, volunteer, actor, method, action, at, nonce)


def read_kiosk(token: str, now: datetime | None = None) -> tuple[Event, str]:
    """The event and action of a kiosk QR that is fresh: its own 30-second window or the one
    before. A refusal says whether the code is forged or only old."""
    now = _now(now)
    try:
        parsed = tokens.read_kiosk_token(token)
    except tokens.BadToken:
        raise DomainError(_("This is not a check-in code of ours. Please scan the code on the screen at the door."),
                          status=400, code="invalid_code") from None
    event = Event.get_or_none(Event.id == parsed.event_id)
    if event is None:
        raise DomainError(_("This event was not found."), status=404, code="not_found")
    if not tokens.step_is_fresh(parsed.step, _epoch(now)):
        raise DomainError(_("This code has expired: it changes every 30 seconds. Please scan the code on the screen again."),
                          status=410, code="code_expired")
    return event, parsed.action


def open_kiosk_link(user, token: str, now: datetime | None = None, store: bool = True) -> tuple[Event, str]:
    """The volunteer's phone opened the kiosk QR's link: its event and action if the code is
    fresh; otherwise the refusal, logged for staff (a photo opened at home shows up there).
    `store=False` for merely showing the page (a GET writes nothing)."""
    now = _now(now)
    try:
        return read_kiosk(token, now)
    except DomainError as error:
        try:
            parsed = tokens.read_kiosk_token(token)
            event, action = Event.get_or_none(Event.id == parsed.event_id), parsed.action
        except tokens.BadToken:
            event, action = None, "in"
        _refuse(error, event, user, None, "kiosk", action, now, store=store)


def check_with_kiosk(user, token: str, now: datetime | None = None) -> ScanResult:
    """The volunteer scanned the kiosk's QR with the phone's camera and pressed the button."""
    now = _now(now)
    event, action = open_kiosk_link(user, token, now)
    return _record(event, user, action, "kiosk", now)


def check_with_code(user, event_id: int, code: str, now: datetime | None = None) -> ScanResult:
    """The six digits under the kiosk QR, typed on the volunteer's phone."""
    now = _now(now)
    event = get_event(user, event_id)
    action = tokens.match_kiosk_code(event.id, code, _epoch(now))
    if action is None:
        digits = "".join(ch for ch in (code or "") if ch.isdigit())
        if len(digits) != 6:
            error = DomainError(_("Please type the 6 digits shown on the screen at the door."), field="code",
                                code="invalid")
        else:
            error = DomainError(_("This code is wrong or has expired: it changes every 30 seconds. Please type the one on the screen now."),
                                field="code", status=409, code="wrong_code")
        _refuse(error, event, user, None, "code", "in", now)
    return _record(event, user, action, "code", now)


def read_poster(token: str, now: datetime | None = None) -> Event:
    try:
        event_id, version = tokens.read_poster_token(token)
    except tokens.BadToken:
        raise DomainError(_("This is not a check-in code of ours."), status=400, code="invalid_code") from None
    event = Event.get_or_none(Event.id == event_id)
    if event is None or event.status == "draft":
        raise DomainError(_("This event was not found."), status=404, code="not_found")
    if version != event.poster_version:
        raise DomainError(_("This poster is no longer valid. Please ask the staff for the new one."), status=410,
                          code="code_expired")
    return event


def open_poster_link(user, token: str, action: str = "in", now: datetime | None = None, store: bool = True) -> Event:
    """The event of a printed poster's link, or the refusal, logged for staff (stored only when
    `store`: not for merely showing the page)."""
    now = _now(now)
    try:
        return read_poster(token, now)
    except DomainError as error:
        event = None
        try:
            event = Event.get_or_none(Event.id == tokens.read_poster_token(token)[0])
        except tokens.BadToken:
            pass
        _refuse(error, event, user, None, "poster", action, now, store=store)


def check_with_poster(user, token: str, action: str, now: datetime | None = None) -> ScanResult:
    """The printed poster: one QR for both directions, so the volunteer's page asks which."""
    now = _now(now)
    if action not in ("in", "out"):
        raise DomainError(_("Please choose check-in or check-out."), code="invalid")
    event = open_poster_link(user, token, action, now)
    return _record(event, user, action, "poster", now)


def close_finished(now: datetime | None = None, event_id: int | None = None) -> int:
    """After check-out closes, whoever is still checked in is checked out at the event's end
    and flagged for staff, who confirm the hours (nothing is paid until they do). Run from cron
    (`flask events close`) and whenever an event's roster is looked at."""
    now = _now(now)
    due = Event.select().where(Event.status == "published", Event.closed_at.is_null(), door_closed_before(now))
    if event_id is not None:
        due = due.where(Event.id == event_id)
    count = 0
    for event in list(due):
        with db.atomic():
            count += Attendance.update(state="review", checked_out_at=event.ends_at, out_method="auto").where(
                Attendance.event == event.id, Attendance.state == "in"
            ).execute()
            Event.update(closed_at=now).where(Event.id == event.id, Event.closed_at.is_null()).execute()
    return count


# ---- the kiosk -----------------------------------------------------------------------------


@dataclass
class KioskCode:
    mode: str  # "in" or "out"
    open: bool
    message: str = ""
    token: str = ""
    code: str = ""
    seconds_left: int = 0
    checked_in: int = 0
    checked_out: int = 0


def kiosk_code(staff, event_id: int, mode: str | None = None, now: datetime | None = None) -> KioskCode:
    """What the kiosk screen shows now: a fresh QR token and its six digits, or why not."""
    now = _now(now)
    event = get_managed(staff, event_id, "run_door")
    if mode not in ("in", "out"):
        mode = "out" if now >= event.ends_at - KIOSK_SWITCH_TO_OUT else "in"
    counts = {row.state: row.n for row in Attendance.select(
        Attendance.state, fn.COUNT(Attendance.id).alias("n")).where(Attendance.event == event.id).group_by(Attendance.state)}
    info = KioskCode(mode, False, checked_in=counts.get("in", 0),
                     checked_out=counts.get("out", 0) + counts.get("review", 0))
    refusal = _check_in_refusal(event, now) if mode == "in" else _check_out_refusal(event, now)
    if refusal is not None:
        info.message = refusal.message
        return info
    step = tokens.current_step(_epoch(now))
    info.open = True
    info.token = tokens.kiosk_token(event.id, mode, step)
    info.code = tokens.kiosk_code(event.id, mode, step)
    info.seconds_left = tokens.seconds_left(step, _epoch(now))
    return info
