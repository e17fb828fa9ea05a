"""Small forms every domain's pages use: a bare POST button and a reason for an action."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length


def choices_of(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' SelectChoice: tuple choices are deprecated in WTForms 3.3
    and gone in 3.4."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=200)])
