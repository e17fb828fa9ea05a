from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Regexp

from marketplace.forms import WholeNumberField, choices_of


class ServiceItemForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=int, validators=[InputRequired(_l("Please choose a category."))])
    code = StringField(
        _l("Code"),
        description=_l("Lowercase letters, digits and underscores, e.g. lock_repair."),
        validators=[
            InputRequired(_l("Please give a code.")),
            Regexp(r"^[a-z][a-z0-9_]{1,63}$", message=_l("Use lowercase letters, digits and underscores.")),
        ],
    )
    name_zh = StringField(_l("Name in Chinese"), validators=[InputRequired(_l("Please give a Chinese name.")), Length(max=100)])
    name_en = StringField(_l("Name in English"), validators=[InputRequired(_l("Please give an English name.")), Length(max=100)])
    description_zh = TextAreaField(_l("Description in Chinese"), validators=[InputRequired(_l("Please describe the service."))])
    description_en = TextAreaField(_l("Description in English"), validators=[InputRequired(_l("Please describe the service."))])
    fulfilment = SelectField(
        _l("Who may do it"),
        choices=choices_of([("volunteer", _l("Volunteers")), ("partner", _l("Partner businesses")), ("either", _l("Either"))]),
    )
    points = WholeNumberField(
        _l("Points"),
        validators=[InputRequired(_l("Please give the points.")), NumberRange(1, 1000, _l("Points must be between 1 and 1000."))],
    )
    deadline_days = WholeNumberField(
        _l("Deadline in working days"),
        default=5,
        validators=[InputRequired(_l("Please give the deadline.")), NumberRange(1, 60, _l("The deadline must be 1 to 60 working days."))],
    )

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
