from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.forms import choices_of

KIND_LABELS = {
    "patrol": _l("Safety patrol"),
    "flea_market": _l("Flea market"),
    "lecture": _l("Lecture"),
    "service_day": _l("Service day"),
    "other": _l("Other"),
}
POINTS_RULE_LABELS = {
    "per_hour": _l("Points for each hour"),
    "fixed": _l("Fixed points for taking part"),
}
METHOD_LABELS = {
    "kiosk": _l("kiosk QR"),
    "code": _l("code typed"),
    "poster": _l("poster QR"),
    "badge": _l("badge scanned"),
    "manual": _l("by hand"),
    "auto": _l("at the end, automatically"),
}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def local_input(moment):
    """A stored UTC time as the community's local time, for a datetime-local box."""
    return to_user_timezone(moment).replace(tzinfo=None, second=0, microsecond=0) if moment else None


def utc_from_input(moment):
    return to_utc(moment) if moment else None


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(_l("Please give the event a title.")), Length(max=100)])
    kind = SelectField(_l("Kind of event"), choices=choices_of(KIND_LABELS.items()))
    community_id = SelectField(_l("Community"), coerce=int)
    place = StringField(
        _l("Where"), description=_l("Where volunteers meet, e.g. the gate of building 3."),
        validators=[InputRequired(_l("Please say where the event takes place.")), Length(max=200)],
    )
    description = TextAreaField(_l("What volunteers will do"), validators=[Length(max=5000)])
    starts_at = DateTimeLocalField(
        _l("Starts"), format=DATETIME_FORMAT, validators=[InputRequired(_l("Please give the start date and time."))]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=DATETIME_FORMAT, validators=[InputRequired(_l("Please give the end date and time."))]
    )
    capacity = IntegerField(
        _l("Number of places"),
        description=_l("When all places are taken, people can join a waiting list."),
        validators=[InputRequired(_l("Please give the number of places.")),
                    NumberRange(1, 10000, _l("The number of places must be 1 to 10000."))],
    )
    points_rule = SelectField(_l("How points are given"), choices=choices_of(POINTS_RULE_LABELS.items()))
    points = IntegerField(
        _l("Points"),
        description=_l("For each hour (counted only within the event's times), or once for taking part."),
        default=10,
        validators=[InputRequired(_l("Please give the points.")),
                    NumberRange(0, 1000, _l("The points must be 0 to 1000."))],
    )
    allow_walk_ins = BooleanField(_l("Volunteers who did not sign up may check in too"))

    def values(self) -> dict:
        return {
            "title": self.title.data, "kind": self.kind.data, "community_id": self.community_id.data,
            "place": self.place.data, "description": self.description.data,
            "starts_at": utc_from_input(self.starts_at.data), "ends_at": utc_from_input(self.ends_at.data),
            "capacity": self.capacity.data, "points_rule": self.points_rule.data, "points": self.points.data,
            "allow_walk_ins": self.allow_walk_ins.data,
        }


class CodeForm(FlaskForm):
    code = StringField(
        _l("The 6 digits on the screen"),
        validators=[InputRequired(_l("Please type the 6 digits shown on the screen at the door.")), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*", "maxlength": "7"},
    )


class ActionForm(FlaskForm):
    """A check-in or check-out button (the poster's page has both)."""

    action = HiddenField()


class BadgeForm(FlaskForm):
    """The staff scanner's typed code (and what the camera fills in)."""

    code = StringField(
        _l("Badge code"),
        description=_l("As printed under the volunteer's QR, e.g. 17-K7Q2M-9XD4P."),
        validators=[InputRequired(_l("Please enter the badge code.")), Length(max=500)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    action = SelectField(_l("Record"), choices=choices_of([("in", _l("Check-in")), ("out", _l("Check-out"))]), default="in")


class ManualInForm(FlaskForm):
    phone = StringField(
        _l("Volunteer's mobile number"),
        validators=[InputRequired(_l("Please enter the volunteer's mobile number.")), Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    at = DateTimeLocalField(_l("Arrived at"), format=DATETIME_FORMAT, validators=[Optional()],
                            description=_l("Leave empty for now."))
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Please give a reason; it is kept in the audit log.")),
                                                  Length(max=200)])


class ManualOutForm(FlaskForm):
    at = DateTimeLocalField(_l("Left at"), format=DATETIME_FORMAT, validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Please give a reason; it is kept in the audit log.")),
                                                  Length(max=200)])


class CorrectionForm(FlaskForm):
    """A volunteer's request for other times on one attendance (local times, as on the door's
    pages); a time left empty stays as recorded."""

    checked_in_at = DateTimeLocalField(_l("I arrived at"), format=DATETIME_FORMAT, validators=[Optional()],
                                       description=_l("Leave empty if the recorded time is right."))
    checked_out_at = DateTimeLocalField(_l("I left at"), format=DATETIME_FORMAT, validators=[Optional()],
                                        description=_l("Leave empty if the recorded time is right."))
    reason = TextAreaField(_l("Why the times should change"),
                           description=_l("For example: my phone was flat at the door; the leader saw me until 12:00."),
                           validators=[InputRequired(_l("Please say why the times should change.")), Length(max=300)])
    photo = FileField(_l("A photo (optional)"),
                      description=_l("For example the sign-in sheet: a JPEG, PNG or WebP picture up to 5 MB."),
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})


class DecisionForm(FlaskForm):
    """Staff's answer to a correction request: the volunteer reads the note."""

    note = StringField(_l("Note to the volunteer"), validators=[Length(max=300)],
                       description=_l("Needed when declining."))
