"""Small forms every domain's pages use: a bare POST button, a reason for an action, and a
whole number typed in digits."""

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, StopValidation


def choices_of(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' SelectChoice: tuple choices are deprecated in WTForms 3.3
    and gone in 3.4."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class AtLeastOne:
    """A list of checkboxes where one ticked is enough. InputRequired on a SelectMultipleField
    puts `required` on every box, so the browser sends the form only when all are ticked."""

    field_flags: dict = {}

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            field.errors[:] = []
            raise StopValidation(self.message)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=200)])


class WholeNumberField(IntegerField):
    """A whole number in digits 0-9. WTForms' IntegerField calls int(), which reads any script's
    digits ("١٢" was 12 points): a number someone did not see as one. Full-width digits from a
    Chinese keyboard are the same digits (NFKC) and count."""

    def process_formdata(self, valuelist):
        if valuelist:
            text = unicodedata.normalize("NFKC", valuelist[0] or "").strip()
            if text and not text.lstrip("-").isascii():
                self.data = None
                raise ValueError(self.gettext("Not a valid integer value."))
            valuelist = [text]
        super().process_formdata(valuelist)
