"""Messages: a short line for one person, with a link to what it is about (the in-app
notification), its deliveries on each channel, the person's preferences, and the calls staff
make when an important message goes unacknowledged."""

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
    # Important messages (a matter answered or late, points paid or refunded, an event changed
    # or cancelled, a care visit missed) ask for acknowledgement: opening it, the API, or "1"
    # replied by SMS. Unacknowledged, they fall back to a person (notifications.fallback).
    important = pw.BooleanField(default=False)
    acknowledged_at = pw.DateTimeField(null=True)

    @classmethod
    def unread_of(cls, user):
        """The person's unread messages; `user` may be a column, so the session's own query can
        carry the count as a subquery (one query per request for the person and the count)."""
        return cls.select().where((cls.user == user) & cls.read_at.is_null())

    class Meta:
        indexes = ((("user", "read_at"), False),)


CHANNELS = ("in_app", "sms", "wechat", "log")
# One table for a delivery's life: queued -> sending -> sent -> delivered | failed; "sending" is
# written before the provider is called, so a consumer killed mid-send leaves a trace
# (deliveries.recover asks the provider before sending again). "skipped": quiet hours ended
# in another channel, a cap reached, no address for the channel.
DELIVERY_STATES = ("queued", "sending", "sent", "delivered", "failed", "skipped")


class Delivery(BaseModel):
    notification = pw.ForeignKeyField(Notification, backref="deliveries", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    channel = pw.CharField(max_length=10, constraints=[check_in("channel", CHANNELS)])
    # "<notification id>:<channel>": one delivery per message and channel, whoever enqueues it.
    key = pw.CharField(max_length=64, unique=True)
    state = pw.CharField(max_length=10, default="queued", constraints=[check_in("state", DELIVERY_STATES)])
    attempts = pw.IntegerField(default=0)
    provider = pw.CharField(max_length=20, default="")
    provider_id = pw.CharField(max_length=100, default="", index=True)
    error = pw.CharField(max_length=300, default="")
    cost_units = pw.IntegerField(default=0)  # SMS: billed parts (70 characters each)
    not_before = pw.DateTimeField(null=True)  # quiet hours: not sent before this time
    created_at = pw.DateTimeField(default=utcnow, index=True)
    updated_at = pw.DateTimeField(default=utcnow)
    sent_at = pw.DateTimeField(null=True)
    delivered_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "channel", "created_at"), False), (("state", "updated_at"), False))


class MessagePreference(BaseModel):
    """A person's choice of channels beside in-app (which is always on) and quiet hours (local
    time; a message then waits for their end). Staff in scope may set it for a resident."""

    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE", unique=True)
    channels = pw.CharField(max_length=40, default="")  # "sms", "wechat", "sms,wechat"
    wechat_openid = pw.CharField(max_length=64, default="")
    quiet_start = pw.IntegerField(null=True)  # minutes after midnight, e.g. 22:00 -> 1320
    quiet_end = pw.IntegerField(null=True)
    updated_at = pw.DateTimeField(default=utcnow)
    updated_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    def chosen(self) -> list[str]:
        return [c for c in self.channels.split(",") if c in ("sms", "wechat")]


CALL_OUTCOMES = ("reached", "no_answer", "wrong_number", "visited")


class CallTask(BaseModel):
    """"Call this resident": an important message they did not acknowledge, in the queue of
    their building's head. One per message (the unique notification)."""

    notification = pw.ForeignKeyField(Notification, backref="+", on_delete="CASCADE", unique=True)
    resident = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    building = pw.IntegerField(index=True)  # the resident's building (places.Building id)
    created_at = pw.DateTimeField(default=utcnow)
    outcome = pw.CharField(max_length=20, null=True, constraints=[pw.Check(
        "outcome IS NULL OR outcome IN ({})".format(", ".join(f"'{o}'" for o in CALL_OUTCOMES)))])
    note = pw.CharField(max_length=300, default="")
    done_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    done_at = pw.DateTimeField(null=True)
