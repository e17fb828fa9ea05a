"""Rules of events: organising them, signing up with a waitlist, checking in and out by QR
code, turning attendance into hours and points, and volunteers' records.

How the check-in stays correct when many people scan at once:

- one attendance row per volunteer and event, enforced by a unique index: of two simultaneous
  scans of the same person, one inserts and the other finds it ("already checked in at 09:02");
- a check-out is a conditional UPDATE (`... WHERE state = 'in'`), and its points go through
  the ledger with the key `attendance:<id>:pay`, so hours are paid exactly once;
- scans from the staff scanner carry a device nonce, unique in the scan log: a scan re-sent
  after the network came back finds its first answer instead of being recorded again;
- sign-ups lock the event row, and `taken <= capacity` is also a CHECK in the database.

Refused scans are written to the scan log (after the refused work is rolled back) so staff can
see who tried what, when.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from flask_babel import format_datetime, format_decimal, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, fn

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import permissions, tokens
from marketplace.events.models import EVENT_KINDS, POINTS_RULES, Attendance, Badge, Event, Scan, Signup
from marketplace.ledger import services as ledger
from marketplace.notifications.services import notify
from marketplace.places.models import Community
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

MAX_EVENT_HOURS = 24
MAX_CAPACITY = 10_000
MAX_POINTS = 1_000
MAX_BATCH = 200
NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KIOSK_SWITCH_TO_OUT = timedelta(minutes=30)  # the kiosk offers check-out in the last half hour


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def _t(moment: datetime) -> str:
    """A time as people at the door read it: 09:02 in the community's time zone."""
    return format_time(moment, "HH:mm")


def _dt(moment: datetime) -> str:
    return format_datetime(moment, "short")


# ---- who may organise what ----------------------------------------------------------------


def may_manage(user, event: Event) -> bool:
    """Whether the event's staff pages are open to the user (as organiser or at the door);
    what they may do there is permissions.MATRIX's to say."""
    return permissions.may(user, "view", event)


def _check_may(user, action: str, event: Event | None) -> Event:
    """Not found when the event is not the user's at all; forbidden when it is, but this part of
    it is not theirs (a building head at the door does not cancel the event)."""
    if event is None or not permissions.may(user, "view", event):
        raise DomainError(_("This event was not found."), status=404, code="not_found")
    if not permissions.may(user, action, event):
        raise DomainError(_("Only the community's administrators can do this; please ask them."), status=403,
                          code="organisers_only")
    return event


def communities_for(user) -> list[Community]:
    """The communities the user may organise events in."""
    ids = permissions.community_ids_for(user, "create")
    query = Community.select().order_by(Community.id)
    return list(query if ids is None else query.where(Community.id.in_(ids or [0])))


def get_event(user, event_id: int) -> Event:
    """An event as its page shows it: drafts only to their organisers."""
    event = Event.get_or_none(Event.id == event_id)
    if event is None or (event.status == "draft" and not may_manage(user, event)):
        raise DomainError(_("This event was not found."), status=404, code="not_found")
    return event


def get_managed(user, event_id: int, action: str = "view") -> Event:
    return _check_may(user, action, Event.get_or_none(Event.id == event_id))


def managed_events(user):
    """The events whose staff pages the user may open: organising them or helping at the door."""
    ids = permissions.community_ids_for(user, "view")
    query = Event.select(Event, Community).join(Community)
    if ids is not None:
        query = query.where(Event.community.in_(ids or [0]))
    return query.order_by(Event.starts_at.desc())


def upcoming_events(now: datetime | None = None):
    return (
        Event.select(Event, Community).join(Community)
        .where(Event.status == "published", Event.ends_at > _now(now))
        .order_by(Event.starts_at)
    )


