"""The points policy as settings (marketplace.settings.PointsPolicy): earning caps and expiry, in
plain words for the points page and the public board, and the expiry job.

Expiry (off while POINTS_EXPIRY_MONTHS is 0): at the end of each period (a calendar year, quarter
or month, in the community's time zone), the points a member earned more than N months before
that end and has not spent yet go back to the community's issuer, by one ledger transfer per
member. "Not spent yet" is counted first in, first out: whatever left the account was paid with
its oldest points. So: expiring = min(balance, earned before the cut-off - everything that left
the account). Members are told 30 and 7 days before. Each notice and each expiry is a
PointsExpiry row under a unique index, and the transfer's key names the period and the account,
so the job may run any number of times (and on several workers at once): each happens once.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn

from marketplace.db import db
from marketplace.ledger.models import Account, CappedEarning, PointsExpiry, Transfer
from marketplace.ledger.services import ledger_transaction, post_transfer, system_account
from marketplace.notifications.services import notify
from marketplace.settings import settings
from marketplace.timeutil import utcnow

NOTICES = (("notice_30", 30), ("notice_7", 7))
PERIOD_MONTHS = {"year": 12, "quarter": 3, "month": 1}


# ---- in plain words --------------------------------------------------------------------------


def plain_words() -> list[str]:
    """The policy as a member reads it (the points page, the public board)."""
    p = settings().points_policy
    lines = []
    if p.event_hours_cap_day:
        lines.append(_("Event hours earn points for at most %(hours)d hours a day.", hours=p.event_hours_cap_day))
    if p.event_hours_cap_month:
        lines.append(_("Event hours earn points for at most %(hours)d hours a month.", hours=p.event_hours_cap_month))
    if p.request_points_cap_day:
        lines.append(_("Helping with requests earns at most %(points)d points a day.", points=p.request_points_cap_day))
    if p.request_points_cap_month:
        lines.append(_("Helping with requests earns at most %(points)d points a month.", points=p.request_points_cap_month))
    if lines:
        lines.append(_("Hours above a cap still count on the volunteer record; the points they would have earned "
                       "are recorded as capped, not lost without a trace."))
    else:
        lines.append(_("There is no cap on the points one can earn."))
    if p.expiry_months:
        period = {"year": _("year"), "quarter": _("quarter"), "month": _("month")}[p.expiry_period]
        lines.append(_("At the end of each %(period)s, points earned more than %(months)d months before and not "
                       "spent go back to the community fund. You get a message 30 and 7 days before.",
                       period=period, months=p.expiry_months))
    else:
        lines.append(_("Points do not expire."))
    return lines


@dataclass
class PolicyFigures:
    capped_points: int  # held back by the caps, net of corrections
    capped_minutes: int
    expired_points: int  # gone back to the community fund


def figures(user_id: int | None = None) -> PolicyFigures:
    """Totals for the board (everyone) or one member's points page. Counts only, no names."""
    capped = CappedEarning.select(fn.COALESCE(fn.SUM(CappedEarning.points), 0), fn.COALESCE(fn.SUM(CappedEarning.minutes), 0))
    expired = (PointsExpiry.select(fn.COALESCE(fn.SUM(PointsExpiry.amount), 0))
               .where(PointsExpiry.stage == "expired", PointsExpiry.transfer.is_null(False)))
    if user_id is not None:
        capped = capped.where(CappedEarning.user == user_id)
        expired = expired.join(Account).where(Account.user == user_id)
    # One query: the expired total rides along as a subquery (the points page has a query budget).
    points, minutes, expired_points = capped.select_extend(expired.alias("expired")).tuples().first()
    return PolicyFigures(int(points), int(minutes), int(expired_points or 0))


def capped_for(user_id: int, limit: int = 20):
    return (CappedEarning.select().where(CappedEarning.user == user_id)
            .order_by(CappedEarning.created_at.desc(), CappedEarning.id.desc()).limit(limit))


# ---- the cap on points from requests ---------------------------------------------------------


def _local_bounds(moment: datetime, rule: str) -> tuple[datetime, datetime]:
    """The community's local day or month of `moment` (naive UTC), as naive UTC bounds."""
    local = moment.replace(tzinfo=UTC).astimezone(settings().timezone).date()
    first = local.replace(day=1) if rule == "month" else local
    last = _add_months(first, 1) if rule == "month" else first + timedelta(days=1)
    return _local_midnight_utc(first), _local_midnight_utc(last)


def capped_request_pay(account: Account, points: int, now: datetime | None = None) -> tuple[int, str | None]:
    """(points to pay, the rule that capped them or None) for a member helping with a request:
    REQUEST_POINTS_CAP_DAY and _MONTH count what the member's account earned from requests in the
    community's day and month. The caller holds the ledger's lock and records what is held back."""
    policy = settings().points_policy
    now = now or utcnow()
    paid, rule = points, None
    for name, cap in (("day", policy.request_points_cap_day), ("month", policy.request_points_cap_month)):
        if cap > 0:
            start, end = _local_bounds(now, name)
            earned = (Transfer.select(fn.COALESCE(fn.SUM(Transfer.amount), 0))
                      .where(Transfer.credit == account.id, Transfer.kind == "earn_request",
                             Transfer.created_at >= start, Transfer.created_at < end).scalar())
            room = max(0, cap - int(earned or 0))
            if paid > room:
                paid, rule = room, name
    return paid, rule


