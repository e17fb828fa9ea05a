"""The community map: Community -> Grid -> Building -> Household."""

import peewee as pw

from marketplace.db import BaseModel
from marketplace.i18n import localized


class Community(BaseModel):
    code = pw.CharField(max_length=64, unique=True)
    name_zh = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100)

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class Grid(BaseModel):
    community = pw.ForeignKeyField(Community, backref="grids", on_delete="RESTRICT")
    code = pw.CharField(max_length=64, unique=True)
    name_zh = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100)

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class Building(BaseModel):
    grid = pw.ForeignKeyField(Grid, backref="buildings", on_delete="RESTRICT")
    code = pw.CharField(max_length=64, unique=True)
    name_zh = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100)

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class Household(BaseModel):
    building = pw.ForeignKeyField(Building, backref="households", on_delete="RESTRICT")
    unit = pw.CharField(max_length=32)  # "2-301": unit 2, room 301
    # The floor area in dm² (1 m² = 100 dm², so 89.50 m² is exact), entered by staff; counted in
    # the owners' votes (proposals) where every household in scope has one.
    floor_area = pw.IntegerField(null=True)

    class Meta:
        indexes = ((("building", "unit"), True),)

    def address(self) -> str:
        building = self.building
        grid = building.grid
        return f"{grid.community.name} {building.name} {self.unit}"
