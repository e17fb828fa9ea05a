"""In-app notifications: a short line for one person, with a link to what it is about."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.timeutil import utcnow
from marketplace.users.models import User

KINDS = ("request", "job", "event", "points", "voucher", "account", "other")


class Notification(BaseModel):
    user = pw.ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = pw.CharField(max_length=20, constraints=[check_in("kind", KINDS)])
    # Rendered in the recipient's language when it was sent (see services.notify).
    text = pw.CharField(max_length=500)
    link = pw.CharField(max_length=300, default="")  # a path inside the site, e.g. /requests/12
    created_at = pw.DateTimeField(default=utcnow, index=True)
    read_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "read_at"), False),)