def record_capped_request(user_id: int, request_id: int, rule: str, points: int) -> None:
    if points > 0:
        CappedEarning.create(user=user_id, source="request", ref=f"request:{request_id}", rule=rule, points=points)


def capped_request_points(request_ids) -> dict[int, int]:
    """What the caps held back of each of these requests' payouts (for `ledger verify`)."""
    refs = {f"request:{i}": i for i in request_ids}
    rows = (CappedEarning.select(CappedEarning.ref, fn.SUM(CappedEarning.points))
            .where(CappedEarning.source == "request").group_by(CappedEarning.ref).tuples())
    return {refs[ref]: int(points) for ref, points in rows if ref in refs}


# ---- periods ---------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), the month's last day where it has fewer days."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_next - timedelta(days=1)).day))


def period_start(day: date, period: str) -> date:
    months = PERIOD_MONTHS[period]
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def period_end(day: date, period: str) -> date:
    """The last day of the period `day` is in."""
    return _add_months(period_start(day, period), PERIOD_MONTHS[period]) - timedelta(days=1)


def _local_midnight_utc(day: date) -> datetime:
    zone = settings().timezone
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def cutoff(end: date, months: int) -> datetime:
    """Points earned before this moment (naive UTC) expire at the end of the period ending `end`."""
    return _local_midnight_utc(_add_months(end + timedelta(days=1), -months))


def expiring(end: date, months: int) -> dict[int, int]:
    """Each member account's points that expire at the end of the period ending `end`."""
    before = cutoff(end, months)
    earned = dict(Transfer.select(Transfer.credit, fn.SUM(Transfer.amount))
                  .join(Account, on=(Transfer.credit == Account.id))
                  .where(Account.kind == "user", Transfer.created_at < before)
                  .group_by(Transfer.credit).tuples())
    if not earned:
        return {}
    left = dict(Transfer.select(Transfer.debit, fn.SUM(Transfer.amount))
                .where(Transfer.debit.in_(list(earned))).group_by(Transfer.debit).tuples())
    balances = dict(Account.select(Account.id, Account.balance).where(Account.id.in_(list(earned))).tuples())
    amounts = {}
    for account_id, amount in earned.items():
        due = min(int(balances.get(account_id, 0)), int(amount) - int(left.get(account_id, 0)))
        if due > 0:
            amounts[account_id] = due
    return amounts


# ---- the job ---------------------------------------------------------------------------------


def _inserted(query) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True if the row went in (the row count: SQLite's last
    row id would be left over from an earlier insert)."""
    return db.execute(query.on_conflict_ignore()).rowcount == 1


def _expire(account_id: int, end: date, amount: int) -> bool:
    ref = f"expiry:{end.isoformat()}:{account_id}"
    with ledger_transaction():
        inserted = _inserted(PointsExpiry.insert(account=account_id, period_end=end, stage="expired", amount=amount,
                                                 created_at=utcnow()))
        row = PointsExpiry.get_or_none(PointsExpiry.account == account_id, PointsExpiry.period_end == end,
                                       PointsExpiry.stage == "expired")
        if not inserted or row is None or row.transfer_id is not None or row.amount != amount:
            return False
        account = Account.get_by_id(account_id)
        transfer = post_transfer(account, system_account("issuer"), amount, "adjust", ref, ref, None, memo="expired")
        PointsExpiry.update(transfer=transfer.id).where(PointsExpiry.id == row.id).execute()
    if account.user_id is not None:
        notify(account.user, "points", _l("%(points)d points earned more than %(months)d months ago expired on "
                                          "%(date)s and went back to the community fund.", points=amount,
                                          months=settings().points_policy.expiry_months, date=end.isoformat()),
               "/points/")
    return True


def _notice(account_id: int, end: date, stage: str, amount: int) -> bool:
    inserted = _inserted(PointsExpiry.insert(account=account_id, period_end=end, stage=stage, amount=amount,
                                             created_at=utcnow()))
    if not inserted:
        return False
    account = Account.get_by_id(account_id)
    if account.user_id is not None:
        notify(account.user, "points", _l("%(points)d of your points will expire at the end of %(date)s: they were "
                                          "earned more than %(months)d months before. Use them before then.",
                                          points=amount, date=end.isoformat(),
                                          months=settings().points_policy.expiry_months), "/points/")
    return True


def run_expiry(now: datetime | None = None) -> int:
    """Expire the last period's old points and send the notices for this period's end; returns
    how many accounts were expired or told. Does nothing while expiry is off."""
    policy = settings().points_policy
    if policy.expiry_months <= 0:
        return 0
    now = now or utcnow()
    today = now.replace(tzinfo=UTC).astimezone(settings().timezone).date()
    done = 0
    ended = period_start(today, policy.expiry_period) - timedelta(days=1)
    for account_id, amount in expiring(ended, policy.expiry_months).items():
        done += _expire(account_id, ended, amount)
    end = period_end(today, policy.expiry_period)
    days_left = (end - today).days + 1  # the points expire at the midnight after `end`
    due = [stage for stage, days in NOTICES if days_left <= days]
    if due:
        stage = due[-1]  # the nearest notice due; an earlier one missed is not sent late
        for account_id, amount in expiring(end, policy.expiry_months).items():
            done += _notice(account_id, end, stage, amount)
    return done
