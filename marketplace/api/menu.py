"""The service menu: what residents can ask for."""

from marketplace.access import PUBLIC
from marketplace.api.registry import component, operation
from marketplace.menu import services
from marketplace.menu.models import FULFILMENTS

ITEM = component("ServiceItem", {
    "type": "object",
    "required": ["id", "code", "name", "description", "fulfilment", "points", "deadline_days"],
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string", "description": "Used in the web page's address: /requests/new/<code>."},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "fulfilment": {"type": "string", "enum": list(FULFILMENTS), "description": "Who may do the work."},
        "points": {"type": "integer", "description": "Earned by whoever does it."},
        "deadline_days": {"type": "integer", "description": "Handled within this many working days."},
    },
})
MENU = component("Menu", {
    "type": "object", "required": ["categories"],
    "properties": {"categories": {"type": "array", "items": {
        "type": "object", "required": ["id", "code", "name", "items"],
        "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                       "items": {"type": "array", "items": ITEM}},
    }}},
})


def item_json(item) -> dict:
    return {"id": item.id, "code": item.code, "name": item.name, "description": item.description,
            "fulfilment": item.fulfilment, "points": item.points, "deadline_days": item.deadline_days}


@operation("GET", "/menu", summary="The service menu", tag="menu", allow=(PUBLIC,), response=MENU)
def menu(user):
    """Every category with its active items, in the menu's order, named in the request's language."""
    return {"categories": [
        {"id": category.id, "code": category.code, "name": category.name, "items": [item_json(i) for i in items]}
        for category, items in services.menu_by_category()
    ]}
