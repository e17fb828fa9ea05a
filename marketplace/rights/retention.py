"""Retention (PIPL Art. 19: personal information is kept no longer than its purpose needs).

What the periodic job `retention` (ops/periodic.py) removes once it is past its time:

- the photo of a closed matter (confirmed or cancelled) whose last step is older than
  RETENTION_PHOTO_DAYS (default 180): the file is deleted and the request no longer names it;
  the matter itself, its timeline and the figures stay;
- delivery records of messages (SMS, WeChat, in-app: provider ids, errors, attempts) that
  reached a final state more than RETENTION_DELIVERY_DAYS ago (default 90): the message itself
  stays in the person's list; what the channel did with it is only needed for a complaint or
  a provider's bill, which come within weeks.

Audit entries of staff viewing personal data are kept: they are the person's own protection
(who looked, when), they hold ids and no contact details, and the hash chain cannot lose an
entry without every later entry failing its check. A day count of 0 keeps that kind forever.

Each run is idempotent: a second run finds nothing more to do and changes nothing.
"""

from dataclasses import dataclass
from datetime import timedelta

import peewee as pw

from marketplace.db import db
from marketplace.notifications.models import Delivery
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.service_requests.transitions import CLOSED
from marketplace.timeutil import utcnow

FINAL_DELIVERY_STATES = ("sent", "delivered", "failed", "skipped")


@dataclass(frozen=True)
class Retention:
    photo_days: int = 180
    delivery_days: int = 90

    @classmethod
    def from_config(cls, config) -> "Retention":
        return cls(photo_days=int(config.get("RETENTION_PHOTO_DAYS", 180)),
                   delivery_days=int(config.get("RETENTION_DELIVERY_DAYS", 90)))


@dataclass(frozen=True)
class Removed:
    photos: int
    deliveries: int


def _photos_past(days: int, now) -> list[ServiceRequest]:
    last_step = (RequestEvent.select(pw.fn.MAX(RequestEvent.created_at))
                 .where(RequestEvent.request == ServiceRequest.id))
    return list(ServiceRequest.select(ServiceRequest.id, ServiceRequest.photo).where(
        ServiceRequest.photo.is_null(False) & ServiceRequest.state.in_(CLOSED)
        & (last_step < now - timedelta(days=days))))


def remove_photos(days: int, upload_folder, now=None) -> int:
    """Forget the photos of matters closed more than `days` ago; returns how many."""
    if days <= 0:
        return 0
    now = now or utcnow()
    removed = 0
    for req in _photos_past(days, now):
        with db.atomic():
            # Only if still the same photo: a racing run or a staff action changed nothing twice.
            changed = (ServiceRequest.update(photo=None)
                       .where((ServiceRequest.id == req.id) & (ServiceRequest.photo == req.photo)).execute())
        if changed:
            (upload_folder / req.photo).unlink(missing_ok=True)
            removed += 1
    return removed


def remove_deliveries(days: int, now=None) -> int:
    """Delete delivery records that reached a final state more than `days` ago; returns how many."""
    if days <= 0:
        return 0
    now = now or utcnow()
    with db.atomic():
        return (Delivery.delete()
                .where(Delivery.state.in_(FINAL_DELIVERY_STATES) & (Delivery.updated_at < now - timedelta(days=days)))
                .execute())


def apply(policy: Retention, upload_folder, now=None) -> Removed:
    return Removed(photos=remove_photos(policy.photo_days, upload_folder, now),
                   deliveries=remove_deliveries(policy.delivery_days, now))
