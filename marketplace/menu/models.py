"""The service menu: categories and the items residents can ask for."""

import peewee as pw

from marketplace.db import BaseModel
from marketplace.i18n import localized

FULFILMENTS = ("volunteer", "partner", "either")


class Category(BaseModel):
    code = pw.CharField(max_length=64, unique=True)
    name_zh = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100)
    position = pw.IntegerField(default=0)

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class ServiceItem(BaseModel):
    category = pw.ForeignKeyField(Category, backref="items", on_delete="RESTRICT")
    code = pw.CharField(max_length=64, unique=True)
    name_zh = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100)
    description_zh = pw.TextField()
    description_en = pw.TextField()
    fulfilment = pw.CharField(
        max_length=16, constraints=[pw.Check("fulfilment IN ('volunteer', 'partner', 'either')")]
    )
    points = pw.IntegerField(constraints=[pw.Check("points > 0")])
    deadline_days = pw.IntegerField(default=5, constraints=[pw.Check("deadline_days BETWEEN 1 AND 60")])
    # Retired items stay in the table so the requests that used them keep their history.
    active = pw.BooleanField(default=True)
    position = pw.IntegerField(default=0)

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return localized(self.description_zh, self.description_en)
