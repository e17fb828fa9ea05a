from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length


class PartnerForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=int)
    name = StringField(_l("Enterprise name"), validators=[InputRequired(_l("Please give the enterprise's name.")), Length(max=100)])
    business = StringField(_l("What it does"), validators=[InputRequired(_l("Please say what the enterprise does.")), Length(max=200)])
    contact_phone = StringField(_l("Contact phone"), validators=[InputRequired(_l("Please give a contact phone.")), Length(max=20)])
    address = StringField(_l("Address"), validators=[InputRequired(_l("Please give the address.")), Length(max=200)])


class InviteForm(FlaskForm):
    note = StringField(_l("Whom is it for?"), description=_l("A name, so you remember whom you sent it to."), validators=[Length(max=100)])
