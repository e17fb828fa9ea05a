"""A small seeded ledger, and the ways someone with write access to its database might tamper
with it: single edits, deletions, forged rows with correct hashes, and consistent multi-row
rewrites with the heads reset. Shared by the SQLite and PostgreSQL tamper tests."""

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

from marketplace.audit import entry_hash, record
from marketplace.db import db
from marketplace.ledger import adjustments, checkpoints, sealing
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, Adjustment
from marketplace.ledger.services import transfer_hash
from marketplace.shop import services as shop
from marketplace.shop.models import Offer, Voucher
from marketplace.timeutil import utcnow
from tests.conftest import person


def seed() -> dict:
    """Vouchers in every state, adjustments posted, approved and rejected, a reversal, audit
    entries; a checkpoint in the middle and one at the end. Returns what the cases need."""
    volunteer, resident = person("volunteer"), person("resident")
    boss, admin, staff = person("community_admin"), person("admin"), person("partner_staff")
    hardware = Offer.select().where(Offer.title.startswith("免费磨刀")).get()
    eggs = Offer.select().where(Offer.title.startswith("新鲜鸡蛋")).get()
    used = shop.redeem(volunteer, hardware.id, "t1")
    shop.scan(staff, used.code)
    cancelled = shop.cancel_voucher(volunteer, shop.redeem(volunteer, eggs.id, "t2").id)
    expiring = shop.redeem(resident, eggs.id, "t3")
    Voucher.update(expires_at=utcnow() - timedelta(seconds=1)).where(Voucher.id == expiring.id).execute()
    shop.sweep_expired()
    small = adjustments.request_adjustment(boss, ledger.user_account(resident).id, "credit", 30, "helped at the door")
    big = adjustments.request_adjustment(boss, ledger.user_account(volunteer).id, "credit", 150, "a month of patrols")
    adjustments.approve_adjustment(admin, big.id)
    wrong = adjustments.request_adjustment(boss, ledger.user_account(resident).id, "credit", 500, "typo")
    adjustments.reject_adjustment(admin, wrong.id, "too many")
    ledger.reverse(admin, Adjustment.get_by_id(small.id).transfer, "posted twice", "reverse:small")
    record(admin, "test.note", None, what="a staff action")
    first = sealing.make_checkpoint()
    issued = shop.redeem(volunteer, hardware.id, "t4")
    debit = adjustments.request_adjustment(boss, ledger.user_account(volunteer).id, "debit", 7, "returned a loan")
    record(admin, "test.note", None, what="another")
    second = sealing.make_checkpoint()
    return {
        "used": used.id, "cancelled": cancelled.id, "expired": expiring.id, "issued": issued.id,
        "small": small.id, "big": big.id, "wrong": wrong.id, "debit": debit.id,
        "volunteer": ledger.user_account(volunteer).id, "resident": ledger.user_account(resident).id,
        "partner": ledger.partner_account(hardware.partner).id,
        "issuer": Account.get(Account.code == "issuer").id, "escrow": Account.get(Account.code == "escrow").id,
        "checkpoints": [checkpoints.canonical(first), checkpoints.canonical(second)],
        "first_seal": first, "last_seq": second["ledger_seq"], "last_audit": second["audit_seq"],
    }


# ---- raw access, as a tamperer has it -------------------------------------------------------


def sql(query: str, *params):
    return db.execute_sql(query.replace("?", db.param), params)


def rows(query: str, *params) -> list:
    return list(sql(query, *params).fetchall())


def one(query: str, *params):
    return rows(query, *params)[0][0]


def _stamp(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


COLUMNS = ("id", "seq", "created_at", "debit_id", "credit_id", "amount", "kind", "ref", "memo", "actor_id",
           "idempotency_key", "reverses_id", "prev_hash", "hash")


def rehash_transfers(from_seq: int = 1) -> None:
    """Recompute every hash from `from_seq` on with the app's own formula, and reset the head:
    a consistent rewrite that no hash check alone can see."""
    codes = dict(rows("SELECT id, code FROM account"))
    previous = one("SELECT hash FROM transfer WHERE seq = ?", from_seq - 1) if from_seq > 1 else ""
    last = 0
    for values in rows(f"SELECT {', '.join(COLUMNS)} FROM transfer WHERE seq >= ? ORDER BY seq", from_seq):
        t = SimpleNamespace(**dict(zip(COLUMNS, values, strict=True)))
        t.created_at, t.prev_hash = _stamp(t.created_at), previous
        t.hash = transfer_hash(t, codes[t.debit_id], codes[t.credit_id])
        sql("UPDATE transfer SET prev_hash = ?, hash = ? WHERE id = ?", t.prev_hash, t.hash, t.id)
        previous, last = t.hash, t.seq
    last = last or one("SELECT max(seq) FROM transfer")
    sql("UPDATE ledger_head SET last_seq = ?, last_hash = ?", last, previous)


def fix_balances() -> None:
    """Set every cached balance to the sum of its transfers, as a careful tamperer would."""
    for (aid,) in rows("SELECT id FROM account"):
        total = one("SELECT coalesce(sum(CASE WHEN credit_id = ? THEN amount ELSE -amount END), 0) FROM transfer "
                    "WHERE debit_id = ? OR credit_id = ?", aid, aid, aid)
        sql("UPDATE account SET balance = ? WHERE id = ?", total, aid)


AUDIT_COLUMNS = ("id", "created_at", "actor_id", "action", "object_type", "object_id", "details", "prev_hash", "hash")


def rehash_audit(from_id: int = 1) -> None:
    previous = one("SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1", from_id) \
        if rows("SELECT 1 FROM audit_log WHERE id < ?", from_id) else ""
    last = None
    for values in rows(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log WHERE id >= ? ORDER BY id", from_id):
        e = SimpleNamespace(**dict(zip(AUDIT_COLUMNS, values, strict=True)))
        e.created_at, e.prev_hash = _stamp(e.created_at), previous
        e.hash = entry_hash(e)
        sql("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", e.prev_hash, e.hash, e.id)
        previous, last = e.hash, e.id
    if last is None:
        last = one("SELECT coalesce(max(id), 0) FROM audit_log")
        previous = one("SELECT hash FROM audit_log WHERE id = ?", last) if last else ""
    sql("UPDATE audit_head SET last_id = ?, last_hash = ?", last, previous)


def append_transfer(debit: int, credit: int, amount: int, kind: str, ref: str, key: str, memo: str = "",
                    actor=None) -> int:
    """A forged transfer at the end of the chain, with a correct hash, the head and balances moved."""
    seq = one("SELECT max(seq) FROM transfer") + 1
    sql("INSERT INTO transfer (seq, created_at, debit_id, credit_id, amount, kind, ref, memo, actor_id, "
        "idempotency_key, reverses_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', ?)",
        seq, utcnow(), debit, credit, amount, kind, ref, memo, actor, key, f"forged:{seq}")
    rehash_transfers(seq)
    fix_balances()
    return one("SELECT id FROM transfer WHERE seq = ?", seq)


def details(**values) -> str:
    return json.dumps(values, ensure_ascii=False)
