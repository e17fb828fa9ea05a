"""Acting on behalf (issue 16): every act done for a resident by someone else, and the household
members staff registered who have no mobile phone and never log in."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.events.models import Event
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop.models import Voucher
from marketplace.timeutil import utcnow
from marketplace.users.models import User

VIA = ("staff", "family")


class ProxyAct(BaseModel):
    """One act done for a resident by another person: both names, how they were allowed (staff in
    scope, or a family link), what was done and on which request. The resident's receipt and the
    staff dashboards read these rows."""

    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    actor_name = pw.CharField(max_length=50)  # kept for the receipt even if the actor's account closes
    resident = pw.ForeignKeyField(User, on_delete="CASCADE", backref="+")
    via = pw.CharField(max_length=10, constraints=[check_in("via", VIA)])
    action = pw.CharField(max_length=30)
    request = pw.ForeignKeyField(ServiceRequest, null=True, on_delete="CASCADE", backref="+")
    voucher = pw.ForeignKeyField(Voucher, null=True, on_delete="CASCADE", backref="+")  # redeemed at the mall for them
    event = pw.ForeignKeyField(Event, null=True, on_delete="CASCADE", backref="+")  # signed up or at the door for them
    note = pw.CharField(max_length=200, default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)


class PhonelessMember(BaseModel):
    """A household member with a landline or no phone at all, registered by staff in person. The
    account cannot log in (no usable password, no mobile number): others act for them."""

    user = pw.ForeignKeyField(User, unique=True, on_delete="CASCADE", backref="+")
    landline = pw.CharField(max_length=20, default="")
    registered_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)


LINK_STATES = ("asked", "active", "declined", "revoked")
CONSENT_WAYS = ("phone", "in_person")


class FamilyLink(BaseModel):
    """A resident's consent that a family member's account may act for them (issue 16, item 6).
    Asked by the family member, consented by the resident on their phone or in person before
    staff (the witness is recorded); revoked by the resident, the family member or staff, which
    counts from the very next request (every act asks `may_act_for` afresh)."""

    resident = pw.ForeignKeyField(User, on_delete="CASCADE", backref="+")
    family = pw.ForeignKeyField(User, on_delete="CASCADE", backref="+")
    state = pw.CharField(max_length=10, default="asked", constraints=[check_in("state", LINK_STATES)])
    relation = pw.CharField(max_length=30, default="")
    asked_at = pw.DateTimeField(default=utcnow)
    consented_at = pw.DateTimeField(null=True)
    consented_via = pw.CharField(max_length=10, null=True)
    witness = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    ended_at = pw.DateTimeField(null=True)
    ended_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
