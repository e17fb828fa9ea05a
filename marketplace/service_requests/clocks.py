"""Clocks and hand-offs, the primitives: start a clock, close clocks by a recorded answer (the
outcome stored there and then), where a matter stands in the chain of responsibility, who holds
it now, and who the staff at a level are. promises.py builds the acts on these; services.py
starts the solve clock at booking and closes it when the work is done.
"""

from datetime import datetime, timedelta

import peewee as pw
from flask_babel import lazy_gettext as _l

from marketplace import workdays
from marketplace.notifications.services import notify
from marketplace.places.models import Building, Grid, Household
from marketplace.service_requests.models import (
    LEVELS,
    Clock,
    Department,
    HandOff,
    Reopening,
    RequestEvent,
    ServiceRequest,
    clock_open,
    outcome_of,
)
from marketplace.users.models import RoleGrant, User

BASE_LEVEL = "building_head"
REOPEN_DAYS = 14
LEVEL_LABELS = {
    "building_head": _l("the building head"), "grid_admin": _l("the grid administrator"),
    "community_admin": _l("the community office"), "department": _l("a street department"),
    "street": _l("the street office"),
}
HOLDER_LABELS = {
    "helper": _l("the helper who took it"), "resident": _l("you: please confirm the work"),
    "nobody": _l("nobody: the matter is closed"),
}
CLOCK_LABELS = {
    "solve": _l("Solve the matter"), "feedback": _l("Give you feedback"), "explain": _l("Explain the reasons"),
}
OUTCOME_LABELS = {"on_time": _l("answered on time"), "late": _l("answered late")}


def start_clock(req_id: int, kind: str, level: str, now: datetime, days: int, department_id: int | None = None,
                hand_off_id: int | None = None) -> Clock:
    return Clock.create(request=req_id, kind=kind, level=level, department=department_id, hand_off=hand_off_id,
                        started_at=now, due_at=workdays.add_working_days(now, days))


def close_clocks(req_id: int, kinds, actor, answer: str, now: datetime) -> list[Clock]:
    """Close every open clock of these kinds on the matter by one answer; each keeps its own
    outcome (a clock already late stays late). A clock another answer closed a moment before is
    left as that answer closed it (the conditional update)."""
    closed = []
    for clock in Clock.select().where(Clock.request == req_id, Clock.kind.in_(list(kinds)), clock_open()):
        done = Clock.update(
            closed_at=now, closed_by=getattr(actor, "id", None), answer=answer[:2000],
            outcome=outcome_of(clock.due_at, now), working_days_used=workdays.working_days_between(clock.started_at, now),
        ).where(Clock.id == clock.id, clock_open()).execute()
        if done:
            closed.append(Clock.get_by_id(clock.id))
    sync_request_dues(req_id)
    return closed


def sync_request_dues(req_id: int) -> None:
    """The request's own feedback and explanation due dates mirror its earliest open clock of
    each kind (the lists, CSVs and figures that read them then agree with the clocks)."""
    def earliest(kind):
        clock = (Clock.select(Clock.due_at).where(Clock.request == req_id, Clock.kind == kind, clock_open())
                 .order_by(Clock.due_at).first())
        return clock.due_at if clock else None

    ServiceRequest.update(feedback_due_at=earliest("feedback"), explanation_due_at=earliest("explain")).where(
        ServiceRequest.id == req_id).execute()


def record(req: ServiceRequest, actor, action: str, note: str, now: datetime) -> None:
    RequestEvent.create(request=req.id, actor=getattr(actor, "id", None), action=action, from_state=req.state,
                        to_state=req.state, note=note[:2000], created_at=now)


# ---- where a matter stands -----------------------------------------------------------------------


def last_hand_off(req_id: int) -> HandOff | None:
    return HandOff.select().where(HandOff.request == req_id).order_by(HandOff.id.desc()).first()


def position(req: ServiceRequest) -> tuple[str, int | None, datetime]:
    """The level holding the matter (and its department), and since when: the last hand-off's,
    or the building head's since it was asked."""
    hand_off = last_hand_off(req.id)
    if hand_off is None:
        return BASE_LEVEL, None, req.created_at
    return hand_off.to_level, hand_off.department_id, hand_off.created_at


def department_of(req_id: int) -> int | None:
    """The department the matter was last handed to, if any."""
    hand_off = (HandOff.select(HandOff.department).where(HandOff.request == req_id, HandOff.department.is_null(False))
                .order_by(HandOff.id.desc()).first())
    return hand_off.department_id if hand_off else None


def next_level(level: str, req_id: int) -> tuple[str, int | None]:
    """One step up: building head → grid → community → the matter's department (or the street
    office when it has none) → the street office, which is the top."""
    if level == "community_admin":
        department = department_of(req_id)
        return ("department", department) if department else ("street", None)
    if level in ("department", "street"):
        return "street", None
    return LEVELS[LEVELS.index(level) + 1], None


def staff_at(level: str, household_id: int, department_id: int | None = None) -> list[User]:
    """The people who hold a level for a household: its building head(s), grid administrator(s),
    community administrator(s), the department's officers, or the street's administrators."""
    place = (Household.select(Household.building, Building.grid, Grid.community).join(Building).join(Grid)
             .where(Household.id == household_id).tuples().first())
    if place is None:
        return []
    building, grid, community = place
    condition = {
        "building_head": (RoleGrant.role == "building_head") & (RoleGrant.building == building),
        "grid_admin": (RoleGrant.role == "grid_admin") & (RoleGrant.grid == grid),
        "community_admin": (RoleGrant.role == "community_admin") & (RoleGrant.community == community),
        "street": RoleGrant.role == "admin",
    }.get(level)
    if level == "department":
        department = Department.get_or_none(Department.id == department_id)
        if department is None:
            return staff_at("street", household_id)
        condition = (RoleGrant.role == "street_officer") & (RoleGrant.department == department.name_zh)
    return list(User.select().join(RoleGrant, on=(RoleGrant.user == User.id))
                .where(condition, User.active == True).distinct().order_by(User.id))  # noqa: E712


