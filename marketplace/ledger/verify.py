"""`flask ledger verify`: every row the points depend on, checked against the others.

What it reads and what must agree (issue 18):

- accounts: exactly one issuer, coded `issuer`; each code, kind and owner agree (`user:7` is a
  user account owned by user 7, `partner:3` a partner's, the system accounts own nothing);
- transfers: numbered 1, 2, 3, ... each hash covering the row id, the content, the two accounts'
  codes and the hash before it; the head row at the end of the chain; every transfer names
  existing accounts, its idempotency key fits its kind and reference;
- balances: each cached balance equals its transfers, all sum to zero, none but the issuer's
  below zero;
- the audit chain (audit/chain.py);
- signed checkpoints (ledger/checkpoints.py): the database's own log, and any published file or URL
  given, must still be prefixes of today's chains;
- what made each transfer (ledger/sources.py): vouchers against their redeem, settle and refund
  transfers, adjustments (and their audit entries), request payouts and event pay against theirs;
  every transfer has exactly one.

A value that cannot be read (text where a time belongs, a number that is not one) is named with its
row and the check goes on: verify lists every fault it finds, the first one first, and never stops at
a traceback.
"""

from dataclasses import dataclass, field
from datetime import datetime

from marketplace.ledger.hashing import transfer_hash
from marketplace.ledger.models import SYSTEM_ACCOUNTS, TRANSFER_KINDS, Account, LedgerHead, Transfer

HEAD_ID = 1


@dataclass
class VerifyReport:
    transfers: int = 0
    accounts: int = 0
    points_issued: int = 0  # what the issuer has put into circulation
    audit_entries: int = 0
    checkpoints: int = 0  # signed checkpoints checked
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass
class Chain:
    """What the walk over the transfers learnt, for the later checks."""

    accounts: dict = field(default_factory=dict)  # id -> (code, kind, user_id, partner_id)
    transfers: dict = field(default_factory=dict)  # id -> Row
    last_seq: int = 0
    last_hash: str = ""
    wanted: set = field(default_factory=set)  # seqs whose hash and per-kind balances checkpoints need
    sealed: dict = field(default_factory=dict)  # seq -> (hash, {kind: sum})
    first_use: dict = field(default_factory=dict)  # account id -> its first transfer's time
    provenance: bool = True  # also check what made each transfer (keys, vouchers, adjustments, payouts)


@dataclass(slots=True)
class Row:
    id: int
    seq: int
    created_at: object
    debit: int
    credit: int
    amount: int
    kind: str
    ref: str
    memo: str
    key: str
    reverses: int | None
    actor: int | None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _owner_fault(code, kind, user_id, partner_id) -> str | None:
    if kind == "user":
        if user_id is None or partner_id is not None or code != f"user:{user_id}":
            return f"kind user, owner user {user_id} / partner {partner_id}: the code, kind and owner disagree"
    elif kind == "partner":
        if partner_id is None or user_id is not None or code != f"partner:{partner_id}":
            return f"kind partner, owner partner {partner_id} / user {user_id}: the code, kind and owner disagree"
    elif kind in SYSTEM_ACCOUNTS:
        if code != kind or user_id is not None or partner_id is not None:
            return f"kind {kind}: a system account's code must be its kind and it has no owner"
    else:
        return f"kind {kind!r} is not an account kind"
    return None


def check_accounts(report: VerifyReport, chain: Chain) -> None:
    issuers = []
    query = Account.select(Account.id, Account.code, Account.kind, Account.user, Account.partner, Account.balance,
                           Account.created_at)
    for aid, code, kind, user_id, partner_id, balance, created_at in query.order_by(Account.id).tuples().iterator():
        report.accounts += 1
        label = f"account {code} (id {aid})"
        if not _is_int(aid) or not isinstance(code, str):
            report.faults.append(f"{label}: its id or code is unreadable")
            continue
        chain.accounts[aid] = (code, kind, user_id, partner_id, created_at)
        if not isinstance(created_at, datetime):
            report.faults.append(f"{label}: created_at {created_at!r} is not a date and time")
        fault = _owner_fault(code, kind, user_id, partner_id)
        if fault:
            report.faults.append(f"{label}: {fault}")
        if kind == "issuer":
            issuers.append(code)
        if not _is_int(balance):
            report.faults.append(f"{label}: balance {balance!r} is not a whole number")
        elif kind != "issuer" and balance < 0:
            report.faults.append(f"{label}: balance {balance} is below zero")
    if report.accounts and issuers != ["issuer"]:
        report.faults.append(f"there must be exactly one issuer account, coded 'issuer'; found {issuers or 'none'}")