# ---- times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoorWindow:
    """When an event's door is open: from check-in opening (EVENT_CHECKIN_OPENS_MINUTES before
    the start) to check-out closing (EVENT_CHECKOUT_GRACE_MINUTES after the end), both included.
    Checking in also stops at the end itself: the event is over."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, at: datetime) -> bool:
        return self.opens_at <= at <= self.closes_at


def _checkout_grace() -> timedelta:
    return timedelta(minutes=settings().event_checkout_grace_minutes)


def door_window(event: Event) -> DoorWindow:
    """The one answer to "is the door open?", for the event page, the badge door, the kiosk, the
    scans and the API alike."""
    opens = event.starts_at - timedelta(minutes=settings().event_checkin_opens_minutes)
    return DoorWindow(opens, event.ends_at + _checkout_grace())


def door_closed_before(now: datetime):
    """Events whose door closed before `now`, as a where() condition: door_window in SQL."""
    return Event.ends_at < now - _checkout_grace()


def clipped_minutes(event: Event, checked_in_at: datetime, checked_out_at: datetime) -> int:
    """Hours count only inside the event's window: coming early or staying late adds nothing."""
    start = max(checked_in_at, event.starts_at)
    end = min(checked_out_at, event.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def points_for(event: Event, minutes: int) -> int:
    if minutes <= 0:
        return 0
    if event.points_rule == "fixed":
        return event.points
    return minutes * event.points // 60  # whole points, rounded down


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


# ---- organising ---------------------------------------------------------------------------


def _validate_fields(user, fields: dict, event: Event | None = None, now: datetime | None = None) -> dict:
    title = (fields.get("title") or "").strip()
    if not title:
        raise DomainError(_("Please give the event a title."), field="title", code="invalid")
    if fields.get("kind") not in EVENT_KINDS:
        raise DomainError(_("Please choose what kind of event it is."), field="kind", code="invalid")
    place = (fields.get("place") or "").strip()
    if not place:
        raise DomainError(_("Please say where the event takes place."), field="place", code="invalid")
    community_id = fields.get("community_id")
    ids = permissions.community_ids_for(user, "create")
    if not isinstance(community_id, int) or (ids is not None and community_id not in ids) or \
            not Community.select().where(Community.id == community_id).exists():
        raise DomainError(_("Please choose one of your communities."), field="community_id", code="invalid")
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if not isinstance(starts_at, datetime):
        raise DomainError(_("Please give the start date and time."), field="starts_at", code="invalid")
    if not isinstance(ends_at, datetime):
        raise DomainError(_("Please give the end date and time."), field="ends_at", code="invalid")
    if ends_at <= starts_at:
        raise DomainError(_("The event must end after it starts."), field="ends_at", code="invalid")
    if ends_at - starts_at > timedelta(hours=MAX_EVENT_HOURS):
        raise DomainError(_("An event lasts at most %(hours)d hours; for longer ones, make one event per day.",
                            hours=MAX_EVENT_HOURS), field="ends_at", code="invalid")
    if event is None or starts_at != event.starts_at:
        if starts_at < _now(now) - timedelta(minutes=5):
            raise DomainError(_("The start cannot be in the past."), field="starts_at", code="invalid")
    capacity, points = fields.get("capacity"), fields.get("points")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(_("The number of places must be 1 to %(most)d.", most=MAX_CAPACITY), field="capacity",
                          code="invalid")
    if fields.get("points_rule") not in POINTS_RULES:
        raise DomainError(_("Please choose how points are given."), field="points_rule", code="invalid")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_POINTS:
        raise DomainError(_("The points must be 0 to %(most)d.", most=MAX_POINTS), field="points", code="invalid")
    return {
        "title": title[:100],
        "kind": fields["kind"],
        "description": (fields.get("description") or "").strip()[:5000],
        "place": place[:200],
        "community": community_id,
        "starts_at": starts_at.replace(microsecond=0),
        "ends_at": ends_at.replace(microsecond=0),
        "capacity": capacity,
        "points_rule": fields["points_rule"],
        "points": points,
        "allow_walk_ins": bool(fields.get("allow_walk_ins")),
    }


def create_event(staff, fields: dict, now: datetime | None = None) -> Event:
    """A new event starts as a draft that only its organisers see, until it is published."""
    if not access.is_staff(staff):
        raise DomainError(_("Only community staff can organise events."), status=403, code="staff_only")
    if not permissions.may(staff, "create"):
        raise DomainError(_("Only the community's administrators can do this; please ask them."), status=403,
                          code="organisers_only")
    values = _validate_fields(staff, fields, now=now)
    with db.atomic():
        event = Event.create(created_by=staff, status="draft", **values)
        audit.record(staff, "events.event.created", event, title=event.title)
    return event


def _lock_event(event_id: int) -> Event | None:
    query = Event.select().where(Event.id == event_id)
    if db.for_update:
        query = query.for_update()
    return query.first()


def update_event(staff, event_id: int, fields: dict, now: datetime | None = None) -> Event:
    with db.atomic():
        event = _check_may(staff, "edit", _lock_event(event_id))
        if event.status == "cancelled":
            raise DomainError(_("This event was cancelled and can no longer change."), status=409,
                              code="event_cancelled")
        values = _validate_fields(staff, fields, event, now)
        started = Attendance.select().where(Attendance.event == event.id).exists()
        if started and (values["starts_at"], values["ends_at"]) != (event.starts_at, event.ends_at):
            raise DomainError(_("People have already checked in, so the times can no longer change."),
                              field="starts_at", status=409, code="event_under_way")
        if values["capacity"] < event.taken:
            raise DomainError(
                _("%(count)d people already have a place; the number of places cannot be lower.", count=event.taken),
                field="capacity", status=409, code="places_taken")
        Event.update(**values).where(Event.id == event.id).execute()
        event = Event.get_by_id(event.id)
        _promote_waitlist(event, _now(now))
        audit.record(staff, "events.event.updated", event, title=event.title, capacity=event.capacity)
    return Event.get_by_id(event.id)


def publish_event(staff, event_id: int, now: datetime | None = None) -> Event:
    with db.atomic():
        event = _check_may(staff, "publish", _lock_event(event_id))
        if event.status != "draft":
            raise DomainError(_("This event is already published or cancelled."), status=409, code="already_published")
        if event.ends_at <= _now(now):
            raise DomainError(_("This event is already over; change its times first."), status=409, code="event_over")
        Event.update(status="published", published_at=_now(now)).where(Event.id == event.id).execute()
        audit.record(staff, "events.event.published", event)
    return Event.get_by_id(event.id)


def cancel_event(staff, event_id: int, reason: str, now: datetime | None = None) -> Event:
    reason = (reason or "").strip()
    with db.atomic():
        event = _check_may(staff, "cancel", _lock_event(event_id))
        if not reason:
            raise DomainError(_("Please give a reason; the people signed up will see it."), field="reason", code="invalid")
        if event.status == "cancelled":
            raise DomainError(_("This event is already cancelled."), status=409, code="already_cancelled")
        if Attendance.select().where(Attendance.event == event.id).exists():
            raise DomainError(_("People have already checked in; an event under way cannot be cancelled."), status=409,
                              code="event_under_way")
        Event.update(status="cancelled", cancel_reason=reason[:200]).where(Event.id == event.id).execute()
        audit.record(staff, "events.event.cancelled", event, reason=reason)
        signed_up = Signup.select(Signup, User).join(User).where(Signup.event == event.id, Signup.status != "cancelled")
        for signup in signed_up:
            notify(signup.user, "event", _l("%(event)s is cancelled: %(reason)s", event=event.title, reason=reason[:200]),
                   f"/events/{event.id}")
    return Event.get_by_id(event.id)


def reissue_poster(staff, event_id: int) -> Event:
    """Void every printed poster of the event (one was photographed and shared, say)."""
    with db.atomic():
        event = get_managed(staff, event_id, "reissue_poster")
        Event.update(poster_version=Event.poster_version + 1).where(Event.id == event.id).execute()
        audit.record(staff, "events.poster.reissued", event)
    return Event.get_by_id(event.id)


# ---- signing up ----------------------------------------------------------------------------


def _promote_waitlist(event: Event, now: datetime) -> list[Signup]:
    """Fill free places from the waiting list, first come first served. Runs with the event
    row locked, so two cancellations at once never promote the same person twice."""
    promoted = []
    free = event.capacity - event.taken
    if free <= 0:
        return promoted
    waiting = (
        Signup.select().where(Signup.event == event.id, Signup.status == "waitlisted")
        .order_by(Signup.queued_at, Signup.id).limit(free)
    )
    for signup in list(waiting):
        if Event.update(taken=Event.taken + 1).where(Event.id == event.id, Event.taken < Event.capacity).execute() != 1:
            break
        Signup.update(status="confirmed", updated_at=now).where(Signup.id == signup.id).execute()
        notify(signup.user, "event", _l("A place opened up: you now have a place at %(event)s.", event=event.title),
               f"/events/{event.id}")
        promoted.append(signup)
    return promoted


def sign_up(user, event_id: int, now: datetime | None = None) -> Signup:
    """A place if one is free, otherwise the end of the waiting list. Signing up again is harmless."""
    now = _now(now)
    if not access.has_role(user, "volunteer"):
        raise DomainError(_("Only volunteers can sign up. You can apply to be a volunteer on your account page."),
                          status=403, code="volunteers_only")
    with db.atomic():
        event = _lock_event(event_id)
        if event is None or event.status == "draft":
            raise DomainError(_("This event was not found."), status=404, code="not_found")
        if event.status == "cancelled":
            raise DomainError(_("This event was cancelled."), status=409, code="event_cancelled")
        if event.ends_at <= now:
            raise DomainError(_("This event is over."), status=409, code="event_over")
        signup = Signup.get_or_none(Signup.event == event.id, Signup.user == user.id)
        if signup is not None and signup.status != "cancelled":
            return signup
        has_place = Event.update(taken=Event.taken + 1).where(
            Event.id == event.id, Event.taken < Event.capacity
        ).execute() == 1
        status = "confirmed" if has_place else "waitlisted"
        if signup is None:
            signup = Signup.create(event=event, user=user, status=status, queued_at=now, created_at=now, updated_at=now)
        else:
            Signup.update(status=status, queued_at=now, updated_at=now).where(Signup.id == signup.id).execute()
    return Signup.get_by_id(signup.id)


def cancel_signup(user, event_id: int, now: datetime | None = None) -> list[Signup]:
    """Give one's place back; the first person waiting gets it. Returns who was moved up."""
    now = _now(now)
    with db.atomic():
        event = _lock_event(event_id)
        if event is None or event.status == "draft":
            raise DomainError(_("This event was not found."), status=404, code="not_found")
        signup = Signup.get_or_none(Signup.event == event.id, Signup.user == user.id)
        if signup is None or signup.status == "cancelled":
            raise DomainError(_("You are not signed up for this event."), status=409, code="not_signed_up")
        if Attendance.select().where(Attendance.event == event.id, Attendance.user == user.id).exists():
            raise DomainError(_("You have already checked in at this event."), status=409, code="already_checked_in")
        Signup.update(status="cancelled", updated_at=now).where(Signup.id == signup.id).execute()
        if signup.status != "confirmed":
            return []
        Event.update(taken=Event.taken - 1).where(Event.id == event.id).execute()
        return _promote_waitlist(Event.get_by_id(event.id), now)


def waitlist_position(signup: Signup) -> int:
    return Signup.select().where(
        Signup.event == signup.event_id, Signup.status == "waitlisted",
        (Signup.queued_at < signup.queued_at) | ((Signup.queued_at == signup.queued_at) & (Signup.id <= signup.id)),
    ).count()


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


def _refuse(error: DomainError, event, volunteer, scanner, method, action, at, nonce=None) -> NoReturn:
    """Log a refused scan for staff, then raise it. Runs after the refused work rolled back."""
    with db.atomic():
        _log_scan(event, volunteer, scanner, method, action, at, "refused", error.message, nonce)
    raise error


def _replay(scan: Scan) -> ScanResult:
    """The first answer to a re-sent scan: nothing is recorded again."""
    if scan.outcome == "refused":
        raise DomainError(scan.message, status=409, code="scan_refused")
    attendance = Attendance.get_by_id(scan.attendance_id) if scan.attendance_id else None
    return ScanResult(scan.outcome, scan.message, Event.get_by_id(scan.event_id), User.get_by_id(scan.user_id),
                      attendance, scan.scanned_at, replay=True)


def is_volunteer(user: User) -> bool:
    return RoleGrant.select().where(RoleGrant.user == user.id, RoleGrant.role == "volunteer").exists() or \
        access.has_role(user, "admin")


def _check_in(event: Event, volunteer: User, method: str, at: datetime, actor, note: str, manual: bool,
              self_service: bool) -> ScanResult:
    refusal = _check_in_refusal(event, at)
    if refusal is not None:
        raise refusal
    if not volunteer.active:
        raise DomainError(_("This account is switched off."), status=403, code="account_inactive")
    if not is_volunteer(volunteer):
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
    points = points_for(event, minutes)
    changes = {"state": "out", "checked_out_at": at, "out_method": method,
               "out_by": actor.id if actor is not None else None, "minutes": minutes, "points": points}
    if note:
        changes["note"] = (f"{attendance.note} · {note}" if attendance.note else note)[:300]
    closed = Attendance.update(**changes).where(
        Attendance.id == attendance.id, Attendance.state == attendance.state
    ).execute()
    if closed != 1:
        return None
    if points > 0:
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
    if self_service:
        message = _("Checked out at %(time)s: %(hours)s hours, %(points)d points. Thank you!",
                    time=_t(at), hours=hours, points=closed.points)
    else:
        message = _("%(name)s checked out at %(time)s: %(hours)s hours, %(points)d points.",
                    name=volunteer.display_name, time=_t(at), hours=hours, points=closed.points)
    return ScanResult("checked_out", message, event, volunteer, closed, at)


def _hours_text(minutes: int | None) -> str:
    return format_decimal(round((minutes or 0) / 60, 1), "0.#")


def _record(event: Event, volunteer: User, action: str, method: str, at: datetime, actor=None, nonce: str | None = None,
            note: str = "", manual: bool = False, self_service: bool = True) -> ScanResult:
    """One check-in or check-out, in one transaction; a refusal is logged and raised."""
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


def open_kiosk_link(user, token: str, now: datetime | None = None) -> tuple[Event, str]:
    """The volunteer's phone opened the kiosk QR's link: its event and action if the code is
    fresh; otherwise the refusal, logged for staff (a photo opened at home shows up there)."""
    now = _now(now)
    try:
        return read_kiosk(token, now)
    except DomainError as error:
        try:
            parsed = tokens.read_kiosk_token(token)
            event, action = Event.get_or_none(Event.id == parsed.event_id), parsed.action
        except tokens.BadToken:
            event, action = None, "in"
        _refuse(error, event, user, None, "kiosk", action, now)


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


def open_poster_link(user, token: str, action: str = "in", now: datetime | None = None) -> Event:
    """The event of a printed poster's link, or the refusal, logged for staff."""
    now = _now(now)
    try:
        return read_poster(token, now)
    except DomainError as error:
        event = None
        try:
            event = Event.get_or_none(Event.id == tokens.read_poster_token(token)[0])
        except tokens.BadToken:
            pass
        _refuse(error, event, user, None, "poster", action, now)


def check_with_poster(user, token: str, action: str, now: datetime | None = None) -> ScanResult:
    """The printed poster: one QR for both directions, so the volunteer's page asks which."""
    now = _now(now)
    if action not in ("in", "out"):
        raise DomainError(_("Please choose check-in or check-out."), code="invalid")
    event = open_poster_link(user, token, action, now)
    return _record(event, user, action, "poster", now)


# ---- badges --------------------------------------------------------------------------------


def badge_of(user) -> Badge:
    Badge.insert(user=user.id, serial=1, created_at=utcnow()).on_conflict_ignore().execute()
    return Badge.get(Badge.user == user.id)


def badge_token_of(user) -> str:
    return tokens.badge_token(user.id, badge_of(user).serial)


def replace_badge(actor, user_id: int) -> Badge:
    """A new badge; every copy of the old one stops working at once."""
    person = User.get_or_none(User.id == user_id)
    if person is None or (actor.id != person.id and not may_see_volunteer(actor, person)):
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    if not may_replace_badge(actor, person):
        raise DomainError(_("Only the community's administrators can do this; please ask them."), status=403,
                          code="organisers_only")
    with db.atomic():
        badge = badge_of(person)
        Badge.update(serial=Badge.serial + 1, replaced_at=utcnow(), replaced_by=actor.id).where(
            Badge.id == badge.id
        ).execute()
        if actor.id != person.id:
            audit.record(actor, "events.badge.replaced", person)
    return Badge.get_by_id(badge.id)


def badge_holder(raw: str) -> User:
    """The volunteer a scanned or typed badge belongs to, if it is genuine and current."""
    if tokens.looks_like_kiosk_or_poster(raw):
        raise DomainError(_("This is the event's own check-in code, not a volunteer's badge."), field="code",
                          code="invalid_code")
    try:
        user_id, sig = tokens.read_badge(tokens.normalize_badge(raw))
    except tokens.BadToken:
        raise DomainError(_("This is not a volunteer badge. A badge code looks like 17-K7Q2M-9XD4P."),
                          field="code", code="invalid_code") from None
    badge = Badge.get_or_none(Badge.user == user_id)
    person = User.get_or_none(User.id == user_id)
    if badge is None or person is None:
        raise DomainError(_("This badge is not valid."), field="code", status=403, code="badge_invalid")
    if not tokens.badge_matches(user_id, badge.serial, sig):
        if any(tokens.badge_matches(user_id, serial, sig) for serial in range(max(1, badge.serial - 50), badge.serial)):
            raise DomainError(
                _("This badge of %(name)s was replaced on %(date)s and no longer works. Please ask them to open their badge on their phone again.",
                  name=person.display_name, date=_dt(badge.replaced_at)), field="code", status=403,
                  code="badge_replaced")
        raise DomainError(_("This badge is not valid."), field="code", status=403, code="badge_invalid")
    return person


def check_with_badge(staff, event_id: int, raw: str, action: str, nonce: str | None = None,
                     scanned_at: datetime | None = None, now: datetime | None = None) -> ScanResult:
    """Event staff scanned (or typed) a volunteer's badge. `scanned_at` is when, for scans that
    waited on an offline device."""
    now = _now(now)
    event = get_managed(staff, event_id, "run_door")
    at = scanned_at or now
    if action not in ("in", "out"):
        raise DomainError(_("Please choose check-in or check-out."), code="invalid")
    if nonce is not None:
        earlier = Scan.get_or_none(Scan.nonce == nonce)
        if earlier is not None:
            return _replay(earlier)
    try:
        volunteer = badge_holder(raw)
    except DomainError as error:
        _refuse(error, event, None, staff, "badge", action, at, nonce)
    return _record(event, volunteer, action, "badge", at, actor=staff, nonce=nonce, self_service=False)


def record_scans(staff, event_id: int, items, sent_at_ms, now: datetime | None = None) -> list[dict]:
    """A batch from the staff scanner, sent when the network allowed: each scan with its nonce,
    the code, the direction and the device's time of the scan.

    The device's clock may be wrong, so its times are shifted by the difference between its
    clock when sending (`sent_at`) and ours on arrival: a phone five minutes slow still records
    09:02 as 09:02. A time still in the future counts as now; one older than
    EVENT_OFFLINE_SCAN_MAX_HOURS is refused."""
    now = _now(now)
    get_managed(staff, event_id, "run_door")
    if not isinstance(items, list) or not items:
        raise DomainError(_("No scans were sent."), code="invalid")
    if len(items) > MAX_BATCH:
        raise DomainError(_("Please send at most %(most)d scans at a time.", most=MAX_BATCH), code="invalid")
    offset = timedelta(0)
    if isinstance(sent_at_ms, int | float) and not isinstance(sent_at_ms, bool):
        try:
            offset = now - datetime.fromtimestamp(sent_at_ms / 1000, UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            offset = timedelta(0)
    oldest = now - timedelta(hours=settings().event_offline_scan_max_hours)
    results = []
    for item in items:
        item = item if isinstance(item, dict) else {}
        nonce = item.get("nonce")
        nonce = nonce if isinstance(nonce, str) and NONCE.match(nonce) else None
        answer = {"nonce": item.get("nonce") if isinstance(item.get("nonce"), str) else None}
        try:
            if nonce is None:
                raise DomainError(_("This scan has no valid nonce; please scan again."), code="invalid")
            code, action, scanned_ms = item.get("code"), item.get("action"), item.get("scanned_at")
            if not isinstance(code, str) or not code.strip() or len(code) > 500:
                raise DomainError(_("This scan has no code."), field="code", code="invalid")
            if isinstance(scanned_ms, bool) or not isinstance(scanned_ms, int | float):
                raise DomainError(_("This scan has no time."), code="invalid")
            try:
                at = datetime.fromtimestamp(scanned_ms / 1000, UTC).replace(tzinfo=None) + offset
            except (ValueError, OverflowError, OSError):
                raise DomainError(_("This scan has no time."), code="invalid") from None
            at = min(at, now).replace(microsecond=0)
            if at < oldest:
                raise DomainError(_("This scan is more than %(hours)d hours old and was not recorded. Please enter it by hand.",
                                    hours=settings().event_offline_scan_max_hours), code="scan_too_old")
            result = check_with_badge(staff, event_id, code, action, nonce=nonce, scanned_at=at, now=now)
        except DomainError as error:
            answer.update(outcome="refused", message=error.message)
        else:
            answer.update(outcome=result.outcome, message=result.message, name=result.volunteer.display_name,
                          time=_t(result.at or now), replay=result.replay)
        results.append(answer)
    return results


# ---- staff by hand -------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give a reason; it is kept in the audit log."), field="reason", code="invalid")
    return reason[:200]


def check_in_by_hand(staff, event_id: int, phone: str, at: datetime | None, reason: str,
                     now: datetime | None = None) -> ScanResult:
    """For a volunteer whose phone is flat or who forgot: staff enter the time, with a reason."""
    from marketplace.users.services import normalize_phone

    now = _now(now)
    event = get_managed(staff, event_id, "run_door")
    reason = _reason(reason)
    volunteer = User.get_or_none(User.phone == normalize_phone(phone))
    if volunteer is None:
        raise DomainError(_("No one has this mobile number here."), field="phone", status=404, code="not_found")
    at = (at or now).replace(microsecond=0)
    if at > now + timedelta(minutes=1):
        raise DomainError(_("The time cannot be in the future."), field="at", code="invalid")
    result = _record(event, volunteer, "in", "manual", at, actor=staff, note=reason, manual=True, self_service=False)
    if result.outcome == "checked_in":
        audit.record(staff, "events.attendance.checked_in_by_hand", result.attendance, reason=reason, at=at)
    return result


def _managed_attendance(staff, attendance_id: int) -> tuple[Attendance, Event]:
    attendance = Attendance.get_or_none(Attendance.id == attendance_id)
    if attendance is None:
        raise DomainError(_("This attendance was not found."), status=404, code="not_found")
    event = Event.get_by_id(attendance.event_id)
    if not may_manage(staff, event):
        raise DomainError(_("This attendance was not found."), status=404, code="not_found")
    return attendance, _check_may(staff, "run_door", event)


def check_out_by_hand(staff, attendance_id: int, at: datetime | None, reason: str,
                      now: datetime | None = None) -> ScanResult:
    """Check someone out, or confirm the hours of someone checked out automatically at the end:
    staff give the time they left and a reason. The hours are paid then, once."""
    now = _now(now)
    reason = _reason(reason)
    attendance, event = _managed_attendance(staff, attendance_id)
    at = (at or min(now, event.ends_at)).replace(microsecond=0)
    if at > now + timedelta(minutes=1):
        raise DomainError(_("The time cannot be in the future."), field="at", code="invalid")
    if at < attendance.checked_in_at:
        raise DomainError(_("A check-out cannot be before the check-in at %(time)s.", time=_dt(attendance.checked_in_at)),
                          field="at", code="check_out_before_check_in")
    volunteer = User.get_by_id(attendance.user_id)
    if attendance.state == "out":
        raise DomainError(_already_out(attendance, volunteer, False), status=409, code="already_checked_out")
    with db.atomic():
        closed = _close(attendance, event, at, "manual", staff, reason)
        if closed is None:
            raise DomainError(_("Someone else has just checked this person out."), status=409,
                              code="already_checked_out")
        audit.record(staff, "events.attendance.checked_out_by_hand", closed, reason=reason, at=at,
                     minutes=closed.minutes, points=closed.points, was=attendance.state)
    message = _("%(name)s checked out at %(time)s: %(hours)s hours, %(points)d points.",
                name=volunteer.display_name, time=_t(at), hours=_hours_text(closed.minutes), points=closed.points)
    return ScanResult("checked_out", message, event, volunteer, closed, at)


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


# ---- records -------------------------------------------------------------------------------


def star_level(hours: float, thresholds=None) -> int:
    thresholds = thresholds or settings().volunteer_star_hours
    return sum(1 for limit in thresholds if hours >= limit)


@dataclass
class VolunteerRecord:
    volunteer: User
    minutes: int
    stars: int
    next_stars_at: int | None  # hours needed for the next star, None at the top
    attended: list  # attendances with their events, hours final, newest first
    pending: list  # checked in, or waiting for staff to confirm the hours
    signups: list  # places and waiting-list places at events still to come

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def hours_to_next(self) -> float | None:
        return None if self.next_stars_at is None else max(0.0, self.next_stars_at - self.hours)


def volunteer_record(volunteer: User, now: datetime | None = None) -> VolunteerRecord:
    now = _now(now)
    rows = list(
        Attendance.select(Attendance, Event).join(Event)
        .where(Attendance.user == volunteer.id).order_by(Event.starts_at.desc())
    )
    for event_id in {a.event_id for a in rows if a.state == "in"}:
        close_finished(now, event_id)
    attended = [a for a in rows if a.state == "out"]
    minutes = sum(a.minutes or 0 for a in attended)
    thresholds = settings().volunteer_star_hours
    stars = star_level(minutes / 60, thresholds)
    signups = list(
        Signup.select(Signup, Event).join(Event)
        .where(Signup.user == volunteer.id, Signup.status != "cancelled", Event.ends_at > now,
               Event.status == "published")
        .order_by(Event.starts_at)
    )
    return VolunteerRecord(
        volunteer, minutes, stars, thresholds[stars] if stars < len(thresholds) else None, attended,
        [a for a in rows if a.state != "out"], signups,
    )


def _volunteer_in(person: User, community_ids: list[int] | None) -> bool:
    """A volunteer of these communities (None: any), or someone at one of their events."""
    if community_ids is None:
        return True
    if not community_ids:
        return False
    if RoleGrant.select().where(RoleGrant.user == person.id, RoleGrant.role == "volunteer",
                                RoleGrant.community.in_(community_ids)).exists():
        return True
    events = Event.select(Event.id).where(Event.community.in_(community_ids))
    return (Signup.select().where(Signup.user == person.id, Signup.event.in_(events)).exists()
            or Attendance.select().where(Attendance.user == person.id, Attendance.event.in_(events)).exists())


def may_see_volunteer(staff, person: User) -> bool:
    """Staff see the records of their communities' volunteers and of anyone at their events."""
    return access.is_staff(staff) and _volunteer_in(person, permissions.community_ids_for(staff, "view"))


def may_replace_badge(actor, person: User) -> bool:
    """Volunteers replace their own badge; of the staff, only the organisers of their events."""
    if actor.id == person.id:
        return True
    return access.is_staff(actor) and _volunteer_in(person, permissions.community_ids_for(actor, "replace_badge"))


def volunteer_for_staff(staff, user_id: int) -> User:
    person = User.get_or_none(User.id == user_id)
    if person is None or not may_see_volunteer(staff, person):
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    return person


def roster_for(staff, event_id: int, download: bool = False, now: datetime | None = None) -> tuple[Event, dict]:
    """An event's roster for the staff who run it, with the volunteers' phone numbers each may see
    (`phones_shown`, the user ids): each look (or download) is kept in the audit log (PIPL) by this
    service, not by a page, so the API records it too."""
    event = get_managed(staff, event_id, "read_roster")
    data = roster(event, now)
    data["phones_shown"] = permissions.phones_shown(staff, event, [row["user"].id for row in data["rows"]])
    audit.record(staff, "events.roster.downloaded" if download else "events.roster.viewed", event)
    return event, data


def roster(event: Event, now: datetime | None = None) -> dict:
    """Everyone signed up or checked in, for the roster page and its CSV."""
    close_finished(now, event.id)
    signups = {s.user_id: s for s in Signup.select(Signup, User).join(User).where(Signup.event == event.id)}
    attendances = {a.user_id: a for a in Attendance.select(Attendance, User).join(
        User, on=(Attendance.user == User.id)).where(Attendance.event == event.id)}
    people = {s.user_id: s.user for s in signups.values()} | {a.user_id: a.user for a in attendances.values()}
    order = {"confirmed": 0, "waitlisted": 1, None: 2, "cancelled": 3}

    def sort_key(user_id):
        signup = signups.get(user_id)
        return (order[signup.status if signup else None], signup.queued_at if signup else datetime.max,
                people[user_id].display_name)

    rows = [{"user": people[uid], "signup": signups.get(uid), "attendance": attendances.get(uid)}
            for uid in sorted(people, key=sort_key)]
    refused = list(
        Scan.select(Scan, User).join(User, on=(Scan.user == User.id), join_type=JOIN.LEFT_OUTER)
        .where(Scan.event == event.id, Scan.outcome == "refused").order_by(Scan.received_at.desc()).limit(100)
    )
    done = [a for a in attendances.values() if a.state == "out"]
    return {
        "rows": rows,
        "refused": refused,
        "confirmed": sum(1 for s in signups.values() if s.status == "confirmed"),
        "waitlisted": sum(1 for s in signups.values() if s.status == "waitlisted"),
        "present": sum(1 for a in attendances.values() if a.state == "in"),
        "to_review": sum(1 for a in attendances.values() if a.state == "review"),
        "minutes": sum(a.minutes or 0 for a in done),
        "points": sum(a.points or 0 for a in done),
    }
