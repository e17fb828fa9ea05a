"""Partner enterprises: a repair shop, a cleaning company, a grocery. Their staff join by an
invitation (users.models.PartnerInvite)."""

import peewee as pw

from marketplace.db import BaseModel
from marketplace.places.models import Community
from marketplace.timeutil import utcnow


class PartnerEnterprise(BaseModel):
    community = pw.ForeignKeyField(Community, backref="partners", on_delete="RESTRICT")
    name = pw.CharField(max_length=100, unique=True)
    business = pw.CharField(max_length=200)  # what it does, in the partner's own words
    contact_phone = pw.CharField(max_length=20)
    address = pw.CharField(max_length=200)
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=utcnow)
