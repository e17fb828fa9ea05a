"""Rules for the community map: loading it from a data file and edits by community administrators."""

import json
import re
from pathlib import Path

import peewee as pw
from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.places.models import Building, Community, Grid, Household

COMMUNITY_FILE = Path(__file__).resolve().parent.parent / "data" / "community.json"
UNIT_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,31}$")


def load_map(path: Path = COMMUNITY_FILE) -> int:
    """Create what the file lists and the database lacks; returns how many rows were added."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    added = 0
    with db.atomic():
        for c in data["communities"]:
            community, made = Community.get_or_create(
                code=c["code"], defaults={"name_zh": c["name_zh"], "name_en": c["name_en"]}
            )
            added += made
            for g in c["grids"]:
                grid, made = Grid.get_or_create(
                    code=g["code"], defaults={"community": community, "name_zh": g["name_zh"], "name_en": g["name_en"]}
                )
                added += made
                for b in g["buildings"]:
                    building, made = Building.get_or_create(
                        code=b["code"], defaults={"grid": grid, "name_zh": b["name_zh"], "name_en": b["name_en"]}
                    )
                    added += made
                    for unit in b["households"]:
                        _h, made = Household.get_or_create(building=building, unit=unit)
                        added += made
    return added


def _community_for(staff, community_id: int) -> Community:
    if not access.scope_of(staff).administers(community_id):
        raise DomainError(_("This community was not found."), status=404, code="not_found")
    return Community.get_by_id(community_id)


def _names(name_zh: str, name_en: str) -> tuple[str, str]:
    name_zh, name_en = (name_zh or "").strip(), (name_en or "").strip()
    if not name_zh:
        raise DomainError(_("Please give a Chinese name."), "name_zh", code="invalid")
    return name_zh, name_en or name_zh


def _unique_code(model, prefix: str) -> str:
    base = re.sub(r"[^a-z0-9_]", "", prefix.lower()) or "x"
    n = model.select().count() + 1
    while model.select().where(model.code == f"{base}_{n}").exists():
        n += 1
    return f"{base}_{n}"


def add_grid(staff, community_id: int, name_zh: str, name_en: str) -> Grid:
    community = _community_for(staff, community_id)
    name_zh, name_en = _names(name_zh, name_en)
    with db.atomic():
        grid = Grid.create(community=community, code=_unique_code(Grid, community.code + "_g"), name_zh=name_zh, name_en=name_en)
        audit.record(staff, "places.grid.created", grid, name=name_zh)
        return grid


def add_building(staff, grid_id: int, name_zh: str, name_en: str) -> Building:
    grid = Grid.get_or_none(Grid.id == grid_id)
    if grid is None:
        raise DomainError(_("This grid was not found."), status=404, code="not_found")
    _community_for(staff, grid.community_id)
    name_zh, name_en = _names(name_zh, name_en)
    with db.atomic():
        building = Building.create(grid=grid, code=_unique_code(Building, grid.code + "_b"), name_zh=name_zh, name_en=name_en)
        audit.record(staff, "places.building.created", building, name=name_zh)
        return building


def add_households(staff, building_id: int, units_text: str) -> int:
    """Add households from a list of units ("1-101, 1-102" or one a line); existing ones are skipped."""
    building = Building.get_or_none(Building.id == building_id)
    if building is None:
        raise DomainError(_("This building was not found."), status=404, code="not_found")
    _community_for(staff, building.grid.community_id)
    units = [u.strip() for u in re.split(r"[\s,，、;；]+", units_text or "") if u.strip()]
    if not units:
        raise DomainError(_("Please list at least one unit, such as 1-101."), "units", code="invalid")
    bad = [u for u in units if not UNIT_PATTERN.match(u)]
    if bad:
        raise DomainError(_("These units are not written like 1-101: %(units)s", units=", ".join(bad[:5])), "units",
                          code="invalid")
    with db.atomic():
        before = Household.select().where(Household.building == building).count()
        rows = [{"building": building.id, "unit": unit} for unit in dict.fromkeys(units)]
        Household.insert_many(rows).on_conflict_ignore().execute()
        added = Household.select().where(Household.building == building).count() - before
        audit.record(staff, "places.households.added", building, units=units)
    return added


def rename(staff, model, object_id: int, name_zh: str, name_en: str):
    obj = model.get_or_none(model.id == object_id)
    if obj is None:
        raise DomainError(_("This place was not found."), status=404, code="not_found")
    community_id = obj.community_id if model is Grid else obj.grid.community_id
    _community_for(staff, community_id)
    name_zh, name_en = _names(name_zh, name_en)
    with db.atomic():
        model.update(name_zh=name_zh, name_en=name_en).where(model.id == obj.id).execute()
        audit.record(staff, f"places.{model.__name__.lower()}.renamed", obj, name=name_zh)


def communities_tree(community_ids: list[int]):
    """Communities with their grids, buildings and household counts, in four queries."""
    communities = list(Community.select().where(Community.id.in_(community_ids or [0])).order_by(Community.id))
    grids = list(Grid.select().where(Grid.community.in_(community_ids or [0])).order_by(Grid.id))
    buildings = list(Building.select().where(Building.grid.in_([g.id for g in grids] or [0])).order_by(Building.id))
    counts = dict(
        Household.select(Household.building, pw.fn.COUNT(Household.id))
        .where(Household.building.in_([b.id for b in buildings] or [0]))
        .group_by(Household.building)
        .tuples()
    )
    return communities, grids, buildings, counts
