from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length


class PlaceNameForm(FlaskForm):
    parent = HiddenField()
    name_zh = StringField(_l("Name in Chinese"), validators=[InputRequired(_l("Please give a Chinese name.")), Length(max=100)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=100)])


class HouseholdsForm(FlaskForm):
    parent = HiddenField()
    units = TextAreaField(
        _l("Units"),
        description=_l("One or more units such as 1-101, separated by spaces, commas or new lines."),
        validators=[InputRequired(_l("Please list at least one unit, such as 1-101."))],
    )
