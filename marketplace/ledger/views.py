"""Points pages: my statement, staff views of the accounts in their scope, adjustments,
and the partners' settlement report."""

from datetime import UTC

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.forms import EmptyForm, ReasonForm
from marketplace.ledger import adjustments, policy, scope, statements
from marketplace.ledger import services as ledger
from marketplace.ledger.forms import KIND_LABELS, AdjustmentForm, StatementFilterForm
from marketplace.ledger.models import Account
from marketplace.shop.services import partner_settlement
from marketplace.users.models import User
from marketplace.web import (
    act_and_flash,
    attach_error,
    csv_response,
    not_found_on_404,
    page_number,
    require_fresh_login,
)

bp = Blueprint("ledger", __name__, url_prefix="/points")

PAGE_SIZE = 50
SETTLEMENT_READERS = ("community_admin", "street_officer")


@bp.app_context_processor
def _ledger_helpers():
    return {"points_policy_words": policy.plain_words, "points_policy_figures": policy.figures,
            "points_capped_for": policy.capped_for}


def _viewable_account(account_id: int) -> Account:
    account = Account.get_or_none(Account.id == account_id)
    if account is None or not scope.can_view(current_user, account):
        abort(404)
    return account


def _local_times(rows) -> dict:
    """Each row's time in the community's zone as ("MM-dd HH:mm", "yyyy"), converted once per
    row: Babel's datetimeformat per cell (a pytz lookup and a pattern parse each time) was the
    largest single cost of the statement page. Both patterns are plain digits in every locale."""
    zone = get_timezone()
    times = {}
    for t in rows:
        local = t.created_at.replace(tzinfo=UTC).astimezone(zone)
        times[t.id] = (local.strftime("%m-%d %H:%M"), str(local.year))
    return times


def _statement_page(account: Account, shop_accounts=()):
    form = StatementFilterForm(request.args)
    form.validate()
    page = page_number()
    # One row more than the page shows tells whether there is a next page, without a second query.
    fetched = statements.statement_page(account, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1, form.kind.data or None,
                                        form.since.data, form.until.data)
    shown, has_more = fetched[:PAGE_SIZE], len(fetched) > PAGE_SIZE
    labels = statements.account_labels({account.id} | {statements.counterparty(t, account) for t in shown}
                                        | {a.id for a in shop_accounts})
    owner = labels[account.id]
    # Each kind's words once per page, not once per row (they are translated at every use).
    kinds = {kind: str(KIND_LABELS[kind]) for kind in {t.kind for t in shown}}
    return render_template(
        "ledger/statement.html", account=account, owner=owner, labels=labels, form=form, page=page,
        kinds=kinds,
        lines=statements.page_lines(shown, account, labels), times=_local_times(shown), has_more=has_more,
        shop_accounts=shop_accounts,
        filters={k: v for k, v in request.args.items() if k != "page"},
        can_adjust=access.has_role(current_user, *adjustments.ADJUSTERS) and account.kind in ("user", "partner")
        and account.user_id != current_user.id,
    )


def _shop_accounts(user) -> list[Account]:
    """The points accounts of the shops this person staffs: a shop's points are paid to the shop,
    not to its staff, and "my points" is where staff look for them."""
    partner_ids = list(access.scope_of(user).partners)
    if not partner_ids:
        return []
    return list(Account.select().where(Account.partner.in_(partner_ids)).order_by(Account.id))


@bp.route("/")
@allow(SIGNED_IN)
def mine():
    return _statement_page(ledger.user_account(current_user), shop_accounts=_shop_accounts(current_user))


@bp.route("/accounts/<int:account_id>")
@allow(SIGNED_IN)
def account(account_id):
    return _statement_page(_viewable_account(account_id))


@bp.route("/accounts/<int:account_id>/statement.csv")
@allow(SIGNED_IN)
def export(account_id):
    account = _viewable_account(account_id)
    form = StatementFilterForm(request.args)
    form.validate()
    rows = list(statements.statement(account, form.kind.data or None, form.since.data, form.until.data))
    labels = statements.account_labels({statements.counterparty(t, account) for t in rows})
    return csv_response(
        f"points-{account.code.replace(':', '-')}.csv",
        [_("Time"), _("Kind"), _("With"), _("Note"), _("Points"), _("Balance after")],
        (
            [format_datetime(t.created_at, "yyyy-MM-dd HH:mm"), str(KIND_LABELS[t.kind]),
             labels.get(statements.counterparty(t, account), ""), statements.memo_text(t), t.signed, t.running]
            for t in rows
        ),
    )


