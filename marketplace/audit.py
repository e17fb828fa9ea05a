"""The audit log: every staff action on people, points, requests and deadlines.

Action names are dotted (`users.residency.verified`), as in pretix, so they can be searched by prefix.
"""

import json

import peewee as pw

from marketplace.db import BaseModel
from marketplace.timeutil import utcnow
from marketplace.users.models import User


class AuditLog(BaseModel):
    created_at = pw.DateTimeField(default=utcnow, index=True)
    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = pw.CharField(max_length=100, index=True)
    object_type = pw.CharField(max_length=50)
    object_id = pw.IntegerField(null=True)
    details = pw.TextField(default="{}")


def record(actor, action: str, obj=None, **details) -> AuditLog:
    return AuditLog.create(
        actor=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=obj.id if obj is not None else None,
        details=json.dumps(details, ensure_ascii=False, default=str),
    )
