"""The search form of the audit log page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length


class AuditSearchForm(FlaskForm):
    # A search is a GET, so no CSRF token.
    class Meta:
        csrf = False

    actor = StringField(_l("Who (name or phone)"), validators=[Length(max=50)])
    object_type = SelectField(_l("About"), validate_choice=False)
    object_id = StringField(_l("Number"), render_kw={"inputmode": "numeric"})
    area = SelectField(_l("Area"), validate_choice=False)
    since = StringField(_l("From"), render_kw={"type": "date"})
    until = StringField(_l("To"), render_kw={"type": "date"})
