"""The tamperings of the tamper test: (name, tamper(facts), what the first fault must say).

The seeded ledger (tampering.seed): transfers 1-3 are the demo's awards, 4-9 vouchers 1-3
(redeemed; settled, cancelled, expired), 10-11 adjustments 1-2, 12 the reversal of adjustment 1
(checkpoint 1 seals seq 12), 13 voucher 4 (still issued), 14 adjustment 4 (checkpoint 2 seals it).
Account 1 is the issuer, 2 escrow, 4 partner:1, 12 user:6, 13 user:7, 14 user:8.
"""

from datetime import timedelta

from tests.ledger import tampering as t

FIRST, MIDDLE, NEWEST = 1, 8, 14
CASES: list = []


def case(name, expected):
    def add(fn):
        CASES.append((name, fn, expected))
        return fn
    return add


def update(table, column, value, where, expected, name=None, raw=False):
    """One column of one row set to `value` (SQL text when raw)."""
    query = f"UPDATE {table} SET {column} = {value} WHERE {where}" if raw else \
        f"UPDATE {table} SET {column} = ? WHERE {where}"
    CASES.append((name or f"{table}.{column} where {where}",
                  (lambda f: t.sql(query)) if raw else (lambda f: t.sql(query, value)), expected))


def shifted(table, column, where, delta):
    """A time column moved by `delta`."""
    def tamper(f):
        when = t._stamp(t.one(f"SELECT {column} FROM {table} WHERE {where}"))
        t.sql(f"UPDATE {table} SET {column} = ? WHERE {where}", when + delta)
    return tamper


# ---- every column of the first, a middle and the newest transfer --------------------------------

for seq in (FIRST, MIDDLE, NEWEST):
    row = f"seq = {seq}"
    hashed = f"transfer seq {seq} (id {seq}): content does not match its hash"
    update("transfer", "id", 900 + seq, row, f"transfer seq {seq} (id {900 + seq}): content does not match")
    update("transfer", "seq", 900 + seq, row, f"expected seq {seq}")
    CASES.append((f"transfer.created_at moved, {row}", shifted("transfer", "created_at", row, timedelta(seconds=1)),
                  hashed))
    update("transfer", "created_at", "garbage", row, f"transfer seq {seq} (id {seq}): created_at 'garbage' is not",
           name=f"transfer.created_at unparsable, {row}")
    update("transfer", "debit_id", 15, row, hashed)
    update("transfer", "credit_id", 16, row, hashed)
    update("transfer", "amount", "amount + 1", row, hashed, raw=True)
    update("transfer", "amount", "'abc'", row, f"transfer seq {seq} (id {seq}): amount 'abc' is not a whole number",
           raw=True, name=f"transfer.amount unparsable, {row}")
    update("transfer", "kind", "reversal", row, hashed)
    update("transfer", "ref", "ref || 'x'", row, hashed, raw=True)
    update("transfer", "memo", "forged", row, hashed)
    update("transfer", "actor_id", 3, row, hashed)
    update("transfer", "idempotency_key", "another-key", row, hashed)
    update("transfer", "reverses_id", 5, row, hashed)
    update("transfer", "prev_hash", "0" * 64, row, f"transfer seq {seq} (id {seq}): prev_hash does not match")
    update("transfer", "hash", "f" * 64, row, hashed)

# ---- accounts ---------------------------------------------------------------------------------------

update("account", "code", "user:99", "id = 14", "account user:99 (id 14): kind user")
update("account", "code", "issuer2", "id = 1", "account issuer2 (id 1): kind issuer")
update("account", "code", "partner:9", "id = 4", "account partner:9 (id 4): kind partner")
update("account", "kind", "issuer", "id = 14", "account user:8 (id 14): kind issuer",
       name="a member's account turned into a second issuer")
