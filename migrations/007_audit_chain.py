"""Peewee migrations -- 007_audit_chain.py.

The audit log becomes a hash chain: each entry's hash covers its content and the entry before it.
Entries written before this migration are sealed into the chain in id order.
"""

import hashlib
from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "audit_log",
        prev_hash=pw.CharField(max_length=64, default=""),
        hash=pw.CharField(max_length=64, default=""),
    )

    @migrator.create_model
    class AuditHead(pw.Model):
        id = pw.AutoField()
        last_id = pw.BigIntegerField(default=0)
        last_hash = pw.CharField(default="", max_length=64)

        class Meta:
            table_name = "audit_head"

    migrator.run(_seal_existing_entries, database)


def _seal_existing_entries(database):
    from marketplace.audit import entry_hash

    rows = database.execute_sql(
        "SELECT id, created_at, actor_id, action, object_type, object_id, details FROM audit_log ORDER BY id"
    ).fetchall()
    previous, last_id = "", 0

    class Entry:  # what entry_hash reads
        pass

    from datetime import datetime

    for row in rows:
        entry = Entry()
        entry.id, created, entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.details = row
        entry.created_at = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
        entry.prev_hash = previous
        digest = entry_hash(entry)
        database.execute_sql("UPDATE audit_log SET prev_hash = %s, hash = %s WHERE id = %s".replace(
            "%s", "?" if isinstance(database, pw.SqliteDatabase) else "%s"), (previous, digest, entry.id))
        previous, last_id = digest, entry.id
    placeholder = "?" if isinstance(database, pw.SqliteDatabase) else "%s"
    database.execute_sql(
        f"INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, {placeholder}, {placeholder})", (last_id, previous)
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("audit_head")
    migrator.remove_fields("audit_log", "prev_hash", "hash")
