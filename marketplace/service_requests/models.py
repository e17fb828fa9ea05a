"""Service requests: one resident's request for one menu item, and its history (DESIGN.md §3).

The deadline rules (late, due soon, on time, feedback late) are written here once, as peewee
expressions: a where() condition, a 0/1 column through Case, and for one row `holds(row, ...)`,
which the model's properties use. Figures, queues, exports, the overview, the scheduler, the API
and the templates all ask these instead of restating them.
"""

import operator
from datetime import datetime

import peewee as pw

from marketplace import workdays
from marketplace.db import BaseModel, check_in
from marketplace.i18n import localized
from marketplace.ledger.models import Transfer
from marketplace.menu.models import ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Household
from marketplace.service_requests.transitions import CAN_BE_LATE, CLOSED, HANDLED, IN_PROGRESS, STATES
from marketplace.timeutil import utcnow
from marketplace.users.models import User

DUE_SOON_WORKING_DAYS = 1  # "near the deadline": due by the end of the next working day
PERIODS = ("any", "morning", "afternoon", "evening")


class ServiceRequest(BaseModel):
    resident = pw.ForeignKeyField(User, backref="service_requests", on_delete="RESTRICT")
    household = pw.ForeignKeyField(Household, backref="service_requests", on_delete="RESTRICT")
    item = pw.ForeignKeyField(ServiceItem, backref="requests", on_delete="RESTRICT")
    description = pw.TextField()
    preferred_date = pw.DateField(null=True)
    preferred_period = pw.CharField(max_length=10, default="any", constraints=[check_in("preferred_period", PERIODS)])
    photo = pw.CharField(max_length=100, null=True)  # file name under instance/uploads
    state = pw.CharField(max_length=10, default="open", index=True, constraints=[check_in("state", STATES)])
    points = pw.IntegerField(constraints=[pw.SQL("CHECK (points > 0)")])  # the item's points when booked
    created_at = pw.DateTimeField(default=utcnow, index=True)
    due_at = pw.DateTimeField(index=True)  # handled within the item's working days
    # Who took it: a volunteer, or a partner's staff member on behalf of the partner.
    claimer = pw.ForeignKeyField(User, null=True, backref="claimed_requests", on_delete="RESTRICT")
    claimer_partner = pw.ForeignKeyField(PartnerEnterprise, null=True, backref="claimed_requests", on_delete="RESTRICT")
    claimed_at = pw.DateTimeField(null=True)
    done_at = pw.DateTimeField(null=True)
    confirmed_at = pw.DateTimeField(null=True)
    confirmed_on_site_at = pw.DateTimeField(null=True)
    auto_confirmed = pw.BooleanField(default=False)
    onsite_code = pw.CharField(max_length=6)  # shown only to the resident, typed by the provider on site
    onsite_failures = pw.IntegerField(default=0)
    # Passed up to a street department: feedback due in 5 working days; a major matter that
    # cannot be solved gets its reasons explained within 10.
    escalated_at = pw.DateTimeField(null=True)
    escalated_to = pw.CharField(max_length=100, default="")
    feedback_due_at = pw.DateTimeField(null=True)
    explanation_due_at = pw.DateTimeField(null=True)
    rating = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (rating BETWEEN 1 AND 5)")])
    rating_comment = pw.TextField(default="")
    rated_at = pw.DateTimeField(null=True)
    payout = pw.ForeignKeyField(Transfer, null=True, on_delete="RESTRICT", backref="+")

    class Meta:
        # The job board: open requests in deadline order, read one page at a time (migration 009).
        indexes = ((("state", "due_at"), False),)

    # One row, by the same expressions the queries use (see holds()).
    @property
    def is_late(self) -> bool:
        return holds(self, late())

    @property
    def is_due_soon(self) -> bool:
        # waiting() first only spares the calendar lookup (due_soon() implies it) for rows it can't be.
        return holds(self, waiting()) and holds(self, due_soon())

    @property
    def was_on_time(self) -> bool:
        return holds(self, on_time())

    @property
    def is_feedback_late(self) -> bool:
        return holds(self, feedback_late())


class RequestEvent(BaseModel):
    """One line of a request's history: who did what, when, from which state to which."""

    request = pw.ForeignKeyField(ServiceRequest, backref="events", on_delete="CASCADE")
    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    # The resident the actor acted for (issue 16: "done for you by ..."); empty when they acted for themselves.
    for_user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = pw.CharField(max_length=30)
    from_state = pw.CharField(max_length=10)
    to_state = pw.CharField(max_length=10)
    note = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)


