"""Signed checkpoints: made on demand and by the scheduler, signed with a key kept outside the
database, published, and checked against today's chains by `ledger verify --checkpoints`."""

import base64
import json
import os
from datetime import timedelta

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from marketplace.db import db
from marketplace.ledger import adjustments, checkpoints
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerCheckpoint
from marketplace.ops import periodic
from marketplace.timeutil import utcnow
from tests.conftest import person, served
from tests.ledger.tampering import fix_balances, rehash_transfers, sql


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _credit(points=5, reason="helped"):
    member = person("resident")
    return adjustments.request_adjustment(person("community_admin"), ledger.user_account(member).id, "credit",
                                          points, reason)


def test_checkpoint_prints_one_signed_json_line_and_keeps_the_key_outside_the_database(app, tmp_path):
    code, output = _cli(app, "ledger", "checkpoint")
    assert code == 0, output
    [line] = output.strip().splitlines()
    seal = json.loads(line)
    assert seal["number"] == 1 and seal["ledger_seq"] == 3 and seal["balances"]["issuer"] == -280
    assert sum(seal["balances"].values()) == 0
    # The signature checks out with the public key the command prints.
    code, pem = _cli(app, "ledger", "public-key")
    signature = base64.b64decode(seal.pop("signature"))
    load_pem_public_key(pem.encode()).verify(signature, json.dumps(seal, sort_keys=True, separators=(",", ":")).encode())
    # The private key is a file of its own under instance/, readable by its owner only, and the
    # database holds no trace of it; the line is also appended to the log beside it.
    key_file = tmp_path / "ledger_signing_key.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    secret = key_file.read_bytes().split(b"\n")[1]
    database = tmp_path / "test.db"
    if database.exists():
        assert secret not in database.read_bytes()
    assert (tmp_path / "ledger_checkpoints.jsonl").read_text().strip() == line


def test_the_key_may_come_from_a_setting(app, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    app.config["LEDGER_SIGNING_KEY"] = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    code, output = _cli(app, "ledger", "checkpoint")
    assert code == 0, output
    assert json.loads(output)["key_id"] == checkpoints.key_id(key.public_key())
    assert not (tmp_path / "ledger_signing_key.pem").exists()


def test_a_ledger_with_a_fault_is_not_sealed(app, ctx):
    sql("UPDATE transfer SET amount = 181 WHERE seq = 1")
    code, output = _cli(app, "ledger", "checkpoint")
    assert code == 1 and "not sealed" in output and "transfer seq 1 (id 1)" in output
    assert LedgerCheckpoint.select().count() == 0


def test_verify_against_a_saved_file_names_a_truncation(app, ctx, tmp_path):
    _credit()
    _cli(app, "ledger", "checkpoint")
    saved = tmp_path / "saved.jsonl"
    saved.write_text((tmp_path / "ledger_checkpoints.jsonl").read_text())
    code, output = _cli(app, "ledger", "verify", "--checkpoints", str(saved))
    assert code == 0 and "1 checkpoint(s) checked" in output, output
    # Someone removes the newest transfer, its adjustment and the database's own seals, and
    # makes everything else consistent: only the saved seal can tell.
    sql("DELETE FROM adjustment")
    sql("DELETE FROM transfer WHERE seq = 4")
    sql("DELETE FROM ledger_checkpoint")
    fix_balances()
    rehash_transfers(3)
    code, output = _cli(app, "ledger", "verify")
    assert code == 0, output  # without the saved seal, nothing looks wrong
    code, output = _cli(app, "ledger", "verify", "--checkpoints", str(saved))
    assert code == 1
    assert "LEDGER FAULT: checkpoint 1 (published) is missing from the database's log" in output
    assert "the ledger now ends at seq 3: transfers after it were removed (the ledger was truncated)" in output


def test_verify_reads_the_boards_list_by_url(app, ctx):
    _cli(app, "ledger", "checkpoint")
    _credit()
    _cli(app, "ledger", "checkpoint")
    db.close()
    with served(app) as base:
        code, output = _cli(app, "ledger", "verify", "--checkpoints", f"{base}/board/checkpoints.json")
    assert code == 0 and "2 checkpoint(s) checked" in output, output
    code, output = _cli(app, "ledger", "verify", "--checkpoints", "http://127.0.0.1:9/none.json")
    assert code == 1 and "cannot read checkpoints" in output


def test_the_periodic_job_seals_once_a_day(app, ctx):
    assert periodic.ledger_checkpoint(24) == 1
    assert periodic.ledger_checkpoint(24) == 0  # a restart or the next hourly look seals nothing new
    LedgerCheckpoint.update(created_at=utcnow() - timedelta(hours=25)).execute()
    _credit()
    assert periodic.ledger_checkpoint(24) == 2
    second = json.loads(LedgerCheckpoint.get(LedgerCheckpoint.number == 2).line)
    assert second["previous"] == checkpoints.line_hash(LedgerCheckpoint.get(LedgerCheckpoint.number == 1).line)
    assert "ledger_checkpoint" in periodic.PERIODIC_TASKS  # the workers look at it every hour


def test_checkpoints_survive_no_key_mixup(app, ctx, tmp_path):
    """A seal checked with another key (a lost or replaced key file) is named, not trusted."""
    _cli(app, "ledger", "checkpoint")
    os.remove(tmp_path / "ledger_signing_key.pem")
    checkpoints.signing_key()  # a new key appears
    code, output = _cli(app, "ledger", "verify")
    assert code == 1 and "it was signed with key" in output
