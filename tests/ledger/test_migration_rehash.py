"""Migration 013 moves an existing chain to the hash that covers row ids and account codes: it
checks the old hashes first, so a chain already broken is not laundered by the upgrade."""

import hashlib
import importlib.util
from pathlib import Path

import pytest

from marketplace.db import db
from marketplace.ledger.models import Transfer
from marketplace.ledger.verify import verify_books
from tests.ledger.tampering import sql

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "013_ledger_checkpoints.py"


def _migration():
    spec = importlib.util.spec_from_file_location("migration_013", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _old_format_chain():
    """Rewrite the demo's chain with the hash formula of migrations 002-012."""
    previous = ""
    for t in Transfer.select().order_by(Transfer.seq):
        parts = (t.seq, t.created_at.isoformat(sep=" ", timespec="microseconds"), t.debit_id, t.credit_id, t.amount,
                 t.kind, t.ref, t.memo, t.actor_id or "", t.idempotency_key, t.reverses_id or "", previous)
        digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
        sql("UPDATE transfer SET prev_hash = ?, hash = ? WHERE id = ?", previous, digest, t.id)
        previous = digest
    sql("UPDATE ledger_head SET last_hash = ?", previous)


def test_an_intact_old_chain_is_rehashed_and_verifies(ctx):
    _old_format_chain()
    assert not verify_books().ok
    with db.atomic():
        _migration()._rehash(db.obj)
    report = verify_books()
    assert report.ok, report.faults


def test_a_broken_old_chain_stops_the_upgrade_by_name(ctx):
    _old_format_chain()
    sql("UPDATE transfer SET amount = 999 WHERE seq = 2")
    with pytest.raises(RuntimeError, match="transfer seq 2 does not match its hash"):
        with db.atomic():
            _migration()._rehash(db.obj)
