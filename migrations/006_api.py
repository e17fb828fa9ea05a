"""Peewee migrations -- 006_api.py.

Some examples (model - class or model name)::

    > Model = migrator.orm['table_name']            # Return model in current state by name
    > Model = migrator.ModelClass                   # Return model in current state by name

    > migrator.sql(sql)                             # Run custom SQL
    > migrator.run(func, *args, **kwargs)           # Run python function with the given args
    > migrator.create_model(Model)                  # Create a model (could be used as decorator)
    > migrator.remove_model(model, cascade=True)    # Remove a model
    > migrator.add_fields(model, **fields)          # Add fields (allow_not_null=True skips default)
    > migrator.change_fields(model, **fields)       # Change fields
    > migrator.remove_fields(model, *field_names, cascade=True)
    > migrator.rename_field(model, old_field_name, new_field_name)
    > migrator.rename_table(model, new_table_name)
    > migrator.add_index(model, *col_names, unique=False)
    > migrator.add_not_null(model, *field_names)
    > migrator.add_default(model, field_name, default)
    > migrator.add_constraint(model, name, sql)
    > migrator.drop_index(model, *col_names)
    > migrator.drop_not_null(model, *field_names)
    > migrator.drop_constraints(model, *constraints)

"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Personal API tokens, idempotency keys' first answers, and in-app notifications."""

    @migrator.create_model
    class ApiToken(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        name = pw.CharField(max_length=60)
        token_hash = pw.CharField(max_length=64, unique=True)
        prefix = pw.CharField(max_length=12)
        scopes = pw.CharField(max_length=200, constraints=[pw.SQL("CHECK (scopes <> '')")])
        created_at = pw.DateTimeField()
        last_used_at = pw.DateTimeField(null=True)
        revoked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "api_token"

    @migrator.create_model
    class IdempotencyRecord(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        token = pw.ForeignKeyField(column_name='token_id', field='id', model=migrator.orm['api_token'], null=True, on_delete='SET NULL')
        key = pw.CharField(max_length=100)
        fingerprint = pw.CharField(max_length=64)
        status = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (status BETWEEN 100 AND 599)")])
        body = pw.TextField(default='')
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "idempotency_record"
            indexes = [(('user', 'key'), True)]

    @migrator.create_model
    class Notification(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        kind = pw.CharField(max_length=20, constraints=[pw.SQL("CHECK (kind IN ('request', 'job', 'event', 'points', 'voucher', 'account', 'other'))")])
        text = pw.CharField(max_length=500)
        link = pw.CharField(default='', max_length=300)
        created_at = pw.DateTimeField(index=True)
        read_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "notification"
            indexes = [(('user', 'read_at'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('notification')

    migrator.remove_model('idempotency_record')

    migrator.remove_model('api_token')
