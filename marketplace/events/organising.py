"""Organising events: who may organise which, and making, changing, publishing and cancelling them."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import permissions
from marketplace.events.models import EVENT_KINDS, POINTS_RULES, Attendance, Event, Signup
from marketplace.events.timing import _now
from marketplace.notifications.services import notify
from marketplace.places.models import Community
from marketplace.users.models import User

MAX_EVENT_HOURS = 24
MAX_CAPACITY = 10_000
MAX_POINTS = 1_000


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
