"""Peewee migrations -- 019_transfer_kinds.py.

Two more kinds of transfer the ledger accepts: `earn_care` (a care pair's confirmed visit pays its
volunteer, issue 16) and `earn_participation` (taking part in a residents' decision, issue 23).

Only the CHECK on `transfer.kind` widens; no row changes. PostgreSQL replaces the constraint.
SQLite cannot alter a CHECK, and rebuilding `transfer` would mean switching foreign keys off,
which SQLite refuses inside the migration's transaction; so the table's stored definition is
edited in place, the procedure SQLite documents for loosening a CHECK
(https://www.sqlite.org/lang_altertable.html#otheralter), and the schema version bumped so every
open connection reparses it. Widening a list every existing row already satisfies is safe.
"""

import peewee as pw
from peewee_migrate import Migrator

BEFORE = ("earn_request", "earn_event", "redeem", "settle", "refund", "adjust", "reversal")
AFTER = BEFORE + ("earn_care", "earn_participation")


def _check(values) -> str:
    return "CHECK (kind IN ({}))".format(", ".join(f"'{v}'" for v in values))


def _set_kinds(database: pw.Database, old, new) -> None:
    if isinstance(database, pw.PostgresqlDatabase):
        database.execute_sql("ALTER TABLE transfer DROP CONSTRAINT IF EXISTS transfer_kind_check")
        database.execute_sql(f"ALTER TABLE transfer ADD CONSTRAINT transfer_kind_check {_check(new)}")
        return
    (sql,) = database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'transfer'").fetchone()
    if _check(old) not in sql:
        raise RuntimeError("transfer's CHECK on kind is not the one this migration knows; not editing it")
    (version,) = database.execute_sql("PRAGMA schema_version").fetchone()
    database.execute_sql("PRAGMA writable_schema = ON")
    try:
        database.execute_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'transfer'",
                             (sql.replace(_check(old), _check(new)),))
        database.execute_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        database.execute_sql("PRAGMA writable_schema = OFF")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_set_kinds, database, BEFORE, AFTER)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_set_kinds, database, AFTER, BEFORE)
