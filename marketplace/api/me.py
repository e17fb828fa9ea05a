"""Who the caller is."""

from marketplace import access
from marketplace.access import SIGNED_IN
from marketplace.api import auth
from marketplace.api.registry import component, operation
from marketplace.users.models import ROLES

ME = component("Me", {
    "type": "object", "required": ["id", "display_name", "roles", "locale", "scopes"],
    "properties": {
        "id": {"type": "integer"},
        "display_name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
        "locale": {"type": ["string", "null"]},
        "scopes": {"type": "array", "items": {"type": "string", "enum": list(auth.SCOPES)},
                   "description": "What this token may do (all of it on the browser's session)."},
    },
})


@operation("GET", "/me", summary="The signed-in person", tag="account", allow=(SIGNED_IN,), response=ME)
def me(user):
    """Needs no scope: any valid token may ask whose it is."""
    return {"id": user.id, "display_name": user.display_name, "roles": sorted(access.roles(user)),
            "locale": user.locale, "scopes": sorted(auth.scopes_of_request())}