update("account", "kind", "flea_market", "id = 2", "account escrow (id 2): kind flea_market")
update("account", "kind", "user", "id = 4", "account partner:1 (id 4): kind user")
update("account", "user_id", 999, "id = 14", "account user:8 (id 14)")
update("account", "user_id", 999, "id = 2", "account escrow (id 2)")
update("account", "partner_id", 999, "id = 4", "account partner:1 (id 4)")
update("account", "partner_id", 999, "id = 14", "account user:8 (id 14)")
update("account", "balance", "balance + 50", "id = 14", "account user:8 (id 14): cached balance", raw=True)
update("account", "balance", "balance - 50", "id = 1", "account issuer (id 1): cached balance", raw=True)
update("account", "balance", "'lots'", "id = 13", "account user:7 (id 13): balance 'lots' is not", raw=True)
update("account", "created_at", "garbage", "id = 14", "account user:8 (id 14): created_at 'garbage'")
CASES.append(("account.created_at after its first transfer", shifted("account", "created_at", "id = 12",
                                                                       timedelta(days=30)),
              "account user:6 (id 12): created_at"))
update("account", "id", 900, "id = 14", "its credit account id 14 does not exist", name="account.id renumbered")
CASES.append(("a member's account deleted", lambda f: t.sql("DELETE FROM account WHERE id = 14"),
              "account id 14 does not exist"))
CASES.append(("a second issuer account", lambda f: t.sql(
    "INSERT INTO account (code, kind, balance, created_at) VALUES ('issuer:2', 'issuer', -1000, '2026-01-01')"),
    "account issuer:2"))


@case("two members' accounts swapped, balances too", "transfer seq 2 (id 2): content does not match its hash")
def _swap_accounts(f):
    t.sql("UPDATE account SET code = 'tmp', user_id = NULL WHERE id = 12")
    t.sql("UPDATE account SET code = 'user:6', user_id = 6 WHERE id = 13")
    t.sql("UPDATE account SET code = 'user:7', user_id = 7 WHERE id = 12")
    t.fix_balances()


# ---- vouchers (1 used, 2 cancelled, 3 expired, 4 issued) ----------------------------------------------

update("voucher", "offer_id", 4, "id = 1", "voucher 1: points at transfer seq 4")
update("voucher", "holder_id", 6, "id = 4", "voucher 4: holder is user 6", name="voucher.holder_id of an issued one")
update("voucher", "holder_id", 7, "id = 2", "voucher 2: holder is user 7", name="voucher.holder_id: the refund went elsewhere")
update("voucher", "price", 10, "id = 4", "voucher 4: price 10")
update("voucher", "price", 5, "id = 1", "voucher 1: price 5", name="voucher.price of a used one")
update("voucher", "status", "used", "id = 4", "voucher 4: points at transfer id None")
update("voucher", "status", "cancelled", "id = 1", "voucher 1: points at transfer seq 5 (settle")
update("voucher", "status", "cancelled", "id = 3", "voucher 3: is cancelled but its refund was for 'expired'")
update("voucher", "status", "issued", "id = 2", "voucher 2: is still issued but has a closing transfer")
CASES.append(("voucher.expires_at ten years on", shifted("voucher", "expires_at", "id = 4", timedelta(days=3650)),
              "voucher 4: expires_at"))
update("voucher", "expires_at", "never", "id = 4", "voucher 4: expires_at 'never' is not a date and time",
       name="voucher.expires_at unparsable")
CASES.append(("voucher.created_at moved", shifted("voucher", "created_at", "id = 1", timedelta(days=-1)),
              "voucher 1: created_at"))
update("voucher", "redeem_transfer_id", 6, "id = 4", "voucher 4: points at transfer seq 6")
update("voucher", "closing_transfer_id", 9, "id = 2", "voucher 2: points at transfer seq 9")
CASES.append(("voucher.closed_at moved", shifted("voucher", "closed_at", "id = 1", timedelta(days=1)),
              "voucher 1: closed_at"))
