"""My data: everything the site holds about the caller (PIPL Art. 45), as the page's download."""

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation
from marketplace.api.schema import FromForm
from marketplace.rights import services
from marketplace.rights.forms import CloseOwnAccountApiForm

MY_DATA = component("MyData", {
    "type": "object",
    "required": ["schema_version", "account", "roles", "households", "family_links", "requests", "events", "points",
                 "vouchers", "messages", "viewed_by_staff", "care"],
    "properties": {
        "schema_version": {"type": "integer"},
        "account": {"type": "object"},
        "roles": {"type": "array", "items": {"type": "object"}},
        "households": {"type": "array", "items": {"type": "object"}},
        "family_links": {"type": "array", "items": {"type": "object"}},
        "requests": {"type": "array", "items": {"type": "object"},
                     "description": "My requests, each with its timeline and my rating."},
        "events": {"type": "object", "description": "My sign-ups and attendance with hours."},
        "points": {"type": "object", "description": "My balance and every transfer of my account."},
        "vouchers": {"type": "array", "items": {"type": "object"}},
        "messages": {"type": "array", "items": {"type": "object"}, "description": "With their deliveries per channel."},
        "viewed_by_staff": {"type": "array", "items": {"type": "object"},
                            "description": "Staff who viewed my personal data: who and when."},
        "care": {"type": "object", "description": "My places in the key-group register, my care pairs and visits."},
    },
})


@operation("GET", "/me/data", summary="Everything held about me", tag="account", allow=(SIGNED_IN,), scope="read",
           response=MY_DATA)
def my_data(user):
    """A copy of the caller's personal data, the same as the JSON download on the account page."""
    return services.personal_data(user)


CLOSED = component("ClosedAccount", {
    "type": "object", "required": ["id", "closed"],
    "properties": {"id": {"type": "integer"}, "closed": {"type": "boolean"}},
})


@operation("POST", "/me/close", summary="Close my account", tag="account", allow=(SIGNED_IN,), response=CLOSED,
           body=FromForm(CloseOwnAccountApiForm), errors=(403, 409))
def close_my_account(user, understood, password):
    """With the person's password typed again. Open requests and vouchers are cancelled, the
    remaining points go to the community fund, and personal data is anonymised; the token stops
    working. A request done but not confirmed, or disputed, must be settled first (409
    `matters_open`); a wrong password changes nothing (422 `wrong_password`)."""
    from marketplace.rights import closing

    closed = closing.close_own_account(user, password)
    return {"id": closed.id, "closed": closing.is_closed(closed)}
