"""Charts drawn on the server as SVG: no chart library, no script (the CSP forbids inline script),
and they work on a closed network. Colours come from classes styled in static/css/staff.css.

Each chart has a title and a description for screen readers, a tooltip (<title>) on every bar,
and the page shows the same numbers in a table and a CSV beside it.
"""

import math
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, format_decimal
from markupsafe import Markup, escape

# Narrow enough that a whole year stays readable on a phone, wide enough for a desktop column.
WIDTH, HEIGHT = 480, 250
LEFT, RIGHT, TOP, BOTTOM = 48, 4, 34, 40


@dataclass
class Series:
    name: str
    values: list  # numbers or None (nothing to show for that month)
    css: str = "s1"  # s1 .. s3


def month_label(month: str) -> tuple[str, str]:
    """The short month name, and the year under January and the first month shown."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "MMM"), str(year)


def month_title(month: str) -> str:
    """'2026-11' as people write it: 2026年11月, Nov 2026."""
    from babel.dates import format_skeleton
    from flask_babel import get_locale

    year, number = (int(part) for part in month.split("-"))
    return format_skeleton("yMMM", date(year, number, 1), locale=get_locale())


def nice_scale(value: float, top: float | None = None) -> tuple[float, float]:
    """(top of the scale, step between grid lines): steps of 1, 2 or 5 times a power of ten,
    whole numbers for counts, at most five of them."""
    if top is not None:
        for step in (1, 2, 5, 10, 25, 20, 50, 100):
            if top / step <= 5:
                return top, step
        return top, top / 4
    power = 10 ** max(math.floor(math.log10(max(value, 1) / 5)), 0)
    while True:
        for multiple in (1, 2, 5):
            step = multiple * power
            lines = max(math.ceil(value / step), 4)
            if lines <= 5:
                return step * lines, step
        power *= 10


def plain_number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return format_decimal(round(value, 1), "#,##0.#")
    return format_decimal(int(value), "#,##0")


def bar_chart(chart_id: str, title: str, description: str, months: list[str], series: list[Series],
              top: float | None = None, fmt=plain_number) -> Markup:
    """Bars per month, one bar per series side by side. `top` fixes the scale (100 for a share,
    5 for stars); otherwise it is rounded up from the largest value to a number that divides
    into whole steps."""
    values = [v for s in series for v in s.values if v is not None]
    top, step = nice_scale(max(values, default=0), top)
    lines = round(top / step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(months), 1)
    bar = group * 0.72 / max(len(series), 1)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title><desc id="{escape(chart_id)}-d">{escape(description)}</desc>',
    ]
    for i in range(lines + 1):  # grid lines and the scale
        value = step * i
        y = TOP + plot_h - plot_h * i / lines
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')
    for m, month in enumerate(months):
        x0 = LEFT + group * m + group * 0.14
        name, year = month_label(month)
        cx = LEFT + group * m + group / 2
        parts.append(f'<text class="axis" x="{cx:.1f}" y="{TOP + plot_h + 17}" text-anchor="middle">{escape(name)}</text>')
        if m == 0 or month.endswith("-01"):
            parts.append(f'<text class="axis year" x="{cx:.1f}" y="{TOP + plot_h + 34}" text-anchor="middle">{year}</text>')
        for s, line in enumerate(series):
            value = line.values[m]
            if value is None:
                continue
            height = plot_h * max(min(value, top), 0) / top  # a month of net refunds draws no bar
            x = x0 + bar * s
            label = f"{line.name}, {name} {year}: {fmt(value)}"
            parts.append(
                f'<rect class="{line.css}" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar * 0.92:.1f}" '
                f'height="{max(height, 0.5):.1f}"><title>{escape(label)}</title></rect>'
            )
            if len(series) == 1 and value:
                parts.append(f'<text class="value" x="{x + bar * 0.46:.1f}" y="{TOP + plot_h - height - 4:.1f}" '
                             f'text-anchor="middle">{escape(fmt(value))}</text>')
    x = LEFT
    for line in series:  # the legend
        parts.append(f'<rect class="{line.css}" x="{x}" y="6" width="14" height="14"/>')
        parts.append(f'<text class="legend" x="{x + 19}" y="18">{escape(line.name)}</text>')
        x += 36 + sum(14 if ord(ch) > 0x2E80 else 8 for ch in line.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def percent(value) -> str:
    return "—" if value is None else f"{round(value)}%"


def stars(value) -> str:
    return "—" if value is None else format_decimal(round(value, 1), "0.0")


def share_values(rows, attribute: str = "on_time_share") -> list:
    return [None if getattr(r, attribute) is None else getattr(r, attribute) * 100 for r in rows]


def bar_width(value: float, top: float) -> str:
    """Width of a bar in a breakdown (an SVG 100 units wide), as text for the template."""
    if not top or not value:
        return "0"
    return f"{max(100 * value / top, 0.8):.1f}"
