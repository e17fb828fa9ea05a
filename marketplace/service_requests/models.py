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
