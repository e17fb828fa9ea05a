from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from marketplace.web import optional_id


class GrantRoleForm(FlaskForm):
    # The service checks the choices (with a message a person can act on), so WTForms does not.
    role = SelectField(_l("Role"), validate_choice=False)
    community = SelectField(
        _l("Community"), coerce=optional_id, validate_choice=False, description=_l("For a volunteer or a community administrator.")
    )
    grid = SelectField(_l("Grid"), coerce=optional_id, validate_choice=False, description=_l("For a grid administrator."))
    building = SelectField(_l("Building"), coerce=optional_id, validate_choice=False, description=_l("For a building head."))
    partner = SelectField(_l("Partner"), coerce=optional_id, validate_choice=False, description=_l("For partner staff."))
    department = StringField(
        _l("Department"), validators=[Length(max=100)], description=_l("For a street officer, such as the civil affairs section.")
    )
