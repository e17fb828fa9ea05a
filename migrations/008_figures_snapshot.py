"""Peewee migrations -- 008_figures_snapshot.py.

Stored figures of the dashboards and the public board, one row per area
(marketplace.figures.snapshots): the pages read them instead of counting the whole history.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class FiguresSnapshot(pw.Model):
        id = pw.AutoField()
        area_key = pw.CharField(max_length=200, unique=True)
        payload = pw.TextField()
        computed_at = pw.DateTimeField()

        class Meta:
            table_name = "figures_snapshot"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('figures_snapshot')