# ---- the deadline rules ------------------------------------------------------------------------


def waiting():
    """Still waiting for us (a helper or the staff), so its deadline can pass."""
    return ServiceRequest.state.in_(CAN_BE_LATE)


def late(now: datetime | None = None):
    """Waiting for us and past its deadline."""
    return waiting() & (ServiceRequest.due_at < (now or utcnow()))


def due_soon_horizon(now: datetime | None = None) -> datetime:
    return workdays.add_working_days(now or utcnow(), DUE_SOON_WORKING_DAYS)


def due_soon(now: datetime | None = None, horizon: datetime | None = None):
    """Waiting for us, not late yet, and due by the end of the next working day. With late(),
    it makes "near or past the deadline" without a gap or an overlap."""
    now = now or utcnow()
    horizon = horizon or due_soon_horizon(now)
    return waiting() & (ServiceRequest.due_at >= now) & (ServiceRequest.due_at <= horizon)


def handled():
    return ServiceRequest.state.in_(HANDLED)


def on_time():
    """Handled, and done by its deadline."""
    return handled() & ServiceRequest.done_at.is_null(False) & (ServiceRequest.done_at <= ServiceRequest.due_at)


def escalation_open():
    """Passed up to a department and not closed: the resident is owed feedback."""
    return ServiceRequest.escalated_at.is_null(False) & ServiceRequest.state.not_in(CLOSED)


def feedback_late(now: datetime | None = None):
    return (escalation_open() & ServiceRequest.feedback_due_at.is_null(False)
            & (ServiceRequest.feedback_due_at < (now or utcnow())))


def feedback_due_by(moment: datetime):
    """Feedback owed by `moment` (late or not yet)."""
    return escalation_open() & ServiceRequest.feedback_due_at.is_null(False) & (ServiceRequest.feedback_due_at <= moment)


# The staff's lists of requests (the overview page and its CSV exports), in the order they are offered.
REQUEST_LISTS = ("open", "overdue", "disputed", "escalated", "all")


def in_list(name: str, now: datetime | None = None):
    """The condition of one of REQUEST_LISTS; None for "all" (no condition)."""
    return {
        "open": ServiceRequest.state.in_(IN_PROGRESS),
        "overdue": late(now),
        "disputed": ServiceRequest.state == "disputed",
        "escalated": ServiceRequest.escalated_at.is_null(False),
        "all": None,
    }[name]


_COMPARISONS = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq, "!=": operator.ne,
    "IN": lambda value, group: value in group, "NOT IN": lambda value, group: value not in group,
}


def holds(row: BaseModel, condition) -> bool:
    """Whether one loaded row meets a condition written for where(), read as SQL would read it
    (a comparison with NULL is not true). A page showing one row asks the very expression the
    counts use, so the two cannot drift apart. Reads only what the rules above use (AND, OR,
    comparisons, IN over a tuple, IS NULL); anything else is refused loudly, not guessed."""
    if not isinstance(condition, pw.Expression):
        raise TypeError(f"holds() cannot read {condition!r}")
    op = condition.op
    if op == "AND":
        return holds(row, condition.lhs) and holds(row, condition.rhs)
    if op == "OR":
        return holds(row, condition.lhs) or holds(row, condition.rhs)
    left = _value(row, condition.lhs)
    if op in ("IS", "IS NOT") and condition.rhs is None:
        return (left is None) == (op == "IS")
    right = _value(row, condition.rhs)
    if op not in _COMPARISONS:
        raise TypeError(f"holds() cannot read {op}")
    if left is None or right is None:
        return False
    return _COMPARISONS[op](left, right)


def _value(row: BaseModel, node):
    if isinstance(node, pw.Field) and isinstance(row, node.model):
        return row.__data__.get(node.name)
    if isinstance(node, pw.Node):
        raise TypeError(f"holds() cannot read {node!r}")
    return node


# ---- promises: departments, hand-offs, clocks, reopening (issue 15) -----------------------------

# The chain of responsibility, lowest first: a clock that passes unclosed rises one step.
LEVELS = ("building_head", "grid_admin", "community_admin", "department", "street")
CLOCK_KINDS = ("solve", "feedback", "explain")
OUTCOMES = ("on_time", "late")
HAND_OFF_KINDS = ("escalate", "rise", "reopen")
REOPEN_DECISIONS = ("reopened", "declined")


