"""Input declarations that both check a request and describe it in the OpenAPI document.

Two kinds of input, so that no rule is written twice:

- `FromForm(SomeForm, ...)`: the page's own WTForms form. JSON values are checked for their
  JSON type here, then turned into the strings a browser would send and validated by the form
  (DESIGN.md §5: WTForms fed raw JSON turns 2.7 into 2 and `true` into 1), so a missing or too
  long field gets the very message the page shows. Its JSON Schema is read off the form's
  validators (InputRequired -> required, Length -> maxLength, NumberRange -> minimum/maximum,
  choices -> enum), so the document cannot drift from the rule.
- Plain fields (`String`, `Integer`, ...) where the page has no form and the service alone
  judges the value (a dispute's reason, a rating): only the JSON type is checked here.

Either way the service then applies its own rules, the same call the page makes.
"""

import base64
import binascii
import re
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import fields as wtf
from wtforms import validators as wtv

from marketplace.edge import MAX_ID  # noqa: F401 (the API's ids are the pages' ids)


class Invalid(Exception):
    def __init__(self, fields: dict[str, str]):
        super().__init__(fields)
        self.fields = fields


def clean_text(value: str, name: str) -> str:
    """Text a database can store: no NUL (PostgreSQL refuses it) and no lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid({name: _("This text contains characters that cannot be stored.")}) from None
    if "\x00" in value:
        raise Invalid({name: _("This text contains characters that cannot be stored.")})
    return value


class Field:
    json_type = "string"

    def __init__(self, description="", required=False, required_message=None, default=None, **schema):
        self.description = description
        self.required = required
        self.required_message = required_message
        self.default = default
        self.schema = schema

    def missing_message(self) -> str:
        return str(self.required_message) if self.required_message else _("This is required.")

    def parse(self, value, name):
        raise NotImplementedError

    def parse_text(self, text: str, name):
        """For query strings, where everything arrives as text."""
        return self.parse(text, name)

    def json_schema(self) -> dict:
        schema = {"type": self.json_type, **self.schema}
        if self.description:
            schema["description"] = str(self.description)
        if self.default is not None:
            schema["default"] = self.default
        return schema


class String(Field):
    def parse(self, value, name):
        if not isinstance(value, str):
            raise Invalid({name: _("Please send text.")})
        value = clean_text(value, name)
        if "maxLength" in self.schema and len(value) > self.schema["maxLength"]:
            raise Invalid({name: _("Please keep this under %(count)d characters.", count=self.schema["maxLength"])})
        if "enum" in self.schema and value not in self.schema["enum"]:
            raise Invalid({name: _("Please choose one of: %(choices)s.", choices=", ".join(self.schema["enum"]))})
        if "pattern" in self.schema and not re.search(self.schema["pattern"], value):
            raise Invalid({name: _("This is not in the expected form.")})
        return value


class Integer(Field):
    json_type = "integer"

    def __init__(self, description="", minimum=None, maximum=MAX_ID, **kwargs):
        if minimum is not None:
            kwargs["minimum"] = minimum
        if maximum is not None:
            kwargs["maximum"] = maximum
        super().__init__(description, **kwargs)

    def parse(self, value, name):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid({name: _("Please send a whole number.")})
        low, high = self.schema.get("minimum"), self.schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise Invalid({name: _("Please send a whole number from %(low)s to %(high)s.",
                                   low=low if low is not None else "", high=high)})
        return value

    def parse_text(self, text, name):
        if not re.fullmatch(r"-?[0-9]{1,12}", text or ""):  # not \d: "᧗" is a digit to Python
            raise Invalid({name: _("Please send a whole number.")})
        return self.parse(int(text), name)


class Boolean(Field):
    json_type = "boolean"

    def parse(self, value, name):
        if not isinstance(value, bool):
            raise Invalid({name: _("Please send true or false.")})
        return value

    def parse_text(self, text, name):
        if text in ("true", "false"):
            return text == "true"
        raise Invalid({name: _("Please send true or false.")})


class Date(Field):
    def json_schema(self) -> dict:
        return {**super().json_schema(), "format": "date"}

    def parse(self, value, name):
        message = _("Please send a date such as 2026-05-01.")
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise Invalid({name: message})
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise Invalid({name: message}) from None


class Base64(Field):
    """Bytes sent as base64 text (a photo)."""

    def __init__(self, description="", **kwargs):
        super().__init__(description, contentEncoding="base64", **kwargs)

    def parse(self, value, name):
        if not isinstance(value, str):
            raise Invalid({name: _("Please send the file as base64 text.")})
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise Invalid({name: _("Please send the file as base64 text.")}) from None


# ---- the pages' forms as API input ---------------------------------------------------------


def _form_field_schema(field) -> tuple[dict, bool]:
    """(JSON Schema, required) of one bound WTForms field, read off its type and validators."""
    validators = list(field.validators)
    required = any(isinstance(v, wtv.InputRequired | wtv.DataRequired) for v in validators)
    if isinstance(field, wtf.IntegerField):
        schema = {"type": "integer"}
    elif isinstance(field, wtf.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, wtf.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, wtf.SelectField | wtf.RadioField):
        values = [choice.value for choice in (field.choices or [])]  # SelectChoice (marketplace.forms.choices_of)
        schema = {"type": "integer" if all(isinstance(v, int) for v in values) and values else "string"}
        if values:
            schema["enum"] = values
    else:
        schema = {"type": "string"}
    for v in validators:
        if isinstance(v, wtv.Length):
            if v.max is not None and v.max >= 0:
                schema["maxLength"] = v.max
            if v.min is not None and v.min > 0:
                schema["minLength"] = v.min
        elif isinstance(v, wtv.NumberRange):
            if v.min is not None:
                schema["minimum"] = v.min
            if v.max is not None:
                schema["maximum"] = v.max
        elif isinstance(v, wtv.Regexp):
            schema["pattern"] = v.regex.pattern
    if required and schema["type"] == "string" and "enum" not in schema:
        schema.setdefault("minLength", 1)  # InputRequired refuses an empty string
    if schema["type"] == "integer":
        schema.setdefault("maximum", MAX_ID)
        schema.setdefault("minimum", -MAX_ID)
    if field.description:
        schema["description"] = str(field.description)
    return schema, required


def _type_check(schema: dict, value, name):
    kind = schema["type"]
    if kind == "integer":
        Integer(minimum=None, maximum=None).parse(value, name)
    elif kind == "boolean":
        Boolean().parse(value, name)
    else:
        String().parse(value, name)


def _as_form_text(value) -> str | None:
    if value is True:
        return "y"
    if value is False or value is None:
        return None
    return str(value)


class FromForm:
    """Input validated by a page's form (see the module's docstring). `extra` adds plain fields
    the form does not have; `names` limits which of the form's fields the API takes."""

    def __init__(self, form_class, names=None, extra=None):
        self.form_class = form_class
        self.names = names
        self.extra = extra or {}

    def _form(self, formdata=None):
        form = self.form_class(formdata=formdata, meta={"csrf": False})
        return form

    def _fields(self, form):
        names = self.names or [name for name in form._fields if name != "csrf_token"]
        return [(name, form[name]) for name in names]

    def json_schema(self) -> dict:
        form = self._form()
        properties, required = {}, []
        for name, field in self._fields(form):
            schema, needed = _form_field_schema(field)
            properties[name] = schema
            if needed:
                required.append(name)
        for name, field in self.extra.items():
            properties[name] = field.json_schema()
            if field.required:
                required.append(name)
        schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema

    def parse(self, data: dict) -> dict:
        form = self._form()
        errors, texts = {}, MultiDict()
        for name, field in self._fields(form):
            value = data.get(name)
            if value is None:
                continue
            schema, _needed = _form_field_schema(field)
            try:
                _type_check(schema, value, name)
                if isinstance(value, str):
                    clean_text(value, name)
            except Invalid as error:
                errors.update(error.fields)
                continue
            text = _as_form_text(value)
            if text is not None:
                texts.add(name, text)
        values = {}
        for name, field in self.extra.items():
            try:
                values[name] = _parse_plain(field, data, name)
            except Invalid as error:
                errors.update(error.fields)
        form = self._form(formdata=texts)
        if not form.validate():
            for name, messages in form.errors.items():
                if name in dict(self._fields(form)) and name not in errors and messages:
                    errors[name] = str(messages[0])
        if errors:
            raise Invalid(errors)
        values.update({name: field.data for name, field in self._fields(form)})
        return values


