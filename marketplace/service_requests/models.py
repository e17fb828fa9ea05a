"""Service requests: one resident's request for one menu item, and its history (DESIGN.md §3)."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.ledger.models import Transfer
from marketplace.menu.models import ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Household
from marketplace.timeutil import utcnow
from marketplace.users.models import User

STATES = ("open", "claimed", "done", "confirmed", "cancelled", "disputed")
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

    @property
    def is_overdue(self) -> bool:
        return self.state in ("open", "claimed", "disputed") and self.due_at < utcnow()


class RequestEvent(BaseModel):
    """One line of a request's history: who did what, when, from which state to which."""

    request = pw.ForeignKeyField(ServiceRequest, backref="events", on_delete="CASCADE")
    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = pw.CharField(max_length=30)
    from_state = pw.CharField(max_length=10)
    to_state = pw.CharField(max_length=10)
    note = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)
