"""Acknowledgement and the fallback to a person.

An important message (models.Notification.important) asks for acknowledgement: opening it,
`acknowledge()` (the API), or "1" replied by SMS (receipts). One to a resident who chose SMS
(the person most likely not to open the site) that is still unacknowledged after
MESSAGE_ACK_HOURS becomes a "call this resident" task in their building head's queue, once:
the task's unique notification makes a second run (or a second consumer) add nothing.
"""

from datetime import timedelta

from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications.models import CALL_OUTCOMES, CallTask, MessagePreference, Notification
from marketplace.places.models import Household
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User


def acknowledge(user, notification_id: int) -> Notification:
    with db.atomic():
        note = Notification.get_or_none(Notification.id == notification_id, Notification.user == user.id)
        if note is None:
            raise DomainError(_("This notification was not found."), status=404, code="not_found")
        Notification.update(acknowledged_at=utcnow()).where(
            Notification.id == note.id, Notification.acknowledged_at.is_null()).execute()
    return Notification.get_by_id(note.id)


def acknowledge_by_reply(phone: str, content: str) -> Notification | None:
    """An SMS reply: "1" acknowledges the person's latest unacknowledged important message."""
    if content.strip() not in ("1", "１"):
        return None
    user = User.get_or_none(User.phone == phone)
    if user is None:
        return None
    note = (Notification.select().where(Notification.user == user.id, Notification.important,
                                        Notification.acknowledged_at.is_null())
            .order_by(Notification.id.desc()).first())
    return acknowledge(user, note.id) if note else None


def waiting_for_a_call(now=None):
    """Important messages unacknowledged past MESSAGE_ACK_HOURS, to people who chose SMS, with
    no call task yet; with the resident's building."""
    cutoff = (now or utcnow()) - timedelta(hours=settings().messages.ack_hours)
    return (Notification.select(Notification.id, Notification.user, Household.building.alias("building_id"))
            .join(MessagePreference, on=MessagePreference.user == Notification.user)
            .join(RoleGrant, on=(RoleGrant.user == Notification.user) & (RoleGrant.role == "resident"))
            .join(Household, on=Household.id == RoleGrant.household)
            .where(Notification.important, Notification.acknowledged_at.is_null(),
                   Notification.created_at <= cutoff, MessagePreference.channels.contains("sms"),
                   Notification.id.not_in(CallTask.select(CallTask.notification)))
            .objects())


def open_call_tasks(now=None) -> int:
    """The periodic job: one call task per message waiting for a call."""
    opened = 0
    with db.atomic():
        for row in waiting_for_a_call(now):
            opened += CallTask.insert(notification=row.id, resident=row.user_id, building=row.building_id,
                                      created_at=utcnow()).on_conflict_ignore().execute() and 1 or 0
    return opened


def calls_for(staff, done: bool = False):
    """The call tasks in the buildings the person looks after, oldest first."""
    scope = access.scope_of(staff)
    query = CallTask.select(CallTask, Notification).join(Notification)
    if not scope.street_wide:
        buildings = Household.select(Household.building).where(Household.id.in_(scope.households()))
        query = query.where(CallTask.building.in_(buildings))
    query = query.where(CallTask.outcome.is_null(False) if done else CallTask.outcome.is_null())
    return query.order_by(CallTask.id)


def record_call(staff, task_id: int, outcome: str, note: str = "") -> CallTask:
    if outcome not in CALL_OUTCOMES:
        raise DomainError(_("Choose how the call went."), code="bad_call_outcome")
    with db.atomic():
        task = calls_for(staff).where(CallTask.id == task_id).first() or \
            calls_for(staff, done=True).where(CallTask.id == task_id).first()
        if task is None:
            raise DomainError(_("This call was not found."), status=404, code="not_found")
        updated = CallTask.update(outcome=outcome, note=note.strip()[:300], done_by=staff.id, done_at=utcnow()).where(
            CallTask.id == task.id, CallTask.outcome.is_null()).execute()
        if not updated:
            raise DomainError(_("This call's outcome was already recorded."), status=409, code="call_recorded")
        if outcome in ("reached", "visited"):  # the person heard it from a person
            Notification.update(acknowledged_at=utcnow()).where(
                Notification.id == task.notification_id, Notification.acknowledged_at.is_null()).execute()
        audit.record(staff, "messages.call.recorded", task, outcome=outcome, resident=task.resident_id)
    return CallTask.get_by_id(task.id)
