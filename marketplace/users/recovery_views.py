"""Pages for getting back in (issue 16): a code by SMS, and the code staff hand over in person.
They add their routes to the users blueprint."""

from flask import abort, current_app, flash, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import PUBLIC, STAFF, allow
from marketplace.errors import DomainError
from marketplace.extensions import limiter, phone_in_form
from marketplace.users import services
from marketplace.users.forms import ForgotPasswordForm, IssueCodeForm, ResetPasswordForm
from marketplace.users.views import bp
from marketplace.web import attach_error


def _recovery_limit():
    return current_app.config["RECOVERY_CODES_PER_ADDRESS"]  # default: users/login_settings.py


def _recovery_number_limit():
    return current_app.config["RECOVERY_CODES_PER_NUMBER"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(_recovery_limit, methods=["POST"])
# Per number whatever the address, counted alike for numbers with and without an account.
@limiter.limit(_recovery_number_limit, methods=["POST"], key_func=phone_in_form)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            services.request_reset_code(form.phone.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            session["reset_phone"] = form.phone.data.strip()[:20]
            flash(_("If an account uses this number, we have sent it a 6-digit code by text message. It works for "
                    "10 minutes."), "info")
            return redirect(url_for("users.reset_password"))
    return render_template("users/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def reset_password():
    form = ResetPasswordForm()
    if not form.is_submitted():
        form.phone.data = session.get("reset_phone", "")
    if form.validate_on_submit():
        try:
            services.reset_with_code(form.phone.data, form.code.data, form.new_password.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            session.pop("reset_phone", None)
            flash(_("Your password has been changed and every device and app was logged out. Please log in with "
                    "your new password."), "success")
            return redirect(url_for("users.login"))
    return render_template("users/reset.html", form=form), 422 if form.errors else 200


@bp.route("/staff/people/<int:user_id>/reset-code", methods=["GET", "POST"])
@allow(STAFF)
def reset_code_for(user_id):
    """Staff in scope hand a resident a code in person, after checking the identity card. The
    code is shown once: the page is not kept by the browser."""
    if not services.may_issue_reset_code(current_user):
        abort(403)
    try:
        person = services.person_in_scope(current_user, user_id)
    except DomainError:
        abort(404)
    form = IssueCodeForm()
    if form.validate_on_submit():
        try:
            person, code, expires = services.issue_reset_code(current_user, person.id)
        except DomainError as error:
            attach_error(form, error)
        else:
            response = make_response(render_template("users/reset_code.html", person=person, code=code,
                                                     expires=expires))
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("users/reset_code_confirm.html", person=person, form=form), 422 if form.errors else 200
