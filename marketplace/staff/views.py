"""The staff back office: the work queue, the people in a staff member's scope (their roles, and
switching their accounts off and on). The dashboards (dashboards.py) and the downloads (exports.py)
hang on this blueprint too; the app factory imports them. The audit log, the working-day calendar
and the fund-use entries have their own blueprints in their domains (audit, workdays, public)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import STAFF, allow
from marketplace.errors import DomainError
from marketplace.forms import EmptyForm, ReasonForm, choices_of
from marketplace.ledger import statements
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid
from marketplace.staff import queues
from marketplace.staff.forms import GrantRoleForm
from marketplace.timeutil import utcnow
from marketplace.users import services as user_services
from marketplace.users.models import RoleGrant, User
from marketplace.web import act_and_flash
from marketplace.workdays import calendar as workday_calendar

bp = Blueprint("staff", __name__, url_prefix="/staff")

VERIFIERS = queues.VERIFIERS
QUEUE_PAGE = 30  # items shown per queue; the CSV has them all


@bp.route("/")
@allow(STAFF)
def queue():
    """Everything waiting for this staff member, each item with the button or link that deals with it."""
    shown = queues.queues_for(current_user)
    # A long queue shows its oldest items; the rest are counted, and in its CSV.
    items, counts = queues.first_items(current_user, shown, QUEUE_PAGE)
    editor = access.has_role(current_user, *workday_calendar.EDITORS)
    return render_template(
        "staff/queue.html",
        shown=shown,
        items=items,
        counts=counts,
        adjustment_labels=statements.account_labels([a.account_id for a in items.get("adjustments", [])]),
        volunteer_skills=queues.skills_of(items.get("volunteers", [])),
        missing_year=workday_calendar.next_year_missing() if editor else None,
        now=utcnow(),
        button_form=EmptyForm(),
        reason_form=ReasonForm(formdata=None),
    )



def _decide(action, *args):
    return act_and_flash(lambda: action(current_user, *args),
                         _("Saved. The person will see the decision when they next log in."), url_for("staff.queue"))


@bp.route("/residency/<int:application_id>/verify", methods=["POST"])
@allow(VERIFIERS)
def verify_residency(application_id):
    return _decide(user_services.verify_residency, application_id)


@bp.route("/residency/<int:application_id>/reject", methods=["POST"])
@allow(VERIFIERS)
def reject_residency(application_id):
    form = ReasonForm()
    form.validate_on_submit()
    return _decide(user_services.reject_residency, application_id, form.reason.data)


@bp.route("/volunteers/<int:application_id>/approve", methods=["POST"])
@allow("community_admin")
def approve_volunteer(application_id):
    return _decide(user_services.approve_volunteer, application_id)


@bp.route("/volunteers/<int:application_id>/reject", methods=["POST"])
@allow("community_admin")
def reject_volunteer(application_id):
    form = ReasonForm()
    form.validate_on_submit()
    return _decide(user_services.reject_volunteer, application_id, form.reason.data)


@bp.route("/invitations/<int:invite_id>/withdraw", methods=["POST"])
@allow("community_admin")
def withdraw_invitation(invite_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        invite = queues.withdraw_invitation(current_user, invite_id)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("The invitation link for %(partner)s no longer works.", partner=invite.partner.name), "success")
    return redirect(url_for("staff.queue") + "#invitations")


# ---- people ---------------------------------------------------------------------------------
# Any staff member may look people up; what each may change is decided by the user services
# (roles_grantable_by, may_revoke, may_set_active), which also refuse with a message.


@bp.route("/people")
@allow(STAFF)
def people():
    text = request.args.get("q", "").strip()
    found = user_services.search_people(current_user, text)
    more = len(found) > user_services.PEOPLE_PAGE_SIZE
    found = found[: user_services.PEOPLE_PAGE_SIZE]
    return render_template(
        "staff/people.html",
        people=found,
        more=more,
        query=text,
        roles=user_services.roles_by_person(p.id for p in found),
        role_label=user_services.role_label,
    )


def _person_or_404(user_id: int, reveal: str | None = None) -> User:
    try:
        if reveal:
            return user_services.reveal_person(current_user, user_id, reveal)
        return user_services.person_in_scope(current_user, user_id)
    except DomainError:
        abort(404)


def _grant_form(bound: bool = True) -> GrantRoleForm:
    """The grant form with the roles and places the current staff member may give."""
    form = GrantRoleForm() if bound else GrantRoleForm(formdata=None)
    role_label = user_services.role_label
    form.role.choices = choices_of([("", _("Choose a role"))] + [(r, role_label(r)) for r in user_services.roles_grantable_by(current_user)])
    ids = access.scope_of(current_user).administered_community_ids() or [0]
    communities = list(Community.select().where(Community.id.in_(ids)).order_by(Community.id))
    grids = list(Grid.select(Grid, Community).join(Community).where(Community.id.in_(ids)).order_by(Community.id, Grid.id))
    buildings = (
        Building.select(Building, Grid, Community).join(Grid).join(Community).where(Community.id.in_(ids)).order_by(Community.id, Grid.id, Building.id)
    )
    none = [("", "—")]
    form.community.choices = choices_of(none + [(c.id, c.name) for c in communities])
    form.grid.choices = choices_of(none + [(g.id, f"{g.community.name} {g.name}") for g in grids])
    form.building.choices = choices_of(none + [(b.id, f"{b.grid.community.name} {b.grid.name} {b.name}") for b in buildings])
    if "admin" in access.roles(current_user):
        partners = PartnerEnterprise.select().where(PartnerEnterprise.community.in_(ids)).order_by(PartnerEnterprise.name)
        form.partner.choices = choices_of(none + [(p.id, p.name) for p in partners])
    else:
        # Only administrators give partner staff and street officer roles.
        del form.partner
        del form.department
    return form


def _render_person(person: User, form: GrantRoleForm | None = None, error: str | None = None, status: int = 200,
                   full_phone: bool = False):
    grants = [
        (grant, user_services.grant_scope(grant)[1], user_services.may_revoke(current_user, grant))
        for grant in person.grants.order_by(RoleGrant.id)
    ]
    return render_template(
        "staff/person.html",
        person=person,
        grants=grants,
        residency=user_services.current_residency(person),
        form=form or _grant_form(bound=False),
        can_grant=bool(user_services.roles_grantable_by(current_user)),
        can_set_active=user_services.may_set_active(current_user, person),
        button_form=EmptyForm(),
        error=error,
        role_label=user_services.role_label,
        full_phone=full_phone,
        can_give_reset_code=person.active and person.id != current_user.id
        and user_services.may_issue_reset_code(current_user),
    ), status


@bp.route("/people/<int:user_id>")
@allow(STAFF)
def person(user_id):
    return _render_person(_person_or_404(user_id, reveal="address"))


@bp.route("/people/<int:user_id>/phone", methods=["POST"])
@allow(STAFF)
def show_phone(user_id):
    """The full number only on purpose (a button), and every time in the audit log."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _render_person(_person_or_404(user_id, reveal="phone"), full_phone=True)


