"""Cursor pagination: each page ends with an opaque `next_cursor` that names the last row's
sort key, and the next page starts after it. Unlike page numbers, rows added meanwhile do not
shift what comes next, and a deep page costs one indexed range read.
"""

import base64
import json
from datetime import date, datetime

import peewee as pw
from flask_babel import gettext as _

from marketplace.errors import DomainError

MAX_CURSOR_LENGTH = 300


class InvalidCursor(DomainError):
    """A cursor we did not make (edited, truncated, from another list)."""

    def __init__(self):
        super().__init__(_("This cursor is not valid; please start again from the first page."), field="cursor",
                         code="invalid_cursor")


def _encode(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime | date) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, columns) -> list:
    bad = InvalidCursor()
    if len(cursor) > MAX_CURSOR_LENGTH:  # ours are short; a long one was made up
        raise bad
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested deep
        raise bad from None
    if not isinstance(values, list) or len(values) != len(columns):
        raise bad
    decoded = []
    for value, (column, _direction) in zip(values, columns, strict=True):
        try:
            if isinstance(column, pw.DateTimeField):
                decoded.append(datetime.fromisoformat(value))
            elif isinstance(column, pw.DateField):
                decoded.append(date.fromisoformat(value))
            elif isinstance(column, pw.IntegerField | pw.AutoField | pw.BigIntegerField):
                if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**62:
                    raise ValueError
                decoded.append(value)
            else:
                if not isinstance(value, str):
                    raise ValueError
                decoded.append(value)
        except (TypeError, ValueError):
            raise bad from None
    return decoded


def _after(columns, values):
    """Rows strictly after `values` in the order of `columns`: (a > x) or (a = x and b > y) ..."""
    condition = None
    for index, (column, direction) in enumerate(columns):
        step = column > values[index] if direction == "asc" else column < values[index]
        for earlier in range(index):
            step = (columns[earlier][0] == values[earlier]) & step
        condition = step if condition is None else condition | step
    # The same rows, with the first column's bound stated on its own: an index on it can then
    # start at the cursor instead of reading every earlier row (deep pages cost like the first).
    first, direction = columns[0]
    return (first >= values[0] if direction == "asc" else first <= values[0]) & (condition)


def paginate(query, columns, cursor: str | None, limit: int, key=None):
    """One page of `query` ordered by `columns` ([(field, "asc"|"desc")], the last one unique).
    Returns (rows, next_cursor or None). `key(row)` gives a row's values of `columns` when they
    are not plain attributes of the row."""
    order = [column.asc() if direction == "asc" else column.desc() for column, direction in columns]
    query = query.order_by(*order)
    if cursor:
        query = query.where(_after(columns, _decode(cursor, columns)))
    return split_page(list(query.limit(limit + 1)), columns, limit, key)


def split_page(rows: list, columns, limit: int, key=None):
    """(the page, the next page's cursor or None) from up to `limit + 1` rows read in the order of
    `columns`: for callers that read the page themselves (a query compiled once)."""
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    values = key(last) if key else [getattr(last, column.name) for column, _direction in columns]
    return rows, _encode(values)