class Department(BaseModel):
    """A street functional department (民政科, 城管科, ...). A street officer's grant names one
    by its Chinese name (RoleGrant.department == Department.name_zh)."""

    code = pw.CharField(max_length=40, unique=True)
    name_zh = pw.CharField(max_length=100, unique=True)
    name_en = pw.CharField(max_length=100, default="")
    active = pw.BooleanField(default=True)

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en or self.name_zh)


class HandOff(BaseModel):
    """A matter passed on: escalated by staff to a department, risen by the periodic job when a
    clock passed unclosed, or reopened one level higher. Never edited: handing on again adds one."""

    request = pw.ForeignKeyField(ServiceRequest, backref="hand_offs", on_delete="CASCADE")
    kind = pw.CharField(max_length=10, constraints=[check_in("kind", HAND_OFF_KINDS)])
    from_level = pw.CharField(max_length=20, constraints=[check_in("from_level", LEVELS)])
    to_level = pw.CharField(max_length=20, constraints=[check_in("to_level", LEVELS)])
    department = pw.ForeignKeyField(Department, null=True, backref="hand_offs", on_delete="RESTRICT")
    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")  # None: the app (a rise)
    reason = pw.TextField(default="")
    major = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow, index=True)


class Clock(BaseModel):
    """One promise on one matter: solve it, give feedback, or explain the reasons, by due_at.
    It closes only by a recorded answer, and its outcome (on time or late, working days used) is
    stored then: figures read these, never a second rule. A clock is never reset or moved."""

    request = pw.ForeignKeyField(ServiceRequest, backref="clocks", on_delete="CASCADE")
    hand_off = pw.ForeignKeyField(HandOff, null=True, backref="clocks", on_delete="CASCADE")
    kind = pw.CharField(max_length=10, constraints=[check_in("kind", CLOCK_KINDS)])
    level = pw.CharField(max_length=20, constraints=[check_in("level", LEVELS)])
    department = pw.ForeignKeyField(Department, null=True, backref="clocks", on_delete="RESTRICT")
    started_at = pw.DateTimeField()
    due_at = pw.DateTimeField(index=True)
    closed_at = pw.DateTimeField(null=True, index=True)
    closed_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    answer = pw.TextField(default="")
    outcome = pw.CharField(max_length=10, null=True, constraints=[pw.SQL(
        "CHECK (outcome IS NULL OR outcome IN ('on_time', 'late'))")])
    working_days_used = pw.IntegerField(null=True)
    reminded_at = pw.DateTimeField(null=True)  # told "due within one working day", once
    risen_at = pw.DateTimeField(null=True)  # passed unclosed and rose one level, once

    @property
    def is_overdue(self) -> bool:
        return self.closed_at is None and self.due_at < utcnow()


class Reopening(BaseModel):
    """A resident's "not solved" (or a rating of 1-2) within REOPEN_DAYS of closing, and staff's
    decision: reopened (a new solve clock one level higher) or declined with a reason."""

    request = pw.ForeignKeyField(ServiceRequest, backref="reopenings", on_delete="CASCADE")
    requested_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    requested_at = pw.DateTimeField(default=utcnow, index=True)
    rating = pw.IntegerField(null=True)
    reason = pw.TextField(default="")
    decision = pw.CharField(max_length=10, null=True, constraints=[pw.SQL(
        "CHECK (decision IS NULL OR decision IN ('reopened', 'declined'))")])
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    decided_at = pw.DateTimeField(null=True)
    decline_reason = pw.TextField(default="")


def clock_open():
    return Clock.closed_at.is_null()


def clock_overdue(now: datetime | None = None):
    """Open and past its due time: late, whoever holds it."""
    return clock_open() & (Clock.due_at < (now or utcnow()))


def clock_to_rise(now: datetime | None = None):
    """Overdue and not risen yet: the periodic job raises each of these one level, once."""
    return clock_overdue(now) & Clock.risen_at.is_null()


def clock_due_soon(now: datetime | None = None, horizon: datetime | None = None):
    """Open, not late yet, due by the end of the next working day, not yet reminded."""
    now = now or utcnow()
    horizon = horizon or due_soon_horizon(now)
    return clock_open() & (Clock.due_at >= now) & (Clock.due_at <= horizon) & Clock.reminded_at.is_null()


def outcome_of(due_at: datetime, closed_at: datetime) -> str:
    """On time or late: the one rule, stored on the clock when it closes."""
    return "on_time" if closed_at <= due_at else "late"
