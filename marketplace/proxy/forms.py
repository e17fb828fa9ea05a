from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length
from wtforms.validators import Optional as OptionalValue


class MemberForm(FlaskForm):
    """A household member without a mobile phone, registered in person by staff."""

    household = SelectField(_l("Household"), validators=[InputRequired(_l("Please choose the household."))])
    display_name = StringField(_l("Name"), validators=[
        InputRequired(_l("Please write the person's name (up to 50 characters).")), Length(max=50)])
    landline = StringField(_l("Landline (optional)"), validators=[OptionalValue(), Length(max=20)],
                           description=_l("Leave empty if the person has no phone at all."))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or phone number"), validators=[OptionalValue(), Length(max=50)])


class AskForm(FlaskForm):
    """A family member asks to act for a resident."""

    phone = StringField(_l("Their mobile number"), validators=[InputRequired(_l(
        "Please enter an 11-digit mainland mobile number, such as 13812345678.")), Length(max=20)])
    relation = StringField(_l("You are their (optional)"), validators=[OptionalValue(), Length(max=30)],
                           description=_l("For example: son, daughter, niece."))


class LinkForm(FlaskForm):
    """Staff link a family member while the resident consents before them."""

    phone = StringField(_l("The family member's mobile number"), validators=[InputRequired(_l(
        "Please enter an 11-digit mainland mobile number, such as 13812345678.")), Length(max=20)])
    relation = StringField(_l("Relation (optional)"), validators=[OptionalValue(), Length(max=30)])
