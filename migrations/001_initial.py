"""Peewee migrations -- 001_initial.py.

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
    class User(pw.Model):
        id = pw.AutoField()
        phone = pw.CharField(max_length=11, unique=True)
        display_name = pw.CharField(max_length=50)
        password_hash = pw.CharField(max_length=255)
        locale = pw.CharField(max_length=10, null=True)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "user"

    @migrator.create_model
    class AuditLog(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField(index=True)
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        action = pw.CharField(index=True, max_length=100)
        object_type = pw.CharField(max_length=50)
        object_id = pw.IntegerField(null=True)
        details = pw.TextField(default='{}')

        class Meta:
            table_name = "audit_log"

    @migrator.create_model
    class Community(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=64, unique=True)
        name_zh = pw.CharField(max_length=100)
        name_en = pw.CharField(max_length=100)

        class Meta:
            table_name = "community"

    @migrator.create_model
    class Grid(pw.Model):
        id = pw.AutoField()
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], on_delete='RESTRICT')
        code = pw.CharField(max_length=64, unique=True)
        name_zh = pw.CharField(max_length=100)
        name_en = pw.CharField(max_length=100)

        class Meta:
            table_name = "grid"

    @migrator.create_model
    class Building(pw.Model):
        id = pw.AutoField()
        grid = pw.ForeignKeyField(column_name='grid_id', field='id', model=migrator.orm['grid'], on_delete='RESTRICT')
        code = pw.CharField(max_length=64, unique=True)
        name_zh = pw.CharField(max_length=100)
        name_en = pw.CharField(max_length=100)

        class Meta:
            table_name = "building"

    @migrator.create_model
    class Category(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=64, unique=True)
        name_zh = pw.CharField(max_length=100)
        name_en = pw.CharField(max_length=100)
        position = pw.IntegerField(default=0)

        class Meta:
            table_name = "category"

    @migrator.create_model
    class Household(pw.Model):
        id = pw.AutoField()
        building = pw.ForeignKeyField(column_name='building_id', field='id', model=migrator.orm['building'], on_delete='RESTRICT')
        unit = pw.CharField(max_length=32)

        class Meta:
            table_name = "household"
            indexes = [(('building', 'unit'), True)]

    @migrator.create_model
    class LoginSession(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        key_hash = pw.CharField(max_length=64, unique=True)
        created_at = pw.DateTimeField()
        last_seen_at = pw.DateTimeField()
        user_agent = pw.CharField(default='', max_length=200)

        class Meta:
            table_name = "login_session"

    @migrator.create_model
    class PartnerEnterprise(pw.Model):
        id = pw.AutoField()
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], on_delete='RESTRICT')
        name = pw.CharField(max_length=100, unique=True)
        business = pw.CharField(max_length=200)
        contact_phone = pw.CharField(max_length=20)
        address = pw.CharField(max_length=200)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "partner_enterprise"

    @migrator.create_model
    class PartnerInvite(pw.Model):
        id = pw.AutoField()
        partner = pw.ForeignKeyField(column_name='partner_id', field='id', model=migrator.orm['partner_enterprise'], on_delete='CASCADE')
        token_hash = pw.CharField(max_length=64, unique=True)
        note = pw.CharField(default='', max_length=100)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        used_by = pw.ForeignKeyField(column_name='used_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        used_at = pw.DateTimeField(null=True)
        revoked = pw.BooleanField(default=False)

        class Meta:
            table_name = "partner_invite"

    @migrator.create_model
    class ResidencyApplication(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], on_delete='CASCADE')
        status = pw.CharField(default='pending', index=True, max_length=10)
        reason = pw.CharField(default='', max_length=200)
        created_at = pw.DateTimeField()
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "residency_application"

    @migrator.create_model
    class RoleGrant(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        role = pw.CharField(max_length=20, constraints=[pw.SQL("CHECK (role IN ('resident', 'volunteer', 'partner_staff', 'building_head', 'grid_admin', 'community_admin', 'street_officer', 'admin'))")])
        household = pw.ForeignKeyField(column_name='household_id', field='id', model=migrator.orm['household'], null=True, on_delete='CASCADE')
        building = pw.ForeignKeyField(column_name='building_id', field='id', model=migrator.orm['building'], null=True, on_delete='CASCADE')
        grid = pw.ForeignKeyField(column_name='grid_id', field='id', model=migrator.orm['grid'], null=True, on_delete='CASCADE')
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], null=True, on_delete='CASCADE')
        partner = pw.ForeignKeyField(column_name='partner_id', field='id', model=migrator.orm['partner_enterprise'], null=True, on_delete='CASCADE')
        department = pw.CharField(max_length=100, null=True)
        granted_by = pw.ForeignKeyField(column_name='granted_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "role_grant"

    @migrator.create_model
    class ServiceItem(pw.Model):
        id = pw.AutoField()
        category = pw.ForeignKeyField(column_name='category_id', field='id', model=migrator.orm['category'], on_delete='RESTRICT')
        code = pw.CharField(max_length=64, unique=True)
        name_zh = pw.CharField(max_length=100)
        name_en = pw.CharField(max_length=100)
        description_zh = pw.TextField()
        description_en = pw.TextField()
        fulfilment = pw.CharField(max_length=16, constraints=[pw.SQL("CHECK (fulfilment IN ('volunteer', 'partner', 'either'))")])
        points = pw.IntegerField(constraints=[pw.SQL("CHECK (points > 0)")])
        deadline_days = pw.IntegerField(default=5, constraints=[pw.SQL("CHECK (deadline_days BETWEEN 1 AND 60)")])
        active = pw.BooleanField(default=True)
        position = pw.IntegerField(default=0)

        class Meta:
            table_name = "service_item"

    @migrator.create_model
    class VolunteerApplication(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], on_delete='CASCADE')
        availability = pw.CharField(max_length=200)
        status = pw.CharField(default='pending', index=True, max_length=10)
        reason = pw.CharField(default='', max_length=200)
        created_at = pw.DateTimeField()
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "volunteer_application"

    @migrator.create_model
    class VolunteerSkill(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        category = pw.ForeignKeyField(column_name='category_id', field='id', model=migrator.orm['category'], on_delete='CASCADE')

        class Meta:
            table_name = "volunteer_skill"
            indexes = [(('user', 'category'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('volunteer_skill')

    migrator.remove_model('volunteer_application')

    migrator.remove_model('service_item')

    migrator.remove_model('role_grant')

    migrator.remove_model('residency_application')

    migrator.remove_model('partner_invite')

    migrator.remove_model('partner_enterprise')

    migrator.remove_model('login_session')

    migrator.remove_model('household')

    migrator.remove_model('category')

    migrator.remove_model('building')

    migrator.remove_model('grid')

    migrator.remove_model('community')

    migrator.remove_model('audit_log')

    migrator.remove_model('user')
