"""The points mall: offers from partner shops and the community's flea market, and the
one-time vouchers members get when they redeem them (DESIGN.md §3, Offer / Voucher)."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.ledger.models import Transfer
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from marketplace.users.models import User

OFFER_CATEGORIES = ("daily_goods", "food", "services", "second_hand", "culture", "other")
# pending/rejected only happen to residents' flea-market listings, which staff review.
OFFER_STATES = ("pending", "active", "rejected", "withdrawn")
VOUCHER_STATES = ("issued", "used", "expired", "cancelled")


class Offer(BaseModel):
    """Something to buy with points. Sold by a partner (partner set), or at the community's
    flea market (community set): by a resident (seller set) or by the community itself."""

    community = pw.ForeignKeyField(Community, backref="offers", on_delete="RESTRICT")
    partner = pw.ForeignKeyField(PartnerEnterprise, null=True, backref="offers", on_delete="RESTRICT")
    seller = pw.ForeignKeyField(User, null=True, backref="listings", on_delete="RESTRICT")
    title = pw.CharField(max_length=100)
    description = pw.TextField(default="")
    category = pw.CharField(max_length=20, constraints=[check_in("category", OFFER_CATEGORIES)])
    price = pw.IntegerField(constraints=[pw.SQL("CHECK (price > 0)")])
    stock = pw.IntegerField(constraints=[pw.SQL("CHECK (stock >= 0)")])
    per_person_limit = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (per_person_limit > 0)")])
    valid_from = pw.DateField()
    valid_until = pw.DateField()
    status = pw.CharField(max_length=10, default="active", index=True, constraints=[check_in("status", OFFER_STATES)])
    created_by = pw.ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    reviewed_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    review_note = pw.CharField(max_length=500, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        constraints = [pw.SQL("CHECK (valid_until >= valid_from)")]

    @property
    def is_flea_market(self) -> bool:
        return self.partner_id is None


class Voucher(BaseModel):
    offer = pw.ForeignKeyField(Offer, backref="vouchers", on_delete="RESTRICT")
    holder = pw.ForeignKeyField(User, backref="vouchers", on_delete="RESTRICT")
    code = pw.CharField(max_length=16, unique=True)
    price = pw.IntegerField(constraints=[pw.SQL("CHECK (price > 0)")])
    status = pw.CharField(max_length=10, default="issued", index=True, constraints=[check_in("status", VOUCHER_STATES)])
    expires_at = pw.DateTimeField(index=True)
    created_at = pw.DateTimeField(default=utcnow)
    redeem_transfer = pw.ForeignKeyField(Transfer, on_delete="RESTRICT", backref="+")
    closing_transfer = pw.ForeignKeyField(Transfer, null=True, on_delete="RESTRICT", backref="+")
    closed_at = pw.DateTimeField(null=True)
    used_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")  # who scanned it
    used_at_place = pw.CharField(max_length=100, default="")  # the shop's name when it was used
