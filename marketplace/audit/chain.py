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
    last_id: int = 0
    last_hash: str = ""
    sealed: dict = field(default_factory=dict)  # entry id -> hash, for the ids checkpoints asked for


def _entry_faults(entry: AuditLog, previous: str) -> list[str]:
    from datetime import datetime

    faults = []
    if not isinstance(entry.created_at, datetime):
        faults.append(f"created_at {entry.created_at!r} is not a date and time")
    if entry.prev_hash != previous:
        faults.append("the entry before it was changed or removed")
    if not faults and entry_hash(entry) != entry.hash:
        faults.append("content does not match its hash (edited outside the app)")
    return faults


def verify(wanted=()) -> AuditReport:
    """The chain from its first entry: each one's hash, its link to the one before, the head
    row. Never stops at an unreadable value: the entry is named and the walk goes on."""
    report, previous, last_id = AuditReport(), "", 0
    for entry in AuditLog.select().order_by(AuditLog.id).iterator():
        report.entries += 1
        try:
            faults = _entry_faults(entry, previous)
        except Exception as error:  # noqa: BLE001 - a value no check foresaw
            faults = [f"unreadable ({type(error).__name__}: {error})"]
        report.faults.extend(f"audit entry {entry.id}: {fault}" for fault in faults)
        if entry.id in wanted:
            report.sealed[entry.id] = entry.hash
        previous, last_id = entry.hash, entry.id
    report.last_id, report.last_hash = last_id, previous
    head = AuditHead.select().where(AuditHead.id == HEAD_ID).tuples().first()
    if report.entries or head is not None:
        found = (head[1], head[2]) if head else None
        if found != (last_id, previous):
            report.faults.append("the audit chain's head does not match its last entry: entries were removed or added")
    return report
