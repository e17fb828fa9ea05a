"""The only code that moves points (DESIGN.md §3 Ledger, §5 Transactions).

Every other module calls `post_transfer` (or the helpers built on it) and nothing else
writes a balance or a transfer. The rules it keeps:

- amounts are positive whole numbers; transfers are never updated or deleted, a correction
  is a reversing transfer that points at the one it reverses;
- no balance but the issuer's goes below zero: a conditional UPDATE in the code and a CHECK
  in the database;
- an idempotency key moves points once: a retry gets the first transfer back;
- each transfer's hash covers its content and the previous transfer's hash, so an edit of
  history behind the app's back is found by `flask ledger verify` (ledger/verify.py).
"""

import threading
from contextlib import contextmanager

from flask_babel import gettext as _

from marketplace.db import db, lock_head
from marketplace.errors import DomainError
from marketplace.ledger.hashing import transfer_hash
from marketplace.ledger.models import REVERSIBLE_KINDS, Account, LedgerHead, Transfer
from marketplace.timeutil import utcnow

HEAD_ID = 1

# The head this thread holds locked, while its outermost ledger transaction is open.
_held = threading.local()


class NotEnoughPoints(DomainError):
    def __init__(self, balance: int, needed: int):
        super().__init__(
            _("Not enough points: the balance is %(balance)d and this needs %(needed)d.", balance=balance, needed=needed),
            field="amount",
            status=409,
            code="not_enough_points",
        )


# ---- accounts ------------------------------------------------------------------------------


def _account(code: str, kind: str, **owner) -> Account:
    account = Account.get_or_none(Account.code == code)
    if account is None:
        # Two first-time callers may race: insert-or-ignore, then read the winner's row.
        Account.insert(code=code, kind=kind, balance=0, created_at=utcnow(), **owner).on_conflict_ignore().execute()
        account = Account.get(Account.code == code)
    return account


def user_account(user) -> Account:
    return _account(f"user:{user.id}", "user", user=user.id)


def partner_account(partner) -> Account:
    return _account(f"partner:{partner.id}", "partner", partner=partner.id)


def system_account(kind: str) -> Account:
    """The community's issuer (the source of all points), the voucher escrow, the flea market."""
    assert kind in ("issuer", "escrow", "flea_market"), kind
    return _account(kind, kind)


# ---- posting -------------------------------------------------------------------------------


@contextmanager
def ledger_transaction():
    """A transaction that holds the ledger's lock until it commits.

    Every posting locks the one LedgerHead row first, so postings are serialized in one order
    (no deadlocks between accounts) and a service may check a rule ("stock left", "per-person
    limit", "already used") and act on it without a racer slipping in between. On SQLite the
    database-wide IMMEDIATE lock does the same.

    Inside one already open (a service posting inside its own ledger transaction, as redeeming
    and scanning do) the lock is held and the head known: it is handed on as it is, without a
    savepoint and a second read of the head (three statements fewer inside the lock, issue 20).
    What a nested posting may refuse (not enough points, a reused key) it refuses before it writes.
    """
    head = getattr(_held, "head", None)
    if head is not None:
        yield head
        return
    with db.atomic():
        _held.head = lock_head(LedgerHead, HEAD_ID, last_seq=0, last_hash="")
        try:
            yield _held.head
        finally:
            _held.head = None


def post_transfer(debit: Account, credit: Account, amount: int, kind: str, ref: str, key: str, actor=None,
                  memo: str = "", reverses: Transfer | None = None) -> Transfer:
    """Move `amount` points from `debit` to `credit`, once per `key`. Returns the transfer
    (the first one, when `key` was used before). Raises NotEnoughPoints, changing nothing."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError(_("An amount of points must be a whole number above zero."), field="amount", code="invalid")
    if debit.id == credit.id:
        raise ValueError("a transfer needs two different accounts")
    with ledger_transaction() as head:
        earlier = Transfer.get_or_none(Transfer.idempotency_key == key)
        if earlier is not None:
            if (earlier.debit_id, earlier.credit_id, earlier.amount, earlier.kind) != (debit.id, credit.id, amount, kind):
                raise DomainError(_("This request was already used for a different operation."), status=409,
                                  code="idempotency_key_conflict")
            return earlier
        # Relative, conditional debit: the database settles racers, never Python arithmetic.
        debited = (
            Account.update(balance=Account.balance - amount)
            .where((Account.id == debit.id) & ((Account.kind == "issuer") | (Account.balance >= amount)))
            .execute()
        )
        if debited != 1:
            raise NotEnoughPoints(Account.get_by_id(debit.id).balance, amount)
        Account.update(balance=Account.balance + amount).where(Account.id == credit.id).execute()
        transfer = Transfer(
            seq=head.last_seq + 1,
            created_at=utcnow(),
            debit=debit.id,
            credit=credit.id,
            amount=amount,
            kind=kind,
            ref=ref[:100],
            memo=memo[:500],
            actor=actor.id if actor is not None else None,
            idempotency_key=key,
            reverses=reverses.id if reverses is not None else None,
            prev_hash=head.last_hash,
        )
        # The row id is under the hash, so the row goes in first with a placeholder that is
        # unique because its seq is; the lock on the head keeps anyone from seeing it.
        transfer.hash = f"pending:{transfer.seq}"
        transfer.save(force_insert=True)
        transfer.hash = transfer_hash(transfer, debit.code, credit.code)
        Transfer.update(hash=transfer.hash).where(Transfer.id == transfer.id).execute()
        LedgerHead.update(last_seq=transfer.seq, last_hash=transfer.hash).where(LedgerHead.id == head.id).execute()
        head.last_seq, head.last_hash = transfer.seq, transfer.hash  # the next posting in this transaction
    return transfer


def balance_of(account: Account) -> int:
    return Account.get_by_id(account.id).balance


def award(actor, user, amount: int, kind: str, ref: str, key: str, memo: str = "") -> Transfer:
    """Points earned: from the community's issuer to a member (a service done, event hours)."""
    return post_transfer(system_account("issuer"), user_account(user), amount, kind, ref, key, actor, memo)


def reverse(actor, transfer: Transfer, reason: str, key: str) -> Transfer:
    """Undo a transfer with its mirror image. Voucher transfers are undone by cancelling the
    voucher instead, so that the voucher's state and the points never disagree."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give a reason."), field="reason", code="invalid")
    if transfer.kind not in REVERSIBLE_KINDS:
        raise DomainError(_("Only earnings and adjustments can be reversed."), status=409, code="not_reversible")
    with ledger_transaction():
        done = Transfer.get_or_none(Transfer.reverses == transfer.id)
        if done is not None and done.idempotency_key != key:
            raise DomainError(_("This transfer was already reversed (transfer %(seq)d).", seq=done.seq), status=409,
                              code="already_reversed")
        return post_transfer(
            Account.get_by_id(transfer.credit_id), Account.get_by_id(transfer.debit_id), transfer.amount,
            "reversal", f"transfer:{transfer.seq}", key, actor, memo=reason, reverses=transfer,
        )
