"""Pages for one's own account: sign up, log in and out, password, household, volunteering."""

from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from marketplace import access
from marketplace.access import PUBLIC, SIGNED_IN, allow
from marketplace.errors import DomainError
from marketplace.extensions import limiter, phone_in_form, signed_in_user
from marketplace.forms import EmptyForm, choices_of
from marketplace.i18n import normalize
from marketplace.menu.models import Category
from marketplace.partners import invitations
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.users import login_limits, services
from marketplace.users.forms import (
    ConfirmPasswordForm,
    HouseholdForm,
    LoginForm,
    PasswordChangeForm,
    PhoneChangeForm,
    PhoneCodeForm,
    SignUpConfirmForm,
    SignUpForm,
    VolunteerForm,
)
from marketplace.web import attach_error, mark_login_fresh, require_fresh_login

bp = Blueprint("users", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a login link cannot send people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("public.home")


def _sign_in(user, remember: bool) -> None:
    session.clear()  # a fresh session at login: nothing from before survives
    services.start_session(user, request.headers.get("User-Agent", ""), remembered=remember)
    login_user(user, remember=remember)
    session.permanent = True
    mark_login_fresh()


@bp.route("/signup", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"], methods=["POST"])
# And per number tried, from whatever addresses, as for a password reset's codes: one text
# message costs money and reaches a person, and "already registered" must not become a way to
# test which numbers have accounts.
@limiter.limit(lambda: current_app.config["RECOVERY_CODES_PER_NUMBER"], methods=["POST"], key_func=phone_in_form)
def signup():
    """Step 1: the number. A code goes to it (or, if it has an account, a word to its owner);
    the page answers the same either way."""
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            services.request_signup_code(form.phone.data, locale=normalize(session.get("lang")))
        except DomainError as error:
            attach_error(form, error)
        else:
            session["signup_phone"] = form.phone.data.strip()[:20]
            flash(_("We have sent a text message to this number. Type the 6-digit code from it below; it works for "
                    "10 minutes. If the number already has an account, the message says so: then please log in."),
                  "info")
            return redirect(url_for("users.signup_confirm"))
    return render_template("users/signup.html", form=form), 422 if form.errors else 200


@bp.route("/signup/confirm", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def signup_confirm():
    """Step 2: the code, a name and a password; the account is created and signed in."""
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = SignUpConfirmForm()
    if not form.is_submitted():
        form.phone.data = session.get("signup_phone", "")
    if form.validate_on_submit():
        try:
            user = services.confirm_sign_up(form.phone.data, form.code.data, form.display_name.data,
                                            form.password.data, locale=normalize(session.get("lang")))
        except DomainError as error:
            attach_error(form, error)
        else:
            lang = session.get("lang")
            _sign_in(user, remember=False)
            if lang:
                session["lang"] = lang
            flash(_("Your account is ready. Now tell us where you live, so the community can verify you."),
                  "success")
            return redirect(url_for("users.household"))
    return render_template("users/signup_confirm.html", form=form), 422 if form.errors else 200


def render_login(form=None, error=None, status=200):
    form = form or LoginForm(formdata=None, next=request.values.get("next", ""))
    if error:
        form.form_errors.append(error)
    return render_template("users/login.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
# A flood guard per address only: failures are counted per number and address, per address and
# per number (only a delay) by users/login_limits.py, so guessing cannot lock the owner out.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = login_limits.authenticate(form.phone.data, form.password.data, request.remote_addr or "")
        except DomainError as error:
            return render_login(form, error.message, 429 if error.status == 429 else 401)
        _sign_in(user, remember=form.remember.data)
        if user.locale:
            session["lang"] = user.locale
        return redirect(_safe_next(form.next.data))
    return render_login(form, status=422 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@allow(PUBLIC)
def logout():
    if current_user.is_authenticated:
        services.end_session(current_user.get_id())
        logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/account/confirm", methods=["GET", "POST"])
@allow(SIGNED_IN)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=signed_in_user)
def reauthenticate():
    """Type the password again before a sensitive action (a points adjustment)."""
    form = ConfirmPasswordForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            login_limits.authenticate(current_user.phone, form.password.data, request.remote_addr or "")
        except DomainError as error:
            form.password.errors = [error.message if error.status == 429 else
                                    _("That password is not right. Please try again.")]
        else:
            mark_login_fresh()
            return redirect(_safe_next(form.next.data))
    return render_template("users/confirm.html", form=form), 422 if form.errors else 200


@bp.route("/account/logout-everywhere", methods=["POST"])
@allow(SIGNED_IN)
def logout_everywhere():
    services.end_all_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("You have been logged out on all devices and apps."), "info")
    return redirect(url_for("users.login"))


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def set_language():
    lang = normalize(request.form.get("lang"))
    if lang is None:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        services.set_locale(current_user, lang)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account")
@allow(SIGNED_IN)
def account():
    grants = access.grants(current_user)
    return render_template(
        "users/account.html",
        grants=grants,
        residency=services.current_residency(current_user),
        volunteering=services.current_volunteer_application(current_user),
        button_form=EmptyForm(),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    if (response := require_fresh_login(_("To change your password, please enter your password again."))) is not None:
        return response
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("Your password has been changed. Other devices and apps have been logged out."), "success")
            return redirect(url_for("users.account"))
    return render_template("users/password.html", form=form), 422 if form.errors else 200


@bp.route("/account/phone", methods=["GET", "POST"])
@allow(SIGNED_IN)
@limiter.limit(lambda: current_app.config["RECOVERY_CODES_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=signed_in_user)
def change_phone():
    """Step 1: the new number and the password; a code goes to the new number."""
    if (response := require_fresh_login(_("To change your mobile number, please enter your password again."))) is not None:
        return response
    form = PhoneChangeForm()
    if form.validate_on_submit():
        try:
            services.request_phone_change_code(current_user, form.phone.data, form.password.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            session["new_phone"] = services.normalize_phone(form.phone.data)
            flash(_("We have sent a 6-digit code to your new number. Type it below; it works for 10 minutes."),
                  "info")
            return redirect(url_for("users.change_phone_confirm"))
    return render_template("users/phone.html", form=form), 422 if form.errors else 200


@bp.route("/account/phone/confirm", methods=["GET", "POST"])
@allow(SIGNED_IN)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=signed_in_user)
def change_phone_confirm():
    """Step 2: the code sent to the new number; only then does the login move."""
    form = PhoneCodeForm()
    if not form.is_submitted():
        form.phone.data = session.get("new_phone", "")
    if not form.phone.data:
        return redirect(url_for("users.change_phone"))
    if form.validate_on_submit():
        try:
            services.confirm_phone_change(current_user, form.phone.data, form.code.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            session.pop("new_phone", None)
            flash(_("Your mobile number has been changed. Other devices and apps have been logged out."), "success")
            return redirect(url_for("users.account"))
    return render_template("users/phone_confirm.html", form=form), 422 if form.errors else 200


@bp.route("/account/household", methods=["GET", "POST"])
@allow(SIGNED_IN)
def household():
    """Choose one's home in three steps (community, building, unit): big buttons, no typing."""
    form = HouseholdForm()
    if form.validate_on_submit():
        try:
            services.apply_for_residency(current_user, int(form.household.data))
        except (DomainError, ValueError) as error:
            flash(getattr(error, "message", _("Please choose your home from the list.")), "error")
        else:
            flash(_("Thank you. The community office will verify your household soon."), "success")
            return redirect(url_for("users.account"))
    community = Community.get_or_none(Community.id == request.args.get("community", type=int))
    building = Building.get_or_none(Building.id == request.args.get("building", type=int))
    if building is not None:
        community = building.grid.community
    context = {"form": form, "community": community, "building": building}
    if community is None:
        context["communities"] = Community.select().order_by(Community.id)
    elif building is None:
        context["buildings"] = (
            Building.select(Building, Grid).join(Grid).where(Grid.community == community).order_by(Grid.id, Building.id)
        )
    else:
        context["households"] = building.households.order_by(Household.unit)
    context["residency"] = services.current_residency(current_user)
    context["pending"] = context["residency"] is not None and context["residency"].status == "pending"
    return render_template("users/household.html", **context)


@bp.route("/account/volunteer", methods=["GET", "POST"])
@allow(SIGNED_IN)
def volunteer():
    form = VolunteerForm()
    form.skills.choices = choices_of([(c.id, c.name) for c in Category.select().order_by(Category.position)])
    if form.validate_on_submit():
        try:
            services.apply_as_volunteer(current_user, form.skills.data, form.availability.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("Thank you for offering to help! The community office will answer soon."), "success")
            return redirect(url_for("users.account"))
    application = services.current_volunteer_application(current_user)
    return render_template("users/volunteer.html", form=form, application=application), 422 if form.errors else 200


@bp.route("/join/<token>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def join_partner(token):
    try:
        invite = invitations.find_invite(token)
    except DomainError as error:
        return render_template("errors/error.html", code=error.status, message=error.message), error.status
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            partner = invitations.accept_invite(current_user, token)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("You are now staff of %(name)s.", name=partner.name), "success")
            return redirect(url_for("users.account"))
    return render_template("users/join.html", invite=invite, form=form)
