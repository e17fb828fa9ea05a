"""Promises kept, per month and per department, read from the stored clock outcomes (issue 15).

A clock belongs to the month (local time) it **closed** in and to the place of its matter's
household; its outcome (on time or late) was stored when it closed, by the one rule
(service_requests.models.outcome_of), and is only counted here. The reopen rate is the matters
finished (confirmed) in a month whose resident asked to reopen them, over the matters finished
in that month; a reopened matter's second outcome is the outcome of the solve clock its reopening
started.
"""

from dataclasses import asdict, dataclass, field

from peewee import JOIN, Case, fn

from marketplace.figures.counting import MONTHS, Area, last_months, month_of, month_start_utc
from marketplace.service_requests.models import CLOCK_KINDS, Clock, Department, HandOff, Reopening, ServiceRequest


@dataclass
class PromiseRow:
    label: str
    closed: dict = field(default_factory=lambda: dict.fromkeys(CLOCK_KINDS, 0))
    on_time: dict = field(default_factory=lambda: dict.fromkeys(CLOCK_KINDS, 0))
    finished: int = 0
    reopen_asked: int = 0
    reopened: int = 0  # reopened matters whose new solve clock closed
    reopened_on_time: int = 0
    names: tuple = ()  # a department's (zh, en) names, so a stored row is labelled in the reader's language

    def share(self, kind: str) -> float | None:
        """Percent of the clocks of this kind closed on time (None when none closed)."""
        return 100 * self.on_time[kind] / self.closed[kind] if self.closed[kind] else None

    @property
    def reopen_rate(self) -> float | None:
        return 100 * self.reopen_asked / self.finished if self.finished else None


def _on_time():
    return fn.SUM(Case(None, [(Clock.outcome == "on_time", 1)], 0))


def promise_figures(area: Area, months: list[str] | None = None) -> dict:
    months = months or last_months(MONTHS)
    since = month_start_utc(months[0])
    rows = {m: PromiseRow(m) for m in months}
    in_area = ServiceRequest.household.in_(area.households())
    month = month_of(Clock.closed_at, months)
    clocks = (Clock.select(month.alias("month"), Clock.kind, fn.COUNT(Clock.id).alias("closed"), _on_time().alias("on_time"))
              .join(ServiceRequest, on=(Clock.request == ServiceRequest.id))
              .where(Clock.closed_at >= since, in_area).group_by(month, Clock.kind).tuples())
    for name, kind, closed, on_time in clocks:
        if name in rows:
            rows[name].closed[kind], rows[name].on_time[kind] = int(closed), int(on_time or 0)
    reopened = (Clock.select(month.alias("month"), fn.COUNT(Clock.id), _on_time())
                .join(ServiceRequest, on=(Clock.request == ServiceRequest.id))
                .switch(Clock).join(HandOff, on=(Clock.hand_off == HandOff.id))
                .where(Clock.closed_at >= since, in_area, HandOff.kind == "reopen", Clock.kind == "solve")
                .group_by(month).tuples())
    for name, closed, on_time in reopened:
        if name in rows:
            rows[name].reopened, rows[name].reopened_on_time = int(closed), int(on_time or 0)
    finished_month = month_of(ServiceRequest.confirmed_at, months)
    asked = fn.COUNT(fn.DISTINCT(Case(None, [(Reopening.id.is_null(False), ServiceRequest.id)], None)))
    finished = (ServiceRequest.select(finished_month.alias("month"), fn.COUNT(fn.DISTINCT(ServiceRequest.id)), asked)
                .join(Reopening, JOIN.LEFT_OUTER, on=(Reopening.request == ServiceRequest.id))
                .where(ServiceRequest.confirmed_at >= since, in_area).group_by(finished_month).tuples())
    for name, count, asked_count in finished:
        if name in rows:
            rows[name].finished, rows[name].reopen_asked = int(count), int(asked_count or 0)
    total = PromiseRow("total")
    for row in rows.values():
        for kind in CLOCK_KINDS:
            total.closed[kind] += row.closed[kind]
            total.on_time[kind] += row.on_time[kind]
        for name in ("finished", "reopen_asked", "reopened", "reopened_on_time"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return {"months": [rows[m] for m in months], "total": total, "departments": _by_department(area, since)}


def _by_department(area: Area, since) -> list[PromiseRow]:
    """Per department, over the whole window: the clocks its hand-offs started (feedback, explain)."""
    query = (Clock.select(Department.name_zh, Department.name_en, Clock.kind, fn.COUNT(Clock.id), _on_time())
             .join(ServiceRequest, on=(Clock.request == ServiceRequest.id))
             .switch(Clock).join(Department, on=(Clock.department == Department.id))
             .where(Clock.closed_at >= since, ServiceRequest.household.in_(area.households()))
             .group_by(Department.name_zh, Department.name_en, Clock.kind)
             .order_by(Department.name_zh).tuples())
    rows: dict[str, PromiseRow] = {}
    for name_zh, name_en, kind, closed, on_time in query:
        row = rows.setdefault(name_zh, PromiseRow(Department(name_zh=name_zh, name_en=name_en).name,
                                                  names=(name_zh, name_en)))
        row.closed[kind], row.on_time[kind] = int(closed), int(on_time or 0)
    return list(rows.values())


def promise_snapshot(area: Area):
    """The promise figures as the dashboard keeps them beside the area's (figures.snapshots)."""
    from marketplace.figures.snapshots import Stored

    def dump(figures: dict) -> dict:
        return {"months": [asdict(row) for row in figures["months"]], "total": asdict(figures["total"]),
                "departments": [asdict(row) for row in figures["departments"]]}

    def row_of(values: dict) -> PromiseRow:
        row = PromiseRow(**{**values, "names": tuple(values.get("names") or ())})
        if row.names:
            row.label = Department(name_zh=row.names[0], name_en=row.names[1]).name
        return row

    def load(values: dict) -> dict:
        return {"months": [row_of(v) for v in values["months"]], "total": row_of(values["total"]),
                "departments": [row_of(v) for v in values["departments"]]}

    return Stored("promises", lambda: promise_figures(area), dump, load)
