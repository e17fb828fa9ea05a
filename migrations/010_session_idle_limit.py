"""Peewee migrations -- 010_session_idle_limit.py.

A login session remembers whether "keep me signed in" was ticked: sessions without it end on
the server after a spell of inactivity, whatever the browser's cookie says.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("login_session", remembered=pw.BooleanField(default=False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("login_session", "remembered")
