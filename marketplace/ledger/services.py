"""The only code that moves points (DESIGN.md §3 Ledger, §5 Transactions).

Every other module calls `post_transfer` (or the helpers built on it) and nothing else
writes a balance or a transfer. The rules it keeps:

- amounts are positive whole numbers; transfers are never updated or deleted, a correction
  is a reversing transfer that points at the one it reverses;
- no balance but the issuer's goes below zero: a conditional UPDATE in the code and a CHECK
  in the database;
- an idempotency key moves points once: a retry gets the first transfer back;
- each transfer's hash covers its content and the previous transfer's hash, so an edit of
  history behind the app's back is found by `verify()`.
"""

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask_babel import gettext as _

from marketplace.db import db, lock_head
from marketplace.errors import DomainError
from marketplace.ledger.models import Account, LedgerHead, Transfer
from marketplace.timeutil import utcnow

HEAD_ID = 1


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
    """
    with db.atomic():
        yield lock_head(LedgerHead, HEAD_ID, last_seq=0, last_hash="")


def transfer_hash(transfer: Transfer) -> str:
    parts = (
        transfer.seq,
        transfer.created_at.isoformat(sep=" ", timespec="microseconds"),
        transfer.debit_id,
        transfer.credit_id,
        transfer.amount,
        transfer.kind,
        transfer.ref,
        transfer.memo,
        transfer.actor_id or "",
        transfer.idempotency_key,
        transfer.reverses_id or "",
        transfer.prev_hash,
    )
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


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
        transfer.hash = transfer_hash(transfer)
        transfer.save(force_insert=True)
        LedgerHead.update(last_seq=transfer.seq, last_hash=transfer.hash).where(LedgerHead.id == head.id).execute()
    return transfer


def balance_of(account: Account) -> int:
    return Account.get_by_id(account.id).balance


def award(actor, user, amount: int, kind: str, ref: str, key: str, memo: str = "") -> Transfer:
    """Points earned: from the community's issuer to a member (a service done, event hours)."""
    return post_transfer(system_account("issuer"), user_account(user), amount, kind, ref, key, actor, memo)


REVERSIBLE_KINDS = ("earn_request", "earn_event", "adjust")


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


# ---- verification --------------------------------------------------------------------------


@dataclass
class VerifyReport:
    transfers: int = 0
    accounts: int = 0
    points_issued: int = 0  # what the issuer has put into circulation
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


def verify(extra_checks=()) -> VerifyReport:
    """Recompute every balance from the transfers, check they sum to zero, that no member or
    partner is below zero, and that the hash chain is unbroken. Faults are listed in order,
    the first one first."""
    report = VerifyReport()
    sums: dict[int, int] = {}
    previous_hash, expected_seq = "", 1
    for transfer in Transfer.select().order_by(Transfer.seq).iterator():
        report.transfers += 1
        label = f"transfer seq {transfer.seq} (id {transfer.id})"
        if transfer.seq != expected_seq:
            report.faults.append(f"{label}: expected seq {expected_seq}, a transfer is missing or renumbered")
        if transfer.prev_hash != previous_hash:
            report.faults.append(f"{label}: prev_hash does not match the transfer before it")
        if transfer_hash(transfer) != transfer.hash:
            report.faults.append(f"{label}: content does not match its hash (edited outside the app)")
        if transfer.amount <= 0:
            report.faults.append(f"{label}: amount {transfer.amount} is not positive")
        sums[transfer.debit_id] = sums.get(transfer.debit_id, 0) - transfer.amount
        sums[transfer.credit_id] = sums.get(transfer.credit_id, 0) + transfer.amount
        previous_hash, expected_seq = transfer.hash, transfer.seq + 1
    head = LedgerHead.get_or_none(LedgerHead.id == HEAD_ID)
    if report.transfers and (head is None or (head.last_seq, head.last_hash) != (expected_seq - 1, previous_hash)):
        report.faults.append("the chain head does not match the last transfer: transfers were removed or added")
    total = 0
    for account in Account.select().order_by(Account.id).iterator():
        report.accounts += 1
        total += account.balance
        computed = sums.get(account.id, 0)
        if account.balance != computed:
            report.faults.append(f"account {account.code}: cached balance {account.balance} but transfers sum to {computed}")
        if account.kind != "issuer" and account.balance < 0:
            report.faults.append(f"account {account.code}: balance {account.balance} is below zero")
        if account.kind == "issuer":
            report.points_issued = -account.balance
    if total != 0:
        report.faults.append(f"all balances sum to {total}, not 0")
    for check in extra_checks:
        report.faults.extend(check())
    return report
