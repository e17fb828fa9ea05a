"""Peewee migrations -- 014_promises.py.

Every promise kept and seen (issue 15): the street's departments as data, hand-offs, clocks
(solve, feedback, explain) that close by a recorded answer with their outcome stored, and
reopening. Existing requests get their solve clock (closed when they were done), and each
earlier escalation becomes a hand-off to its department (added to the list when unknown) with
its feedback and explanation clocks, still open unless the request is closed.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401

LEVELS = ("building_head", "grid_admin", "community_admin", "department", "street")


def _check_in(column, values):
    return pw.SQL("CHECK ({} IN ({}))".format(column, ", ".join(f"'{v}'" for v in values)))


def _backfill(database: pw.Database) -> None:
    p = database.param
    rows = database.execute_sql(
        "SELECT id, created_at, due_at, done_at, state, escalated_at, escalated_to, feedback_due_at, "
        "explanation_due_at FROM service_request ORDER BY id").fetchall()
    for (rid, created, due, done, state, escalated, department, feedback_due, explain_due) in rows:
        closed = done if done is not None else None
        outcome = None if closed is None else ("on_time" if str(closed) <= str(due) else "late")
        database.execute_sql(
            f"INSERT INTO clock (request_id, kind, level, started_at, due_at, closed_at, answer, outcome) "
            f"VALUES ({p}, 'solve', 'building_head', {p}, {p}, {p}, '', {p})", (rid, created, due, closed, outcome))
        if escalated is None or not department or state in ("confirmed", "cancelled"):
            continue  # a closed matter owes nothing more: no clock is opened that could never close
        found = database.execute_sql(f"SELECT id FROM department WHERE name_zh = {p}", (department,)).fetchone()
        if found is None:
            code = f"dept_{rid}"
            database.execute_sql(f"INSERT INTO department (code, name_zh, name_en, active) VALUES ({p}, {p}, '', {p})",
                                 (code, department, True))
            found = database.execute_sql(f"SELECT id FROM department WHERE code = {p}", (code,)).fetchone()
        database.execute_sql(
            f"INSERT INTO hand_off (request_id, kind, from_level, to_level, department_id, reason, major, created_at) "
            f"VALUES ({p}, 'escalate', 'community_admin', 'department', {p}, '', {p}, {p})",
            (rid, found[0], explain_due is not None, escalated))
        hand_off = database.execute_sql(f"SELECT MAX(id) FROM hand_off WHERE request_id = {p}", (rid,)).fetchone()[0]
        for kind, kind_due in (("feedback", feedback_due), ("explain", explain_due)):
            if kind_due is not None:
                database.execute_sql(
                    f"INSERT INTO clock (request_id, hand_off_id, kind, level, department_id, started_at, due_at, "
                    f"answer) VALUES ({p}, {p}, {p}, 'department', {p}, {p}, {p}, '')",
                    (rid, hand_off, kind, found[0], escalated, kind_due))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    user_model = migrator.orm["user"]
    request_model = migrator.orm["service_request"]

    @migrator.create_model
    class Department(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name_zh = pw.CharField(max_length=100, unique=True)
        name_en = pw.CharField(max_length=100, default="")
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "department"

    @migrator.create_model
    class HandOff(pw.Model):
        id = pw.AutoField()
        request = pw.ForeignKeyField(request_model, on_delete="CASCADE")
        kind = pw.CharField(max_length=10, constraints=[_check_in("kind", ("escalate", "rise", "reopen"))])
        from_level = pw.CharField(max_length=20, constraints=[_check_in("from_level", LEVELS)])
        to_level = pw.CharField(max_length=20, constraints=[_check_in("to_level", LEVELS)])
        department = pw.ForeignKeyField(Department, null=True, on_delete="RESTRICT")
        actor = pw.ForeignKeyField(user_model, null=True, on_delete="SET NULL", backref="+")
        reason = pw.TextField(default="")
        major = pw.BooleanField(default=False)
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "hand_off"

    @migrator.create_model
    class Clock(pw.Model):
        id = pw.AutoField()
        request = pw.ForeignKeyField(request_model, on_delete="CASCADE")
        hand_off = pw.ForeignKeyField(HandOff, null=True, on_delete="CASCADE")
        kind = pw.CharField(max_length=10, constraints=[_check_in("kind", ("solve", "feedback", "explain"))])
        level = pw.CharField(max_length=20, constraints=[_check_in("level", LEVELS)])
        department = pw.ForeignKeyField(Department, null=True, on_delete="RESTRICT")
        started_at = pw.DateTimeField()
        due_at = pw.DateTimeField(index=True)
        closed_at = pw.DateTimeField(null=True, index=True)
        closed_by = pw.ForeignKeyField(user_model, null=True, on_delete="SET NULL", backref="+")
        answer = pw.TextField(default="")
        outcome = pw.CharField(max_length=10, null=True, constraints=[pw.SQL(
            "CHECK (outcome IS NULL OR outcome IN ('on_time', 'late'))")])
        working_days_used = pw.IntegerField(null=True)
        reminded_at = pw.DateTimeField(null=True)
        risen_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "clock"

    @migrator.create_model
    class Reopening(pw.Model):
        id = pw.AutoField()
        request = pw.ForeignKeyField(request_model, on_delete="CASCADE")
        requested_by = pw.ForeignKeyField(user_model, null=True, on_delete="SET NULL", backref="+")
        requested_at = pw.DateTimeField(index=True)
        rating = pw.IntegerField(null=True)
        reason = pw.TextField(default="")
        decision = pw.CharField(max_length=10, null=True, constraints=[pw.SQL(
            "CHECK (decision IS NULL OR decision IN ('reopened', 'declined'))")])
        decided_by = pw.ForeignKeyField(user_model, null=True, on_delete="SET NULL", backref="+")
        decided_at = pw.DateTimeField(null=True)
        decline_reason = pw.TextField(default="")

        class Meta:
            table_name = "reopening"

    if not fake:
        migrator.run(_backfill, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in ("reopening", "clock", "hand_off", "department"):
        migrator.remove_model(name)