def _key_fault(row: Row, accounts: dict) -> str | None:
    """Each kind of transfer is made by one piece of code, which names its key after its
    reference; a key that does not fit was not written by the app."""
    debit, credit = accounts[row.debit], accounts[row.credit]
    kind, ref, key = row.kind, row.ref, row.key
    if kind == "redeem":
        if not (ref.startswith("offer:") and debit[1] == "user" and credit[1] == "escrow"
                and key.startswith(f"redeem:{debit[2]}:")):
            return "a redemption must move a member's points to escrow under the member's own key"
    elif kind in ("settle", "refund"):
        if not (ref.startswith("voucher:") and key == f"{ref}:close" and debit[1] == "escrow"):
            return f"a {kind} must come from escrow under the key '<voucher>:close'"
        if kind == "refund" and credit[1] != "user":
            return "a refund must go back to a member"
    elif kind == "adjust":
        # An hour correction taking points back, or points expiring (ledger/policy.py).
        taken_back = (ref.startswith(("correction:", "expiry:")) and debit[1] == "user" and credit[1] == "issuer")
        if not ((ref.startswith("adjustment:") or taken_back) and key == ref and "issuer" in (debit[1], credit[1])):
            return "an adjustment moves points between the issuer and an account under the key 'adjustment:<id>'"
    elif kind == "earn_request":
        if not (ref.startswith("request:") and key == f"{ref}:payout" and debit[1] == "issuer"):
            return "a request's payout comes from the issuer under the key '<request>:payout'"
    elif kind == "earn_event":
        demo = ref == "demo" and key.startswith("demo:award:")
        corrected = ref.startswith("event:") and key.startswith("correction:")  # events/corrections.py
        if debit[1] != "issuer" or not (demo or corrected or (ref.startswith("event:") and key.startswith("attendance:")
                                                              and key.endswith(":pay"))):
            return "event pay comes from the issuer under the key 'attendance:<id>:pay'"
    elif kind == "earn_participation":
        if debit[1] != "issuer" or not ref.startswith("proposal:") or not (
                (key.startswith("proposal_vote:") and key.endswith(":participation"))
                or key.startswith(f"{ref}:attendance:")):
            return ("points for taking part come from the issuer under the key 'proposal_vote:<id>:participation' "
                    "or '<proposal>:attendance:<id>'")
    elif kind == "earn_care":
        if not (ref.startswith("care_visit:") and key == f"{ref}:pay" and debit[1] == "issuer" and credit[1] == "user"):
            return "a care visit's pay comes from the issuer to a member under the key '<care_visit>:pay'"
    return None


def _transfer_faults(row: Row, raw, chain: Chain, expected_seq: int, previous_hash: str) -> list[str]:
    faults = []
    if not isinstance(row.created_at, datetime):
        faults.append(f"created_at {row.created_at!r} is not a date and time")
    if not _is_int(row.amount) or row.amount <= 0:
        faults.append(f"amount {row.amount!r} is not a whole number above zero")
    if row.kind not in TRANSFER_KINDS:
        faults.append(f"kind {row.kind!r} is not a transfer kind")
    missing = [side for side, aid in (("debit", row.debit), ("credit", row.credit)) if aid not in chain.accounts]
    for side in missing:
        faults.append(f"its {side} account id {getattr(row, side)!r} does not exist")
    if row.debit == row.credit:
        faults.append("debits and credits the same account")
    if row.seq != expected_seq:
        faults.append(f"expected seq {expected_seq}: a transfer is missing, added or renumbered")
    if raw.prev_hash != previous_hash:
        faults.append("prev_hash does not match the transfer before it")
    if not faults or faults == [f"expected seq {expected_seq}: a transfer is missing, added or renumbered"]:
        codes = (chain.accounts[row.debit][0], chain.accounts[row.credit][0])
        if transfer_hash(raw, *codes) != raw.hash:
            faults.append("content does not match its hash (edited outside the app)")
    if chain.provenance and not missing and not faults:
        key_fault = _key_fault(row, chain.accounts)
        if key_fault:
            faults.append(f"idempotency key {row.key!r} with ref {row.ref!r}: {key_fault}")
    return faults


