from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length


def _optional_id(value):
    """A place chosen from a list, or None: the service says which one is missing, in words."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class GrantRoleForm(FlaskForm):
    # The service checks the choices (with a message a person can act on), so WTForms does not.
    role = SelectField(_l("Role"), validate_choice=False)
    community = SelectField(
        _l("Community"), coerce=_optional_id, validate_choice=False, description=_l("For a volunteer or a community administrator.")
    )
    grid = SelectField(_l("Grid"), coerce=_optional_id, validate_choice=False, description=_l("For a grid administrator."))
    building = SelectField(_l("Building"), coerce=_optional_id, validate_choice=False, description=_l("For a building head."))
    partner = SelectField(_l("Partner"), coerce=_optional_id, validate_choice=False, description=_l("For partner staff."))
    department = StringField(
        _l("Department"), validators=[Length(max=100)], description=_l("For a street officer, such as the civil affairs section.")
    )


# ---- the working-day calendar -----------------------------------------------------------------
# Dates arrive as text and the service reads them, so a wrong date gets a message that quotes it.


class CalendarDaysForm(FlaskForm):
    first = StringField(_l("First day"), render_kw={"type": "date", "placeholder": "2027-01-01"})
    last = StringField(_l("Last day (for several days in a row)"), render_kw={"type": "date"})
    kind = RadioField(
        _l("These days are"),
        choices=[("holiday", _l("Holidays (no work)")), ("workday", _l("Make-up working days"))],
        validate_choice=False,
        default="holiday",
    )
    note = StringField(_l("Note"), description=_l("Such as 春节 or 国庆节调休上班."))


class CalendarImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    text = TextAreaField(_l("Or paste the lines here"), render_kw={"rows": 6, "placeholder": "2027-01-01,holiday,元旦"})


# ---- fund-use entries for the public board -------------------------------------------------------


class FundUseForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=_optional_id, validate_choice=False)
    spent_on = StringField(_l("Date"), render_kw={"type": "date"})
    purpose = StringField(_l("What it was used for"), validators=[Length(max=200)],
                          description=_l("Shown to the public. No names, phone numbers or addresses of residents."))
    amount = StringField(_l("Amount (yuan)"), render_kw={"inputmode": "decimal", "placeholder": "1280.50"})
    approved_by = StringField(_l("Approved by"), validators=[Length(max=100)],
                              description=_l("The meeting or office that approved it."))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why it is withdrawn"), validators=[Length(max=200)])


# ---- searching the audit log (GET, so no CSRF token) -------------------------------------------


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField(_l("Who (name or phone)"), validators=[Length(max=50)])
    object_type = SelectField(_l("About"), validate_choice=False)
    object_id = StringField(_l("Number"), render_kw={"inputmode": "numeric"})
    area = SelectField(_l("Area"), validate_choice=False)
    since = StringField(_l("From"), render_kw={"type": "date"})
    until = StringField(_l("To"), render_kw={"type": "date"})
