from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length
from wtforms.validators import Optional as OptionalValue

from marketplace.care.models import VISIT_MINUTES, VISIT_POINTS


class MemberForm(FlaskForm):
    """A resident added to the key-group register."""

    resident = SelectField(_l("Resident"), validators=[InputRequired(_l("Please choose a resident."))])
    group = SelectField(_l("Key group"), validators=[InputRequired(_l("Please choose a key group."))])
    note = StringField(_l("Note (optional)"), validators=[OptionalValue(), Length(max=300)],
                       description=_l("What a visitor should know, such as hard of hearing. Kept on the register only."))


class PairForm(FlaskForm):
    """A volunteer paired with a member of the register for recurring visits."""

    member = SelectField(_l("Resident on the register"), validators=[InputRequired(_l("Please choose a resident."))])
    volunteer = SelectField(_l("Volunteer"), validators=[InputRequired(_l("Please choose a volunteer."))])
    frequency = SelectField(_l("How often"), validators=[InputRequired(_l("Please choose how often the visits are."))])
    starts_on = DateField(_l("First visit from"), validators=[InputRequired(_l(
        "Please choose a start day from today on, within a year."))])
    weekday = SelectField(_l("On (optional)"), validators=[OptionalValue()])
    minutes = StringField(_l("Minutes a visit counts"), default=str(VISIT_MINUTES), validators=[InputRequired(_l(
        "A visit lasts 15 to 480 minutes.")), Length(max=4)])
    points = StringField(_l("Points a visit earns"), default=str(VISIT_POINTS), validators=[InputRequired(_l(
        "A visit earns 0 to 100 points.")), Length(max=4)])


class CodeForm(FlaskForm):
    """The volunteer types the code the resident shows at the door."""

    code = StringField(_l("The resident's code"), validators=[InputRequired(_l(
        "Please type the 6-digit code the resident shows you.")), Length(max=20)])


class PhoneForm(FlaskForm):
    """Staff record a visit after a phone call with the resident."""

    note = StringField(_l("What the resident said on the phone"), validators=[InputRequired(_l(
        "Please write down what the resident said on the phone.")), Length(max=300)])
