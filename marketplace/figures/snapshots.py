"""Stored figures: the dashboards and the public board read a snapshot of `counting.compute()`
per area instead of counting the whole history on every request.

Counting takes seconds at the street's scale and grows with every transfer, so it is done off
the request path: the scheduler refreshes the snapshots (`refresh_all`), and a page computes only
when its area's snapshot is missing or older than FIGURES_MAX_AGE_SECONDS (then it stores what
it counted for the next visitor). Pages say how old their figures are ("figures as of ...").

FIGURES_MAX_AGE_SECONDS = 0 turns snapshots off: every page counts afresh and nothing is stored
(the tests use this, so a figure always equals the rows just written).
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import peewee as pw

from marketplace.db import BaseModel
from marketplace.figures import counting
from marketplace.places.models import Community
from marketplace.settings import settings
from marketplace.timeutil import utcnow

log = logging.getLogger(__name__)

# Bumped when Figures.to_dict changes shape: an older snapshot is then counted afresh.
FORMAT = 1


class FiguresSnapshot(BaseModel):
    area_key = pw.CharField(max_length=200, unique=True)  # counting.Area.key
    payload = pw.TextField()  # counting.Figures.to_dict(), as JSON
    computed_at = pw.DateTimeField()  # naive UTC


def max_age() -> timedelta:
    return timedelta(seconds=settings().figures_max_age_seconds)


def figures_for(area: counting.Area) -> counting.Figures:
    """The area's figures: the stored snapshot while it is young enough, else counted now."""
    return read_many({area.key: area_figures(area)})[area.key]


@dataclass
class Stored:
    """Other figures a page shows beside an area's (the promises kept, the messages sent), kept
    in the same table under their own key: `dump` makes JSON of what `compute` returns, `load`
    makes it back. Their payloads carry `kind`, so an area's snapshot is never mistaken for them."""

    kind: str
    compute: Callable
    dump: Callable = lambda value: value
    load: Callable = lambda value: value


def area_figures(area: counting.Area) -> Stored:
    return Stored("area", lambda: counting.compute(area))


def read_many(wanted: dict[str, Stored]) -> dict:
    """Each key's figures: from its snapshot while young enough, else computed now (and stored).
    The snapshots are read in one query: a dashboard shows several and has a query budget."""
    if max_age() <= timedelta(0):
        return {key: stored.compute() for key, stored in wanted.items()}
    found = {row.area_key: row for row in FiguresSnapshot.select().where(FiguresSnapshot.area_key.in_(list(wanted)))}
    values, now = {}, utcnow()
    for key, stored in wanted.items():
        snapshot = found.get(key)
        if snapshot is not None and now - snapshot.computed_at < max_age():
            value = _load(snapshot) if stored.kind == "area" else _load_other(snapshot, stored)
            if value is not None:
                values[key] = value
                continue
        values[key] = stored.compute()
        try:
            if stored.kind == "area":
                _store(key, values[key])
            else:
                _store_payload(key, {"format": FORMAT, "kind": stored.kind, "values": stored.dump(values[key])}, now)
        except pw.OperationalError as error:  # e.g. SQLite busy for long: the page still shows what was counted
            log.warning("figures of %s not stored: %s", key, error, extra={"area": key})
    return values


def _load_other(snapshot: FiguresSnapshot, stored: Stored):
    values = json.loads(snapshot.payload)
    if values.get("format") != FORMAT or values.get("kind") != stored.kind:
        return None
    return stored.load(values["values"])


def refresh(area: counting.Area) -> counting.Figures:
    """Count the area's figures and store them, replacing an older snapshot."""
    data = counting.compute(area)
    _store(area.key, data)
    return data


def _store(key: str, data: counting.Figures) -> None:
    """An upsert, because two workers may count the same area at once: the second neither fails
    on the unique key nor replaces newer figures with older ones (a slow count finishing late)."""
    _store_payload(key, {"format": FORMAT, **data.to_dict()}, data.as_of)


def _store_payload(key: str, values: dict, computed_at) -> None:
    payload = json.dumps(values, ensure_ascii=False)
    (FiguresSnapshot.insert(area_key=key, payload=payload, computed_at=computed_at)
     .on_conflict(conflict_target=[FiguresSnapshot.area_key],
                  preserve=[FiguresSnapshot.payload, FiguresSnapshot.computed_at],
                  where=(FiguresSnapshot.computed_at < pw.EXCLUDED.computed_at))
     .execute())


def _load(snapshot: FiguresSnapshot | None) -> counting.Figures | None:
    if snapshot is None:
        return None
    values = json.loads(snapshot.payload)
    if values.get("format") != FORMAT or "kind" in values:
        return None
    return counting.Figures.from_dict(values)


def refresh_all() -> int:
    """The scheduler's job: the whole street, each community (the public board's choices), and
    every other area someone has looked at (it has a snapshot). Returns how many were counted."""
    areas = {counting.community_area(None).key: counting.community_area(None)}
    for community in Community.select(Community.id).order_by(Community.id):
        area = counting.community_area(community.id)
        areas[area.key] = area
    for snapshot in FiguresSnapshot.select().order_by(FiguresSnapshot.id):
        stored = _load(snapshot)
        if stored is not None:
            areas.setdefault(snapshot.area_key, stored.area)
    for area in areas.values():
        refresh(area)
    return len(areas)