update("voucher", "used_by_id", 2, "id = 1", "voucher 1: used by user 2")
update("voucher", "used_at_place", "another shop", "id = 1", "voucher 1: used at 'another shop'")
update("voucher", "id", 40, "id = 1", "voucher 40: points at transfer seq 5")
CASES.append(("an issued voucher deleted", lambda f: t.sql("DELETE FROM voucher WHERE id = 4"), "transfer seq 13: a redeem"))
CASES.append(("a used voucher deleted", lambda f: t.sql("DELETE FROM voucher WHERE id = 1"), "voucher:1"))

# ---- adjustments (1 posted then reversed, 2 approved, 3 rejected, 4 posted) ------------------------------

update("adjustment", "account_id", 12, "id = 2", "adjustment 2: does not match its audit entry")
update("adjustment", "direction", "credit", "id = 4", "adjustment 4: does not match its audit entry")
update("adjustment", "amount", 149, "id = 2", "adjustment 2: does not match its audit entry")
update("adjustment", "reason", "something else", "id = 1", "adjustment 1: does not match its audit entry")
update("adjustment", "status", "posted", "id = 3", "adjustment 3: is 'posted' but the audit log has no decision")
update("adjustment", "status", "rejected", "id = 2", "adjustment 2: is 'rejected' but the audit log has no decision")
update("adjustment", "status", "pending", "id = 4", "adjustment 4: is pending but says who decided it")
update("adjustment", "requested_by_id", 1, "id = 2", "adjustment 2: does not match its audit entry")
update("adjustment", "decided_by_id", 2, "id = 2", "adjustment 2: decided by user 2")
update("adjustment", "decision_note", "fine", "id = 3", "adjustment 3: its decision note")
update("adjustment", "transfer_id", 11, "id = 4", "adjustment 4: points at transfer seq 11")
CASES.append(("adjustment.created_at moved", shifted("adjustment", "created_at", "id = 2", timedelta(days=-1)),
              "adjustment 2: created_at"))
CASES.append(("adjustment.decided_at moved", shifted("adjustment", "decided_at", "id = 2", timedelta(days=1)),
              "adjustment 2: decided by user 1 at"))
update("adjustment", "id", 40, "id = 4", "adjustment 40: has no entry in the audit log")
CASES.append(("a posted adjustment deleted", lambda f: t.sql("DELETE FROM adjustment WHERE id = 4"),
              "transfer seq 14: a adjust"))

# ---- the heads ----------------------------------------------------------------------------------------

update("ledger_head", "last_seq", 13, "id = 1", "the chain head does not match")
update("ledger_head", "last_hash", "0" * 64, "id = 1", "the chain head does not match")
update("ledger_head", "id", 2, "id = 1", "the chain head does not match")
update("audit_head", "last_id", 7, "id = 1", "the audit chain's head does not match")
update("audit_head", "last_hash", "0" * 64, "id = 1", "the audit chain's head does not match")
update("audit_head", "id", 2, "id = 1", "the audit chain's head does not match")

# ---- every column of the first, a middle and the newest audit entry -------------------------------------

for entry in (1, 4, 8):
    row = f"id = {entry}"
    hashed = f"audit entry {entry}: content does not match its hash"
    update("audit_log", "id", 100 + entry, row, "audit entry")
    CASES.append((f"audit_log.created_at moved, {row}", shifted("audit_log", "created_at", row, timedelta(seconds=1)),
                  hashed))
    update("audit_log", "created_at", "garbage", row, f"audit entry {entry}: created_at 'garbage' is not",
           name=f"audit_log.created_at unparsable, {row}")
    update("audit_log", "actor_id", 5, row, hashed)
    update("audit_log", "action", "test.nothing", row, hashed)
    update("audit_log", "object_type", "User", row, hashed)
    update("audit_log", "object_id", 77, row, hashed)
    update("audit_log", "details", "{}", row, hashed)
    update("audit_log", "prev_hash", "0" * 64, row, f"audit entry {entry}: the entry before it was changed")
    update("audit_log", "hash", "e" * 64, row, hashed)

