"""Acting on behalf (issue 16): every act done for a resident by someone else, and the household
members staff registered who have no mobile phone and never log in."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.service_requests.models import ServiceRequest
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
    note = pw.CharField(max_length=200, default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)


class PhonelessMember(BaseModel):
    """A household member with a landline or no phone at all, registered by staff in person. The
    account cannot log in (no usable password, no mobile number): others act for them."""

    user = pw.ForeignKeyField(User, unique=True, on_delete="CASCADE", backref="+")
    landline = pw.CharField(max_length=20, default="")
    registered_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
