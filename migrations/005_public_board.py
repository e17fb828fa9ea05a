"""Peewee migrations -- 005_public_board.py.

The fund-use entries staff publish on the public disclosure board (marketplace.public.models).
Only this table: peewee-migrate's index lines for the other tables were taken out.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class FundUse(pw.Model):
        id = pw.AutoField()
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], null=True, on_delete='RESTRICT')
        spent_on = pw.DateField(index=True)
        purpose = pw.CharField(max_length=200)
        amount_fen = pw.BigIntegerField(constraints=[pw.SQL("CHECK (amount_fen > 0)")])
        approved_by = pw.CharField(max_length=100)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        created_at = pw.DateTimeField()
        withdrawn_at = pw.DateTimeField(null=True)
        withdrawn_by = pw.ForeignKeyField(column_name='withdrawn_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        withdraw_reason = pw.CharField(default='', max_length=200)

        class Meta:
            table_name = "fund_use"
            constraints = [pw.SQL("CHECK (withdrawn_at IS NULL OR withdrawn_by_id IS NOT NULL)")]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('fund_use')
