"""Peewee migrations -- 018_proposals.py.

Matters the residents decide together (issue 23): a proposal, supports, one vote per household
(a UNIQUE index), the action's tasks with their clocks, its spending (fund uses on the board),
progress updates and the households' evaluations; and a household's floor area (dm², staff
enter it) so that votes count by area as well.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401

SCOPE_KINDS = ("building", "grid", "community")
STATES = ("proposed", "declined", "discussion", "voting", "passed", "rejected", "in_action", "done")
MATTERS = ("ordinary", "special")
CHOICES = ("yes", "no", "abstain")
VOTE_METHODS = ("online", "in_person")
PARTY_KINDS = ("partner", "property", "department")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("household", floor_area=pw.IntegerField(null=True))

    @migrator.create_model
    class Proposal(pw.Model):
        id = pw.AutoField()
        community = pw.ForeignKeyField(column_name="community_id", field="id", model=migrator.orm["community"], on_delete="RESTRICT")
        grid = pw.ForeignKeyField(column_name="grid_id", field="id", model=migrator.orm["grid"], null=True, on_delete="RESTRICT")
        building = pw.ForeignKeyField(column_name="building_id", field="id", model=migrator.orm["building"], null=True, on_delete="RESTRICT")
        scope_kind = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (scope_kind IN (" + ", ".join(f"'{v}'" for v in SCOPE_KINDS) + "))")])
        title = pw.CharField(max_length=100)
        body = pw.TextField()
        photo = pw.CharField(max_length=100, null=True)
        proposer = pw.ForeignKeyField(column_name="proposer_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        household = pw.ForeignKeyField(column_name="household_id", field="id", model=migrator.orm["household"], on_delete="RESTRICT")
        created_by = pw.ForeignKeyField(column_name="created_by_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        created_at = pw.DateTimeField()
        status = pw.CharField(max_length=12, default="proposed", index=True, constraints=[pw.SQL("CHECK (status IN (" + ", ".join(f"'{v}'" for v in STATES) + "))")])
        decided_by = pw.ForeignKeyField(column_name="decided_by_id", field="id", model=migrator.orm["user"], null=True, on_delete="RESTRICT")
        decided_at = pw.DateTimeField(null=True)
        decline_reason = pw.CharField(max_length=500, default="")
        meeting = pw.ForeignKeyField(column_name="meeting_id", field="id", model=migrator.orm["event"], null=True, on_delete="RESTRICT")
        minutes = pw.TextField(default="")
        minutes_by = pw.ForeignKeyField(column_name="minutes_by_id", field="id", model=migrator.orm["user"], null=True, on_delete="RESTRICT")
        minutes_at = pw.DateTimeField(null=True)
        motion = pw.CharField(max_length=500, default="")
        matter = pw.CharField(max_length=10, default="ordinary", constraints=[pw.SQL("CHECK (matter IN (" + ", ".join(f"'{v}'" for v in MATTERS) + "))")])
        participation_num = pw.IntegerField(default=2)
        participation_den = pw.IntegerField(default=3)
        majority_num = pw.IntegerField(default=1)
        majority_den = pw.IntegerField(default=2)
        majority_strict = pw.BooleanField(default=True)
        vote_opens_at = pw.DateTimeField(null=True)
        vote_closes_at = pw.DateTimeField(null=True)
        counted_at = pw.DateTimeField(null=True)
        eligible_households = pw.IntegerField(null=True)
        eligible_area = pw.BigIntegerField(null=True)
        area_counted = pw.BooleanField(default=False)
        voted_households = pw.IntegerField(null=True)
        voted_area = pw.BigIntegerField(null=True)
        yes_households = pw.IntegerField(null=True)
        yes_area = pw.BigIntegerField(null=True)
        no_households = pw.IntegerField(null=True)
        abstain_households = pw.IntegerField(null=True)
        budget_fen = pw.BigIntegerField(default=0, constraints=[pw.SQL("CHECK (budget_fen >= 0)")])
        done_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "proposal"
            constraints = [
                pw.SQL("CHECK (participation_num > 0 AND participation_den >= participation_num)"),
                pw.SQL("CHECK (majority_num > 0 AND majority_den >= majority_num)"),
            ]

    proposal_model = Proposal

    @migrator.create_model
    class ProposalSupport(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=proposal_model, on_delete="CASCADE")
        household = pw.ForeignKeyField(column_name="household_id", field="id", model=migrator.orm["household"], on_delete="RESTRICT")
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "proposal_support"
            indexes = ((("proposal", "household"), True),)

    @migrator.create_model
    class ProposalVote(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=proposal_model, on_delete="CASCADE")
        household = pw.ForeignKeyField(column_name="household_id", field="id", model=migrator.orm["household"], on_delete="RESTRICT")
        choice = pw.CharField(max_length=8, constraints=[pw.SQL("CHECK (choice IN (" + ", ".join(f"'{v}'" for v in CHOICES) + "))")])
        voter = pw.ForeignKeyField(column_name="voter_id", field="id", model=migrator.orm["user"], null=True, on_delete="RESTRICT")
        recorded_by = pw.ForeignKeyField(column_name="recorded_by_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        method = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (method IN (" + ", ".join(f"'{v}'" for v in VOTE_METHODS) + "))")])
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "proposal_vote"
            indexes = ((("proposal", "household"), True),)

    @migrator.create_model
    class ProposalTask(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=proposal_model, on_delete="CASCADE")
        title = pw.CharField(max_length=200)
        party_kind = pw.CharField(max_length=10, constraints=[pw.SQL("CHECK (party_kind IN (" + ", ".join(f"'{v}'" for v in PARTY_KINDS) + "))")])
        partner = pw.ForeignKeyField(column_name="partner_id", field="id", model=migrator.orm["partner_enterprise"], null=True, on_delete="RESTRICT")
        department = pw.ForeignKeyField(column_name="department_id", field="id", model=migrator.orm["department"], null=True, on_delete="RESTRICT")
        party_name = pw.CharField(max_length=100, default="")
        days = pw.IntegerField(constraints=[pw.SQL("CHECK (days > 0)")])
        started_at = pw.DateTimeField()
        due_at = pw.DateTimeField()
        created_by = pw.ForeignKeyField(column_name="created_by_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        closed_at = pw.DateTimeField(null=True)
        closed_by = pw.ForeignKeyField(column_name="closed_by_id", field="id", model=migrator.orm["user"], null=True, on_delete="RESTRICT")
        answer = pw.TextField(default="")
        outcome = pw.CharField(max_length=8, null=True, constraints=[pw.SQL("CHECK (outcome IS NULL OR outcome IN ('on_time', 'late'))")])

        class Meta:
            table_name = "proposal_task"

    @migrator.create_model
    class ProposalSpending(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=proposal_model, on_delete="CASCADE")
        fund_use = pw.ForeignKeyField(column_name="fund_use_id", field="id", model=migrator.orm["fund_use"], unique=True, on_delete="RESTRICT")

        class Meta:
            table_name = "proposal_spending"

    @migrator.create_model
    class ProposalUpdate(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=proposal_model, on_delete="CASCADE")
        text = pw.TextField()
        photo = pw.CharField(max_length=100, null=True)
        created_by = pw.ForeignKeyField(column_name="created_by_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "proposal_update"

    @migrator.create_model
    class ProposalEvaluation(pw.Model):
        id = pw.AutoField()
        proposal = pw.ForeignKeyField(column_name="proposal_id", field="id", model=proposal_model, on_delete="CASCADE")
        household = pw.ForeignKeyField(column_name="household_id", field="id", model=migrator.orm["household"], on_delete="RESTRICT")
        user = pw.ForeignKeyField(column_name="user_id", field="id", model=migrator.orm["user"], on_delete="RESTRICT")
        rating = pw.IntegerField(constraints=[pw.SQL("CHECK (rating BETWEEN 1 AND 5)")])
        comment = pw.CharField(max_length=500, default="")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "proposal_evaluation"
            indexes = ((("proposal", "household"), True),)

def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("proposal_evaluation", "proposal_update", "proposal_spending", "proposal_task", "proposal_vote",
                  "proposal_support", "proposal"):
        migrator.remove_model(table)
    migrator.remove_fields("household", "floor_area")
