"""Peewee migrations -- 004_events.py.

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
    > migrator.add_not_null(model, *field_names)
    > migrator.add_default(model, field_name, default)
    > migrator.add_constraint(model, name, sql)
    > migrator.drop_not_null(model, *field_names)
    > migrator.drop_constraints(model, *constraints)

"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext

def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    @migrator.create_model
    class Event(pw.Model):
        id = pw.AutoField()
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=20, constraints=[pw.SQL("CHECK (kind IN ('patrol', 'flea_market', 'lecture', 'service_day', 'other'))")])
        title = pw.CharField(max_length=100)
        description = pw.TextField(default='')
        place = pw.CharField(max_length=200)
        starts_at = pw.DateTimeField(index=True)
        ends_at = pw.DateTimeField()
        capacity = pw.IntegerField(constraints=[pw.SQL("CHECK (capacity > 0)")])
        taken = pw.IntegerField(default=0)
        points_rule = pw.CharField(default='per_hour', max_length=10, constraints=[pw.SQL("CHECK (points_rule IN ('per_hour', 'fixed'))")])
        points = pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (points >= 0)")])
        allow_walk_ins = pw.BooleanField(default=False)
        status = pw.CharField(default='draft', index=True, max_length=10, constraints=[pw.SQL("CHECK (status IN ('draft', 'published', 'cancelled'))")])
        poster_version = pw.IntegerField(default=1)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        created_at = pw.DateTimeField()
        published_at = pw.DateTimeField(null=True)
        cancel_reason = pw.CharField(default='', max_length=200)
        closed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "event"
            constraints = [
                pw.SQL("CHECK (ends_at > starts_at)"),
                pw.SQL("CHECK (taken >= 0 AND taken <= capacity)"),
            ]

    @migrator.create_model
    class Signup(pw.Model):
        id = pw.AutoField()
        event = pw.ForeignKeyField(column_name='event_id', field='id', model=migrator.orm['event'], on_delete='RESTRICT')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        status = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (status IN ('confirmed', 'waitlisted', 'cancelled'))")])
        queued_at = pw.DateTimeField()
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "signup"
            indexes = [(('event', 'user'), True)]

    @migrator.create_model
    class Attendance(pw.Model):
        id = pw.AutoField()
        event = pw.ForeignKeyField(column_name='event_id', field='id', model=migrator.orm['event'], on_delete='RESTRICT')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        signup = pw.ForeignKeyField(column_name='signup_id', field='id', model=migrator.orm['signup'], null=True, on_delete='RESTRICT')
        state = pw.CharField(default='in', index=True, max_length=10, constraints=[pw.SQL("CHECK (state IN ('in', 'out', 'review'))")])
        checked_in_at = pw.DateTimeField()
        in_method = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (in_method IN ('kiosk', 'code', 'poster', 'badge', 'manual', 'auto'))")])
        in_by = pw.ForeignKeyField(column_name='in_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        checked_out_at = pw.DateTimeField(null=True)
        out_method = pw.CharField(max_length=10, null=True, constraints=[pw.SQL("CHECK (out_method IN ('kiosk', 'code', 'poster', 'badge', 'manual', 'auto'))")])
        out_by = pw.ForeignKeyField(column_name='out_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        minutes = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (minutes >= 0)")])
        points = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (points >= 0)")])
        transfer = pw.ForeignKeyField(column_name='transfer_id', field='id', model=migrator.orm['transfer'], null=True, on_delete='RESTRICT')
        note = pw.CharField(default='', max_length=300)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "attendance"
            indexes = [(('event', 'user'), True)]
            constraints = [pw.SQL("CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at)")]

    @migrator.create_model
    class Badge(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT', unique=True)
        serial = pw.IntegerField(default=1, constraints=[pw.SQL("CHECK (serial > 0)")])
        created_at = pw.DateTimeField()
        replaced_at = pw.DateTimeField(null=True)
        replaced_by = pw.ForeignKeyField(column_name='replaced_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')

        class Meta:
            table_name = "badge"

    @migrator.create_model
    class Scan(pw.Model):
        id = pw.AutoField()
        event = pw.ForeignKeyField(column_name='event_id', field='id', model=migrator.orm['event'], null=True, on_delete='RESTRICT')
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        scanner = pw.ForeignKeyField(column_name='scanner_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        method = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (method IN ('kiosk', 'code', 'poster', 'badge', 'manual', 'auto'))")])
        action = pw.CharField(max_length=3, constraints=[pw.SQL("CHECK (action IN ('in', 'out'))")])
        nonce = pw.CharField(max_length=64, null=True, unique=True)
        scanned_at = pw.DateTimeField()
        received_at = pw.DateTimeField(index=True)
        outcome = pw.CharField(max_length=12, constraints=[pw.SQL("CHECK (outcome IN ('checked_in', 'checked_out', 'already', 'refused'))")])
        message = pw.CharField(default='', max_length=300)
        attendance = pw.ForeignKeyField(column_name='attendance_id', field='id', model=migrator.orm['attendance'], null=True, on_delete='RESTRICT')

        class Meta:
            table_name = "scan"

def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('scan')

    migrator.remove_model('badge')

    migrator.remove_model('attendance')

    migrator.remove_model('signup')

    migrator.remove_model('event')
