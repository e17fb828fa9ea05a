"""The numbers behind the staff dashboards and the public disclosure board.

Everything is counted by SQL aggregates that read the same on SQLite and PostgreSQL, over an
*area*: the whole street, or some communities, grids and buildings. A staff member's area comes
from their role grants (access.py decides who covers what; this module only follows it).

How things are counted, so that a figure can be checked by hand against the rows:

- A request belongs to the month (local time) it was **made**, and to the place of its household.
  *Handled*: done or confirmed. *Decided*: not cancelled, and either handled or past its deadline.
  *On time*: handled, and done by its deadline. The share on time is on time / decided, so a
  request left open past its deadline counts against it (not only the late ones that were done).
- Satisfaction: the average of the residents' ratings (1-5) of those requests.
- Volunteer hours: the final hours (checked out) of the area's volunteers, by the month of the
  check-in. The area's volunteers are the residents of its households and, for a community, the
  volunteers registered with it.
- Points: the member and partner accounts of the area (the same people, and a community's partner
  shops). *Issued*: from the community's points fund into those accounts, less what went back
  (reversals, debits). *Redeemed*: spent on vouchers, less vouchers refunded. *Outstanding*: what
  those accounts hold now.
- Events held: published, not cancelled, already over, by the month they started.
"""

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from peewee import JOIN, Case, fn

from marketplace import access, workdays
from marketplace.care.models import CarePair, CareVisit
from marketplace.db import PreparedQuery
from marketplace.events.models import Attendance, Event
from marketplace.ledger.models import Account, Transfer
from marketplace.menu.models import Category, ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.service_requests import models as requests
from marketplace.service_requests.models import ServiceRequest
from marketplace.service_requests.transitions import IN_PROGRESS
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant

MONTHS = 12


# ---- areas -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """A part of the street: everything, or a union of communities, grids and buildings."""

    everything: bool = False
    communities: frozenset = frozenset()
    grids: frozenset = frozenset()
    buildings: frozenset = frozenset()

    def households(self):
        # The same places, the same households as a person's scope: one definition (access.Scope).
        return access.Scope(street_wide=self.everything, communities=self.communities, grids=self.grids,
                            buildings=self.buildings).households()

    def users(self):
        """Ids of the area's people: its residents, and the volunteers of its communities.
        None for everything (no filter needed)."""
        if self.everything:
            return None
        people = RoleGrant.select(RoleGrant.user).where(
            (RoleGrant.role == "resident") & RoleGrant.household.in_(self.households())
        )
        if self.communities:
            people = people | RoleGrant.select(RoleGrant.user).where(
                (RoleGrant.role == "volunteer") & RoleGrant.community.in_(sorted(self.communities))
            )
        return people

    def accounts(self):
        """Ids of the member and partner accounts of the area."""
        query = Account.select(Account.id).where(Account.kind.in_(("user", "partner")))
        if self.everything:
            return query
        holders = Account.user.in_(self.users())
        if self.communities:
            partners = PartnerEnterprise.select(PartnerEnterprise.id).where(
                PartnerEnterprise.community.in_(sorted(self.communities))
            )
            holders = holders | Account.partner.in_(partners)
        return query.where(holders)

    @property
    def has_events(self) -> bool:
        """Events belong to communities: a grid or a building holds none of its own."""
        return self.everything or bool(self.communities)

    def event_condition(self):
        return True if self.everything else Event.community.in_(sorted(self.communities) or [0])

    @property
    def is_single_grid_or_smaller(self) -> bool:
        return not self.everything and not self.communities

    @property
    def key(self) -> str:
        """The same text for the same area, whoever asks: "all", "c3", "c1+c2+g7". A staff
        member's "everything I cover" and the board's community share one snapshot this way."""
        if self.everything:
            return "all"
        parts = [f"{prefix}{i}" for prefix, ids in (("c", self.communities), ("g", self.grids), ("b", self.buildings))
                 for i in sorted(ids)]
        key = "+".join(parts) or "none"
        # Someone granted very many places: a digest keeps the key inside its column.
        return key if len(key) <= 120 else "h" + hashlib.sha256(key.encode()).hexdigest()

    def to_dict(self) -> dict:
        return {"everything": self.everything, "communities": sorted(self.communities), "grids": sorted(self.grids),
                "buildings": sorted(self.buildings)}

    @classmethod
    def from_dict(cls, values: dict) -> "Area":
        return cls(everything=bool(values["everything"]), communities=frozenset(values["communities"]),
                   grids=frozenset(values["grids"]), buildings=frozenset(values["buildings"]))


