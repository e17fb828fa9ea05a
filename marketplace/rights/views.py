"""My data: the person's copy of what the site holds about them, as a page to print and as JSON."""

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from marketplace.access import SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.rights import closing, services
from marketplace.rights.forms import CloseAccountForm
from marketplace.web import attach_error, not_found_on_404, require_fresh_login

bp = Blueprint("rights", __name__, url_prefix="/account")
staff_bp = Blueprint("rights_staff", __name__, url_prefix="/staff/people")


@bp.route("/my-data")
@allow(SIGNED_IN)
def my_data():
    return render_template("rights/my_data.html", data=services.personal_data(current_user))


@bp.route("/my-data.json")
@allow(SIGNED_IN)
def my_data_json():
    body = json.dumps(services.personal_data(current_user), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=my-data.json"})


# ---- closing an account -----------------------------------------------------------------------


def _close_page(person_id: int, back_to: str):
    """The confirmation page and its POST, for the person themself and for staff alike."""
    try:
        preview = closing.preview(current_user, person_id)
    except DomainError as error:
        not_found_on_404(error)
        abort(error.status)
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            closing.close_account(current_user, person_id)
        except DomainError as error:
            attach_error(form, error)
        else:
            return None
    status = 422 if form.errors or form.form_errors else 200
    return render_template("rights/close.html", preview=preview, form=form, back_to=back_to), status


@bp.route("/close", methods=["GET", "POST"])
@allow(SIGNED_IN)
def close_own():
    refused = require_fresh_login(_("Please type your password again to close your account."), url_for("rights.close_own"))
    if refused:
        return refused
    page = _close_page(current_user.id, url_for("users.account"))
    if page is not None:
        return page
    logout_user()
    session.clear()
    flash(_("Your account is closed. Thank you for being part of the community."), "success")
    return redirect(url_for("public.home"))


@staff_bp.route("/<int:person_id>/close", methods=["GET", "POST"])
@allow(STAFF)
def close_for(person_id):
    """For a resident who asks in person at the community office (audited)."""
    page = _close_page(person_id, url_for("staff.person", user_id=person_id))
    if page is not None:
        return page
    flash(_("The account is closed and its personal data anonymised."), "success")
    return redirect(url_for("staff.people"))
