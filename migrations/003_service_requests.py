"""Peewee migrations -- 003_service_requests.py.

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
    """Write your migrations here."""

    @migrator.create_model
    class ServiceRequest(pw.Model):
        id = pw.AutoField()
        resident = pw.ForeignKeyField(column_name='resident_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='RESTRICT')
        item = pw.ForeignKeyField(column_name='item_id', field='id', model=migrator.orm['service_item'], on_delete='RESTRICT')
        description = pw.TextField()
        preferred_date = pw.DateField(null=True)
        preferred_period = pw.CharField(default='any', max_length=10, constraints=[pw.SQL("CHECK (preferred_period IN ('any', 'morning', 'afternoon', 'evening'))")])
        photo = pw.CharField(max_length=100, null=True)
        state = pw.CharField(default='open', index=True, max_length=10, constraints=[pw.SQL("CHECK (state IN ('open', 'claimed', 'done', 'confirmed', 'cancelled', 'disputed'))")])
        points = pw.IntegerField(constraints=[pw.SQL("CHECK (points > 0)")])
        created_at = pw.DateTimeField(index=True)
        due_at = pw.DateTimeField(index=True)
        claimer = pw.ForeignKeyField(column_name='claimer_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        claimer_partner = pw.ForeignKeyField(column_name='claimer_partner_id', field='id', model=migrator.orm['partner_enterprise'], null=True, on_delete='RESTRICT')
        claimed_at = pw.DateTimeField(null=True)
        done_at = pw.DateTimeField(null=True)
        confirmed_at = pw.DateTimeField(null=True)
        confirmed_on_site_at = pw.DateTimeField(null=True)
        auto_confirmed = pw.BooleanField(default=False)
        onsite_code = pw.CharField(max_length=6)
        onsite_failures = pw.IntegerField(default=0)
        escalated_at = pw.DateTimeField(null=True)
        escalated_to = pw.CharField(default='', max_length=100)
        feedback_due_at = pw.DateTimeField(null=True)
        explanation_due_at = pw.DateTimeField(null=True)
        rating = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (rating BETWEEN 1 AND 5)")])
        rating_comment = pw.TextField(default='')
        rated_at = pw.DateTimeField(null=True)
        payout = pw.ForeignKeyField(column_name='payout_id', field='id', model=migrator.orm['transfer'], null=True, on_delete='RESTRICT')

        class Meta:
            table_name = "service_request"

    @migrator.create_model
    class RequestEvent(pw.Model):
        id = pw.AutoField()
        request = pw.ForeignKeyField(column_name='request_id', field='id', model=migrator.orm['service_request'], on_delete='CASCADE')
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        action = pw.CharField(max_length=30)
        from_state = pw.CharField(max_length=10)
        to_state = pw.CharField(max_length=10)
        note = pw.TextField(default='')
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "request_event"

    @migrator.create_model
    class WorkdayOverride(pw.Model):
        id = pw.AutoField()
        day = pw.DateField(unique=True)
        is_workday = pw.BooleanField()
        note = pw.CharField(default='', max_length=100)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "workday_override"

def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('workday_override')

    migrator.remove_model('request_event')

    migrator.remove_model('service_request')
