"""Peewee migrations -- 013_ledger_checkpoints.py.

Signed checkpoints of the ledger and the audit chain (issue 18), and the ledger's hash now
covers each transfer's row id and the codes of its two accounts: the existing chain is checked
with the old formula and rehashed with the new one, so the first checkpoint seals it. A chain
that fails the old check is not rehashed: the migration stops and names the transfer.
"""

import hashlib
from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401

COLUMNS = "id, seq, created_at, debit_id, credit_id, amount, kind, ref, memo, actor_id, idempotency_key, reverses_id, prev_hash, hash"


def _stamp(value) -> str:
    from datetime import datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.isoformat(sep=" ", timespec="microseconds")


def _digest(parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _rehash(database: pw.Database) -> None:
    codes = dict(database.execute_sql("SELECT id, code FROM account").fetchall())
    rows = database.execute_sql(f"SELECT {COLUMNS} FROM transfer ORDER BY seq").fetchall()
    old_prev, new_prev = "", ""
    for (tid, seq, created, debit, credit, amount, kind, ref, memo, actor, key, reverses, prev, stored) in rows:
        old = _digest((seq, _stamp(created), debit, credit, amount, kind, ref, memo, actor or "", key, reverses or "", prev))
        if old != stored or prev != old_prev:
            raise RuntimeError(f"transfer seq {seq} does not match its hash: check the ledger before upgrading")
        old_prev = stored
        new = _digest((tid, seq, _stamp(created), debit, codes[debit], credit, codes[credit], amount, kind, ref, memo,
                       actor or "", key, reverses or "", new_prev))
        database.execute_sql("UPDATE transfer SET prev_hash = %s, hash = %s WHERE id = %s"
                             .replace("%s", database.param), (new_prev, new, tid))
        new_prev = new
    if rows:
        database.execute_sql("UPDATE ledger_head SET last_seq = %s, last_hash = %s".replace("%s", database.param),
                             (rows[-1][1], new_prev))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class LedgerCheckpoint(pw.Model):
        id = pw.AutoField()
        number = pw.IntegerField(unique=True)
        created_at = pw.DateTimeField()
        ledger_seq = pw.BigIntegerField()
        audit_seq = pw.BigIntegerField()
        line = pw.TextField()

        class Meta:
            table_name = "ledger_checkpoint"

    if not fake:
        migrator.run(_rehash, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("ledger_checkpoint")
