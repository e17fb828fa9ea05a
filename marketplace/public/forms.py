"""The forms staff use to publish fund-use entries on the public board."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from marketplace.web import optional_id


class FundUseForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=optional_id, validate_choice=False)
    spent_on = StringField(_l("Date"), render_kw={"type": "date"})
    purpose = StringField(_l("What it was used for"), validators=[Length(max=200)],
                          description=_l("Shown to the public. No names, phone numbers or addresses of residents."))
    amount = StringField(_l("Amount (yuan)"), render_kw={"inputmode": "decimal", "placeholder": "1280.50"})
    approved_by = StringField(_l("Approved by"), validators=[Length(max=100)],
                              description=_l("The meeting or office that approved it."))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why it is withdrawn"), validators=[Length(max=200)])
