"""Personal API tokens, and the first answer to each idempotency key."""

import peewee as pw

from marketplace.db import BaseModel
from marketplace.timeutil import utcnow
from marketplace.users.models import User


class ApiToken(BaseModel):
    """A token a person made on their profile for a phone app or a mini-program.

    Only the SHA-256 of the token is kept: a token is 256 random bits, so a slow hash adds
    nothing, and a fast one lets every API request be checked with one indexed lookup. The
    first characters (`prefix`) are kept in clear so the person can tell their tokens apart."""

    user = pw.ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = pw.CharField(max_length=60)
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=12)
    scopes = pw.CharField(max_length=200, constraints=[pw.SQL("CHECK (scopes <> '')")])  # space-separated: "read jobs"
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(BaseModel):
    """(person, Idempotency-Key) -> the first response, so that a retried POST gets it again
    instead of acting twice. `status` is NULL while the first request is still running."""

    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    token = pw.ForeignKeyField(ApiToken, null=True, backref="+", on_delete="SET NULL")
    key = pw.CharField(max_length=100)
    fingerprint = pw.CharField(max_length=64)  # sha256 of method, path and body
    status = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (status BETWEEN 100 AND 599)")])
    body = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("user", "key"), True),)
