"""Peewee migrations -- 009_job_board_index.py.

The job board reads open requests soonest deadline first and stops after one page. With only
the single-column indexes, SQLite walked the due_at index over every request ever made (100,000
at the reference street) to find the few hundred open ones; an index on (state, due_at) reads
just the open ones, already in order.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("service_request", "state", "due_at", unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("service_request", "state", "due_at")
