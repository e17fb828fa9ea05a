"""The working-day calendar page: which years are covered, the year month by month, the days
staff entered, and adding, removing and importing them."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, pgettext
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import STAFF, allow
from marketplace.errors import DomainError
from marketplace.forms import EmptyForm
from marketplace.web import attach_error, csv_response, not_found_on_404
from marketplace.workdays import calendar
from marketplace.workdays.forms import CalendarDaysForm, CalendarImportForm

bp = Blueprint("workdays", __name__, url_prefix="/staff")  # the back office's address, as before


def _year() -> int:
    today = calendar.workdays_today()
    year = request.args.get("year", type=int) or request.form.get("year", type=int)
    if year is None:
        missing = calendar.next_year_missing(today)
        return missing or today.year
    if not today.year - 5 <= year <= today.year + 5:
        abort(404)
    return year


def _page(year: int, days_form=None, import_form=None, status: int = 200):
    editor = access.has_role(current_user, *calendar.EDITORS)
    today = calendar.workdays_today()
    return render_template(
        "workdays/calendar.html", year=year, months=calendar.year_days(year), coverage=calendar.coverage(calendar.years_to_show(today)),
        missing_year=calendar.next_year_missing(today), entries=list(calendar.overrides_in(year)), today=today,
        editor=editor, days_form=days_form or CalendarDaysForm(formdata=None),
        import_form=import_form or CalendarImportForm(formdata=None), button_form=EmptyForm(),
        format_date=format_date, weekday_names=_weekday_names(),
    ), status


def _weekday_names() -> list[str]:
    from datetime import date

    return [format_date(date(2024, 1, day), "EEEEE") for day in range(1, 8)]  # 2024-01-01 was a Monday


@bp.route("/calendar")
@allow(STAFF)
def calendar_page():
    return _page(_year())


@bp.route("/calendar/days", methods=["POST"])
@allow(calendar.EDITORS)
def add_calendar_days():
    year = _year()
    form = CalendarDaysForm()
    if not form.validate_on_submit():
        return _page(year, days_form=form, status=400 if "csrf_token" in form.errors else 422)
    try:
        count, replaced = calendar.add_days(current_user, form.first.data, form.last.data, form.kind.data, form.note.data)
    except DomainError as error:
        attach_error(form, error)
        return _page(year, days_form=form, status=error.status if error.status != 400 else 422)
    first = calendar.parse_day(form.first.data)
    message = _("Saved %(n)d day(s).", n=count)
    if replaced:
        message += " " + _("%(n)d of them replaced an earlier entry.", n=replaced)
    flash(message + " " + _("Deadlines already set are not moved; new ones count these days."), "success")
    return redirect(url_for("workdays.calendar_page", year=first.year))


@bp.route("/calendar/days/<int:override_id>/remove", methods=["POST"])
@allow(calendar.EDITORS)
def remove_calendar_day(override_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        removed = calendar.remove_day(current_user, override_id)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
        return redirect(url_for("workdays.calendar_page"))
    flash(_("Removed %(day)s: it now counts as the official calendar (or Monday to Friday) says.",
            day=format_date(removed.day, "long")), "success")
    return redirect(url_for("workdays.calendar_page", year=removed.day.year))


@bp.route("/calendar/import", methods=["POST"])
@allow(calendar.EDITORS)
def import_calendar():
    year = _year()
    form = CalendarImportForm()
    if not form.validate_on_submit():
        return _page(year, import_form=form, status=400 if "csrf_token" in form.errors else 422)
    upload = form.file.data
    raw = upload.read(calendar.MAX_IMPORT_BYTES + 1) if upload and getattr(upload, "filename", "") else None
    if raw is None:
        raw = form.text.data or ""
    try:
        result = calendar.import_days(current_user, raw)
    except DomainError as error:
        attach_error(form, error)
        return _page(year, import_form=form, status=error.status if error.status != 400 else 422)
    flash(_("Imported %(n)d day(s) for %(years)s.", n=result.days, years=", ".join(str(y) for y in result.years))
          + (" " + _("%(n)d of them replaced an earlier entry.", n=result.replaced) if result.replaced else ""),
          "success")
    return redirect(url_for("workdays.calendar_page", year=result.years[0]))


@bp.route("/calendar/<int:year>.csv")
@allow(STAFF)
def calendar_csv(year):
    today = calendar.workdays_today()
    if not today.year - 5 <= year <= today.year + 5:
        abort(404)
    labels = {"staff": _("entered by staff"), "package": _("official calendar"), "weekday": _("Monday to Friday")}
    return csv_response(
        f"working-days-{year}.csv",
        # In the reader's language, and still a file the import takes back (休/班 or holiday/workday).
        [_("Date"), _("Kind"), _("Note"), _("Weekday"), _("Source")],
        ([d.day.isoformat(), pgettext("calendar file", "workday") if d.working else pgettext("calendar file", "holiday"),
          d.name, format_date(d.day, "EEEE"), labels[d.source]]
         for d in calendar.exceptions(year)),
    )
