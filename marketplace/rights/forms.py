from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import InputRequired


class CloseAccountForm(FlaskForm):
    understood = BooleanField(
        _l("I understand: the name, phone number and what was written are removed for good, and the points go to the community fund."),
        validators=[InputRequired(_l("Please confirm that you understand."))],
    )


class CloseOwnAccountApiForm(CloseAccountForm):
    """Through the API the password is typed again: a token alone does not close an account."""

    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password."))])
