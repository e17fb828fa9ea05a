"""Events, their sign-ups and attendance, the log of every scan, and volunteers' badges
(DESIGN.md §3, Event / Signup / Attendance)."""

import peewee as pw

from marketplace.db import BaseModel, check_in
from marketplace.ledger.models import Transfer
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from marketplace.users.models import User

EVENT_KINDS = ("patrol", "flea_market", "lecture", "service_day", "other")
EVENT_STATES = ("draft", "published", "cancelled")
POINTS_RULES = ("per_hour", "fixed")
SIGNUP_STATES = ("confirmed", "waitlisted", "cancelled")
# in: checked in; out: checked out, hours final and paid; review: checked out automatically at
# the event's end, waiting for staff to confirm the hours before anything is paid.
ATTENDANCE_STATES = ("in", "out", "review")
# kiosk: the rotating QR at the door; code: its six digits typed on the phone; poster: the
# printed QR; badge: the volunteer's own QR scanned by staff; manual: staff, with a reason;
# auto: closed at the event's end.
METHODS = ("kiosk", "code", "poster", "badge", "manual", "auto")
ACTIONS = ("in", "out")
SCAN_OUTCOMES = ("checked_in", "checked_out", "already", "refused")


class Event(BaseModel):
    community = pw.ForeignKeyField(Community, backref="events", on_delete="RESTRICT")
    kind = pw.CharField(max_length=20, constraints=[check_in("kind", EVENT_KINDS)])
    title = pw.CharField(max_length=100)
    description = pw.TextField(default="")
    place = pw.CharField(max_length=200)
    starts_at = pw.DateTimeField(index=True)
    ends_at = pw.DateTimeField()
    capacity = pw.IntegerField(constraints=[pw.SQL("CHECK (capacity > 0)")])
    # Confirmed sign-ups, kept beside the capacity so the database itself refuses overbooking.
    taken = pw.IntegerField(default=0)
    points_rule = pw.CharField(max_length=10, default="per_hour", constraints=[check_in("points_rule", POINTS_RULES)])
    points = pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (points >= 0)")])  # per hour, or for taking part
    allow_walk_ins = pw.BooleanField(default=False)
    status = pw.CharField(max_length=10, default="draft", index=True, constraints=[check_in("status", EVENT_STATES)])
    poster_version = pw.IntegerField(default=1)  # raised to void printed posters
    created_by = pw.ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
    published_at = pw.DateTimeField(null=True)
    cancel_reason = pw.CharField(max_length=200, default="")
    closed_at = pw.DateTimeField(null=True)  # when those still checked in were checked out

    class Meta:
        constraints = [
            pw.SQL("CHECK (ends_at > starts_at)"),
            pw.SQL("CHECK (taken >= 0 AND taken <= capacity)"),
        ]


class Signup(BaseModel):
    """One person's place at an event, or in its waiting list. Cancelling keeps the row."""

    event = pw.ForeignKeyField(Event, backref="signups", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="event_signups", on_delete="RESTRICT")
    status = pw.CharField(max_length=10, constraints=[check_in("status", SIGNUP_STATES)])
    queued_at = pw.DateTimeField()  # the waiting list's order: first come, first promoted
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("event", "user"), True),)


class Attendance(BaseModel):
    """One volunteer at one event: at most one row each (the unique index settles racing scans)."""

    event = pw.ForeignKeyField(Event, backref="attendances", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="attendances", on_delete="RESTRICT")
    signup = pw.ForeignKeyField(Signup, null=True, on_delete="RESTRICT", backref="+")  # None: a walk-in
    state = pw.CharField(max_length=10, default="in", index=True, constraints=[check_in("state", ATTENDANCE_STATES)])
    checked_in_at = pw.DateTimeField()
    in_method = pw.CharField(max_length=10, constraints=[check_in("in_method", METHODS)])
    in_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")  # staff who scanned or typed
    checked_out_at = pw.DateTimeField(null=True)
    out_method = pw.CharField(max_length=10, null=True, constraints=[check_in("out_method", METHODS)])
    out_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    minutes = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (minutes >= 0)")])  # clipped to the event
    points = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (points >= 0)")])
    transfer = pw.ForeignKeyField(Transfer, null=True, on_delete="RESTRICT", backref="+")
    note = pw.CharField(max_length=300, default="")  # staff's reasons, for manual entries and reviews
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("event", "user"), True),)
        constraints = [pw.SQL("CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at)")]

    @property
    def hours(self) -> float:
        return (self.minutes or 0) / 60


