"""Pages of care for key groups: the register and its pairs for the staff who keep it, the
volunteer's visits and the resident's visitors on one page of their own. The rules (scope, the
audit of every look at the register, the code, the pay) are in care.services."""

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import SIGNED_IN, allow
from marketplace.care import services
from marketplace.care.forms import CodeForm, MemberForm, PairForm, PhoneForm
from marketplace.care.models import FREQUENCIES, KEY_GROUPS
from marketplace.errors import DomainError
from marketplace.extensions import limiter
from marketplace.forms import EmptyForm, choices_of
from marketplace.web import act_and_flash, flash_form_errors, optional_id

bp = Blueprint("care", __name__, url_prefix="/care")
KEEPERS = services.KEEPERS


@bp.app_context_processor
def _care_helpers():
    return {"care_group_label": lambda g: str(services.GROUP_LABELS.get(g, g)),
            "care_frequency_label": lambda f: str(services.FREQUENCY_LABELS.get(f, f)),
            "care_pair_state_label": lambda s: str(services.PAIR_STATE_LABELS.get(s, s)),
            "care_weekday": lambda d: format_date(date(2024, 1, 1 + d), "EEEE") if d is not None else ""}


def _weekdays():
    return [("", _("Any day"))] + [(str(d), format_date(date(2024, 1, 1 + d), "EEEE")) for d in range(7)]


def _member_form(formdata=None) -> MemberForm:
    form = MemberForm(formdata=formdata) if formdata is not None else MemberForm(formdata=None)
    form.resident.choices = choices_of([("", _("Choose…"))] + [
        (str(p.id), p.display_name) for p in services.residents_to_register(current_user)])
    form.group.choices = choices_of([(g, str(services.GROUP_LABELS[g])) for g in KEY_GROUPS])
    return form


def _pair_form(rows, formdata=None) -> PairForm:
    form = PairForm(formdata=formdata) if formdata is not None else PairForm(formdata=None)
    form.member.choices = choices_of([("", _("Choose…"))] + [
        (str(r["member"].id), f'{r["member"].resident.display_name} · {services.GROUP_LABELS[r["member"].key_group]}')
        for r in rows])
    form.volunteer.choices = choices_of([("", _("Choose…"))] + [
        (str(v.id), v.display_name) for v in services.volunteers_for(current_user)])
    form.frequency.choices = choices_of([(f, str(services.FREQUENCY_LABELS[f])) for f in FREQUENCIES])
    form.weekday.choices = choices_of(_weekdays())
    return form


@bp.route("/register")
@allow(KEEPERS)
def register():
    """The key-group register of the households in scope. Each look is audited (PIPL Art. 28)."""
    rows = services.register(current_user)
    return _register_page(rows)


def _register_page(rows, member_form=None, pair_form=None, status=200):
    return render_template(
        "care/register.html", rows=rows, visits=services.visits_to_check(current_user),
        member_form=member_form or _member_form(), pair_form=pair_form or _pair_form(rows),
        phone_form=PhoneForm(formdata=None), button_form=EmptyForm(), today_local=services.local_day(),
    ), status


@bp.route("/register", methods=["POST"])
@allow(KEEPERS)
def add_member():
    form = _member_form(request.form)
    if form.validate_on_submit():
        try:
            member = services.add_member(current_user, optional_id(form.resident.data), form.group.data,
                                         form.note.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("%(name)s is on the register.", name=member.resident.display_name), "success")
            return redirect(url_for("care.register"))
    else:
        flash_form_errors(form)
    return redirect(url_for("care.register"))


@bp.route("/pairs", methods=["POST"])
@allow(KEEPERS)
def create_pair():
    form = _pair_form([], request.form)
    # The service checks the member and the volunteer against the staff member's scope.
    form.member.validate_choice = False
    form.volunteer.validate_choice = False
    if form.validate_on_submit():
        try:
            pair = services.create_pair(current_user, optional_id(form.member.data),
                                        optional_id(form.volunteer.data), form.frequency.data, form.starts_on.data,
                                        form.weekday.data, form.minutes.data, form.points.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("%(volunteer)s is paired with %(resident)s. The volunteer was told.",
                    volunteer=pair.volunteer.display_name, resident=pair.member.resident.display_name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("care.register"))


@bp.route("/pairs/<int:pair_id>/<any(pause, resume, end):action>", methods=["POST"])
@allow(KEEPERS)
def change_pair(pair_id, action):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("care.register"))
    return act_and_flash(lambda: services.change_pair(current_user, pair_id, action),
                         {"pause": _("The pair is paused: no visits fall due until it is resumed."),
                          "resume": _("The pair is active again: its visits fall due from today."),
                          "end": _("The pair has ended.")}[action], url_for("care.register"))


@bp.route("/visits/<int:visit_id>/phone", methods=["POST"])
@allow(KEEPERS)
def confirm_by_phone(visit_id):
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            visit = services.confirm_by_phone(current_user, visit_id, form.note.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Recorded: the visit of %(day)s took place. The volunteer's hours and points were credited.",
                    day=visit.due_on.isoformat()), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("care.register"))


@bp.route("/mine")
@allow(SIGNED_IN)
def mine():
    """The volunteer's pairs and visits, and the resident's visitors with today's code."""
    pairs = services.pairs_of_volunteer(current_user)
    return render_template("care/mine.html", pairs=pairs, visits=services.visits_of_volunteer(current_user, days_ahead=28),
                           visitors=services.visitors_of(current_user), today=services.local_day(),
                           address_of=services.address_for_volunteer, code_form=CodeForm(formdata=None))


@bp.route("/visits/<int:visit_id>/confirm", methods=["POST"])
@allow("volunteer")
@limiter.limit(lambda: current_app.config["ONSITE_CODE_RATE_LIMIT"], methods=["POST"])
def confirm(visit_id):
    form = CodeForm()
    if form.validate_on_submit():
        try:
            visit = services.confirm_with_code(current_user, visit_id, form.code.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Visit confirmed: %(minutes)d minutes and %(points)d points were credited.",
                    minutes=visit.minutes, points=visit.points), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("care.mine"))