def staff_area(user) -> Area:
    """The area a staff member is responsible for: their scope (access.scope_of), as an area."""
    scope = access.scope_of(user)
    if scope.street_wide:
        return Area(everything=True)
    return Area(communities=scope.communities, grids=scope.grids, buildings=scope.buildings)


@dataclass
class AreaChoice:
    key: str  # "all", "c3", "g7", "b12"
    label: str
    area: Area
    level: int  # 0 everything in scope, 1 community, 2 grid, 3 building


def area_choices(user) -> list[AreaChoice]:
    """What a staff member may narrow their dashboard to: their whole scope, then each
    community, grid and building inside it (buildings only below the street level, so the list
    stays short enough to choose from)."""
    from flask_babel import gettext as _

    scope = staff_area(user)
    choices = [AreaChoice("all", _("Everything I cover"), scope, 0)]
    choices += _street_choices() if scope.everything else _choices_within(scope)
    if len(choices) == 2:  # one community, grid or building: "everything" is the same thing
        return choices[1:]
    return choices


# Each community with its grids in one query (a community without grids comes once, alone),
# compiled once: the street-wide dashboard asks on every view.
_COMMUNITIES_AND_GRIDS = PreparedQuery(lambda: (
    Community.select(Community.id, Community.name_zh, Community.name_en, Grid.id, Grid.name_zh, Grid.name_en)
    .join(Grid, JOIN.LEFT_OUTER).order_by(Community.id, Grid.id).tuples()))


def _street_choices() -> list[AreaChoice]:
    """Each community, then each grid ("community grid": grids are named per community)."""
    from marketplace.i18n import localized

    communities, grids = {}, []
    for community_id, community_zh, community_en, grid_id, grid_zh, grid_en in _COMMUNITIES_AND_GRIDS.rows():
        community = communities.setdefault(community_id, localized(community_zh, community_en))
        if grid_id is not None:
            grids.append(AreaChoice(f"g{grid_id}", f"{community} {localized(grid_zh, grid_en)}",
                                    Area(grids=frozenset([grid_id])), 2))
    return [AreaChoice(f"c{key}", name, Area(communities=frozenset([key])), 1) for key, name in communities.items()] + grids


def _choices_within(scope: Area) -> list[AreaChoice]:
    """The communities, grids and buildings of a scope below the street's."""
    communities = list(Community.select().where(Community.id.in_(sorted(scope.communities) or [0])).order_by(Community.id))
    grids = list(
        Grid.select(Grid, Community).join(Community)
        .where(Grid.community.in_(sorted(scope.communities) or [0]) | Grid.id.in_(sorted(scope.grids) or [0]))
        .order_by(Community.id, Grid.id)
    )
    buildings = list(
        Building.select(Building, Grid, Community).join(Grid).join(Community)
        .where(Grid.community.in_(sorted(scope.communities) or [0]) | Building.grid.in_(sorted(scope.grids) or [0])
               | Building.id.in_(sorted(scope.buildings) or [0]))
        .order_by(Community.id, Grid.id, Building.id)
    )
    return ([AreaChoice(f"c{c.id}", c.name, Area(communities=frozenset([c.id])), 1) for c in communities]
            + [AreaChoice(f"g{g.id}", f"{g.community.name} {g.name}", Area(grids=frozenset([g.id])), 2) for g in grids]
            + [AreaChoice(f"b{b.id}", f"{b.grid.community.name} {b.grid.name} {b.name}",
                          Area(buildings=frozenset([b.id])), 3) for b in buildings])


