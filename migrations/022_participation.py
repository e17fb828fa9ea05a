"""Peewee migrations -- 022_participation.py.

Points for taking part in a residents' decision (issue 23), paid through the ledger when staff
turn them on for a matter: how many for voting and for attending the grid's meeting (0: off);
the transfer that paid a household's vote (one per vote, UNIQUE); and one row per paid meeting
attendance, the row `ledger verify` finds behind each `earn_participation` transfer.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "proposal",
        vote_points=pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (vote_points >= 0)")]),
        meeting_points=pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (meeting_points >= 0)")]),
    )
    migrator.add_fields(
        "proposal_vote",
        transfer=pw.ForeignKeyField(column_name="transfer_id", field="id", model=migrator.orm["transfer"], null=True,
                                    unique=True, on_delete="RESTRICT"),
    )

    @migrator.create_model
    class MeetingPay(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=migrator.orm["proposal"],
                                      on_delete="RESTRICT")
        attendance = pw.ForeignKeyField(column_name="attendance_id", field="id", model=migrator.orm["attendance"],
                                        unique=True, on_delete="RESTRICT")
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        transfer = pw.ForeignKeyField(column_name="transfer_id", field="id", model=migrator.orm["transfer"],
                                      unique=True, on_delete="RESTRICT")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "meeting_pay"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("meeting_pay")
    migrator.remove_fields("proposal_vote", "transfer")
    migrator.remove_fields("proposal", "vote_points", "meeting_points")
