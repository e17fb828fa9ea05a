"""Staff publish fund-use entries on the public board, and withdraw mistaken ones with a reason."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import allow
from marketplace.errors import DomainError
from marketplace.forms import choices_of
from marketplace.public import services as board
from marketplace.public.forms import FundUseForm, WithdrawForm
from marketplace.web import act_and_flash, attach_error, csv_response

# Staff pages, at the back office's address as before; what they publish shows on the public board.
bp = Blueprint("funds", __name__, url_prefix="/staff")


def _form(bound: bool = True) -> FundUseForm:
    form = FundUseForm() if bound else FundUseForm(formdata=None)
    choices = [(c.id, c.name) for c in board.fund_communities(current_user)]
    if board.may_publish_for(current_user, None):
        choices.append(("", _("The whole street")))
    form.community.choices = choices_of(choices)
    return form


def _page(form: FundUseForm, status: int = 200):
    return render_template(
        "public/funds.html", form=form, entries=list(board.entries_for_staff(current_user)),
        withdraw_form=WithdrawForm(formdata=None),
    ), status


@bp.route("/funds", methods=["GET", "POST"])
@allow(board.FUND_EDITORS)
def funds():
    form = _form()
    if not form.is_submitted():
        return _page(_form(bound=False))
    if not form.validate():
        return _page(form, 400 if "csrf_token" in form.errors else 422)
    try:
        entry = board.publish_fund_use(current_user, form.community.data, form.spent_on.data, form.purpose.data,
                                       form.amount.data, form.approved_by.data)
    except DomainError as error:
        attach_error(form, error)
        return _page(form, error.status if error.status != 400 else 422)
    flash(_("Published on the public board: %(purpose)s, ¥%(amount)s.", purpose=entry.purpose, amount=entry.yuan),
          "success")
    return redirect(url_for("funds.funds"))


@bp.route("/funds/<int:entry_id>/withdraw", methods=["POST"])
@allow(board.FUND_EDITORS)
def withdraw_fund_use(entry_id):
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return redirect(url_for("funds.funds"))
    return act_and_flash(lambda: board.withdraw_fund_use(current_user, entry_id, form.reason.data),
                         _("Withdrawn: it no longer shows on the public board."), url_for("funds.funds"))


@bp.route("/funds.csv")
@allow(board.FUND_EDITORS)
def funds_csv():
    entries = list(board.entries_for_staff(current_user))
    return csv_response(
        "fund-use.csv",
        [_("Date"), _("Community"), _("What it was used for"), _("Amount (yuan)"), _("Approved by"), _("Published"),
         _("Withdrawn"), _("Why it was withdrawn")],
        ([format_date(e.spent_on, "yyyy-MM-dd"), e.community.name if e.community_id else _("The whole street"),
          e.purpose, e.yuan.replace(",", ""), e.approved_by, format_datetime(e.created_at, "yyyy-MM-dd HH:mm"),
          format_datetime(e.withdrawn_at, "yyyy-MM-dd HH:mm") if e.withdrawn_at else "", e.withdraw_reason]
         for e in entries),
    )
