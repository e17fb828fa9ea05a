"""Small forms every domain's pages use: a bare POST button and a reason for an action."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=200)])
