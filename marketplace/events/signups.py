"""Signing up for an event, with a waiting list that moves up when a place frees."""

from datetime import datetime

from flask_babel import gettext as _

from marketplace import access
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import permissions
from marketplace.events.models import Attendance, Event, Signup
from marketplace.events.organising import _lock_event, _promote_waitlist, upcoming_events
from marketplace.events.permissions import may_attend
from marketplace.events.timing import _now
from marketplace.proxy import services as proxy

# ---- signing up ----------------------------------------------------------------------------


def _for_someone(user, actor) -> bool:
    """Acting for another person (staff in scope, or a family member they consented to): asked
    before anything else, so someone out of scope learns nothing about the event or the person."""
    if actor is None or actor.id == user.id:
        return False
    proxy.require(actor, user.id)
    return True


def sign_up(user, event_id: int, now: datetime | None = None, actor=None) -> Signup:
    """A place if one is free, otherwise the end of the waiting list. Signing up again is harmless.
    With `actor`, someone who may act for `user` signs them up (an elderly volunteer without a
    phone): recorded with both names, the person told, the slip printable (marketplace.proxy)."""
    now = _now(now)
    for_someone = _for_someone(user, actor)
    if not access.has_role(user, "volunteer") and not may_attend(Event.get_or_none(Event.id == event_id), user):
        raise DomainError(_("%(name)s is not a volunteer: only volunteers can sign up for events.",
                            name=user.display_name) if for_someone else
                          _("Only volunteers can sign up. You can apply to be a volunteer on your account page."),
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
        if for_someone:
            proxy.record(actor, user, "event_signup", event=event)
    return Signup.get_by_id(signup.id)


def cancel_signup(user, event_id: int, now: datetime | None = None, actor=None) -> list[Signup]:
    """Give one's place back; the first person waiting gets it. Returns who was moved up. With
    `actor`, for the person, as `sign_up`."""
    now = _now(now)
    for_someone = _for_someone(user, actor)
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
        if for_someone:
            proxy.record(actor, user, "event_cancel", event=event)
        if signup.status != "confirmed":
            return []
        Event.update(taken=Event.taken - 1).where(Event.id == event.id).execute()
        return _promote_waitlist(Event.get_by_id(event.id), now)


def waitlist_position(signup: Signup) -> int:
    return Signup.select().where(
        Signup.event == signup.event_id, Signup.status == "waitlisted",
        (Signup.queued_at < signup.queued_at) | ((Signup.queued_at == signup.queued_at) & (Signup.id <= signup.id)),
    ).count()


def places_for(viewer, person, now: datetime | None = None, limit: int = 20) -> list[dict]:
    """What someone acting for `person` sees of the coming events: each with the person's sign-up
    and attendance (or None), and whether the viewer runs its door (to check them in or out
    there). Three queries, whatever the number of events."""
    events = list(upcoming_events(now).limit(limit))
    ids = [event.id for event in events] or [0]
    signups = {s.event_id: s for s in Signup.select().where(Signup.user == person.id, Signup.event.in_(ids))}
    attended = {a.event_id: a for a in Attendance.select().where(Attendance.user == person.id,
                                                                  Attendance.event.in_(ids))}
    return [{"event": event, "signup": signups.get(event.id), "attendance": attended.get(event.id),
             "at_door": permissions.may(viewer, "run_door", event)} for event in events]
