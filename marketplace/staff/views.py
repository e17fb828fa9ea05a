"""The staff work queue: residents awaiting verification and volunteer applications, in scope."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import STAFF, allow
from marketplace.errors import DomainError
from marketplace.places.models import Building, Grid, Household
from marketplace.users import services as user_services
from marketplace.users.forms import EmptyForm, ReasonForm
from marketplace.users.models import ResidencyApplication, User, VolunteerApplication

bp = Blueprint("staff", __name__, url_prefix="/staff")

VERIFIERS = ("building_head", "grid_admin", "community_admin")


@bp.route("/")
@allow(STAFF)
def queue():
    residency = (
        ResidencyApplication.select(ResidencyApplication, User, Household, Building, Grid)
        .join(User, on=(ResidencyApplication.user == User.id))
        .switch(ResidencyApplication)
        .join(Household)
        .join(Building)
        .join(Grid)
        .where(
            ResidencyApplication.status == "pending",
            ResidencyApplication.household.in_(access.household_ids_in_scope(current_user)),
        )
        .order_by(ResidencyApplication.created_at)
    )
    communities = access.community_ids_administered(current_user)
    volunteers = (
        VolunteerApplication.select(VolunteerApplication, User)
        .join(User, on=(VolunteerApplication.user == User.id))
        .where(VolunteerApplication.status == "pending", VolunteerApplication.community.in_(communities or [0]))
        .order_by(VolunteerApplication.created_at)
    )
    can_verify = access.has_role(current_user, *VERIFIERS)
    return render_template(
        "staff/queue.html",
        residency=residency if can_verify else [],
        volunteers=volunteers,
        button_form=EmptyForm(),
        reason_form=ReasonForm(formdata=None),
    )


def _decide(action, *args):
    try:
        action(current_user, *args)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("Saved. The person will see the decision when they next log in."), "success")
    return redirect(url_for("staff.queue"))


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
