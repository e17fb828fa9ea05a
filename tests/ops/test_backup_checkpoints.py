"""Backups and the ledger's seals: a restore checks both chains against every checkpoint known
before it, so a backup older than a published checkpoint is refused by name; an interrupted
backup leaves no half-written file behind."""

import os
import subprocess
import sys

import pytest

from marketplace.db import db
from marketplace.ledger import adjustments
from marketplace.ledger import services as ledger
from marketplace.ops import backup
from tests.conftest import person
from tests.ops.test_ops import _app_for, _cli, _close_pool, _fresh_database_url


def _credit(app, points):
    with app.test_request_context():
        db.connect(reuse_if_open=True)
        adjustments.request_adjustment(person("community_admin"), ledger.user_account(person("resident")).id,
                                       "credit", points, "backup test")
        db.close()


def test_a_backup_older_than_a_published_checkpoint_is_refused_and_a_newer_one_restores(app, database_url, tmp_path):
    suffix = ".sqlite3" if database_url.startswith("sqlite") else ".sql"
    before, after = tmp_path / f"before{suffix}", tmp_path / f"after{suffix}"
    _credit(app, 5)
    assert _cli(app, "backup", "--output", str(before))[0] == 0
    _credit(app, 6)
    code, output = _cli(app, "ledger", "checkpoint")
    assert code == 0, output
    assert _cli(app, "backup", "--output", str(after))[0] == 0
    # The instance folder (with the key and the checkpoint log) is not in any backup.
    key = (tmp_path / "ledger_signing_key.pem").read_bytes().split(b"\n")[1]
    assert key not in before.read_bytes() and key not in after.read_bytes()

    _close_pool()
    fresh_url = _fresh_database_url(database_url, tmp_path, "restored")
    restored = _app_for(fresh_url, tmp_path)
    code, output = _cli(restored, "restore", str(before))
    assert code == 1
    assert "RESTORE REFUSED" in output
    assert "checkpoint 1 (published" in output and "the ledger now ends at seq 4" in output
    if database_url.startswith("sqlite"):  # checked in a scratch copy: nothing was restored
        assert not (tmp_path / "restored.db").exists() or (tmp_path / "restored.db").stat().st_size == 0
        assert not list(tmp_path.glob("*.restore-check*"))
    _close_pool()
    restored = _app_for(_fresh_database_url(database_url, tmp_path, "restored2"), tmp_path)
    code, output = _cli(restored, "restore", str(after))
    assert code == 0, output
    assert "Ledger OK" in output and "1 checkpoint(s)" in output
    _close_pool()


@pytest.mark.sqlite_only
def test_an_interrupted_backup_leaves_nothing_the_next_one_does_not_remove(app, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    # A backup killed mid-way (the kernel gives it no chance to clean up).
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stale = folder / f".marketplace-20260101-000000.sqlite3.{child.pid}.partial"
    stale.write_bytes(b"\0" * 1_000_000)
    child.kill()
    child.wait()
    # One being written right now by a live process is left alone.
    running = folder / f".marketplace-20260101-000001.sqlite3.{os.getpid()}.partial"
    running.write_bytes(b"\0")
    code, output = _cli(app, "backup", "--output", str(folder / "next.sqlite3"))
    assert code == 0, output
    assert not stale.exists() and running.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(["next.sqlite3", running.name])
    assert backup.remove_interrupted(folder) == []
