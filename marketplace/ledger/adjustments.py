"""Staff credits and debits. Each needs a reason and goes to the audit log; one above the
configured threshold posts only when a second staff member approves it."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.errors import DomainError
from marketplace.ledger import scope
from marketplace.ledger.models import Account, Adjustment
from marketplace.ledger.services import ledger_transaction, post_transfer, system_account
from marketplace.notifications.services import notify
from marketplace.settings import settings
from marketplace.timeutil import utcnow

ADJUSTERS = ("community_admin", "admin")


def _adjustable(staff, account_id: int) -> Account:
    account = Account.get_or_none(Account.id == account_id)
    if account is None or account.kind not in ("user", "partner") or not scope.can_view(staff, account):
        raise DomainError(_("This account was not found."), status=404, code="not_found")
    if not access.has_role(staff, *ADJUSTERS):
        raise DomainError(_("Only community administrators can adjust points."), status=403, code="staff_only")
    return account


def _post(adjustment: Adjustment, approver) -> None:
    issuer = system_account("issuer")
    account = Account.get_by_id(adjustment.account_id)
    debit, credit = (issuer, account) if adjustment.direction == "credit" else (account, issuer)
    transfer = post_transfer(
        debit, credit, adjustment.amount, "adjust", f"adjustment:{adjustment.id}", f"adjustment:{adjustment.id}",
        approver, memo=adjustment.reason,
    )
    adjustment.status, adjustment.transfer = "posted", transfer
    adjustment.decided_by, adjustment.decided_at = approver, utcnow()
    adjustment.save()
    if account.user_id is not None:  # points moved by hand: the holder hears why
        text = (_l("The community office added %(points)d points: %(reason)s", points=adjustment.amount, reason=adjustment.reason)
                if adjustment.direction == "credit" else
                _l("The community office took away %(points)d points: %(reason)s", points=adjustment.amount,
                   reason=adjustment.reason))
        notify(account.user, "points", text, "/points/")


def request_adjustment(staff, account_id: int, direction: str, amount: int, reason: str) -> Adjustment:
    """Returns the adjustment: posted at once when small, pending a second approval when large."""
    reason = (reason or "").strip()
    if direction not in ("credit", "debit"):
        raise DomainError(_("Choose whether to add or take away points."), field="direction", code="invalid")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError(_("An amount of points must be a whole number above zero."), field="amount", code="invalid")
    if not reason:
        raise DomainError(_("Please give a reason."), field="reason", code="invalid")
    with ledger_transaction():
        account = _adjustable(staff, account_id)
        adjustment = Adjustment.create(
            account=account, direction=direction, amount=amount, reason=reason[:500], requested_by=staff
        )
        if amount <= settings().adjustment_approval_threshold:
            _post(adjustment, staff)
        audit.record(staff, f"ledger.adjustment.{adjustment.status}", adjustment,
                     account=account.code, direction=direction, amount=amount, reason=reason)
    return adjustment


def _pending(staff, adjustment_id: int) -> Adjustment:
    adjustment = Adjustment.get_or_none(Adjustment.id == adjustment_id)
    if adjustment is None:
        raise DomainError(_("This adjustment was not found."), status=404, code="not_found")
    _adjustable(staff, adjustment.account_id)
    if adjustment.status != "pending":
        raise DomainError(_("This adjustment has already been decided."), status=409, code="already_decided")
    return adjustment


def approve_adjustment(staff, adjustment_id: int) -> Adjustment:
    with ledger_transaction():
        adjustment = _pending(staff, adjustment_id)
        if adjustment.requested_by_id == staff.id:
            raise DomainError(_("A second staff member must approve an adjustment you asked for."), status=403,
                              code="second_approver_needed")
        _post(adjustment, staff)
        audit.record(staff, "ledger.adjustment.approved", adjustment, amount=adjustment.amount)
    return adjustment


def reject_adjustment(staff, adjustment_id: int, note: str) -> Adjustment:
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Please give a reason."), field="reason", code="invalid")
    with ledger_transaction():
        adjustment = _pending(staff, adjustment_id)
        adjustment.status, adjustment.decision_note = "rejected", note[:500]
        adjustment.decided_by, adjustment.decided_at = staff, utcnow()
        adjustment.save()
        audit.record(staff, "ledger.adjustment.rejected", adjustment, note=note)
    return adjustment


def pending_for(staff):
    """Adjustments awaiting a second approval that this staff member may decide."""
    if not access.has_role(staff, *ADJUSTERS):
        return Adjustment.select().where(Adjustment.id == 0)
    return (
        Adjustment.select(Adjustment, Account)
        .join(Account)
        .where(Adjustment.status == "pending", Account.id.in_(scope.accounts_in_staff_scope(staff).select(Account.id)))
        .order_by(Adjustment.created_at)
    )


def close_out(actor, account: Account, reason: str) -> Adjustment | None:
    """A closing account's remaining points go back to the community (the issuer) as a posted
    debit adjustment, recorded in the audit chain like any other, so `ledger verify` traces it
    and every total stays as it was. The account keeps its number and its history. None when
    nothing is left."""
    with ledger_transaction():
        account = Account.get_by_id(account.id)  # the balance under the ledger's lock
        if account.balance <= 0:
            return None
        adjustment = Adjustment.create(account=account, direction="debit", amount=account.balance,
                                       reason=reason[:500], requested_by=actor)
        _post(adjustment, actor)
        audit.record(actor, "ledger.adjustment.posted", adjustment, account=account.code, direction="debit",
                     amount=adjustment.amount, reason=reason)
    return adjustment
