"""The proposals' forms: one per act on the matter's page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.events.forms import DATETIME_FORMAT
from marketplace.forms import WholeNumberField, choices_of

SCOPE_LABELS = {
    "building": _l("My building"),
    "grid": _l("My grid"),
    "community": _l("My whole community"),
}
MATTER_LABELS = {
    "ordinary": _l("An ordinary matter: more than half of those taking part"),
    "special": _l("A special matter (maintenance funds, rebuilding, changing the use of common parts): "
                  "at least three quarters of those taking part"),
}
CHOICE_LABELS = {"yes": _l("For"), "no": _l("Against"), "abstain": _l("Abstain")}
PARTY_LABELS = {"partner": _l("A partner enterprise"), "property": _l("The property company"),
                "department": _l("A street department")}
PHOTO_HELP = _l("A JPEG, PNG or WebP picture up to 5 MB.")


class ProposalForm(FlaskForm):
    scope_kind = RadioField(_l("Whom does it concern?"), choices=choices_of(SCOPE_LABELS.items()), default="building")
    title = StringField(_l("Title"), description=_l("For example: a shelter for electric bikes at building 3."),
                        validators=[InputRequired(_l("Please give the matter a short title (at least 4 characters).")),
                                    Length(max=100)])
    body = TextAreaField(_l("What is the problem, and what do you propose?"),
                         validators=[InputRequired(_l("Please describe the matter and what you propose (at least 10 characters).")),
                                     Length(max=5000)], render_kw={"rows": 5})
    photo = FileField(_l("A photo (optional)"), description=PHOTO_HELP,
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})


class DecideForm(FlaskForm):
    reason = StringField(_l("Reason (the proposer reads it; required to decline)"), validators=[Length(max=500)])


class MeetingForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Starts"), format=DATETIME_FORMAT,
                                   validators=[InputRequired(_l("Please give the start date and time."))])
    ends_at = DateTimeLocalField(_l("Ends"), format=DATETIME_FORMAT,
                                 validators=[InputRequired(_l("Please give the end date and time."))])
    place = StringField(_l("Where"), validators=[InputRequired(_l("Please say where the meeting takes place.")),
                                                 Length(max=200)])


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Meeting minutes"), description=_l("Who took part, what was said, what was agreed."),
                            validators=[Length(max=10_000)], render_kw={"rows": 5})


class OpenVoteForm(FlaskForm):
    motion = StringField(_l("The motion put to the vote"), validators=[Length(max=500)])
    matter = RadioField(_l("Kind of matter"), choices=choices_of(MATTER_LABELS.items()), default="ordinary")
    vote_days = WholeNumberField(_l("Days the vote stays open"), default=7, validators=[Optional()])
    participation = StringField(_l("Participation needed (optional, default 2/3 of households and of area)"),
                                validators=[Length(max=9)])
    majority = StringField(_l("Majority needed (optional, default by kind of matter)"), validators=[Length(max=9)])


class VoteForm(FlaskForm):
    choice = RadioField(_l("My household's vote"), choices=choices_of(CHOICE_LABELS.items()),
                        validators=[InputRequired(_l("Please choose for, against or abstain."))])


class InPersonVoteForm(FlaskForm):
    household = SelectField(_l("Household"), validators=[InputRequired(_l("Please choose a household."))])
    person_choice = RadioField(_l("Its vote"), choices=choices_of(CHOICE_LABELS.items()),
                        validators=[InputRequired(_l("Please choose for, against or abstain."))])


class ActionForm(FlaskForm):
    budget = StringField(_l("Budget (yuan)"), description=_l("0 when nothing is spent."), validators=[Length(max=20)])


class TaskForm(FlaskForm):
    task_title = StringField(_l("What is to be done"), validators=[Length(max=200)])
    party_kind = SelectField(_l("Who carries it out"), choices=choices_of(PARTY_LABELS.items()))
    partner = SelectField(_l("Partner enterprise"), validators=[Optional()])
    department = SelectField(_l("Street department"), validators=[Optional()])
    party_name = StringField(_l("Property company's name"), validators=[Length(max=100)])
    task_days = WholeNumberField(_l("Working days to do it"), default=10, validators=[Optional()])


class CloseTaskForm(FlaskForm):
    answer = StringField(_l("What was done"), validators=[Length(max=2000)])


class SpendingForm(FlaskForm):
    spent_on = StringField(_l("Date (like 2026-11-20)"), validators=[Length(max=20)])
    purpose = StringField(_l("What it was used for"), validators=[Length(max=200)])
    amount = StringField(_l("Amount (yuan)"), validators=[Length(max=20)])


class UpdateForm(FlaskForm):
    text = TextAreaField(_l("How the work stands"), validators=[Length(max=2000)], render_kw={"rows": 3})
    photo = FileField(_l("A photo (optional)"), description=PHOTO_HELP,
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})


class EvaluateForm(FlaskForm):
    rating = RadioField(_l("How satisfied is your household?"),
                        choices=choices_of([("5", "★★★★★"), ("4", "★★★★"), ("3", "★★★"), ("2", "★★"), ("1", "★")]),
                        validators=[InputRequired(_l("Please choose 1 to 5 stars."))])
    comment = TextAreaField(_l("Anything to add? (optional)"), validators=[Length(max=500)], render_kw={"rows": 3})


class AreaForm(FlaskForm):
    floor_area = StringField(_l("Floor area (m²)"), validators=[Length(max=12)])


class PointsForm(FlaskForm):
    vote_points = StringField(_l("Points for voting (0: none)"), validators=[Length(max=4)],
                              render_kw={"inputmode": "numeric"})
    meeting_points = StringField(_l("Points for attending the meeting (0: none)"), validators=[Length(max=4)],
                                 render_kw={"inputmode": "numeric"})


class OnBehalfForm(ProposalForm):
    """What a resident without a phone tells the building head, written down for them."""
