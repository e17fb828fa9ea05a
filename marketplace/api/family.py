"""Family links (issue 16): a family member asks to act for a resident; the resident consents or
says no on their phone; either of them (or staff in scope) ends it, which counts from the very
next request. Acting itself goes through the request operations, which accept a linked family
member as they accept the resident."""

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation
from marketplace.api.schema import FromForm, iso
from marketplace.proxy import services
from marketplace.proxy.forms import AskForm
from marketplace.proxy.models import LINK_STATES, FamilyLink

TIME = {"type": "string", "format": "date-time"}
LINK = component("FamilyLink", {
    "type": "object",
    "required": ["id", "resident_id", "resident", "family_id", "family", "relation", "state", "asked_at",
                 "consented_at", "consented_via"],
    "properties": {
        "id": {"type": "integer"},
        "resident_id": {"type": "integer", "description": "The person acted for."},
        "resident": {"type": "string", "description": "Their display name."},
        "family_id": {"type": "integer", "description": "The family member who may act."},
        "family": {"type": "string"},
        "relation": {"type": "string"},
        "state": {"type": "string", "enum": list(LINK_STATES)},
        "asked_at": TIME,
        "consented_at": {"type": ["string", "null"], "format": "date-time"},
        "consented_via": {"type": ["string", "null"], "enum": ["phone", "in_person", None],
                          "description": "On the resident's phone, or in person before staff."},
    },
})
LINKS = component("FamilyLinks", {
    "type": "object", "required": ["for_me", "i_act_for"],
    "properties": {
        "for_me": {"type": "array", "items": LINK, "description": "Who may act for me, or asks to."},
        "i_act_for": {"type": "array", "items": LINK, "description": "Whom I may act for, or asked to."},
    },
})
ASKED = component("FamilyLinkAsked", {
    "type": "object", "required": ["asked"],
    "properties": {"asked": {"type": "boolean", "description": "Always true: the answer is the same whether or "
                                                                "not the number is a resident's."}},
})


def link_json(link: FamilyLink) -> dict:
    return {"id": link.id, "resident_id": link.resident_id, "resident": link.resident.display_name,
            "family_id": link.family_id, "family": link.family.display_name, "relation": link.relation,
            "state": link.state, "asked_at": iso(link.asked_at), "consented_at": iso(link.consented_at),
            "consented_via": link.consented_via}


@operation("GET", "/family/links", summary="My family links", tag="family", allow=(SIGNED_IN,), scope="read",
           response=LINKS)
def family_links(user):
    """Open links only (asked or active): who may act for me, and whom I may act for."""
    links = services.links_of(user)
    return {key: [link_json(link) for link in rows] for key, rows in links.items()}


@operation("POST", "/family/links", summary="Ask to act for a family member", tag="family", allow=(SIGNED_IN,),
           scope="requests", response=ASKED, status=202, body=FromForm(AskForm))
def ask_family_link(user, phone, relation):
    """Named by their mobile number; they are asked on their phone (or consent in person before
    their building head)."""
    services.ask_link(user, phone, relation or "")
    return {"asked": True}


@operation("POST", "/family/links/<int:link_id>/consent", summary="Consent to a family link", tag="family",
           allow=(SIGNED_IN,), scope="requests", response=LINK, errors=(404, 409))
def consent_family_link(user, link_id):
    """The resident says yes: from now on the family member may book, confirm and rate for them."""
    return link_json(services.consent(user, link_id))


@operation("POST", "/family/links/<int:link_id>/end", summary="Decline or revoke a family link", tag="family",
           allow=(SIGNED_IN,), scope="requests", response=LINK, errors=(404, 409))
def end_family_link(user, link_id):
    """The resident, the family member or staff in scope; it counts from the very next request."""
    return link_json(services.end_link(user, link_id))
