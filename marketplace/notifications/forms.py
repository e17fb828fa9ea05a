"""Forms of the messages pages: one's channels and quiet hours; a call's outcome."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp

from marketplace.forms import choices_of

TIME = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("A time of day such as 22:00."))


class PreferencesForm(FlaskForm):
    sms = BooleanField(_l("SMS to my mobile phone"))
    wechat = BooleanField(_l("WeChat (the community's Official Account)"))
    quiet_start = StringField(_l("Quiet hours from (HH:MM)"), validators=[Optional(), TIME])
    quiet_end = StringField(_l("Quiet hours until (HH:MM)"), validators=[Optional(), TIME])

    def channels(self) -> list[str]:
        return [name for name in ("sms", "wechat") if getattr(self, name).data]


class CallForm(FlaskForm):
    outcome = SelectField(_l("How did the call go?"), choices=choices_of([
        ("reached", _l("Reached: they know now")), ("visited", _l("Visited in person")),
        ("no_answer", _l("No answer")), ("wrong_number", _l("Wrong number"))]))
    note = StringField(_l("Note"), validators=[Length(max=300)])
