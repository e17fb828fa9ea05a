"""Peewee migrations -- 002_ledger_and_shop.py.

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
    class Account(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        kind = pw.CharField(max_length=20, constraints=[pw.SQL("CHECK (kind IN ('user', 'partner', 'issuer', 'escrow', 'flea_market'))")])
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT', unique=True)
        partner = pw.ForeignKeyField(column_name='partner_id', field='id', model=migrator.orm['partner_enterprise'], null=True, on_delete='RESTRICT', unique=True)
        balance = pw.BigIntegerField(default=0)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "account"
            constraints = [pw.SQL("CHECK (kind = 'issuer' OR balance >= 0)")]

    @migrator.create_model
    class Transfer(pw.Model):
        id = pw.AutoField()
        seq = pw.BigIntegerField(unique=True)
        created_at = pw.DateTimeField(index=True)
        debit = pw.ForeignKeyField(column_name='debit_id', field='id', model=migrator.orm['account'], on_delete='RESTRICT')
        credit = pw.ForeignKeyField(column_name='credit_id', field='id', model=migrator.orm['account'], on_delete='RESTRICT')
        amount = pw.BigIntegerField(constraints=[pw.SQL("CHECK (amount > 0)")])
        kind = pw.CharField(index=True, max_length=20, constraints=[pw.SQL("CHECK (kind IN ('earn_request', 'earn_event', 'redeem', 'settle', 'refund', 'adjust', 'reversal'))")])
        ref = pw.CharField(default='', index=True, max_length=100)
        memo = pw.CharField(default='', max_length=500)
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        idempotency_key = pw.CharField(max_length=100, unique=True)
        reverses = pw.ForeignKeyField(column_name='reverses_id', field='id', model='self', null=True, on_delete='RESTRICT', unique=True)
        prev_hash = pw.CharField(max_length=64)
        hash = pw.CharField(max_length=64, unique=True)

        class Meta:
            table_name = "transfer"
            constraints = [pw.SQL("CHECK (debit_id <> credit_id)")]

    @migrator.create_model
    class Adjustment(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='RESTRICT')
        direction = pw.CharField(max_length=6, constraints=[pw.SQL("CHECK (direction IN ('credit', 'debit'))")])
        amount = pw.BigIntegerField(constraints=[pw.SQL("CHECK (amount > 0)")])
        reason = pw.CharField(max_length=500)
        status = pw.CharField(default='pending', index=True, max_length=10, constraints=[pw.SQL("CHECK (status IN ('pending', 'posted', 'rejected'))")])
        requested_by = pw.ForeignKeyField(column_name='requested_by_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        decision_note = pw.CharField(default='', max_length=500)
        transfer = pw.ForeignKeyField(column_name='transfer_id', field='id', model=migrator.orm['transfer'], null=True, on_delete='RESTRICT')
        created_at = pw.DateTimeField()
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "adjustment"

    @migrator.create_model
    class LedgerHead(pw.Model):
        id = pw.AutoField()
        last_seq = pw.BigIntegerField(default=0)
        last_hash = pw.CharField(default='', max_length=64)

        class Meta:
            table_name = "ledger_head"

    # The hash chain's one head row, which every posting locks.
    migrator.sql("INSERT INTO ledger_head (id, last_seq, last_hash) VALUES (1, 0, '')")
    # Every member and partner has an account from the start, and so do the system accounts.
    migrator.sql(
        "INSERT INTO account (code, kind, balance, created_at) VALUES "
        "('issuer', 'issuer', 0, CURRENT_TIMESTAMP), ('escrow', 'escrow', 0, CURRENT_TIMESTAMP), "
        "('flea_market', 'flea_market', 0, CURRENT_TIMESTAMP)"
    )
    migrator.sql(
        "INSERT INTO account (code, kind, user_id, balance, created_at) "
        "SELECT 'user:' || id, 'user', id, 0, CURRENT_TIMESTAMP FROM \"user\""
    )
    migrator.sql(
        "INSERT INTO account (code, kind, partner_id, balance, created_at) "
        "SELECT 'partner:' || id, 'partner', id, 0, CURRENT_TIMESTAMP FROM partner_enterprise"
    )

    @migrator.create_model
    class Offer(pw.Model):
        id = pw.AutoField()
        community = pw.ForeignKeyField(column_name='community_id', field='id', model=migrator.orm['community'], on_delete='RESTRICT')
        partner = pw.ForeignKeyField(column_name='partner_id', field='id', model=migrator.orm['partner_enterprise'], null=True, on_delete='RESTRICT')
        seller = pw.ForeignKeyField(column_name='seller_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        title = pw.CharField(max_length=100)
        description = pw.TextField(default='')
        category = pw.CharField(max_length=20, constraints=[pw.SQL("CHECK (category IN ('daily_goods', 'food', 'services', 'second_hand', 'culture', 'other'))")])
        price = pw.IntegerField(constraints=[pw.SQL("CHECK (price > 0)")])
        stock = pw.IntegerField(constraints=[pw.SQL("CHECK (stock >= 0)")])
        per_person_limit = pw.IntegerField(null=True, constraints=[pw.SQL("CHECK (per_person_limit > 0)")])
        valid_from = pw.DateField()
        valid_until = pw.DateField()
        status = pw.CharField(default='active', index=True, max_length=10, constraints=[pw.SQL("CHECK (status IN ('pending', 'active', 'rejected', 'withdrawn'))")])
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        reviewed_by = pw.ForeignKeyField(column_name='reviewed_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        review_note = pw.CharField(default='', max_length=500)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "offer"
            constraints = [pw.SQL("CHECK (valid_until >= valid_from)")]

    @migrator.create_model
    class Voucher(pw.Model):
        id = pw.AutoField()
        offer = pw.ForeignKeyField(column_name='offer_id', field='id', model=migrator.orm['offer'], on_delete='RESTRICT')
        holder = pw.ForeignKeyField(column_name='holder_id', field='id', model=migrator.orm['user'], on_delete='RESTRICT')
        code = pw.CharField(max_length=16, unique=True)
        price = pw.IntegerField(constraints=[pw.SQL("CHECK (price > 0)")])
        status = pw.CharField(default='issued', index=True, max_length=10, constraints=[pw.SQL("CHECK (status IN ('issued', 'used', 'expired', 'cancelled'))")])
        expires_at = pw.DateTimeField(index=True)
        created_at = pw.DateTimeField()
        redeem_transfer = pw.ForeignKeyField(column_name='redeem_transfer_id', field='id', model=migrator.orm['transfer'], on_delete='RESTRICT')
        closing_transfer = pw.ForeignKeyField(column_name='closing_transfer_id', field='id', model=migrator.orm['transfer'], null=True, on_delete='RESTRICT')
        closed_at = pw.DateTimeField(null=True)
        used_by = pw.ForeignKeyField(column_name='used_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='RESTRICT')
        used_at_place = pw.CharField(default='', max_length=100)

        class Meta:
            table_name = "voucher"

def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('voucher')

    migrator.remove_model('offer')

    migrator.remove_model('ledger_head')

    migrator.remove_model('adjustment')

    migrator.remove_model('transfer')

    migrator.remove_model('account')
