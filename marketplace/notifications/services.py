"""Sending and reading in-app notifications.

`notify()` is the one way to send one. It takes the text as a lazy translation
(`lazy_gettext`) or a plain string and stores it rendered in the *recipient's* language, since
the person acting (a volunteer claiming a job, say) may read the site in another language
than the resident who is told about it.
"""

from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications import deliveries, tasks
from marketplace.notifications.models import KINDS, Notification
from marketplace.settings import settings
from marketplace.timeutil import utcnow

# Kinds that ask for acknowledgement unless the caller says otherwise: a matter answered or
# late, points paid or refunded, an event changed or cancelled (issue 17).
IMPORTANT_KINDS = ("request", "points", "event")


def notify(user, kind: str, text, link: str = "", *, important: bool | None = None,
           channels: list[str] | None = None) -> Notification:
    """Tell one person: the in-app notification, and a delivery on each channel they chose
    (sent by the task queue after this returns). `channels` overrides their choice (a code that
    must go by SMS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("a notification links to a path inside the site")
    # Someone who never chose a language reads the site's default, not the actor's language.
    with force_locale(getattr(user, "locale", None) or settings().default_locale):
        rendered = str(text)
    if important is None:
        important = kind in IMPORTANT_KINDS
    note = Notification.create(user=user.id, kind=kind, text=rendered[:500], link=link[:300], created_at=utcnow(),
                               important=important)
    tasks.enqueue(deliveries.plan(note, channels))
    return note


def for_user(user, unread_only: bool = False):
    """The person's notifications, newest first."""
    query = Notification.unread_of(user.id) if unread_only else Notification.select().where(Notification.user == user.id)
    return query.order_by(Notification.id.desc())


def unread_count(user) -> int:
    return for_user(user, unread_only=True).count()


def mark_read(user, notification_id: int) -> Notification:
    """Reading twice is harmless: the first time read stays."""
    with db.atomic():
        note = Notification.get_or_none(Notification.id == notification_id, Notification.user == user.id)
        if note is None:
            raise DomainError(_("This notification was not found."), status=404, code="not_found")
        now = utcnow()
        Notification.update(read_at=now).where(Notification.id == note.id, Notification.read_at.is_null()).execute()
        # Opening a message acknowledges it.
        Notification.update(acknowledged_at=now).where(
            Notification.id == note.id, Notification.acknowledged_at.is_null()).execute()
    return Notification.get_by_id(note.id)


def mark_all_read(user) -> int:
    return Notification.update(read_at=utcnow()).where(
        Notification.user == user.id, Notification.read_at.is_null()
    ).execute()
