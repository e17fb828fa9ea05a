from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.forms import choices_of

PERIOD_LABELS = {
    "any": _l("Any time"),
    "morning": _l("Morning"),
    "afternoon": _l("Afternoon"),
    "evening": _l("Evening"),
}


class BookingForm(FlaskForm):
    description = TextAreaField(
        _l("What do you need?"),
        description=_l("For example: the kitchen tap drips and will not turn off."),
        validators=[InputRequired(_l("Please say in a few words what you need.")), Length(max=1000)],
        render_kw={"rows": 4},
    )
    preferred_date = DateField(_l("Which day suits you? (optional)"), validators=[Optional()])
    preferred_period = RadioField(_l("What time of day?"), choices=choices_of(PERIOD_LABELS.items()), default="any")
    photo = FileField(
        _l("A photo (optional)"),
        description=_l("A JPEG, PNG or WebP picture up to 5 MB."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("The resident's 6-digit code"),
        validators=[InputRequired(_l("Please enter the code.")), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9 ]*"},
    )


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Length(max=500)])


class RatingForm(FlaskForm):
    rating = RadioField(
        _l("How satisfied are you?"),
        choices=choices_of([("5", "★★★★★"), ("4", "★★★★"), ("3", "★★★"), ("2", "★★"), ("1", "★")]),
        validators=[InputRequired(_l("Please give 1 to 5 stars."))],
    )
    comment = TextAreaField(_l("Anything to add? (optional)"), validators=[Length(max=1000)], render_kw={"rows": 3})


class EscalateForm(FlaskForm):
    # Choices: the departments (promises.departments()), filled in by the view.
    department = SelectField(
        _l("Street department"), validators=[InputRequired(_l("Please choose the department from the list."))]
    )
    major = BooleanField(_l("A major matter that may not be solved within a year (explain the reasons in 10 working days)"))
    note = StringField(_l("Note"), validators=[Length(max=500)])


class ResolveForm(FlaskForm):
    outcome = SelectField(
        _l("Outcome"),
        choices=choices_of([
            ("resolve_confirm", _l("The work was done: confirm and pay")),
            ("resolve_redo", _l("The helper comes back to finish it")),
            ("resolve_cancel", _l("Cancel the request")),
        ]),
    )
    note = StringField(_l("How it was settled"), validators=[InputRequired(_l("Please write down how it was settled.")), Length(max=500)])


class JobFilterForm(FlaskForm):
    class Meta:
        csrf = False

    category = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    grid = SelectField(_l("Grid"), coerce=int, validators=[Optional()])


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("Your answer, in words the resident understands"),
                         validators=[InputRequired(_l("Please write the answer the resident will read.")),
                                     Length(max=2000)], render_kw={"rows": 3})


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("What is still not solved?"),
                           validators=[InputRequired(_l("Please say what is still not solved.")), Length(max=2000)],
                           render_kw={"rows": 3})


class DecideReopenForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices_of([
        ("reopen", _l("Reopen: a new deadline, one level higher")),
        ("decline", _l("Decline, with a reason the resident reads")),
    ]))
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)], render_kw={"rows": 3})
