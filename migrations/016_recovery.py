"""Peewee migrations -- 016_recovery.py.

Everyone can get in (issue 16): one-time codes for a password reset (by SMS, or handed over in
person by staff) and for proving a number at sign-up or a phone change.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    user_model = migrator.orm["user"]

    @migrator.create_model
    class OneTimeCode(pw.Model):
        id = pw.AutoField()
        purpose = pw.CharField(max_length=12, constraints=[
            pw.SQL("CHECK (purpose IN ('reset_sms', 'reset_staff', 'signup', 'phone'))")])
        phone = pw.CharField(max_length=20, index=True)
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=user_model, null=True,
                                  on_delete="CASCADE")
        code_hash = pw.CharField(max_length=64)
        issued_by = pw.ForeignKeyField(column_name="issued_by_id", field="id", model=user_model, null=True,
                                       on_delete="SET NULL")
        attempts = pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (attempts >= 0)")])
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        used_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "one_time_code"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("one_time_code")
