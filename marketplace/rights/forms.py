from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired


class CloseAccountForm(FlaskForm):
    understood = BooleanField(
        _l("I understand: the name, phone number and what was written are removed for good, and the points go to the community fund."),
        validators=[InputRequired(_l("Please confirm that you understand."))],
    )