def choose_area(user, key: str | None, choices: list[AreaChoice] | None = None) -> AreaChoice | None:
    """The staff member's choice, or None when it is not theirs to see (the view answers 404).
    `choices`: area_choices(user) when the caller has them already (the dashboard shows them)."""
    choices = area_choices(user) if choices is None else choices
    if not key:
        return choices[0]
    return next((c for c in choices if c.key == key), None)


# ---- months in local time --------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return workdays.local_zone()


def month_of(column, months: list[str]):
    """Which of `months` (local calendar months, "2026-11", oldest first) a naive-UTC timestamp
    column falls in, in SQL; NULL outside them.

    Comparisons with each month's first instant rather than a date function (strftime, to_char)
    on every row: cheaper over a year of transfers, and the months' edges stay right in a zone
    with summer time, where a fixed offset would shift them by an hour."""
    edges = [month_start_utc(m) for m in months[1:]] + [month_start_utc(next_month(months[-1]))]
    return Case(None, [(column < edge, month) for edge, month in zip(edges, months, strict=True)], None)


def local_today() -> date:
    return datetime.now(_zone()).date()


def last_months(count: int = MONTHS, today: date | None = None) -> list[str]:
    """The last `count` months, oldest first, ending with the current one."""
    today = today or local_today()
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def month_start_utc(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    local = datetime.combine(date(year, number, 1), time.min, tzinfo=_zone())
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


# ---- the figures -------------------------------------------------------------------------------


@dataclass
class Row:
    """One month, one category or one place: the counts, and the shares computed from them."""

    key: str
    # Both names are kept, so figures stored once read in either language.
    name_zh: str = ""
    name_en: str = ""
    received: int = 0
    handled: int = 0
    decided: int = 0
    on_time: int = 0
    rating_sum: int = 0
    ratings: int = 0
    late_now: int = 0  # still open past the deadline (breakdowns only)
    minutes: int = 0
    events: int = 0
    issued: int = 0
    redeemed: int = 0

    @property
    def label(self) -> str:
        from marketplace.i18n import localized

        return localized(self.name_zh, self.name_en)

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.decided if self.decided else None

    @property
    def satisfaction(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None

    @property
    def hours(self) -> float:
        return self.minutes / 60


@dataclass
class Figures:
    area: Area
    months: list[Row]
    total: Row
    categories: list[Row]
    places: list[Row]
    place_kind: str  # "grid" or "building"
    now: dict = field(default_factory=dict)
    outstanding: int = 0
    as_of: datetime | None = None  # naive UTC: when these were counted

    def to_dict(self) -> dict:
        """Plain JSON values, for the stored snapshot (figures.snapshots)."""
        return {
            "area": self.area.to_dict(), "months": [asdict(r) for r in self.months], "total": asdict(self.total),
            "categories": [asdict(r) for r in self.categories], "places": [asdict(r) for r in self.places],
            "place_kind": self.place_kind, "now": self.now, "outstanding": self.outstanding,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }

    @classmethod
    def from_dict(cls, values: dict) -> "Figures":
        return cls(
            area=Area.from_dict(values["area"]), months=[Row(**r) for r in values["months"]], total=Row(**values["total"]),
            categories=[Row(**r) for r in values["categories"]], places=[Row(**r) for r in values["places"]],
            place_kind=values["place_kind"], now=values["now"], outstanding=values["outstanding"],
            as_of=datetime.fromisoformat(values["as_of"]) if values["as_of"] else None,
        )


def _int(value) -> int:
    return int(value or 0)


def _request_columns(now: datetime) -> list:
    handled, late_now = requests.handled(), requests.late(now)
    # Not cancelled, and handled or past its deadline: every other state can be late.
    decided = handled | late_now
    on_time = requests.on_time()
    return [
        fn.COUNT(ServiceRequest.id).alias("received"),
        fn.SUM(Case(None, [(handled, 1)], 0)).alias("handled"),
        fn.SUM(Case(None, [(decided, 1)], 0)).alias("decided"),
        fn.SUM(Case(None, [(on_time, 1)], 0)).alias("on_time"),
        fn.SUM(ServiceRequest.rating).alias("rating_sum"),
        fn.COUNT(ServiceRequest.rating).alias("ratings"),
        fn.SUM(Case(None, [(late_now, 1)], 0)).alias("late_now"),
    ]


def _fill(row: Row, values: dict) -> Row:
    for name in ("received", "handled", "decided", "on_time", "rating_sum", "ratings", "late_now"):
        setattr(row, name, _int(values.get(name)))
    return row


def _requests(area: Area, since: datetime):
    return ServiceRequest.select().where(
        ServiceRequest.household.in_(area.households()), ServiceRequest.created_at >= since
    )


def _sum_by_month(query, month, amount) -> dict[str, int]:
    return {r["month"]: _int(r["amount"]) for r in query.select(month.alias("month"), fn.SUM(amount).alias("amount"))
            .group_by(month).dicts()}


def _points_by_month(area: Area, months: list[str]) -> tuple[dict, dict]:
    issuer = Account.get_or_none(Account.code == "issuer")
    month, since = month_of(Transfer.created_at, months), month_start_utc(months[0])
    accounts = area.accounts()
    base = Transfer.select().where(Transfer.created_at >= since)
    issued: dict[str, int] = {}
    if issuer is not None:
        out = _sum_by_month(base.where(Transfer.debit == issuer.id, Transfer.credit.in_(accounts)), month, Transfer.amount)
        back = _sum_by_month(base.where(Transfer.credit == issuer.id, Transfer.debit.in_(accounts)), month, Transfer.amount)
        issued = {m: out.get(m, 0) - back.get(m, 0) for m in out.keys() | back.keys()}
    spent = _sum_by_month(base.where(Transfer.kind == "redeem", Transfer.debit.in_(accounts)), month, Transfer.amount)
    # For the whole street, "+ 0" keeps SQLite off the credit index and on the kind index: refunds
    # are few, while the street's accounts are credited by nearly every transfer (0.30 s -> 0.02 s
    # at 300,000 transfers). A smaller area's few accounts are quicker by the credit index.
    credit = Transfer.credit + 0 if area.everything else Transfer.credit
    refunded = _sum_by_month(base.where(Transfer.kind == "refund", credit.in_(accounts)), month, Transfer.amount)
    redeemed = {m: spent.get(m, 0) - refunded.get(m, 0) for m in spent.keys() | refunded.keys()}
    return issued, redeemed


def _minutes_by_month(area: Area, months: list[str]) -> dict[str, int]:
    """Volunteer minutes: at events, and on confirmed care visits (care/), by the month they happened in."""
    since = month_start_utc(months[0])
    query = Attendance.select().where(Attendance.state == "out", Attendance.checked_in_at >= since)
    visits = CareVisit.select().join(CarePair).where(CareVisit.state == "confirmed", CareVisit.confirmed_at >= since)
    people = area.users()
    if people is not None:
        query = query.where(Attendance.user.in_(people))
        visits = visits.where(CarePair.volunteer.in_(people))
    events = _sum_by_month(query, month_of(Attendance.checked_in_at, months), Attendance.minutes)
    care = _sum_by_month(visits, month_of(CareVisit.confirmed_at, months), CareVisit.minutes)
    return {m: events.get(m, 0) + care.get(m, 0) for m in events.keys() | care.keys()}


def _events_by_month(area: Area, months: list[str], now: datetime) -> dict[str, int]:
    if not area.has_events:
        return {}
    since, month = month_start_utc(months[0]), month_of(Event.starts_at, months)
    query = (
        Event.select(month.alias("month"), fn.COUNT(Event.id).alias("n"))
        .where(Event.status == "published", Event.starts_at >= since, Event.ends_at <= now, area.event_condition())
        .group_by(month)
    )
    return {r["month"]: _int(r["n"]) for r in query.dicts()}


def current_counts(area: Area, now: datetime | None = None) -> dict[str, int]:
    """Requests as they stand now, whenever they were made."""
    now = now or utcnow()
    state = ServiceRequest.state
    cases = {
        "in_progress": state.in_(IN_PROGRESS),
        "overdue": requests.late(now),
        "disputed": state == "disputed",
        "waiting_for_resident": state == "done",
        "escalated": requests.escalation_open(),
        "feedback_late": requests.feedback_late(now),
    }
    row = (
        ServiceRequest.select(*[fn.SUM(Case(None, [(condition, 1)], 0)).alias(name) for name, condition in cases.items()])
        .where(ServiceRequest.household.in_(area.households()))
        .dicts()
        .get()
    )
    return {name: _int(row[name]) for name in cases}


def outstanding_points(area: Area) -> int:
    return _int(Account.select(fn.SUM(Account.balance)).where(Account.id.in_(area.accounts())).scalar())


def compute(area: Area, months: int = MONTHS, today: date | None = None, now: datetime | None = None) -> Figures:
    """Everything a dashboard shows for an area over the last `months` months."""
    now = now or utcnow()
    keys = last_months(months, today)
    since = month_start_utc(keys[0])
    month = month_of(ServiceRequest.created_at, keys)
    requests = _requests(area, since)

    rows = {key: Row(key) for key in keys}
    for values in requests.select(month.alias("month"), *_request_columns(now)).group_by(month).dicts():
        if values["month"] in rows:
            _fill(rows[values["month"]], values)
    total = _fill(Row("total"), requests.select(*_request_columns(now)).dicts().get())

    issued, redeemed = _points_by_month(area, keys)
    minutes = _minutes_by_month(area, keys)
    events = _events_by_month(area, keys, now)
    for key, row in rows.items():
        row.issued, row.redeemed = issued.get(key, 0), redeemed.get(key, 0)
        row.minutes, row.events = minutes.get(key, 0), events.get(key, 0)
    for name in ("issued", "redeemed", "minutes", "events"):
        setattr(total, name, sum(getattr(row, name) for row in rows.values()))

    by_category = (
        requests.select(Category.id.alias("id"), Category.name_zh, Category.name_en, *_request_columns(now))
        .join(ServiceItem).join(Category)
        .group_by(Category.id, Category.name_zh, Category.name_en, Category.position)
        .order_by(Category.position, Category.id)
        .dicts()
    )
    categories = [_fill(Row(str(v["id"]), v["name_zh"], v["name_en"]), v) for v in by_category]
    place_kind = "building" if area.is_single_grid_or_smaller else "grid"
    places = _places(area, requests, now, place_kind)
    return Figures(area, [rows[k] for k in keys], total, categories, places, place_kind,
                   current_counts(area, now), outstanding_points(area), now)


def _places(area: Area, requests, now: datetime, kind: str) -> list[Row]:
    """By grid (with its community's name when there are several communities), or by building."""
    query = requests.join(Household).join(Building).join(Grid).join(Community)
    if kind == "building":
        query = query.select(Building.id.alias("id"), Building.name_zh, Building.name_en, *_request_columns(now)).group_by(
            Building.id, Building.name_zh, Building.name_en).order_by(Building.id)
        return [_fill(Row(str(v["id"]), v["name_zh"], v["name_en"]), v) for v in query.dicts()]
    query = query.select(
        Grid.id.alias("id"), Grid.name_zh, Grid.name_en, Community.id.alias("community_id"),
        Community.name_zh.alias("community_zh"), Community.name_en.alias("community_en"), *_request_columns(now),
    ).group_by(Grid.id, Grid.name_zh, Grid.name_en, Community.id, Community.name_zh, Community.name_en).order_by(
        Community.id, Grid.id)
    found = list(query.dicts())
    several = len({v["community_id"] for v in found}) > 1
    rows = []
    for v in found:
        zh, en = v["name_zh"], v["name_en"]
        if several:  # English falls back to Chinese part by part, as a single name does
            zh, en = f"{v['community_zh']} {zh}", f"{v['community_en'] or v['community_zh']} {en or zh}"
        rows.append(_fill(Row(str(v["id"]), zh, en), v))
    return rows


# ---- the public board -------------------------------------------------------------------------


def community_area(community_id: int | None) -> Area:
    return Area(everything=True) if community_id is None else Area(communities=frozenset([community_id]))
