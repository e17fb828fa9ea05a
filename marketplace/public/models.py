"""Fund-use entries the community publishes on the public disclosure board (DESIGN.md §2,
transparency): what money was spent on, how much, and who approved it. Never a resident's name,
phone number or address."""

import peewee as pw

from marketplace.db import BaseModel
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from marketplace.users.models import User


class FundUse(BaseModel):
    """Published when saved. A mistake is not edited away: the entry is withdrawn (it leaves the
    board, the row and its reason stay) and a corrected one is published."""

    community = pw.ForeignKeyField(Community, null=True, backref="fund_uses", on_delete="RESTRICT")  # None: street-wide
    spent_on = pw.DateField(index=True)
    purpose = pw.CharField(max_length=200)
    amount_fen = pw.BigIntegerField(constraints=[pw.SQL("CHECK (amount_fen > 0)")])  # yuan x 100, exact
    approved_by = pw.CharField(max_length=100)  # a meeting or an office, e.g. 居委会 2026-11-20 会议
    created_by = pw.ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
    withdrawn_at = pw.DateTimeField(null=True)
    withdrawn_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    withdraw_reason = pw.CharField(max_length=200, default="")

    class Meta:
        constraints = [pw.SQL("CHECK (withdrawn_at IS NULL OR withdrawn_by_id IS NOT NULL)")]

    @property
    def yuan(self) -> str:
        return f"{self.amount_fen // 100:,}.{self.amount_fen % 100:02d}"
