"""Issue 18's tamper test: someone with write access to a copy of the database changes it behind
the app's back, one way at a time, and `ledger verify --checkpoints` must catch every change,
naming the first fault.

A small ledger is seeded once (vouchers used, cancelled, expired and still issued; adjustments
posted, approved and rejected; a reversal; two signed checkpoints), then each case gets a fresh copy
of that SQLite file. The consistent multi-row rewrites also run on PostgreSQL
(test_tamper_postgres.py).
"""

import os
import shutil
from types import SimpleNamespace

import pytest

from marketplace.db import db
from marketplace.ledger.verify import verify_ledger
from marketplace.shop.services import escrow_faults
from tests.conftest import _create_test_app, demo_app
from tests.ledger import tampering as t
from tests.ledger.tamper_cases import CASES, REWRITES

pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tamper")
    seed_file = folder / "seed.db"
    with demo_app(f"sqlite:///{seed_file}", folder) as app, app.test_request_context(
            headers={"Accept-Language": "en"}):
        db.connect(reuse_if_open=True)
        facts = t.seed()
        db.close()
    work = folder / "work.db"
    app = _create_test_app(f"sqlite:///{work}", folder)
    return SimpleNamespace(app=app, seed=seed_file, work=work, facts=facts)


def tampered(seeded, tamper):
    """Verify a fresh copy of the seeded database after `tamper(facts)`; returns the report."""
    with seeded.app.test_request_context(headers={"Accept-Language": "en"}):
        if not db.is_closed():
            db.close()
        for suffix in ("-wal", "-shm"):
            if os.path.exists(f"{seeded.work}{suffix}"):
                os.remove(f"{seeded.work}{suffix}")
        shutil.copyfile(seeded.seed, seeded.work)
        db.connect()
        if tamper is not None:
            t.sql("PRAGMA foreign_keys = OFF")  # as the sqlite3 shell has it
            with db.atomic():
                tamper(seeded.facts)
            db.close()
            db.connect()
        try:
            return verify_ledger(extra_checks=[escrow_faults], published=seeded.facts["checkpoints"])
        finally:
            db.close()


def test_the_seeded_ledger_verifies_against_its_checkpoints(seeded):
    report = tampered(seeded, None)
    assert report.ok, report.faults
    assert (report.transfers, report.checkpoints) == (14, 2)


def test_there_are_at_least_a_hundred_different_tamperings():
    assert len(CASES) >= 100
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "tamper", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_tampering_is_caught_and_the_first_fault_named(seeded, name, tamper, expected):
    report = tampered(seeded, tamper)
    assert not report.ok, f"{name} went unnoticed"
    assert expected in report.faults[0], report.faults


def test_an_unparsable_value_is_named_and_the_faults_after_it_are_still_listed(seeded):
    def tamper(f):
        t.sql("UPDATE transfer SET created_at = 'last tuesday' WHERE seq = 8")
        t.sql("UPDATE transfer SET amount = 21 WHERE seq = 13")
        t.sql("UPDATE audit_log SET details = '{}' WHERE id = 6")

    report = tampered(seeded, tamper)
    assert "transfer seq 8 (id 8): created_at 'last tuesday' is not a date and time" in report.faults[0]
    assert any("transfer seq 13 (id 13): content does not match its hash" in f for f in report.faults)
    assert any("audit entry 6: content does not match its hash" in f for f in report.faults)


def test_every_multi_row_rewrite_is_caught(seeded):
    for name, tamper, expected in REWRITES:
        report = tampered(seeded, tamper)
        assert not report.ok, f"{name} went unnoticed"
        assert expected in report.faults[0], (name, report.faults)


def test_a_forged_checkpoint_signed_with_another_key_is_refused(seeded):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from marketplace.ledger import checkpoints

    forged = dict(seeded.facts["first_seal"])
    other = Ed25519PrivateKey.generate()
    forged["key_id"] = checkpoints.key_id(other.public_key())
    forged["signature"] = base64.b64encode(other.sign(checkpoints.signed_text(forged))).decode()
    with seeded.app.test_request_context():
        if not db.is_closed():
            db.close()
        shutil.copyfile(seeded.seed, seeded.work)
        report = verify_ledger(published=[checkpoints.canonical(forged)])
        db.close()
    assert "checkpoint 1 (the published list" in report.faults[0] or "differs" in report.faults[0]
    assert any("signed with key" in f for f in report.faults)


def test_an_expiry_moved_back_only_ends_the_voucher_sooner(seeded):
    """Not a fault: the app itself ends a voucher early when its offer ends; what it never does
    is give one more time than the setting allows."""
    report = tampered(seeded, lambda f: t.sql("UPDATE voucher SET expires_at = ? WHERE id = ?",
                                              t.one("SELECT created_at FROM voucher WHERE id = ?", f["issued"]),
                                              f["issued"]))
    assert report.ok, report.faults
