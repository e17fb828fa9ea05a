"""Partner enterprises, created by community administrators, who invite their staff by one-time link."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import allow
from marketplace.errors import DomainError
from marketplace.forms import choices_of
from marketplace.partners import invitations, services
from marketplace.partners.forms import InviteForm, PartnerForm
from marketplace.places.models import Community
from marketplace.users.models import PartnerInvite, RoleGrant, User

bp = Blueprint("partners", __name__, url_prefix="/partners")

EDITORS = ("community_admin",)


@bp.route("/")
@allow(EDITORS)
def index():
    return render_template("partners/index.html", partners=services.partners_in_scope(current_user))


@bp.route("/new", methods=["GET", "POST"])
@allow(EDITORS)
def new():
    form = PartnerForm()
    ids = access.scope_of(current_user).administered_community_ids()
    form.community.choices = choices_of([(c.id, c.name) for c in Community.select().where(Community.id.in_(ids or [0]))])
    if form.validate_on_submit():
        try:
            partner = services.create_partner(
                current_user, form.community.data, form.name.data, form.business.data, form.contact_phone.data, form.address.data
            )
        except DomainError as error:
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            flash(_("The partner has been added. Now invite its staff."), "success")
            return redirect(url_for("partners.show", partner_id=partner.id))
    return render_template("partners/new.html", form=form), 422 if form.errors else 200


@bp.route("/<int:partner_id>", methods=["GET", "POST"])
@allow(EDITORS)
def show(partner_id):
    try:
        partner = services.get_partner_in_scope(current_user, partner_id)
    except DomainError:
        abort(404)
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        token = invitations.invite_partner_staff(current_user, partner.id, form.note.data)
        link = url_for("users.join_partner", token=token, _external=True)
        form.note.data = ""
    staff = (
        User.select(User).join(RoleGrant, on=(RoleGrant.user == User.id))
        .where(RoleGrant.role == "partner_staff", RoleGrant.partner == partner.id)
        .order_by(User.display_name)
    )
    invites = partner.invites.order_by(PartnerInvite.id.desc()).limit(20)
    return render_template("partners/show.html", partner=partner, form=form, link=link, staff=staff, invites=invites)
