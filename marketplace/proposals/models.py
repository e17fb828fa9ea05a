"""A proposal and what hangs on it: supports, votes (one per household), tasks with their clocks,
spending (the board's fund uses), progress updates and the households' evaluations."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.events.models import Attendance, Event
from marketplace.ledger.models import Transfer
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.public.models import FundUse
from marketplace.service_requests.models import Department
from marketplace.timeutil import utcnow
from marketplace.users.models import User

SCOPE_KINDS = ("building", "grid", "community")
# proposed -> declined | discussion -> voting -> passed | rejected; passed -> in_action -> done
STATES = ("proposed", "declined", "discussion", "voting", "passed", "rejected", "in_action", "done")
MATTERS = ("ordinary", "special")  # special: maintenance funds, rebuilding, the use of common parts
CHOICES = ("yes", "no", "abstain")
VOTE_METHODS = ("online", "in_person")
PARTY_KINDS = ("partner", "property", "department")
OUTCOMES = ("on_time", "late")


class Proposal(BaseModel):
    community = pw.ForeignKeyField(Community, backref="+", on_delete="RESTRICT")
    grid = pw.ForeignKeyField(Grid, null=True, backref="+", on_delete="RESTRICT")
    building = pw.ForeignKeyField(Building, null=True, backref="+", on_delete="RESTRICT")
    scope_kind = pw.CharField(max_length=10, constraints=[check_in("scope_kind", SCOPE_KINDS)])
    title = pw.CharField(max_length=100)
    body = pw.TextField()
    photo = pw.CharField(max_length=100, null=True)
    proposer = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    household = pw.ForeignKeyField(Household, backref="+", on_delete="RESTRICT")
    created_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")  # staff, on the proposer's behalf
    created_at = pw.DateTimeField(default=utcnow)
    status = pw.CharField(max_length=12, default="proposed", index=True, constraints=[check_in("status", STATES)])
    decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    decided_at = pw.DateTimeField(null=True)
    decline_reason = pw.CharField(max_length=500, default="")
    # the grid's meeting: an event, so sign-up and the door's QR work as for any event
    meeting = pw.ForeignKeyField(Event, null=True, backref="+", on_delete="RESTRICT")
    minutes = pw.TextField(default="")
    minutes_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    minutes_at = pw.DateTimeField(null=True)
    # the vote and its rule, fixed when it opens
    motion = pw.CharField(max_length=500, default="")
    matter = pw.CharField(max_length=10, default="ordinary", constraints=[check_in("matter", MATTERS)])
    participation_num = pw.IntegerField(default=2)
    participation_den = pw.IntegerField(default=3)
    majority_num = pw.IntegerField(default=1)
    majority_den = pw.IntegerField(default=2)
    majority_strict = pw.BooleanField(default=True)  # "more than" (ordinary) or "at least" (special)
    vote_opens_at = pw.DateTimeField(null=True)
    vote_closes_at = pw.DateTimeField(null=True)
    # the result, computed once at the close and frozen (area in dm², 1 m² = 100 dm²)
    counted_at = pw.DateTimeField(null=True)
    eligible_households = pw.IntegerField(null=True)
    eligible_area = pw.BigIntegerField(null=True)
    area_counted = pw.BooleanField(default=False)
    voted_households = pw.IntegerField(null=True)
    voted_area = pw.BigIntegerField(null=True)
    yes_households = pw.IntegerField(null=True)
    yes_area = pw.BigIntegerField(null=True)
    no_households = pw.IntegerField(null=True)
    abstain_households = pw.IntegerField(null=True)
    # points for taking part, paid through the ledger when staff set them (0: off), fixed once the vote opens
    vote_points = pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (vote_points >= 0)")])
    meeting_points = pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (meeting_points >= 0)")])
    budget_fen = pw.BigIntegerField(default=0, constraints=[pw.SQL("CHECK (budget_fen >= 0)")])
    done_at = pw.DateTimeField(null=True)

    class Meta:
        constraints = [
            pw.SQL("CHECK (participation_num > 0 AND participation_den >= participation_num)"),
            pw.SQL("CHECK (majority_num > 0 AND majority_den >= majority_num)"),
        ]


class ProposalSupport(BaseModel):
    proposal = pw.ForeignKeyField(Proposal, backref="supports", on_delete="CASCADE")
    household = pw.ForeignKeyField(Household, backref="+", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("proposal", "household"), True),)


class ProposalVote(BaseModel):
    """One per household: the UNIQUE index is what holds it when members vote at once."""

    proposal = pw.ForeignKeyField(Proposal, backref="votes", on_delete="CASCADE")
    household = pw.ForeignKeyField(Household, backref="+", on_delete="RESTRICT")
    choice = pw.CharField(max_length=8, constraints=[check_in("choice", CHOICES)])
    voter = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")  # None: in person, no account
    recorded_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    method = pw.CharField(max_length=10, constraints=[check_in("method", VOTE_METHODS)])
    created_at = pw.DateTimeField(default=utcnow)
    transfer = pw.ForeignKeyField(Transfer, null=True, unique=True, backref="+", on_delete="RESTRICT")  # its points

    class Meta:
        indexes = ((("proposal", "household"), True),)


class MeetingPay(BaseModel):
    """The participation points one attendance at a matter's meeting earned: one row per
    attendance (UNIQUE), the row `ledger verify` finds behind each such transfer."""

    proposal = pw.ForeignKeyField(Proposal, backref="+", on_delete="RESTRICT")
    attendance = pw.ForeignKeyField(Attendance, unique=True, backref="+", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    transfer = pw.ForeignKeyField(Transfer, unique=True, backref="+", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)


class ProposalTask(BaseModel):
    """A part of the action handed to a party, with its clock (due in working days, closed by the
    party's recorded answer, on time or late)."""

    proposal = pw.ForeignKeyField(Proposal, backref="tasks", on_delete="CASCADE")
    title = pw.CharField(max_length=200)
    party_kind = pw.CharField(max_length=10, constraints=[check_in("party_kind", PARTY_KINDS)])
    partner = pw.ForeignKeyField(PartnerEnterprise, null=True, backref="+", on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, backref="+", on_delete="RESTRICT")
    party_name = pw.CharField(max_length=100, default="")  # the property company's name
    days = pw.IntegerField(constraints=[pw.SQL("CHECK (days > 0)")])
    started_at = pw.DateTimeField()
    due_at = pw.DateTimeField()
    created_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    closed_at = pw.DateTimeField(null=True)
    closed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    answer = pw.TextField(default="")
    outcome = pw.CharField(max_length=8, null=True, constraints=[pw.SQL("CHECK (outcome IS NULL OR outcome IN ('on_time', 'late'))")])


class ProposalSpending(BaseModel):
    proposal = pw.ForeignKeyField(Proposal, backref="spending", on_delete="CASCADE")
    fund_use = pw.ForeignKeyField(FundUse, unique=True, backref="+", on_delete="RESTRICT")


class ProposalUpdate(BaseModel):
    proposal = pw.ForeignKeyField(Proposal, backref="updates", on_delete="CASCADE")
    text = pw.TextField()
    photo = pw.CharField(max_length=100, null=True)
    created_by = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)


class ProposalEvaluation(BaseModel):
    proposal = pw.ForeignKeyField(Proposal, backref="evaluations", on_delete="CASCADE")
    household = pw.ForeignKeyField(Household, backref="+", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    rating = pw.IntegerField(constraints=[pw.SQL("CHECK (rating BETWEEN 1 AND 5)")])
    comment = pw.CharField(max_length=500, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("proposal", "household"), True),)
