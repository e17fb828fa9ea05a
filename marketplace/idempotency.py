"""The first answer to each (person, Idempotency-Key) of the JSON API, kept for a day so that a
retried POST gets it again instead of acting twice. The API (api/registry.py) writes and replays
them; the scheduler forgets old ones, which is why they live here and not inside the API."""

from datetime import timedelta

import peewee as pw

from marketplace.db import BaseModel
from marketplace.timeutil import utcnow
from marketplace.users.models import ApiToken, User

IDEMPOTENCY_KEEP = timedelta(hours=24)


class IdempotencyRecord(BaseModel):
    """(person, Idempotency-Key) -> the first response. `status` is NULL while the first
    request is still running."""

    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    token = pw.ForeignKeyField(ApiToken, null=True, backref="+", on_delete="SET NULL")
    key = pw.CharField(max_length=100)
    fingerprint = pw.CharField(max_length=64)  # sha256 of method, path and body
    status = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (status BETWEEN 100 AND 599)")])
    body = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("user", "key"), True),)


def forget_old_replies(now=None) -> int:
    """Stored answers hold personal data (a claimed job's contact): none is kept past a day,
    whether or not its owner calls again. Run by the scheduler."""
    cutoff = (now or utcnow()) - IDEMPOTENCY_KEEP
    return IdempotencyRecord.delete().where(IdempotencyRecord.created_at < cutoff).execute()
