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
