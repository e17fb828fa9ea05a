"""Peewee migrations -- 017_on_behalf.py.

Acting on behalf (issue 16): who a request's history line was done for, every act done for a
resident by someone else (both names), and the household members without a mobile phone whom
staff registered in person; a resident's consent that a family member acts for them.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    user_model = migrator.orm["user"]
    migrator.add_fields(
        "request_event",
        for_user=pw.ForeignKeyField(column_name="for_user_id", field="id", model=user_model, null=True,
                                    on_delete="SET NULL"),
    )

    @migrator.create_model
    class ProxyAct(pw.Model):
        id = pw.AutoField()
        actor = pw.ForeignKeyField(column_name="actor_id", field="id", model=user_model, null=True,
                                   on_delete="SET NULL")
        actor_name = pw.CharField(max_length=50)
        resident = pw.ForeignKeyField(column_name="resident_id", field="id", model=user_model, on_delete="CASCADE")
        via = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (via IN ('staff', 'family'))")])
        action = pw.CharField(max_length=30)
        request = pw.ForeignKeyField(column_name="request_id", field="id", model=migrator.orm["service_request"],
                                     null=True, on_delete="CASCADE")
        voucher = pw.ForeignKeyField(column_name="voucher_id", field="id", model=migrator.orm["voucher"], null=True,
                                     on_delete="CASCADE")
        note = pw.CharField(max_length=200, default="")
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "proxy_act"

    @migrator.create_model
    class PhonelessMember(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=user_model, unique=True,
                                  on_delete="CASCADE")
        landline = pw.CharField(max_length=20, default="")
        registered_by = pw.ForeignKeyField(column_name="registered_by_id", field="id", model=user_model, null=True,
                                           on_delete="SET NULL")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "phoneless_member"

    @migrator.create_model
    class FamilyLink(pw.Model):
        id = pw.AutoField()
        resident = pw.ForeignKeyField(column_name="resident_id", field="id", model=user_model, on_delete="CASCADE")
        family = pw.ForeignKeyField(column_name="family_id", field="id", model=user_model, on_delete="CASCADE")
        state = pw.CharField(max_length=10, default="asked", constraints=[
            pw.SQL("CHECK (state IN ('asked', 'active', 'declined', 'revoked'))")])
        relation = pw.CharField(max_length=30, default="")
        asked_at = pw.DateTimeField()
        consented_at = pw.DateTimeField(null=True)
        consented_via = pw.CharField(max_length=10, null=True)
        witness = pw.ForeignKeyField(column_name="witness_id", field="id", model=user_model, null=True,
                                     on_delete="SET NULL")
        ended_at = pw.DateTimeField(null=True)
        ended_by = pw.ForeignKeyField(column_name="ended_by_id", field="id", model=user_model, null=True,
                                      on_delete="SET NULL")

        class Meta:
            table_name = "family_link"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("family_link")
    migrator.remove_model("phoneless_member")
    migrator.remove_model("proxy_act")
    migrator.remove_fields("request_event", "for_user")
