"""Small helpers the HTML views share."""

import csv
import io
import secrets
import time

from flask import Response, abort, flash, redirect, request, session, url_for

from marketplace.errors import DomainError


def attach_error(form, error: DomainError) -> None:
    """Show a service's refusal next to the field it is about, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def flash_form_errors(form) -> None:
    """A posted form that did not validate, on a page that redirects back: each field's first
    complaint, flashed."""
    for errors in form.errors.values():
        flash(errors[0], "error")


def not_found_on_404(error: DomainError) -> None:
    """Out-of-scope objects answer 404 like missing ones, so nothing leaks about them."""
    if error.status == 404:
        abort(404)


def act_and_flash(action, success_message: str, back_to: str) -> Response:
    """What a page's button does: run the service call, flash its refusal or `success_message`,
    and go back to `back_to`. An object outside the person's scope answers 404, as a missing one."""
    try:
        action()
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
    else:
        flash(success_message, "success")
    return redirect(back_to)


def new_form_key() -> str:
    """An idempotency key rendered into a form: a double click or a resent POST reuses it."""
    return secrets.token_urlsafe(16)


def csv_response(filename: str, header: list[str], rows) -> Response:
    """CSV that Excel opens with Chinese intact: UTF-8 with a byte-order mark, CRLF line ends.
    Cells starting with = + - @ are prefixed so a spreadsheet never runs them as formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(value) for value in row])
    body = "\ufeff" + buffer.getvalue()
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def _safe_cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


MAX_PAGE = 10_000


def page_number() -> int:
    """?page=N, from 1 to MAX_PAGE: a made-up huge number is a page past the end, not an error."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def optional_id(value):
    """A form's `coerce` for a place (or person) chosen from a list, or None: the service says
    which one is missing, in words. A number no row can have (0, negative, past 64 bits) is None
    too, so it never reaches a query that PostgreSQL would refuse."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


FRESH_FOR_SECONDS = 15 * 60


def mark_login_fresh() -> None:
    """Called when the person has just typed their password."""
    session["fresh_at"] = int(time.time())


def login_is_fresh() -> bool:
    """Sensitive actions (moving points by hand, changing one's password or phone) need a
    password typed in the last 15 minutes, not a login remembered for a month."""
    return time.time() - session.get("fresh_at", 0) < FRESH_FOR_SECONDS


def require_fresh_login(message: str, come_back_to: str | None = None):
    """None when the login is fresh; otherwise the redirect to the password page, which then
    returns to `come_back_to` (default: this page). A POST cannot be replayed by a redirect,
    so views reached by POST name the page the form was on."""
    if login_is_fresh():
        return None
    flash(message, "info")
    return redirect(url_for("users.reauthenticate", next=come_back_to or request.full_path))
