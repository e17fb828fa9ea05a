from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.forms import WholeNumberField, choices_of

KIND_LABELS = {
    "earn_request": _l("Service done"),
    "earn_event": _l("Event hours"),
    "redeem": _l("Voucher bought"),
    "settle": _l("Voucher used"),
    "refund": _l("Voucher refunded"),
    "adjust": _l("Staff adjustment"),
    "reversal": _l("Correction"),
    "earn_care": _l("Care visit"),
}


class StatementFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    kind = SelectField(_l("Kind"), choices=choices_of([("", _l("All kinds"))] + list(KIND_LABELS.items())), validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


class AdjustmentForm(FlaskForm):
    direction = SelectField(_l("Add or take away"), choices=choices_of([("credit", _l("Add points")), ("debit", _l("Take points away"))]))
    amount = WholeNumberField(
        _l("Points"),
        validators=[InputRequired(_l("Please give the points.")), NumberRange(1, 1000000, _l("Points must be 1 or more."))],
    )
    reason = StringField(
        _l("Reason"),
        description=_l("Shown on the member's statement and kept in the audit log."),
        validators=[InputRequired(_l("Please give a reason.")), Length(max=500)],
    )
