"""Peewee migrations -- 021_care.py.

Care for key groups (issue 16, item 7): the key-group register (sensitive personal information,
PIPL Art. 28), care pairs of a volunteer and a member, and their visits (one per pair and day),
each confirmed once and paid by one `earn_care` transfer.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    user_model = migrator.orm["user"]

    @migrator.create_model
    class KeyGroupMember(pw.Model):
        id = pw.AutoField()
        resident = pw.ForeignKeyField(column_name="resident_id", field="id", model=user_model, on_delete="CASCADE")
        household = pw.ForeignKeyField(column_name="household_id", field="id", model=migrator.orm["household"],
                                       on_delete="CASCADE")
        key_group = pw.CharField(max_length=20, constraints=[
            pw.SQL("CHECK (key_group IN ('elderly_alone', 'disability', 'retired_soldier', 'other'))")])
        note = pw.CharField(max_length=300, default="")
        added_by = pw.ForeignKeyField(column_name="added_by_id", field="id", model=user_model, null=True,
                                      on_delete="SET NULL")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "key_group_member"
            indexes = ((("resident", "key_group"), True),)

    @migrator.create_model
    class CarePair(pw.Model):
        id = pw.AutoField()
        member = pw.ForeignKeyField(column_name="member_id", field="id", model=migrator.orm["key_group_member"],
                                    on_delete="CASCADE")
        volunteer = pw.ForeignKeyField(column_name="volunteer_id", field="id", model=user_model, on_delete="CASCADE")
        frequency = pw.CharField(max_length=12, constraints=[
            pw.SQL("CHECK (frequency IN ('weekly', 'fortnightly', 'monthly'))")])
        weekday = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (weekday BETWEEN 0 AND 6)")])
        starts_on = pw.DateField()
        minutes = pw.IntegerField(default=60, constraints=[pw.SQL("CHECK (minutes > 0)")])
        points = pw.IntegerField(default=10, constraints=[pw.SQL("CHECK (points >= 0)")])
        state = pw.CharField(max_length=10, default="active", constraints=[
            pw.SQL("CHECK (state IN ('active', 'paused', 'ended'))")])
        created_by = pw.ForeignKeyField(column_name="created_by_id", field="id", model=user_model, null=True,
                                        on_delete="SET NULL")
        created_at = pw.DateTimeField()
        changed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "care_pair"

    @migrator.create_model
    class CareVisit(pw.Model):
        id = pw.AutoField()
        pair = pw.ForeignKeyField(column_name="pair_id", field="id", model=migrator.orm["care_pair"],
                                  on_delete="CASCADE")
        due_on = pw.DateField(index=True)
        state = pw.CharField(max_length=10, default="due", constraints=[
            pw.SQL("CHECK (state IN ('due', 'confirmed'))")])
        onsite_code = pw.CharField(max_length=6)
        code_failures = pw.IntegerField(default=0)
        method = pw.CharField(max_length=5, null=True, constraints=[pw.SQL("CHECK (method IN ('code', 'phone'))")])
        confirmed_at = pw.DateTimeField(null=True)
        confirmed_by = pw.ForeignKeyField(column_name="confirmed_by_id", field="id", model=user_model, null=True,
                                          on_delete="SET NULL")
        note = pw.CharField(max_length=300, default="")
        minutes = pw.IntegerField(null=True)
        points = pw.IntegerField(null=True)
        transfer = pw.ForeignKeyField(column_name="transfer_id", field="id", model=migrator.orm["transfer"],
                                      null=True, unique=True, on_delete="RESTRICT")
        missed_told_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "care_visit"
            indexes = ((("pair", "due_on"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("care_visit", "care_pair", "key_group_member"):
        migrator.remove_model(table)
