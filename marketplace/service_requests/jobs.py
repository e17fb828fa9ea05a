"""The job board: the open jobs a volunteer or a partner may take, their own jobs, and their stars."""

import peewee as pw

from marketplace import access
from marketplace.db import STAND_INS, PreparedQuery
from marketplace.menu.models import ServiceItem
from marketplace.service_requests.models import ServiceRequest
from marketplace.users.models import VolunteerSkill

# ---- the job board -----------------------------------------------------------------------------


# The job board's order, soonest deadline first, for the pages and the API alike. The (state,
# due_at) index serves it: the board reads open requests in this order and stops after a page,
# so a page costs the same whether the street has a thousand requests or a hundred thousand.
JOB_BOARD_ORDER = ((ServiceRequest.due_at, "asc"), (ServiceRequest.id, "asc"))


def job_board(user, category_id: int | None = None, grid_id: int | None = None):
    """Open requests this volunteer or partner may take, in JOB_BOARD_ORDER. Unbounded: callers
    take one page of it (marketplace.pagination.paginate, or first_page)."""
    return _board_query(user.id, *_provider_kind(user), category_id, grid_id)


def _provider_kind(user) -> tuple[bool, bool]:
    """(takes jobs for a partner, takes jobs as a volunteer)."""
    return bool(access.scope_of(user).partners), access.has_role(user, "volunteer")


def _board_query(user_id, for_partner: bool, as_volunteer: bool, category_id, grid_id):
    from marketplace.menu.models import Category
    from marketplace.places.models import Building, Household

    fulfilments = (["partner", "either"] if for_partner else []) + (["volunteer", "either"] if as_volunteer else [])
    query = (
        ServiceRequest.select(ServiceRequest, ServiceItem, Category, Household, Building)
        .join(ServiceItem).join(Category).switch(ServiceRequest)
        .join(Household).join(Building)
        .where(ServiceRequest.state == "open", ServiceItem.fulfilment.in_(fulfilments or ["none"]),
               ServiceRequest.resident != user_id)
    )
    if as_volunteer and not for_partner:  # a volunteer sees the jobs of their skills
        skills = VolunteerSkill.select(VolunteerSkill.category).where(VolunteerSkill.user == user_id)
        query = query.where(ServiceItem.category.in_(skills))
    if category_id:
        query = query.where(ServiceItem.category == category_id)
    if grid_id:
        query = query.where(Building.grid == grid_id)
    return query.order_by(*(column.asc() if way == "asc" else column.desc() for column, way in JOB_BOARD_ORDER))


# The board's first page, the one nearly every visit reads, compiled to SQL once per shape (what
# kind of provider, which filters, how many rows): peewee's writing of this five-table join's SQL
# cost more than running it (issue 20).
_FIRST_PAGES: dict[tuple, PreparedQuery] = {}


def first_page(user, category_id: int | None, grid_id: int | None, rows: int) -> list[ServiceRequest]:
    """The first `rows` jobs of job_board(user, category_id, grid_id)."""
    kind = _provider_kind(user)
    shape = (*kind, bool(category_id), bool(grid_id), rows)
    prepared = _FIRST_PAGES.get(shape)
    if prepared is None:
        def build(user_id, *chosen):  # the chosen filters' values, in the order category, grid
            values = iter(chosen)
            category, grid = next(values) if category_id else None, next(values) if grid_id else None
            return _board_query(user_id, *kind, category, grid).limit(rows)

        prepared = _FIRST_PAGES[shape] = PreparedQuery(build, *STAND_INS[:1 + bool(category_id) + bool(grid_id)])
    return prepared.rows(user.id, *[value for value in (category_id, grid_id) if value])


def _filter_choices_query():
    """The menu's categories and the street's grids in one UNION ALL (see board_filters)."""
    from marketplace.menu.models import Category
    from marketplace.places.models import Community, Grid

    blank = pw.Value("")
    categories = Category.select(pw.Value("c"), Category.id, Category.name_zh, Category.name_en, blank, blank,
                                 Category.position, Category.id)
    grids = (Grid.select(pw.Value("g"), Grid.id, Grid.name_zh, Grid.name_en, Community.name_zh, Community.name_en,
                         Community.id, Grid.id).join(Community))
    return (categories + grids).order_by(pw.SQL("1"), pw.SQL("7"), pw.SQL("8")).tuples()


_FILTER_CHOICES = PreparedQuery(_filter_choices_query)


def board_filters() -> tuple[list, list]:
    """The board's filter choices, (category id, name) and (grid id, "community grid"), read in one
    query: the board is a hot page with a budget of queries (issue 20, tests/test_query_budget.py)."""
    from marketplace.i18n import localized

    found: dict[str, list] = {"c": [], "g": []}
    for kind, row_id, zh, en, community_zh, community_en, _first, _second in _FILTER_CHOICES.rows():
        # Grids are named per community (第一网格 in each): say whose.
        label = localized(zh, en) if kind == "c" else f"{localized(community_zh, community_en)} {localized(zh, en)}"
        found[kind].append((row_id, label))
    return found["c"], found["g"]


def my_jobs(user):
    partners = access.scope_of(user).partners
    mine = ServiceRequest.claimer == user.id
    if partners:
        mine = mine | ServiceRequest.claimer_partner.in_(partners)
    return ServiceRequest.select().where(mine).order_by(ServiceRequest.state != "claimed", ServiceRequest.due_at.desc())


# ---- ratings -----------------------------------------------------------------------------------


def _rating_query(whose):
    return (ServiceRequest.select(pw.fn.AVG(ServiceRequest.rating).alias("avg"),
                                  pw.fn.COUNT(ServiceRequest.rating).alias("n"))
            .where(whose, ServiceRequest.rating.is_null(False)).dicts())


# Asked on every view of the board: compiled once (db.PreparedQuery).
_PARTNER_RATING = PreparedQuery(lambda partner_id: _rating_query(ServiceRequest.claimer_partner == partner_id),
                                STAND_INS[0])
_VOLUNTEER_RATING = PreparedQuery(
    lambda user_id: _rating_query((ServiceRequest.claimer == user_id) & ServiceRequest.claimer_partner.is_null()),
    STAND_INS[0])


def provider_rating(user=None, partner_id: int | None = None) -> tuple[float | None, int]:
    """(average stars, number of ratings) for a volunteer or a partner."""
    row = _PARTNER_RATING.rows(partner_id)[0] if partner_id else _VOLUNTEER_RATING.rows(user.id)[0]
    return (round(float(row["avg"]), 1) if row["avg"] is not None else None), row["n"]
