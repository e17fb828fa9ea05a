"""Peewee migrations -- 020_event_proxy_acts.py.

Acting on behalf at events (issue 16, item 4): an act done for a resident may name the event it
was done at (signed up, gave the place back, checked in or out at the door for them), so the
resident's receipt says which event, when and where.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "proxy_act",
        event=pw.ForeignKeyField(column_name="event_id", field="id", model=migrator.orm["event"], null=True,
                                 on_delete="CASCADE"),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("proxy_act", "event")
