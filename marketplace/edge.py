"""Hostile input stopped at the edge, once, before any view or service sees it (DESIGN.md §5).

- Ids in URLs: `<int:...>` is ASCII digits up to MAX_ID on every route, pages and API alike.
  Werkzeug's own converter reads `\\d`, which takes any Unicode digit ("᧗" was request 7), and
  any size (2^63 and above overflow SQLite's integer: a 500). A larger number can name nothing,
  so the route does not match: 404.
- A NUL character in a page's path, query or form: PostgreSQL refuses it in text (a 500), and no
  person types one. Refused with a 400 and a clear message; nothing is stored. (The API refuses
  it field by field, api.schema.clean_text.)
- JSON nested deeper than the parser's recursion (100,000 `[`): a bad body, not a crash
  (`parse_json`, used by the API).
"""

import json

from flask import render_template, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # ids are 32-bit in the database: a larger number can name nothing


class IdConverter(IntegerConverter):
    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if signed:
            self.regex = r"-?[0-9]+"


def parse_json(raw: bytes | str):
    """The body as JSON; ValueError for anything that is not (invalid, not UTF-8, too deep)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deep") from None
    except UnicodeDecodeError as error:
        raise ValueError(str(error)) from None


def has_nul(text: str) -> bool:
    return "\x00" in text


def nul_message() -> str:
    return _("Part of what you sent contains an invisible control character (NUL) that cannot be stored. "
             "Please type it again.")


def _refuse_nul():
    from marketplace.error_handlers import is_api_request

    if is_api_request():  # the API names the field itself (api.schema.clean_text): a 422
        return None
    if not has_nul(request.path) and not any(has_nul(k) or has_nul(v) for k, v in request.args.items(multi=True)):
        if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return None
        if not any(has_nul(k) or has_nul(v) for k, v in request.form.items(multi=True)):
            return None
    return render_template("errors/error.html", code=400, message=nul_message()), 400


def init_app(app) -> None:
    app.url_map.converters["int"] = IdConverter
    # Before the other hooks: the session, the CSRF check and the views all read the input.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_nul)
