from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace import workdays
from marketplace.forms import WholeNumberField, choices_of

CATEGORY_LABELS = {
    "daily_goods": _l("Daily goods"),
    "food": _l("Food"),
    "services": _l("Services"),
    "second_hand": _l("Second-hand"),
    "culture": _l("Books and culture"),
    "other": _l("Other"),
}


class RedeemForm(FlaskForm):
    key = HiddenField()


class ScanForm(FlaskForm):
    code = StringField(
        _l("Voucher code"),
        description=_l("10 letters and digits, as shown on the member's phone."),
        validators=[InputRequired(_l("Please enter the voucher code.")), Length(max=200)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"},
    )


class OfferForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(_l("Please give the offer a title.")), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    category = SelectField(_l("Category"), choices=choices_of((k, v) for k, v in CATEGORY_LABELS.items() if k != "second_hand"))
    price = WholeNumberField(
        _l("Price in points"),
        validators=[InputRequired(_l("Please give the price.")), NumberRange(1, 100000, _l("The price must be 1 to 100000 points."))],
    )
    stock = WholeNumberField(
        _l("How many are available"),
        validators=[InputRequired(_l("Please give the stock.")), NumberRange(0, 100000, _l("The stock must be 0 to 100000."))],
    )
    per_person_limit = WholeNumberField(
        _l("Most one person may buy"),
        description=_l("Leave empty for no limit."),
        validators=[Optional(), NumberRange(1, 1000, _l("The limit must be 1 to 1000."))],
    )
    valid_from = DateField(_l("First valid day"), validators=[InputRequired(_l("Please give the first valid day."))])
    valid_until = DateField(_l("Last valid day"), validators=[InputRequired(_l("Please give the last valid day."))])

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


LISTING_DAYS = 30


def _local_today() -> date:
    return datetime.now(workdays.local_zone()).date()


class ListingForm(OfferForm):
    """A resident's second-hand item: no category to choose, usually one of it."""

    category = None
    stock = WholeNumberField(
        _l("How many you have"),
        default=1,
        validators=[InputRequired(_l("Please give the number.")), NumberRange(1, 100, _l("The number must be 1 to 100."))],
    )
    # Filled in for the seller: on sale from today for a month (most sell within days).
    valid_from = DateField(_l("First valid day"), default=_local_today,
                           validators=[InputRequired(_l("Please give the first valid day."))])
    valid_until = DateField(_l("Last valid day"), default=lambda: _local_today() + timedelta(days=LISTING_DAYS),
                            description=_l("Filled in for you: a month from today. Change it if you like."),
                            validators=[InputRequired(_l("Please give the last valid day."))])
    per_person_limit = None