class Scan(BaseModel):
    """Every check-in and check-out attempt, accepted or refused, for staff to look at.

    Scans from the staff scanner carry the device's nonce: a scan re-sent after the network came
    back finds its first row and gets the first answer, so it is recorded once."""

    event = pw.ForeignKeyField(Event, null=True, backref="scans", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")  # the volunteer, if known
    scanner = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")  # staff, for badge scans
    method = pw.CharField(max_length=10, constraints=[check_in("method", METHODS)])
    action = pw.CharField(max_length=3, constraints=[check_in("action", ACTIONS)])
    nonce = pw.CharField(max_length=64, null=True, unique=True)
    scanned_at = pw.DateTimeField()  # when it was scanned (on the device, for queued scans)
    received_at = pw.DateTimeField(default=utcnow, index=True)
    outcome = pw.CharField(max_length=12, constraints=[check_in("outcome", SCAN_OUTCOMES)])
    message = pw.CharField(max_length=300, default="")
    attendance = pw.ForeignKeyField(Attendance, null=True, on_delete="RESTRICT", backref="+")


class Badge(BaseModel):
    """A volunteer's personal QR. Its signature covers the serial, so replacing a lost or copied
    badge (serial + 1) makes every earlier copy worthless at once."""

    user = pw.ForeignKeyField(User, unique=True, backref="+", on_delete="RESTRICT")
    serial = pw.IntegerField(default=1, constraints=[pw.SQL("CHECK (serial > 0)")])
    created_at = pw.DateTimeField(default=utcnow)
    replaced_at = pw.DateTimeField(null=True)
    replaced_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")


CORRECTION_STATES = ("pending", "approved", "declined")


class HourCorrection(BaseModel):
    """A volunteer's request to correct one attendance's times, and the staff's answer.

    The row keeps the times, hours and points before and after, so the history reads without
    the ledger; an approved one points at the transfer that paid or took back the difference
    (`events/corrections.py`). Rows are never deleted: a declined request stays, with its reason."""

    attendance = pw.ForeignKeyField(Attendance, backref="corrections", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")  # the volunteer who asked
    checked_in_at = pw.DateTimeField()  # the times asked for
    checked_out_at = pw.DateTimeField()
    reason = pw.CharField(max_length=300)
    photo = pw.CharField(max_length=100, default="")  # a file in UPLOAD_FOLDER, shown to the event's staff
    status = pw.CharField(max_length=10, default="pending", index=True,
                          constraints=[check_in("status", CORRECTION_STATES)])
    old_checked_in_at = pw.DateTimeField()
    old_checked_out_at = pw.DateTimeField()
    old_minutes = pw.IntegerField()
    old_points = pw.IntegerField()
    new_minutes = pw.IntegerField(null=True)  # set when approved
    new_points = pw.IntegerField(null=True)
    transfer = pw.ForeignKeyField(Transfer, null=True, on_delete="RESTRICT", backref="+")
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    decided_at = pw.DateTimeField(null=True)
    decision_note = pw.CharField(max_length=300, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        constraints = [pw.SQL("CHECK (checked_out_at > checked_in_at)")]

    @property
    def difference(self) -> int:
        """Points paid (above 0) or taken back (below 0) when it was approved."""
        return (self.new_points - self.old_points) if self.new_points is not None else 0