def _parse_plain(field: Field, data: dict, name: str):
    value = data.get(name)
    if value is None:
        if field.required:
            raise Invalid({name: field.missing_message()})
        return field.default
    return field.parse(value, name)


class Fields:
    """Plain input fields (a JSON body or a query string)."""

    def __init__(self, **fields: Field):
        self.fields = fields

    def json_schema(self) -> dict:
        schema = {"type": "object", "properties": {name: f.json_schema() for name, f in self.fields.items()}}
        required = [name for name, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        return schema

    def parse(self, data: dict) -> dict:
        values, errors = {}, {}
        for name, field in self.fields.items():
            try:
                values[name] = _parse_plain(field, data, name)
            except Invalid as error:
                errors.update(error.fields)
        if errors:
            raise Invalid(errors)
        return values

    def parse_query(self, args) -> dict:
        values, errors = {}, {}
        for name, field in self.fields.items():
            text = args.get(name)
            try:
                if text == "" and not empty_allowed(field.json_schema()):
                    raise Invalid({name: empty_message()})
                if text is None or text == "":
                    if field.required:
                        raise Invalid({name: field.missing_message()})
                    values[name] = field.default
                else:
                    values[name] = field.parse_text(clean_text(text, name), name)
            except Invalid as error:
                errors.update(error.fields)
        if errors:
            raise Invalid(errors)
        return values


def empty_allowed(schema: dict) -> bool:
    """Whether "name=" (an empty value) is a value the document allows: only for free text."""
    types = schema.get("type")
    free_text = types == "string" or (isinstance(types, list) and "string" in types)
    return free_text and not any(key in schema for key in ("enum", "format", "pattern", "minLength"))


def empty_message() -> str:
    return _("This is empty. Leave the parameter out, or give it a value.")


class QueryForm(FromForm):
    """A page's GET filter form used for query parameters (the statement's filters)."""

    def parse_query(self, args) -> dict:
        data, errors = {}, {}
        for name, _field in self._fields(self._form()):
            text = args.get(name)
            if text == "":  # every filter here is a choice or a date: empty is none of them
                errors[name] = empty_message()
            elif text is not None:
                data[name] = text
        texts = MultiDict()
        for name, text in data.items():
            try:
                texts.add(name, clean_text(text, name))
            except Invalid as error:
                errors.update(error.fields)
        form = self._form(formdata=texts)
        if not form.validate():
            for name, messages in form.errors.items():
                if messages and name not in errors:
                    errors[name] = str(messages[0])
        if errors:
            raise Invalid(errors)
        return {name: field.data for name, field in self._fields(form)}

    def parameters(self) -> list[dict]:
        form = self._form()
        result = []
        for name, field in self._fields(form):
            schema, _needed = _form_field_schema(field)
            if "enum" in schema and "" in schema["enum"]:
                schema["enum"] = [v for v in schema["enum"] if v != ""]
            result.append({"name": name, "in": "query", "required": False, "schema": schema})
        return result


LIMIT_DEFAULT = 20
LIMIT_MAX = 100
PAGE_FIELDS = {
    "cursor": String(_l("Where the previous page ended: its next_cursor."), maxLength=200),
    "limit": Integer(_l("How many items to return."), minimum=1, maximum=LIMIT_MAX, default=LIMIT_DEFAULT),
}


def query_parameters(fields: Fields) -> list[dict]:
    return [{"name": name, "in": "query", "required": field.required, "schema": field.json_schema()}
            for name, field in fields.fields.items()]


def iso(moment: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with its zone."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
