"""My notifications: reading and acknowledging them, and how they reach me (channels, quiet hours)."""

from flask_babel import lazy_gettext as _l

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation, page_of
from marketplace.api.schema import Boolean, Fields, String, iso
from marketplace.notifications import fallback, preferences, services
from marketplace.notifications.models import KINDS, Notification
from marketplace.pagination import paginate

NOTIFICATION = component("Notification", {
    "type": "object", "required": ["id", "kind", "text", "link", "created_at", "read_at", "important",
                                   "acknowledged_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "text": {"type": "string"},
        "link": {"type": "string", "description": "A path on the web site, e.g. /requests/12 (may be empty)."},
        "created_at": {"type": "string", "format": "date-time"},
        "read_at": {"type": ["string", "null"], "format": "date-time"},
        "important": {"type": "boolean", "description": "Asks for acknowledgement (opening it, or the acknowledge operation)."},
        "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
    },
})
PREFERENCES = component("MessagePreferences", {
    "type": "object", "required": ["channels", "quiet_start", "quiet_end", "wechat_linked"],
    "properties": {
        "channels": {"type": "array", "items": {"type": "string", "enum": ["in_app", "sms", "wechat"]},
                     "description": "in_app always; sms and wechat as chosen."},
        "quiet_start": {"type": "string", "description": "HH:MM local time, or empty."},
        "quiet_end": {"type": "string", "description": "HH:MM local time, or empty."},
        "wechat_linked": {"type": "boolean"},
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
            "read_at": iso(note.read_at), "important": note.important, "acknowledged_at": iso(note.acknowledged_at)}


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


@operation("POST", "/notifications/<int:notification_id>/acknowledge", summary="Acknowledge an important message",
           tag="notifications", allow=(SIGNED_IN,), scope="read", response=NOTIFICATION)
def acknowledge(user, notification_id):
    """Tells the community the message reached you: nobody will call you about it."""
    return notification_json(fallback.acknowledge(user, notification_id))


@operation("GET", "/me/message-preferences", summary="How messages reach me", tag="notifications",
           allow=(SIGNED_IN,), scope="read", response=PREFERENCES)
def get_message_preferences(user):
    return preferences.describe(user.id)


@operation("PUT", "/me/message-preferences", summary="Choose how messages reach me", tag="notifications",
           allow=(SIGNED_IN,), scope="read", response=PREFERENCES,
           body=Fields(
               channels=String(_l("Channels beside in-app, comma-separated: sms, wechat (empty for none)."),
                               required=True, required_message=_l("Say which channels (may be empty)."),
                               maxLength=40),
               quiet_start=String(_l("Quiet hours from, HH:MM (empty for none)."), maxLength=5),
               quiet_end=String(_l("Quiet hours until, HH:MM (empty for none)."), maxLength=5)))
def put_message_preferences(user, channels, quiet_start, quiet_end):
    chosen = [c.strip() for c in (channels or "").split(",") if c.strip()]
    return preferences.set_own(user, chosen, quiet_start or None, quiet_end or None)
