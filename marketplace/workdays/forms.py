"""The forms of the working-day calendar page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, StringField, TextAreaField

from marketplace.forms import choices_of

# Dates arrive as text and the service reads them, so a wrong date gets a message that quotes it.


class CalendarDaysForm(FlaskForm):
    first = StringField(_l("First day"), render_kw={"type": "date", "placeholder": "2027-01-01"})
    last = StringField(_l("Last day (for several days in a row)"), render_kw={"type": "date"})
    kind = RadioField(
        _l("These days are"),
        choices=choices_of([("holiday", _l("Holidays (no work)")), ("workday", _l("Make-up working days"))]),
        validate_choice=False,
        default="holiday",
    )
    note = StringField(_l("Note"), description=_l("Such as 春节 or 国庆节调休上班."))


class CalendarImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    text = TextAreaField(_l("Or paste the lines here"), render_kw={"rows": 6, "placeholder": "2027-01-01,holiday,元旦"})
