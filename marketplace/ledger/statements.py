"""Reading the ledger: an account's transfers with the balance after each one."""

from datetime import date
from typing import NamedTuple

import peewee as pw

from marketplace.db import STAND_INS, PreparedQuery
from marketplace.ledger.models import Account, Transfer
from marketplace.settings import settings
from marketplace.timeutil import utc_end_of_day, utc_start_of_day

# What a statement's page shows of each transfer (not the chain's hashes and keys).
SHOWN_COLUMNS = (Transfer.id, Transfer.seq, Transfer.created_at, Transfer.debit, Transfer.credit, Transfer.amount,
                 Transfer.kind, Transfer.ref, Transfer.memo)


def statement(account: Account, kind: str | None = None, since: date | None = None, until: date | None = None,
              columns=(Transfer,)):
    """The account's transfers, newest first, each with `signed` (+ in, - out) and
    `running` (the balance right after it). Filters narrow the rows, never the running balance.
    `columns`: the Transfer columns to read (all by default)."""
    # (amount * -1), not -amount: peewee reads unary minus as "order descending".
    signed = pw.Case(None, [(Transfer.credit == account.id, Transfer.amount)], Transfer.amount * -1)
    inner = (
        Transfer.select(
            Transfer.id, signed.alias("signed"),
            pw.fn.SUM(signed).over(order_by=[Transfer.seq]).alias("running"),
        )
        .where((Transfer.debit == account.id) | (Transfer.credit == account.id))
    )
    running = inner.alias("r")
    query = (
        Transfer.select(*columns, running.c.signed.alias("signed"), running.c.running.alias("running"))
        .join(running, on=(running.c.id == Transfer.id))
        .order_by(Transfer.seq.desc())
        .objects()  # signed and running land on each Transfer
    )
    if kind:
        query = query.where(Transfer.kind == kind)
    if since:
        query = query.where(Transfer.created_at >= utc_start_of_day(since, settings().timezone))
    if until:
        query = query.where(Transfer.created_at < utc_end_of_day(until, settings().timezone))
    return query


# The page everyone opens (no filter) is compiled to SQL once: for this window-function join
# peewee's writing of the SQL cost more than the database's running of it (issue 20).
_UNFILTERED_PAGE = PreparedQuery(lambda account_id, limit, offset: statement(Account(id=account_id), columns=SHOWN_COLUMNS)
                                 .limit(limit).offset(offset), *STAND_INS[:3])


def statement_page(account: Account, offset: int, limit: int, kind: str | None = None, since: date | None = None,
                   until: date | None = None) -> list[Transfer]:
    """`limit` rows of the statement from `offset` on (see statement), their SHOWN_COLUMNS."""
    if kind or since or until:
        return list(statement(account, kind, since, until, SHOWN_COLUMNS).limit(limit).offset(offset))
    return _UNFILTERED_PAGE.rows(account.id, limit, offset)


def memo_text(transfer: Transfer) -> str:
    """A refund's note is the voucher's closing status ("expired", "cancelled"): said in words."""
    from flask_babel import gettext as _

    if transfer.kind == "refund":
        words = {"expired": _("The voucher expired unused"), "cancelled": _("The voucher was cancelled")}
        return words.get(transfer.memo, transfer.memo)
    if transfer.kind == "adjust" and transfer.ref.startswith("expiry:"):  # ledger/policy.py
        return _("Points expired: back to the community fund")
    if transfer.kind == "adjust" and transfer.ref.startswith("correction:"):  # events/corrections.py
        return _("Hours corrected: %(event)s", event=transfer.memo)
    return transfer.memo


def counterparty(transfer: Transfer, account: Account) -> int:
    return transfer.debit_id if transfer.credit_id == account.id else transfer.credit_id


class Line(NamedTuple):
    """One transfer as the statement page shows it."""

    transfer: Transfer
    other_side: str  # who or what the points came from or went to
    note: str  # the memo in words, or ""


def page_lines(rows: list[Transfer], account: Account, labels: dict[int, str]) -> list[Line]:
    """The page's rows with their other side named and their note in words, worked out here in
    one loop rather than by three template calls per row (issue 20: the statement's cost)."""
    return [Line(t, labels.get(counterparty(t, account), ""), memo_text(t) if t.memo else "") for t in rows]


def account_labels(account_ids) -> dict[int, str]:
    """Names to show for accounts: a member's name, a shop's name, or what a system account is."""
    from flask_babel import gettext as _

    from marketplace.partners.models import PartnerEnterprise
    from marketplace.users.models import User

    system = {"issuer": _("Community points fund"), "escrow": _("Vouchers waiting to be used"),
              "flea_market": _("Flea market")}
    labels = {}
    query = (
        Account.select(Account.id, Account.kind, Account.code, User.display_name, PartnerEnterprise.name)
        .join(User, pw.JOIN.LEFT_OUTER, on=(Account.user == User.id))
        .switch(Account)
        .join(PartnerEnterprise, pw.JOIN.LEFT_OUTER, on=(Account.partner == PartnerEnterprise.id))
        .where(Account.id.in_(list(account_ids) or [0]))
        .tuples()
    )
    for account_id, kind, code, person, shop in query:
        # A member's name, else a shop's, else what the system account is for.
        labels[account_id] = person if person is not None else shop if shop is not None else system.get(kind, code)
    return labels
