"""Peewee migrations -- 012_messages.py.

Messages that reach people (issue 17): a notification may be important and acknowledged; each
message has a delivery per channel (state, attempts, provider id, error, cost); each person's
channels and quiet hours; and the "call this resident" tasks of building heads.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def _check_in(column, values):
    return pw.SQL("CHECK ({} IN ({}))".format(column, ", ".join(f"'{v}'" for v in values)))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "notification",
        important=pw.BooleanField(default=False),
        acknowledged_at=pw.DateTimeField(null=True),
    )
    user_model = migrator.orm["user"]
    notification_model = migrator.orm["notification"]

    @migrator.create_model
    class Delivery(pw.Model):
        id = pw.AutoField()
        notification = pw.ForeignKeyField(notification_model, on_delete="CASCADE")
        user = pw.ForeignKeyField(user_model, on_delete="CASCADE")
        channel = pw.CharField(max_length=10, constraints=[_check_in("channel", ("in_app", "sms", "wechat", "log"))])
        key = pw.CharField(max_length=64, unique=True)
        state = pw.CharField(max_length=10, default="queued", constraints=[_check_in(
            "state", ("queued", "sending", "sent", "delivered", "failed", "skipped"))])
        attempts = pw.IntegerField(default=0)
        provider = pw.CharField(max_length=20, default="")
        provider_id = pw.CharField(max_length=100, default="", index=True)
        error = pw.CharField(max_length=300, default="")
        cost_units = pw.IntegerField(default=0)
        not_before = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField(index=True)
        updated_at = pw.DateTimeField()
        sent_at = pw.DateTimeField(null=True)
        delivered_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "delivery"
            indexes = ((("user", "channel", "created_at"), False), (("state", "updated_at"), False))

    @migrator.create_model
    class MessagePreference(pw.Model):
        id = pw.AutoField()
        user = pw.ForeignKeyField(user_model, on_delete="CASCADE", unique=True)
        channels = pw.CharField(max_length=40, default="")
        wechat_openid = pw.CharField(max_length=64, default="")
        quiet_start = pw.IntegerField(null=True)
        quiet_end = pw.IntegerField(null=True)
        updated_at = pw.DateTimeField()
        updated_by = pw.ForeignKeyField(user_model, null=True, on_delete="SET NULL", backref="+")

        class Meta:
            table_name = "message_preference"

    @migrator.create_model
    class CallTask(pw.Model):
        id = pw.AutoField()
        notification = pw.ForeignKeyField(notification_model, on_delete="CASCADE", unique=True)
        resident = pw.ForeignKeyField(user_model, on_delete="CASCADE", backref="+")
        building = pw.IntegerField(index=True)
        created_at = pw.DateTimeField()
        outcome = pw.CharField(max_length=20, null=True, constraints=[pw.SQL(
            "CHECK (outcome IS NULL OR outcome IN ('reached', 'no_answer', 'wrong_number', 'visited'))")])
        note = pw.CharField(max_length=300, default="")
        done_by = pw.ForeignKeyField(user_model, null=True, on_delete="SET NULL", backref="+")
        done_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "call_task"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("call_task")
    migrator.remove_model("message_preference")
    migrator.remove_model("delivery")
    migrator.remove_fields("notification", "important", "acknowledged_at")