@bp.route("/people/<int:user_id>/roles", methods=["POST"])
@allow(STAFF)
def grant_role(user_id):
    person = _person_or_404(user_id)
    form = _grant_form()
    if not form.validate_on_submit():
        return _render_person(person, form, status=422)

    def field(name):  # partner and department are not on every staff member's form
        return getattr(form, name).data if getattr(form, name, None) is not None else None

    try:
        grant = user_services.grant_role_in_scope(
            current_user,
            person.id,
            form.role.data,
            community_id=field("community"),
            grid_id=field("grid"),
            building_id=field("building"),
            partner_id=field("partner"),
            department=field("department"),
        )
    except DomainError as error:
        if error.status == 404:
            abort(404)
        if not user_services.roles_grantable_by(current_user):  # no form on their page to show it by
            return _render_person(person, error=error.message, status=error.status)
        target = getattr(form, error.field, None) if error.field else None
        (target.errors if target is not None else form.form_errors).append(error.message)
        return _render_person(person, form, status=error.status)
    role, scope = user_services.role_label(grant.role), user_services.grant_scope(grant)[1]
    flash(_("%(name)s is now %(role)s: %(scope)s.", name=person.display_name, role=role, scope=scope), "success")
    return redirect(url_for("staff.person", user_id=person.id))


def _person_action(user_id: int, action, done_message):
    person = _person_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(person)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        return _render_person(person, error=error.message, status=error.status)
    flash(done_message(person), "success")
    return redirect(url_for("staff.person", user_id=person.id))


@bp.route("/people/<int:user_id>/roles/<int:grant_id>/revoke", methods=["POST"])
@allow(STAFF)
def revoke_role(user_id, grant_id):
    return _person_action(
        user_id,
        lambda person: user_services.revoke_role(current_user, person.id, grant_id),
        lambda person: _("The role has been taken away from %(name)s. It stops working at once.", name=person.display_name),
    )


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@allow(STAFF)
def deactivate(user_id):
    return _person_action(
        user_id,
        lambda person: user_services.set_account_active(current_user, person.id, False),
        lambda person: _("%(name)s's account has been switched off and signed out everywhere.", name=person.display_name),
    )


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@allow(STAFF)
def reactivate(user_id):
    return _person_action(
        user_id,
        lambda person: user_services.set_account_active(current_user, person.id, True),
        lambda person: _("%(name)s's account has been switched on again.", name=person.display_name),
    )

