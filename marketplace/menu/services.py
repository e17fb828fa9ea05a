"""Rules for the service menu: seeding it from the data file and staff edits."""

import json
from pathlib import Path

from flask_babel import gettext as _

from marketplace import audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.menu.models import FULFILMENTS, Category, ServiceItem

MENU_FILE = Path(__file__).resolve().parent.parent / "data" / "menu.json"


def load_menu(path: Path = MENU_FILE) -> tuple[int, int]:
    """Create the categories and items the file lists and the database lacks. Existing rows are
    left as staff may have edited them, so loading twice changes nothing and loses nothing."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    created_categories = created_items = 0
    with db.atomic():
        for position, cat in enumerate(data["categories"]):
            category, created = Category.get_or_create(
                code=cat["code"],
                defaults={"name_zh": cat["name_zh"], "name_en": cat["name_en"], "position": position},
            )
            created_categories += created
            for item_position, item in enumerate(cat["items"]):
                _obj, created = ServiceItem.get_or_create(
                    code=item["code"],
                    defaults={
                        "category": category,
                        "name_zh": item["name_zh"],
                        "name_en": item["name_en"],
                        "description_zh": item["description_zh"],
                        "description_en": item["description_en"],
                        "fulfilment": item["fulfilment"],
                        "points": item["points"],
                        "deadline_days": item.get("deadline_days", 5),
                        "position": item_position,
                    },
                )
                created_items += created
    return created_categories, created_items


def menu_by_category(include_retired: bool = False) -> list[tuple[Category, list[ServiceItem]]]:
    """The menu grouped by category, in two queries."""
    items = ServiceItem.select().order_by(ServiceItem.position, ServiceItem.id)
    if not include_retired:
        items = items.where(ServiceItem.active == True)  # noqa: E712 (peewee expression)
    by_category: dict[int, list[ServiceItem]] = {}
    for item in items:
        by_category.setdefault(item.category_id, []).append(item)
    categories = Category.select().order_by(Category.position, Category.id)
    return [(c, by_category.get(c.id, [])) for c in categories if by_category.get(c.id) or include_retired]


def _validated(values: dict) -> dict:
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if Category.get_or_none(Category.id == clean.get("category")) is None:
        raise DomainError(_("Please choose a category."), "category", code="invalid")
    if clean.get("fulfilment") not in FULFILMENTS:
        raise DomainError(_("Please choose who may do this work."), "fulfilment", code="invalid")
    return clean


def create_item(staff, values: dict) -> ServiceItem:
    values = _validated(values)
    if ServiceItem.select().where(ServiceItem.code == values["code"]).exists():
        raise DomainError(_("Another item already uses this code."), "code", code="code_taken")
    with db.atomic():
        item = ServiceItem.create(**values)
        audit.record(staff, "menu.item.created", item, code=item.code)
        return item


def update_item(staff, item_id: int, values: dict) -> ServiceItem:
    values = _validated(values)
    item = ServiceItem.get_or_none(ServiceItem.id == item_id)
    if item is None:
        raise DomainError(_("This item was not found."), status=404, code="not_found")
    clash = ServiceItem.select().where(ServiceItem.code == values["code"], ServiceItem.id != item.id)
    if clash.exists():
        raise DomainError(_("Another item already uses this code."), "code", code="code_taken")
    with db.atomic():
        ServiceItem.update(**values).where(ServiceItem.id == item.id).execute()
        audit.record(staff, "menu.item.updated", item, **{k: v for k, v in values.items() if k != "category"})
        return ServiceItem.get_by_id(item.id)


def set_item_active(staff, item_id: int, active: bool) -> ServiceItem:
    item = ServiceItem.get_or_none(ServiceItem.id == item_id)
    if item is None:
        raise DomainError(_("This item was not found."), status=404, code="not_found")
    with db.atomic():
        ServiceItem.update(active=active).where(ServiceItem.id == item.id).execute()
        audit.record(staff, "menu.item.restored" if active else "menu.item.retired", item)
        return ServiceItem.get_by_id(item.id)
