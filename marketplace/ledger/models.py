"""The points ledger: accounts and the append-only transfers between them (DESIGN.md §3).

Only `ledger.services.post_transfer` writes these tables' balances and rows.
"""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.partners.models import PartnerEnterprise
from marketplace.timeutil import utcnow
from marketplace.users.models import User

ACCOUNT_KINDS = ("user", "partner", "issuer", "escrow", "flea_market")
# The issuer is the source of every point, so its balance is the only one below zero.
SYSTEM_ACCOUNTS = ("issuer", "escrow", "flea_market")

TRANSFER_KINDS = (
    "earn_request",  # a confirmed service request pays its provider
    "earn_event",  # event hours pay a volunteer
    "redeem",  # member -> escrow, when a voucher is issued
    "settle",  # escrow -> shop or seller, when the voucher is scanned
    "refund",  # escrow -> member, when a voucher expires or is cancelled
    "adjust",  # a staff credit or debit, with a reason
    "reversal",  # undoes an earlier transfer, pointing at it
    "earn_care",  # a care pair's confirmed visit pays its volunteer
    "earn_participation",  # taking part in a residents' decision (attending, voting), when staff turn it on
)
# What `reverse` may undo; voucher transfers are undone by cancelling the voucher instead.
REVERSIBLE_KINDS = ("earn_request", "earn_event", "adjust")


class Account(BaseModel):
    """A balance holder. `code` names it uniquely: user:7, partner:3, issuer, escrow, flea_market."""

    code = pw.CharField(max_length=40, unique=True)
    kind = pw.CharField(max_length=20, constraints=[check_in("kind", ACCOUNT_KINDS)])
    user = pw.ForeignKeyField(User, null=True, unique=True, on_delete="RESTRICT", backref="+")
    partner = pw.ForeignKeyField(PartnerEnterprise, null=True, unique=True, on_delete="RESTRICT", backref="+")
    # A cache of the sum of this account's transfers, kept by post_transfer and checked by
    # `flask ledger verify`. The CHECK is the database's own guard against overspending.
    balance = pw.BigIntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        constraints = [pw.SQL("CHECK (kind = 'issuer' OR balance >= 0)")]


class LedgerHead(BaseModel):
    """One row: the end of the hash chain. Every posting locks it, so transfers are numbered
    without gaps and each one's hash covers the one before it."""

    last_seq = pw.BigIntegerField(default=0)
    last_hash = pw.CharField(max_length=64, default="")


class Transfer(BaseModel):
    seq = pw.BigIntegerField(unique=True)  # position in the hash chain, 1, 2, 3, ...
    created_at = pw.DateTimeField(default=utcnow, index=True)
    debit = pw.ForeignKeyField(Account, backref="debits", on_delete="RESTRICT")
    credit = pw.ForeignKeyField(Account, backref="credits", on_delete="RESTRICT")
    amount = pw.BigIntegerField(constraints=[pw.SQL("CHECK (amount > 0)")])
    kind = pw.CharField(max_length=20, index=True, constraints=[check_in("kind", TRANSFER_KINDS)])
    ref = pw.CharField(max_length=100, default="", index=True)  # what it is for: "voucher:12", "request:40"
    memo = pw.CharField(max_length=500, default="")
    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    idempotency_key = pw.CharField(max_length=100, unique=True)
    reverses = pw.ForeignKeyField("self", null=True, unique=True, on_delete="RESTRICT", backref="+")
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [pw.SQL("CHECK (debit_id <> credit_id)")]


ADJUSTMENT_STATES = ("pending", "posted", "rejected")


class Adjustment(BaseModel):
    """A staff credit or debit. Above the configured threshold it waits for a second staff member."""

    account = pw.ForeignKeyField(Account, backref="adjustments", on_delete="RESTRICT")
    direction = pw.CharField(max_length=6, constraints=[check_in("direction", ("credit", "debit"))])
    amount = pw.BigIntegerField(constraints=[pw.SQL("CHECK (amount > 0)")])
    reason = pw.CharField(max_length=500)
    status = pw.CharField(max_length=10, default="pending", index=True, constraints=[check_in("status", ADJUSTMENT_STATES)])
    requested_by = pw.ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    decision_note = pw.CharField(max_length=500, default="")
    transfer = pw.ForeignKeyField(Transfer, null=True, on_delete="RESTRICT", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
    decided_at = pw.DateTimeField(null=True)


class LedgerCheckpoint(BaseModel):
    """One signed seal of the ledger's and the audit chain's heads (ledger/checkpoints.py).

    `line` is the exact JSON line that was signed and published; the other columns repeat what
    it says so the board can list them without parsing. Anyone who kept a published line can
    check that today's chains still extend it (`flask ledger verify --checkpoints`)."""

    number = pw.IntegerField(unique=True)
    created_at = pw.DateTimeField(default=utcnow)
    ledger_seq = pw.BigIntegerField()
    audit_seq = pw.BigIntegerField()
    line = pw.TextField()


CAP_SOURCES = ("event", "request")
CAP_RULES = ("day", "month")


class CappedEarning(BaseModel):
    """Points an earning cap held back (ledger/policy.py): recorded, never silently lost.

    One row each time a cap held something back, with the hours and points not paid; a later
    hour correction of the same attendance may add a row that gives some back (negative)."""

    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    source = pw.CharField(max_length=10, constraints=[check_in("source", CAP_SOURCES)])
    ref = pw.CharField(max_length=100, index=True)  # attendance:12, request:40
    rule = pw.CharField(max_length=10, constraints=[check_in("rule", CAP_RULES)])
    minutes = pw.IntegerField(default=0)
    points = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow, index=True)


EXPIRY_STAGES = ("notice_30", "notice_7", "expired")


class PointsExpiry(BaseModel):
    """One account's points expiring at one period's end: the two notices before, and the
    transfer back to the community (ledger/policy.py). The unique index makes each happen once."""

    account = pw.ForeignKeyField(Account, backref="+", on_delete="RESTRICT")
    period_end = pw.DateField()
    stage = pw.CharField(max_length=10, constraints=[check_in("stage", EXPIRY_STAGES)])
    amount = pw.BigIntegerField()
    transfer = pw.ForeignKeyField(Transfer, null=True, on_delete="RESTRICT", backref="+")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "period_end", "stage"), True),)