@bp.route("/accounts")
@allow(STAFF)
def accounts():
    """The member and partner accounts in the staff member's scope, searchable by name or phone."""
    query = scope.accounts_in_staff_scope(current_user).where(Account.kind.in_(("user", "partner")))
    search = (request.args.get("q") or "").strip()[:50]  # a name or part of a number (SQLite's LIKE has limits)
    if search:
        people = User.select(User.id).where(User.display_name.contains(search) | User.phone.contains(search))
        query = query.where(Account.user.in_(people))
    page = page_number()
    shown = list(query.order_by(Account.balance.desc(), Account.id).paginate(page, PAGE_SIZE))
    labels = statements.account_labels([a.id for a in shown])
    return render_template("ledger/accounts.html", accounts=shown, labels=labels, search=search, page=page,
                           has_more=len(shown) == PAGE_SIZE)


def _require_fresh_login(come_back_to: str | None = None):
    """Moving points by hand needs a recent password entry, not a month-old remembered login."""
    return require_fresh_login(_("To adjust points, please enter your password again."), come_back_to)


@bp.route("/accounts/<int:account_id>/adjust", methods=["GET", "POST"])
@allow(adjustments.ADJUSTERS)
def adjust(account_id):
    account = _viewable_account(account_id)
    if (response := _require_fresh_login()) is not None:
        return response
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            result = adjustments.request_adjustment(
                current_user, account.id, form.direction.data, form.amount.data, form.reason.data
            )
        except DomainError as error:
            not_found_on_404(error)
            attach_error(form, error)
        else:
            if result.status == "posted":
                flash(_("Done: the points have moved."), "success")
            else:
                flash(_("Saved. A second staff member must approve this before the points move."), "info")
            return redirect(url_for("ledger.account", account_id=account.id))
    owner = statements.account_labels([account.id])[account.id]
    return render_template("ledger/adjust.html", account=account, owner=owner, form=form), 422 if form.errors else 200


@bp.route("/adjustments")
@allow(adjustments.ADJUSTERS)
def pending_adjustments():
    pending = list(adjustments.pending_for(current_user))
    labels = statements.account_labels([a.account_id for a in pending])
    return render_template("ledger/adjustments.html", adjustments=pending, labels=labels, button_form=EmptyForm(),
                           reason_form=ReasonForm(formdata=None))


@bp.route("/adjustments/<int:adjustment_id>/approve", methods=["POST"])
@allow(adjustments.ADJUSTERS)
def approve_adjustment(adjustment_id):
    # After the password, back to the list (a redirect cannot repeat this POST).
    if (response := _require_fresh_login(url_for("ledger.pending_adjustments"))) is not None:
        return response
    return _decide(lambda: adjustments.approve_adjustment(current_user, adjustment_id), _("Approved: the points have moved."))


@bp.route("/adjustments/<int:adjustment_id>/reject", methods=["POST"])
@allow(adjustments.ADJUSTERS)
def reject_adjustment(adjustment_id):
    reason = ReasonForm().reason.data or ""
    return _decide(lambda: adjustments.reject_adjustment(current_user, adjustment_id, reason), _("Rejected."))


def _decide(action, done_message):
    return act_and_flash(action, done_message, url_for("ledger.pending_adjustments"))


@bp.route("/settlement")
@allow(SETTLEMENT_READERS)
def settlement():
    """Points each partner shop received from vouchers, per month, for the community's accounts."""
    everything = access.has_role(current_user, "admin", "street_officer")
    rows = list(partner_settlement(None if everything else access.scope_of(current_user).administered_community_ids()))
    if request.args.get("format") == "csv":
        return csv_response(
            "partner-settlement.csv", [_("Month"), _("Shop"), _("Vouchers used"), _("Points received")],
            ([r["month"], r["shop"], r["vouchers"], r["points"]] for r in rows),
        )
    return render_template("ledger/settlement.html", rows=rows)
