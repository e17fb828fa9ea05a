"""The audit log: every staff action on people, points, requests and deadlines.

Action names are dotted (`users.residency.verified`), as in pretix, so they can be searched by prefix.
The log is append-only in the app, and each entry's hash covers its content and the entry before
it, so an edit or a deletion made behind the app's back is found by `verify()` (`flask audit verify`).
"""

import hashlib
import json
from dataclasses import dataclass, field

import peewee as pw

from marketplace.db import BaseModel, db, lock_head
from marketplace.ledger.models import LedgerHead
from marketplace.timeutil import utcnow
from marketplace.users.models import User

HEAD_ID = 1


class AuditLog(BaseModel):
    created_at = pw.DateTimeField(default=utcnow, index=True)
    actor = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = pw.CharField(max_length=100, index=True)
    object_type = pw.CharField(max_length=50)
    object_id = pw.IntegerField(null=True)
    details = pw.TextField(default="{}")
    prev_hash = pw.CharField(max_length=64, default="")
    hash = pw.CharField(max_length=64, default="")


class AuditHead(BaseModel):
    """One row: the newest entry of the chain. Locked by every write, after the ledger's lock
    (always in that order, so the two never deadlock)."""

    last_id = pw.BigIntegerField(default=0)
    last_hash = pw.CharField(max_length=64, default="")


def entry_hash(entry: AuditLog) -> str:
    parts = (
        entry.id,
        entry.created_at.isoformat(sep=" ", timespec="microseconds"),
        entry.actor_id or "",
        entry.action,
        entry.object_type,
        entry.object_id if entry.object_id is not None else "",
        entry.details,
        entry.prev_hash,
    )
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def record(actor, action: str, obj=None, **details) -> AuditLog:
    # The ledger's lock first, then the log's: the same order as every posting that also writes
    # the log, so concurrent writers queue instead of deadlocking.
    with db.atomic():
        lock_head(LedgerHead, last_seq=0, last_hash="")
        head = lock_head(AuditHead, HEAD_ID, last_id=0, last_hash="")
        entry = AuditLog.create(
            created_at=utcnow(),
            actor=actor.id if actor is not None else None,
            action=action,
            object_type=type(obj).__name__ if obj is not None else "",
            object_id=obj.id if obj is not None else None,
            details=json.dumps(details, ensure_ascii=False, default=str),
            prev_hash=head.last_hash,
        )
        entry.hash = entry_hash(entry)
        AuditLog.update(hash=entry.hash).where(AuditLog.id == entry.id).execute()
        AuditHead.update(last_id=entry.id, last_hash=entry.hash).where(AuditHead.id == head.id).execute()
    return entry


@dataclass
class AuditReport:
    entries: int = 0
    faults: list[str] = field(default_factory=list)


def verify() -> AuditReport:
    report, previous, last_id = AuditReport(), "", 0
    for entry in AuditLog.select().order_by(AuditLog.id).iterator():
        report.entries += 1
        if entry.prev_hash != previous:
            report.faults.append(f"audit entry {entry.id}: the entry before it was changed or removed")
        if entry_hash(entry) != entry.hash:
            report.faults.append(f"audit entry {entry.id}: content does not match its hash (edited outside the app)")
        previous, last_id = entry.hash, entry.id
    head = AuditHead.get_or_none(AuditHead.id == HEAD_ID)
    if report.entries and (head is None or (head.last_id, head.last_hash) != (last_id, previous)):
        report.faults.append("the audit chain's head does not match its last entry: entries were removed")
    return report