# ---- deletions of the first, a middle and the newest rows ---------------------------------------------------


@case("the first transfer deleted", "transfer seq 2 (id 2): expected seq 1")
def _delete_first(f):
    t.sql("DELETE FROM transfer WHERE seq = 1")
    t.fix_balances()


@case("a middle transfer deleted", "transfer seq 9 (id 9): expected seq 8")
def _delete_middle(f):
    t.sql("DELETE FROM transfer WHERE seq = 8")


@case("the newest transfer deleted, head and balances reset", "checkpoint 2 (the database's log, ledger seq 14")
def _delete_newest(f):
    t.sql("DELETE FROM transfer WHERE seq = 14")
    t.fix_balances()
    t.rehash_transfers(13)


CASES.append(("the first audit entry deleted", lambda f: t.sql("DELETE FROM audit_log WHERE id = 1"),
              "audit entry 2: the entry before it was changed"))
CASES.append(("a middle audit entry deleted", lambda f: t.sql("DELETE FROM audit_log WHERE id = 4"),
              "audit entry 5: the entry before it was changed"))


@case("the newest audit entry deleted, head reset", "checkpoint 2 (the database's log, ledger seq 14, audit entry 8)")
def _delete_newest_audit(f):
    t.sql("DELETE FROM audit_log WHERE id = 8")
    t.rehash_audit(8)


# ---- forged rows with correct hashes -----------------------------------------------------------------------


@case("a forged event payment appended with a correct hash", "transfer seq 15: a earn_event for 'event:1'")
def _forged_pay(f):
    t.append_transfer(f["issuer"], f["volunteer"], 500, "earn_event", "event:1", "attendance:999:pay")


@case("a forged care visit payment appended with a correct hash", "transfer seq 15: a earn_care for 'care_visit:1'")
def _forged_care(f):
    t.append_transfer(f["issuer"], f["volunteer"], 10, "earn_care", "care_visit:1", "care_visit:1:pay")


@case("a forged care visit payment under a key the app never writes",
      "transfer seq 15 (id 15): idempotency key 'care:1' with ref 'care_visit:1': a care visit's pay")
def _forged_care_key(f):
    t.append_transfer(f["issuer"], f["volunteer"], 10, "earn_care", "care_visit:1", "care:1")


@case("a forged demo award appended with a correct hash", "transfer seq 15: a demo award after real transfers")
def _forged_demo(f):
    t.append_transfer(f["issuer"], f["volunteer"], 500, "earn_event", "demo", "demo:award:13900000003x")


@case("a forged adjustment and its transfer, no audit entry", "adjustment 5: has no entry in the audit log")
def _forged_adjustment(f):
    t.sql("INSERT INTO adjustment (id, account_id, direction, amount, reason, status, requested_by_id, decided_by_id, "
          "decision_note, created_at, decided_at) VALUES (5, ?, 'credit', 80, 'bonus', 'posted', 2, 2, '', ?, ?)",
          f["volunteer"], t.utcnow(), t.utcnow())
    tid = t.append_transfer(f["issuer"], f["volunteer"], 80, "adjust", "adjustment:5", "adjustment:5", "bonus", 2)
    t.sql("UPDATE adjustment SET transfer_id = ? WHERE id = 5", tid)


@case("a forged refund of a used voucher", "transfer seq 15 (id 15): idempotency key 'voucher:1:close:again'")
def _forged_refund(f):
    t.append_transfer(f["escrow"], f["volunteer"], 20, "refund", "voucher:1", "voucher:1:close:again", "cancelled")


REWRITES: list = []


def rewrite(name, expected):
    def add(fn):
        REWRITES.append((name, fn, expected))
        CASES.append((f"rewrite: {name}", fn, expected))
        return fn
    return add


# ---- consistent multi-row rewrites with the heads reset (also on PostgreSQL) --------------------------------


