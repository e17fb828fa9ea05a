"""Dashboards by scope: a building head sees their building, a grid administrator their grid, a
community administrator their community, street officers and administrators the whole street.
Each may narrow the view to a part of their scope; a part outside it is answered 404.

Every chart's numbers are on the page (a table under it) and downloadable as CSV, both from the
same stored snapshot (figures.snapshots), so the page and its files agree."""

from flask import abort, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from marketplace import access
from marketplace.access import STAFF, allow
from marketplace.cache import fragment
from marketplace.figures import charts, counting, snapshots
from marketplace.figures.promises import promise_snapshot
from marketplace.figures.reports import breakdown_csv, chart_columns, months_csv, round_or_blank, trend_charts
from marketplace.notifications.figures import message_months
from marketplace.proxy import services as proxy
from marketplace.staff.views import bp
from marketplace.web import csv_response
from marketplace.workdays import calendar as workday_calendar


def _choice(choices=None) -> counting.AreaChoice:
    choice = counting.choose_area(current_user, request.args.get("area"), choices)
    if choice is None:
        abort(404)
    return choice


@bp.route("/dashboard")
@allow(STAFF)
def dashboard():
    choices = counting.area_choices(current_user)
    choice = _choice(choices)
    # The area's figures, its promises kept and the messages sent, from their snapshots in one query.
    messages_key = "messages:" + counting.staff_area(current_user).key
    stored = snapshots.read_many({
        choice.area.key: snapshots.area_figures(choice.area),
        "promises:" + choice.area.key: promise_snapshot(choice.area),
        messages_key: snapshots.Stored("messages", lambda: message_months(current_user)),
    })
    data = stored[choice.area.key]
    editor = access.has_role(current_user, *workday_calendar.EDITORS)
    # The figures and charts are the same for everyone looking at this snapshot: drawn once per
    # snapshot (its area and the time it was counted) and language.
    figures = fragment(("dashboard figures", choice.key, data.as_of.isoformat()), lambda: render_template(
        "staff/_dashboard_figures.html", data=data, choice=choice, charts=trend_charts(data), columns=chart_columns(),
        percent=charts.percent, stars=charts.stars, number=charts.plain_number, bar_width=charts.bar_width,
        month_title=charts.month_title))
    promises = stored["promises:" + choice.area.key]
    # The promises' table, keyed by its figures themselves (a dozen rows: their repr is cheap).
    promises_table = fragment(("promises kept", repr(promises)), lambda: render_template(
        "figures/_promises.html", promises=promises, percent=charts.percent, month_title=charts.month_title))
    return render_template(
        "staff/dashboard.html", data=data, choice=choice, choices=choices, figures=Markup(figures),
        promises_table=Markup(promises_table),
        missing_year=workday_calendar.next_year_missing() if editor else None,
        message_months=stored[messages_key],
        proxy_counts=proxy.month_counts(current_user),
    )


@bp.route("/dashboard/<any(summary, months, categories, places):dataset>.csv")
@allow(STAFF)
def dashboard_csv(dataset):
    choice = _choice()
    data = snapshots.figures_for(choice.area)
    name = f"dashboard-{choice.key}-{dataset}.csv"
    if dataset == "months":
        return months_csv(data, name)
    if dataset == "categories":
        return breakdown_csv(data.categories, name, _("Category"))
    if dataset == "places":
        return breakdown_csv(data.places, name, _("Grid") if data.place_kind == "grid" else _("Building"))
    total, now = data.total, data.now
    rows = [
        (_("Area"), choice.label),
        (_("Figures as of"), format_datetime(data.as_of, "yyyy-MM-dd HH:mm")),  # local time
        (_("In progress now"), now["in_progress"]),
        (_("Late now"), now["overdue"]),
        (_("Disputed now"), now["disputed"]),
        (_("Waiting for the resident's confirmation"), now["waiting_for_resident"]),
        (_("Escalated, not yet closed"), now["escalated"]),
        (_("Escalated, feedback to the resident late"), now["feedback_late"]),
        (_("Requests made in the last 12 months"), total.received),
        (_("Handled"), total.handled),
        (_("Deadline passed or handled"), total.decided),
        (_("Handled on time"), total.on_time),
        (_("Share on time (%)"), round_or_blank(total.on_time_share, 100)),
        (_("Average satisfaction"), round_or_blank(total.satisfaction)),
        (_("Ratings"), total.ratings),
        (_("Volunteer hours"), round(total.hours, 1)),
        (_("Points issued"), total.issued),
        (_("Points redeemed"), total.redeemed),
        (_("Points outstanding now"), data.outstanding),
    ]
    return csv_response(name, [_("Figure"), _("Value")], rows)
