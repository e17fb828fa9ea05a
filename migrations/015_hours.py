"""Peewee migrations -- 015_hours.py.

Hours volunteers can trust (issue 24): a volunteer's request to correct one attendance's times,
with the staff's answer and the transfer that paid or took back the difference; earnings an
earning cap held back; points expiring at a period's end (notices and the transfer back).
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    user_model = migrator.orm["user"]

    @migrator.create_model
    class HourCorrection(pw.Model):
        id = pw.AutoField()
        attendance = pw.ForeignKeyField(column_name="attendance_id", field="id", model=migrator.orm["attendance"],
                                        on_delete="RESTRICT")
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=user_model, on_delete="RESTRICT")
        checked_in_at = pw.DateTimeField()
        checked_out_at = pw.DateTimeField()
        reason = pw.CharField(max_length=300)
        photo = pw.CharField(max_length=100, default="")
        status = pw.CharField(max_length=10, default="pending", index=True, constraints=[
            pw.SQL("CHECK (status IN ('pending', 'approved', 'declined'))")])
        old_checked_in_at = pw.DateTimeField()
        old_checked_out_at = pw.DateTimeField()
        old_minutes = pw.IntegerField()
        old_points = pw.IntegerField()
        new_minutes = pw.IntegerField(null=True)
        new_points = pw.IntegerField(null=True)
        transfer = pw.ForeignKeyField(column_name="transfer_id", field="id", model=migrator.orm["transfer"], null=True,
                                      on_delete="RESTRICT")
        decided_by = pw.ForeignKeyField(column_name="decided_by_id", field="id", model=user_model, null=True,
                                        on_delete="RESTRICT")
        decided_at = pw.DateTimeField(null=True)
        decision_note = pw.CharField(max_length=300, default="")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "hour_correction"
            constraints = [pw.SQL("CHECK (checked_out_at > checked_in_at)")]


    @migrator.create_model
    class CappedEarning(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=user_model, on_delete="RESTRICT")
        source = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (source IN ('event', 'request'))")])
        ref = pw.CharField(max_length=100, index=True)
        rule = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (rule IN ('day', 'month'))")])
        minutes = pw.IntegerField(default=0)
        points = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "capped_earning"

    @migrator.create_model
    class PointsExpiry(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name="account_id", field="id", model=migrator.orm["account"],
                                     on_delete="RESTRICT")
        period_end = pw.DateField()
        stage = pw.CharField(max_length=10, constraints=[
            pw.SQL("CHECK (stage IN ('notice_30', 'notice_7', 'expired'))")])
        amount = pw.BigIntegerField()
        transfer = pw.ForeignKeyField(column_name="transfer_id", field="id", model=migrator.orm["transfer"], null=True,
                                      on_delete="RESTRICT")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "points_expiry"
            indexes = ((("account", "period_end", "stage"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("points_expiry")
    migrator.remove_model("capped_earning")
    migrator.remove_model("hour_correction")
