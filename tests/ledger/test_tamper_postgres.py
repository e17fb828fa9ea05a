"""The tamper test's consistent multi-row rewrites (heads reset, hashes recomputed) on PostgreSQL:
each on a fresh copy of the demo database, seeded and sealed, then rewritten as a database
superuser would (foreign keys off for the transaction)."""

import pytest

from marketplace.db import db
from marketplace.ledger.verify import verify_ledger
from marketplace.shop.services import escrow_faults
from tests.ledger import tampering as t
from tests.ledger.tamper_cases import REWRITES

pytestmark = pytest.mark.postgres_only


@pytest.mark.parametrize(("name", "tamper", "expected"), REWRITES, ids=[r[0] for r in REWRITES])
def test_every_multi_row_rewrite_is_caught_on_postgresql(ctx, name, tamper, expected):
    facts = t.seed()
    with db.atomic():
        t.sql("SET LOCAL session_replication_role = replica")  # no foreign-key triggers: a superuser's rewrite
        tamper(facts)
    report = verify_ledger(extra_checks=[escrow_faults], published=facts["checkpoints"])
    assert not report.ok, f"{name} went unnoticed"
    assert expected in report.faults[0], report.faults
