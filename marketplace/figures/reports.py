"""Tables and charts of the figures, shared by the staff dashboards and the public board: the
12-month charts, and the CSV of each chart's numbers."""

from flask_babel import gettext as _

from marketplace.figures import charts, counting
from marketplace.web import csv_response


def trend_charts(data: counting.Figures, prefix: str = "chart", satisfaction=lambda row: row.satisfaction) -> dict:
    """The 12-month charts, shared by the dashboards and the public board."""
    months = [row.key for row in data.months]
    rows = data.months
    return {
        "requests": charts.bar_chart(
            f"{prefix}-requests", _("Requests made and handled, by month"),
            _("For each month, how many requests were made and how many of them have been handled."), months,
            [charts.Series(_("Made"), [r.received for r in rows], "s1"),
             charts.Series(_("Handled"), [r.handled for r in rows], "s2")]),
        "on_time": charts.bar_chart(
            f"{prefix}-on-time", _("Share handled on time, by month"),
            _("Of each month's requests whose deadline has passed or which were handled, the share handled by the deadline."),
            months, [charts.Series(_("On time"), charts.share_values(rows), "s3")], top=100, fmt=charts.percent),
        "satisfaction": charts.bar_chart(
            f"{prefix}-satisfaction", _("Average satisfaction, by month"),
            _("The residents' average rating (1 to 5 stars) of each month's requests."), months,
            [charts.Series(_("Stars"), [satisfaction(r) for r in rows], "s2")], top=5, fmt=charts.stars),
        "hours": charts.bar_chart(
            f"{prefix}-hours", _("Volunteer hours, by month"), _("Hours of volunteering, by the month of the event."),
            months, [charts.Series(_("Hours"), [round(r.hours, 1) for r in rows], "s1")]),
        "points": charts.bar_chart(
            f"{prefix}-points", _("Points issued and redeemed, by month"),
            _("Points given for services and volunteering, and points spent on vouchers, each month."), months,
            [charts.Series(_("Issued"), [r.issued for r in rows], "s1"),
             charts.Series(_("Redeemed"), [r.redeemed for r in rows], "s2")]),
        "events": charts.bar_chart(
            f"{prefix}-events", _("Events held, by month"), _("Events that took place each month."), months,
            [charts.Series(_("Events"), [r.events for r in rows], "s3")]),
    }


def months_csv(data: counting.Figures, filename: str, satisfaction=lambda row: row.satisfaction):
    return csv_response(
        filename,
        [_("Month"), _("Requests made"), _("Handled"), _("Deadline passed or handled"), _("Handled on time"),
         _("Share on time (%)"), _("Average satisfaction"), _("Ratings"), _("Volunteer hours"), _("Events held"),
         _("Points issued"), _("Points redeemed")],
        ([r.key, r.received, r.handled, r.decided, r.on_time, round_or_blank(r.on_time_share, 100), round_or_blank(satisfaction(r)),
          r.ratings, round(r.hours, 1), r.events, r.issued, r.redeemed] for r in data.months),
    )


def round_or_blank(value, scale=1):
    return "" if value is None else round(value * scale, 1)


def breakdown_csv(rows, filename: str, label: str):
    return csv_response(
        filename,
        [label, _("Requests made"), _("Handled"), _("Deadline passed or handled"), _("Handled on time"),
         _("Share on time (%)"), _("Average satisfaction"), _("Ratings"), _("Late now")],
        ([r.label, r.received, r.handled, r.decided, r.on_time, round_or_blank(r.on_time_share, 100), round_or_blank(r.satisfaction),
          r.ratings, r.late_now] for r in rows),
    )


def chart_columns(satisfaction=lambda row: row.satisfaction) -> dict:
    """For each chart, the columns of its table of numbers: (label, value of a month's row)."""
    return {
        "requests": [(_("Made"), lambda r: r.received), (_("Handled"), lambda r: r.handled)],
        "on_time": [(_("Deadline passed or handled"), lambda r: r.decided), (_("On time"), lambda r: r.on_time),
                    (_("Share"), lambda r: charts.percent(None if r.on_time_share is None else r.on_time_share * 100))],
        "satisfaction": [(_("Ratings"), lambda r: r.ratings), (_("Average"), lambda r: charts.stars(satisfaction(r)))],
        "hours": [(_("Hours"), lambda r: charts.plain_number(round(r.hours, 1)))],
        "points": [(_("Issued"), lambda r: r.issued), (_("Redeemed"), lambda r: r.redeemed)],
        "events": [(_("Events held"), lambda r: r.events)],
    }
