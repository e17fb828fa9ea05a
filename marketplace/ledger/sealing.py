"""Making a checkpoint: verify everything, then seal the heads with the signing key
(`flask ledger checkpoint`, and the scheduler's daily job). The format, the key and the checks
of published checkpoints are in ledger/checkpoints.py."""

import base64
from datetime import timedelta

from peewee import fn

from marketplace.audit import AuditHead
from marketplace.db import lock_head
from marketplace.ledger.checkpoints import VERSION, canonical, key_id, line_hash, signed_text, signing_key
from marketplace.ledger.models import Account, LedgerCheckpoint
from marketplace.ledger.services import ledger_transaction
from marketplace.ledger.verify import verify_ledger
from marketplace.settings import settings
from marketplace.shop.services import escrow_faults
from marketplace.timeutil import utcnow


class CheckpointRefused(Exception):
    """The ledger did not verify: no seal is put on a history with a fault in it."""



def _balances_by_kind() -> dict[str, int]:
    rows = Account.select(Account.kind, fn.SUM(Account.balance)).group_by(Account.kind).tuples()
    return {kind: int(total) for kind, total in rows if total}


def make_checkpoint() -> dict:
    """Verify everything, then seal the heads as they are now. Returns the checkpoint."""
    report = verify_ledger(extra_checks=[escrow_faults])
    if not report.ok:
        raise CheckpointRefused(f"the ledger does not verify, so it is not sealed: {report.faults[0]}")
    key = signing_key()
    with ledger_transaction() as head:
        audit = lock_head(AuditHead, 1, last_id=0, last_hash="")
        last = LedgerCheckpoint.select().order_by(LedgerCheckpoint.number.desc()).first()
        checkpoint = {
            "version": VERSION,
            "number": (last.number + 1) if last else 1,
            "time": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "ledger_seq": head.last_seq,
            "ledger_head": head.last_hash,
            "audit_seq": audit.last_id,
            "audit_head": audit.last_hash,
            "balances": _balances_by_kind(),
            "previous": line_hash(last.line) if last else "",
            "key_id": key_id(key.public_key()),
        }
        checkpoint["signature"] = base64.b64encode(key.sign(signed_text(checkpoint))).decode()
        line = canonical(checkpoint)
        LedgerCheckpoint.create(number=checkpoint["number"], created_at=utcnow(), ledger_seq=head.last_seq,
                                audit_seq=audit.last_id, line=line)
    log = settings().ledger_checkpoint_log
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:  # one write per line: appends never interleave
        fh.write(line + "\n")
    return checkpoint


def checkpoint_if_due(hours: int) -> int:
    """The scheduler's job: a new checkpoint when the newest is `hours` old (or there is none).
    Returns its number, or 0 when none was due. Raises CheckpointRefused when the ledger has a fault."""
    last = LedgerCheckpoint.select().order_by(LedgerCheckpoint.number.desc()).first()
    if last is not None and last.created_at > utcnow() - timedelta(hours=hours):
        return 0
    return make_checkpoint()["number"]
