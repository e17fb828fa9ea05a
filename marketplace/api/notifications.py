"""My in-app notifications."""

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation, page_of
from marketplace.api.schema import Boolean, Fields, iso
from marketplace.notifications import services
from marketplace.notifications.models import KINDS, Notification
from marketplace.pagination import paginate

NOTIFICATION = component("Notification", {
    "type": "object", "required": ["id", "kind", "text", "link", "created_at", "read_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "text": {"type": "string"},
        "link": {"type": "string", "description": "A path on the web site, e.g. /requests/12 (may be empty)."},
        "created_at": {"type": "string", "format": "date-time"},
        "read_at": {"type": ["string", "null"], "format": "date-time"},
    },
})
_page = page_of(NOTIFICATION)
NOTIFICATION_PAGE = component("NotificationPage", {
    **_page, "required": ["items", "next_cursor", "unread"],
    "properties": {**_page["properties"], "unread": {"type": "integer", "description": "How many are unread."}},
})
MARKED = component("MarkedRead", {"type": "object", "required": ["marked"], "properties": {"marked": {"type": "integer"}}})


def notification_json(note: Notification) -> dict:
    return {"id": note.id, "kind": note.kind, "text": note.text, "link": note.link, "created_at": iso(note.created_at),
            "read_at": iso(note.read_at)}


@operation("GET", "/notifications", summary="My notifications", tag="notifications", allow=(SIGNED_IN,),
           scope="read", response=NOTIFICATION_PAGE, paginated=True,
           query=Fields(unread=Boolean("Only unread ones.")))
def list_notifications(user, unread, cursor, limit):
    """Newest first, with the number still unread."""
    rows, next_cursor = paginate(services.for_user(user, bool(unread)), [(Notification.id, "desc")], cursor, limit)
    return {"items": [notification_json(n) for n in rows], "next_cursor": next_cursor,
            "unread": services.unread_count(user)}


@operation("POST", "/notifications/<int:notification_id>/read", summary="Mark one as read", tag="notifications",
           allow=(SIGNED_IN,), scope="read", response=NOTIFICATION)
def mark_read(user, notification_id):
    return notification_json(services.mark_read(user, notification_id))


@operation("POST", "/notifications/read-all", summary="Mark all as read", tag="notifications", allow=(SIGNED_IN,),
           scope="read", response=MARKED)
def mark_all_read(user):
    return {"marked": services.mark_all_read(user)}