@rewrite("the two newest transfers and what made them removed", "checkpoint 2 (the database's log, ledger seq 14")
def _truncate(f):
    t.sql("DELETE FROM voucher WHERE id = ?", f["issued"])
    t.sql("DELETE FROM adjustment WHERE id = ?", f["debit"])
    t.sql("DELETE FROM transfer WHERE seq > 12")
    t.fix_balances()
    t.rehash_transfers(12)


@rewrite("a middle transfer edited and everything after it rehashed",
         "checkpoint 1 (the database's log, ledger seq 12, audit entry 6): transfer seq 12 no longer has the sealed hash")
def _rehash_middle(f):
    t.sql("UPDATE transfer SET amount = 400 WHERE seq = 3")
    t.fix_balances()
    t.rehash_transfers(3)


@rewrite("the tail replaced by a forged one", "checkpoint 2 (the database's log, ledger seq 14")
def _forged_tail(f):
    t.sql("DELETE FROM adjustment WHERE id = ?", f["debit"])
    t.sql("DELETE FROM transfer WHERE seq = 14")
    t.fix_balances()
    t.rehash_transfers(13)
    t.append_transfer(f["issuer"], f["volunteer"], 7, "earn_event", "event:1", "attendance:998:pay")


@rewrite("a transfer inserted in the middle, the rest renumbered and rehashed",
         "checkpoint 1 (the database's log, ledger seq 12, audit entry 6): transfer seq 12 no longer")
def _insert_middle(f):
    t.sql("UPDATE transfer SET seq = seq + 1000 WHERE seq >= 5")
    t.sql("UPDATE transfer SET seq = seq - 999 WHERE seq >= 1000")
    t.sql("INSERT INTO transfer (seq, created_at, debit_id, credit_id, amount, kind, ref, memo, actor_id, "
          "idempotency_key, reverses_id, prev_hash, hash) VALUES (5, ?, ?, ?, 100, 'earn_event', 'event:1', '', NULL, "
          "'attendance:997:pay', NULL, '', 'forged')", t.utcnow(), f["issuer"], f["volunteer"])
    t.fix_balances()
    t.rehash_transfers(5)


@rewrite("the first transfer removed, the rest renumbered and rehashed",
         "checkpoint 1 (the database's log, ledger seq 12, audit entry 6): transfer seq 12 no longer")
def _renumber(f):
    t.sql("DELETE FROM transfer WHERE seq = 1")
    t.sql("UPDATE transfer SET seq = seq + 1000")
    t.sql("UPDATE transfer SET seq = seq - 1001")
    t.fix_balances()
    t.rehash_transfers(1)


@rewrite("the whole audit log and its head deleted",
         "checkpoint 1 (the database's log, ledger seq 12, audit entry 6): the audit chain now ends at entry 0")
def _no_audit(f):
    t.sql("DELETE FROM audit_log")
    t.sql("UPDATE audit_head SET last_id = 0, last_hash = ''")


@rewrite("an audit entry edited and the log after it rehashed",
         "checkpoint 1 (the database's log, ledger seq 12, audit entry 6): audit entry 6 no longer has the sealed hash")
def _audit_rehashed(f):
    t.sql("UPDATE audit_log SET details = ? WHERE id = 3", t.details(amount=1))
    t.rehash_audit(3)


@rewrite("two members' accounts swapped and the whole chain rehashed",
         "transfer seq 8 (id 8): idempotency key 'redeem:6:t3' with ref 'offer:4': a redemption must move a member's")
def _swap_rehashed(f):
    _swap_accounts(f)
    t.rehash_transfers(1)


@rewrite("an account's kind changed (a member made the issuer's twin), all consistent",
         "account user:7 (id 13): kind escrow")
def _kind_changed(f):
    t.sql("UPDATE account SET kind = 'escrow' WHERE id = 13")


@rewrite("the database's checkpoint log emptied", "checkpoint 1 (published) is missing from the database's log")
def _no_checkpoints(f):
    t.sql("DELETE FROM ledger_checkpoint")