def check_transfers(report: VerifyReport, chain: Chain) -> dict[int, int]:
    sums: dict[int, int] = {}
    kind_sums: dict[str, int] = {}
    previous_hash, expected_seq = "", 1
    keys: set = set()
    for raw in Transfer.select().order_by(Transfer.seq, Transfer.id).objects().iterator():
        report.transfers += 1
        label = f"transfer seq {raw.seq} (id {raw.id})"
        row = Row(raw.id, raw.seq, raw.created_at, raw.debit_id, raw.credit_id, raw.amount, raw.kind, raw.ref,
                  raw.memo, raw.idempotency_key, raw.reverses_id, raw.actor_id)
        try:
            faults = _transfer_faults(row, raw, chain, expected_seq, previous_hash)
        except Exception as error:  # noqa: BLE001 - a value no check foresaw: name the row, go on
            faults = [f"unreadable ({type(error).__name__}: {error})"]
        if row.key in keys:
            faults.append(f"idempotency key {row.key!r} is used twice")
        keys.add(row.key)
        report.faults.extend(f"{label}: {fault}" for fault in faults)
        chain.transfers[row.id] = row
        for aid in (row.debit, row.credit):
            chain.first_use.setdefault(aid, row.created_at)
        if _is_int(row.amount):
            for aid, sign in ((row.debit, -1), (row.credit, 1)):
                sums[aid] = sums.get(aid, 0) + sign * row.amount
                kind = chain.accounts.get(aid, (None, "?"))[1]
                kind_sums[kind] = kind_sums.get(kind, 0) + sign * row.amount
        if row.seq in chain.wanted:
            chain.sealed[row.seq] = (raw.hash, {k: v for k, v in kind_sums.items() if v})
        previous_hash = raw.hash
        expected_seq = (row.seq + 1) if _is_int(row.seq) else expected_seq + 1
    chain.last_seq, chain.last_hash = expected_seq - 1, previous_hash
    head = LedgerHead.select().where(LedgerHead.id == HEAD_ID).tuples().first()
    if report.transfers or head is not None:
        found = (head[1], head[2]) if head else None
        if found != (chain.last_seq, chain.last_hash):
            report.faults.append(f"the chain head does not match the last transfer (the head row says seq "
                                 f"{found and found[0]}, the chain ends at seq {chain.last_seq}): transfers were "
                                 "removed or added behind the app's back")
    return sums


def check_balances(report: VerifyReport, chain: Chain, sums: dict[int, int]) -> None:
    total = 0
    for aid, balance in Account.select(Account.id, Account.balance).order_by(Account.id).tuples().iterator():
        if aid not in chain.accounts or not _is_int(balance):
            continue
        code, kind = chain.accounts[aid][:2]
        total += balance
        computed = sums.get(aid, 0)
        if balance != computed:
            report.faults.append(f"account {code} (id {aid}): cached balance {balance} but its transfers sum to {computed}")
        if code == "issuer" and kind == "issuer":  # the one issuer, not one a tamperer made
            report.points_issued = -balance
    for aid, first in chain.first_use.items():
        opened = chain.accounts.get(aid, (None,) * 5)[4]
        if isinstance(opened, datetime) and isinstance(first, datetime) and opened > first:
            report.faults.append(f"account {chain.accounts[aid][0]} (id {aid}): created_at {opened} is after its "
                                 f"first transfer on {first}")
    for aid in sums:
        if aid not in chain.accounts:
            report.faults.append(f"account id {aid} has transfers but no account row: it was deleted")
    if total != 0:
        report.faults.append(f"all balances sum to {total}, not 0")


def verify_books(extra_checks=()) -> VerifyReport:
    """The books' invariants alone: accounts, the hash chain, balances. For tests and benchmarks
    that post transfers of their own making (with no voucher or payout behind them)."""
    report, chain = VerifyReport(), Chain(provenance=False)
    check_accounts(report, chain)
    check_balances(report, chain, check_transfers(report, chain))
    for check in extra_checks:
        report.faults.extend(check())
    return report


def verify_ledger(extra_checks=(), published=None, trusted_key=None) -> VerifyReport:
    """Every check, in order; `published` is a list of checkpoint lines kept outside the
    database (a file or the board's list), checked besides the database's own log."""
    from marketplace import audit
    from marketplace.ledger import checkpoints, sources

    report, chain = VerifyReport(), Chain()
    sealed = checkpoints.load_all(report, published or [])
    chain.wanted = {c.ledger_seq for c in sealed}
    check_accounts(report, chain)
    sums = check_transfers(report, chain)
    check_balances(report, chain, sums)
    audit_report = audit.verify(wanted={c.audit_seq for c in sealed})
    report.audit_entries = audit_report.entries
    report.faults.extend(audit_report.faults)
    # Sealed history before what made each transfer: a rewrite of history is the bigger news.
    checkpoints.check_against(report, chain, audit_report, sealed, trusted_key)
    sources.check(report, chain)
    for check in extra_checks:
        report.faults.extend(check())
    return report
