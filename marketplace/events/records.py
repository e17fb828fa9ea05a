"""Volunteers' records: hours, points and star levels, who among staff may see them, and event rosters."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from peewee import JOIN

from marketplace import access, audit
from marketplace.care.models import care_minutes_of
from marketplace.errors import DomainError
from marketplace.events import honour as honour_rules
from marketplace.events import permissions
from marketplace.events.door import close_finished
from marketplace.events.models import Attendance, Event, Scan, Signup
from marketplace.events.organising import get_managed
from marketplace.events.timing import _now
from marketplace.settings import settings
from marketplace.users.models import RoleGrant, User

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
    credit_minutes: int = 0  # recorded at the door (events/honour.py)
    honour_minutes: int = 0  # added by staff by hand
    star_minutes: int = 0  # what the star levels count: credit, and honour if the setting says so
    care_minutes: int = 0  # confirmed care visits (care/), counted in the totals above

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def credit_hours(self) -> float:
        return self.credit_minutes / 60

    @property
    def honour_hours(self) -> float:
        return self.honour_minutes / 60

    @property
    def hours_to_next(self) -> float | None:
        return None if self.next_stars_at is None else max(0.0, self.next_stars_at - self.star_minutes / 60)


def volunteer_record(volunteer: User, now: datetime | None = None) -> VolunteerRecord:
    now = _now(now)
    rows = list(
        Attendance.select(Attendance, Event).join(Event)
        .where(Attendance.user == volunteer.id).order_by(Event.starts_at.desc())
    )
    for event_id in {a.event_id for a in rows if a.state == "in"}:
        close_finished(now, event_id)
    attended = [a for a in rows if a.state == "out"]
    # A care visit confirmed with the resident's code is recorded by the system (credit hours),
    # one recorded by staff after a phone call by hand (honour hours), as at an event's door.
    care_credit, care_honour = care_minutes_of(volunteer.id)
    minutes = sum(a.minutes or 0 for a in attended) + care_credit + care_honour
    credit, honour = honour_rules.split_minutes(attended)
    credit, honour = credit + care_credit, honour + care_honour
    counted = honour_rules.star_minutes(credit, honour)
    thresholds = settings().volunteer_star_hours
    stars = star_level(counted / 60, thresholds)
    # "Coming up" is what the volunteer has yet to go to: an event they checked in at (under way
    # or over) is in "not counted yet" or "attended" instead, never in both lists.
    been = {a.event_id for a in rows}
    signups = [s for s in (
        Signup.select(Signup, Event).join(Event)
        .where(Signup.user == volunteer.id, Signup.status != "cancelled", Event.ends_at > now,
               Event.status == "published")
        .order_by(Event.starts_at)
    ) if s.event_id not in been]
    return VolunteerRecord(
        volunteer, minutes, stars, thresholds[stars] if stars < len(thresholds) else None, attended,
        [a for a in rows if a.state != "out"], signups, credit, honour, counted, care_credit + care_honour,
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
        # Checked out at the end automatically: staff enter when they left. Honour hours waiting
        # for a second approval are counted apart (events/honour.py).
        "to_review": sum(1 for a in attendances.values() if a.state == "review" and a.out_method == "auto"),
        "honour_waiting": sum(1 for a in attendances.values() if a.state == "review" and a.out_method != "auto"),
        "minutes": sum(a.minutes or 0 for a in done),
        "points": sum(a.points or 0 for a in done),
    }
