"""Profile pages for personal API tokens: make one (shown once), see them, revoke one."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.access import SIGNED_IN, allow
from marketplace.errors import DomainError
from marketplace.forms import AtLeastOne, EmptyForm, choices_of
from marketplace.users import tokens
from marketplace.web import attach_error, not_found_on_404, require_fresh_login

pages = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


class TokenForm(FlaskForm):
    name = StringField(
        _lp("token", "Name"), description=_l("So you can tell your tokens apart, e.g. “my phone” or “WeChat mini-program”."),
        validators=[InputRequired(_l("Please give the token a name, such as the app it is for.")), Length(max=60)],
    )
    scopes = SelectMultipleField(
        _l("What may it do?"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[AtLeastOne(_l("Please choose at least one thing the token may do."))],
    )


def _form(**kwargs) -> TokenForm:
    form = TokenForm(**kwargs)
    form.scopes.choices = choices_of([(name, label) for name, label in tokens.SCOPES.items()])
    return form


def _page(form, new_token=None, status=200):
    return render_template("users/api_tokens.html", form=form, tokens=list(tokens.tokens_of(current_user)),
                           new_token=new_token, button_form=EmptyForm(), scope_labels=tokens.SCOPES), status


@pages.route("/", methods=["GET"])
@allow(SIGNED_IN)
def index():
    return _page(_form(formdata=None, scopes=["read"]))


@pages.route("/", methods=["POST"])
@allow(SIGNED_IN)
def create():
    # A token outlives the browser session: making one needs the password, like a password change.
    if (response := require_fresh_login(_("To make an API token, please enter your password again."),
                                        url_for("api_tokens.index"))) is not None:
        return response
    form = _form()
    if form.validate_on_submit():
        try:
            row, token = tokens.create_token(current_user, form.name.data, form.scopes.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("Your new token “%(name)s” is below. Copy it now: it will not be shown again.", name=row.name),
                  "success")
            return _page(_form(formdata=None, scopes=["read"]), new_token=token)
    return _page(form, status=422)


@pages.route("/<int:token_id>/revoke", methods=["POST"])
@allow(SIGNED_IN)
def revoke(token_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        row = tokens.revoke_token(current_user, token_id)
    except DomainError as error:
        not_found_on_404(error)
        raise
    flash(_("The token “%(name)s” is revoked: apps using it can no longer sign in with it.", name=row.name), "success")
    return redirect(url_for("api_tokens.index"))