def level_name(level: str, department_id: int | None) -> str:
    if level == "department" and department_id:
        department = Department.get_or_none(Department.id == department_id)
        if department is not None:
            return department.name
    return str(LEVEL_LABELS[level])


def holder(req: ServiceRequest) -> dict:
    """Who must act next, since when, and by when: the level the matter was last handed to while
    a clock is open; before any hand-off, the helper who took it (or the building head while
    nobody has); once done, the resident; once closed, nobody."""
    if req.state == "cancelled":  # a cancelled matter's clocks wait for nobody
        return {"kind": "nobody", "name": str(HOLDER_LABELS["nobody"]), "since": None, "due_at": None}
    open_clocks = list(Clock.select().where(Clock.request == req.id, clock_open()).order_by(Clock.due_at))
    due = open_clocks[0].due_at if open_clocks else None
    hand_off = last_hand_off(req.id)
    waiting_for_help = req.state in ("open", "claimed", "disputed")
    if open_clocks or (waiting_for_help and hand_off is None):
        if hand_off is None and req.claimer_id is not None:
            name = req.claimer_partner.name if req.claimer_partner_id else req.claimer.display_name
            return {"kind": "helper", "name": name, "since": req.claimed_at, "due_at": due or req.due_at}
        level, department_id, since = position(req)
        name = level_name(level, department_id)
        people = staff_at(level, req.household_id, department_id)
        if len(people) == 1:
            name = f"{name} {people[0].display_name}"
        return {"kind": level, "name": name, "since": since, "due_at": due or (req.due_at if waiting_for_help else None)}
    if req.state == "done":
        return {"kind": "resident", "name": str(HOLDER_LABELS["resident"]), "since": req.done_at, "due_at": None}
    if waiting_for_help:
        level, department_id, since = position(req)
        return {"kind": level, "name": level_name(level, department_id), "since": since, "due_at": req.due_at}
    return {"kind": "nobody", "name": str(HOLDER_LABELS["nobody"]), "since": req.confirmed_at or req.done_at,
            "due_at": None}


def clocks_of(req_id: int) -> list[Clock]:
    return list(Clock.select(Clock, Department).join(Department, pw.JOIN.LEFT_OUTER, on=(Clock.department == Department.id))
                .where(Clock.request == req_id).order_by(Clock.id))


# ---- messages, in the recipient's language -------------------------------------------------------


class ItemName:
    """The item's name in the language the message is written in (the recipient's, not the actor's)."""

    def __init__(self, item):
        self.item = item

    def __str__(self):
        return self.item.name


class Words:
    """A message rendered in the recipient's language when notify() turns it into text."""

    def __init__(self, message, **values):
        self.message, self.values = message, values

    def __str__(self):
        return str(self.message) % {k: v if isinstance(v, int) else str(v) for k, v in self.values.items()}


class LevelName:
    def __init__(self, level, department_id):
        self.level, self.department_id = level, department_id

    def __str__(self):
        return level_name(self.level, self.department_id)


def tell(people, message, req: ServiceRequest, anchor: str = "") -> None:
    """Tell staff, each person once (someone may hold two levels). Not "important" in the sense
    of the residents' message fallback: a staff member who also lives here is not to be phoned
    by their building head about their own work queue."""
    seen = set()
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            notify(person, "request", message, f"/requests/{req.id}{anchor}", important=False)


# ---- reopening ------------------------------------------------------------------------------------


def pending_reopening(request_id: int) -> Reopening | None:
    return Reopening.get_or_none(Reopening.request == request_id, Reopening.decision.is_null())


def closed_at(req: ServiceRequest):
    return req.confirmed_at if req.state == "confirmed" else None


def within_reopen_days(req: ServiceRequest, now: datetime) -> bool:
    closed = closed_at(req)
    return closed is not None and now - closed <= timedelta(days=REOPEN_DAYS)


def ask_to_reopen(req: ServiceRequest, resident, reason: str, rating: int | None, now: datetime) -> Reopening:
    """Open a "reopen requested" item and tell the staff holding the matter and the community
    office. The caller holds the transaction and has checked the 14 days."""
    reopening = Reopening.create(request=req.id, requested_by=resident.id, requested_at=now, rating=rating,
                                 reason=reason)
    record(req, resident, "request_reopen", reason or (f"{rating}/5" if rating else ""), now)
    level, department_id, _since = position(req)
    tell(staff_at(level, req.household_id, department_id) + staff_at("community_admin", req.household_id),
         Words(_l("Reopen requested: the resident is not satisfied with %(item)s."), item=ItemName(req.item)), req)
    return reopening


def after_rating(req: ServiceRequest, resident, rating: int, comment: str, now: datetime) -> None:
    """A rating of 1 or 2 within 14 days of closing asks the staff to look again."""
    if rating <= 2 and within_reopen_days(req, now) and pending_reopening(req.id) is None:
        ask_to_reopen(req, resident, comment, rating, now)
