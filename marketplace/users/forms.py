from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.forms import AtLeastOne


class SignUpForm(FlaskForm):
    """Step 1: the number, to which a code is sent (nothing is created yet)."""

    phone = StringField(_l("Mobile number"), validators=[InputRequired(_l("Please enter your mobile number."))],
                        description=_l("We send a 6-digit code to it by text message, to make sure it is yours."))


class SignUpConfirmForm(FlaskForm):
    """Step 2: the code, the name and the password; the account is created with them."""

    phone = StringField(_l("Mobile number"), validators=[InputRequired(_l("Please enter your mobile number."))])
    code = StringField(
        _l("Code from the text message"),
        validators=[InputRequired(_l("Please enter the code.")), Length(max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )
    display_name = StringField(
        _l("Your name"), validators=[InputRequired(_l("Please tell us your name.")), Length(max=50)]
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 8 characters. A short sentence you remember is best."),
        validators=[InputRequired(_l("Please choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[InputRequired(_l("Please enter your mobile number."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password."))])
    remember = BooleanField(_l("Keep me signed in on this device (30 days)"))
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(_l("Please enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 8 characters. A short sentence you remember is best."),
        validators=[InputRequired(_l("Please choose a new password."))],
    )


class PhoneChangeForm(FlaskForm):
    phone = StringField(
        _l("New mobile number"),
        description=_l("We send a code to it by text message. You will log in with this number from then on."),
        validators=[InputRequired(_l("Please enter your new mobile number."))],
    )
    password = PasswordField(_l("Your password"), validators=[InputRequired(_l("Please enter your password."))])


class PhoneCodeForm(FlaskForm):
    phone = HiddenField(validators=[InputRequired(_l("Please enter your new mobile number."))])
    code = StringField(
        _l("Code from the text message"),
        validators=[InputRequired(_l("Please enter the code.")), Length(max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class HouseholdForm(FlaskForm):
    household = HiddenField(validators=[InputRequired(_l("Please choose your home from the list."))])


class VolunteerForm(FlaskForm):
    skills = SelectMultipleField(
        _l("What can you help with?"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[AtLeastOne(_l("Please choose at least one kind of help you can offer."))],
    )
    availability = TextAreaField(
        _l("When are you usually free?"),
        description=_l("For example: weekday evenings, Saturday mornings."),
        validators=[InputRequired(_l("Please tell us when you are usually free.")), Length(max=200)],
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please enter your password."))])
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[InputRequired(_l("Please enter your mobile number."))])


class ResetPasswordForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[InputRequired(_l("Please enter your mobile number."))])
    code = StringField(
        _l("One-time code"),
        description=_l("From the text message, or the slip the community office gave you."),
        validators=[InputRequired(_l("Please enter the code.")), Length(max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 8 characters. A short sentence you remember is best."),
        validators=[InputRequired(_l("Please choose a new password."))],
        render_kw={"autocomplete": "new-password"},
    )


class IssueCodeForm(FlaskForm):
    identity_checked = BooleanField(
        _l("I have checked this person's identity card and they are the account's owner."),
        validators=[InputRequired(_l("Please check the person's identity card first."))],
    )
