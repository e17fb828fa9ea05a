"""Care visits (issue 16, item 7): the volunteer lists their visits and confirms one at the door
with the resident's code; the staff who keep the key-group register read it (each read audited,
PIPL Art. 28) and record a visit after a phone call. Pairing is done on the register's page."""

from marketplace.api.registry import component, operation
from marketplace.api.schema import FromForm, iso
from marketplace.care import services
from marketplace.care.forms import CodeForm, PhoneForm
from marketplace.care.models import FREQUENCIES, KEY_GROUPS, PAIR_STATES, VISIT_STATES, CareVisit

DAY = {"type": "string", "format": "date"}
VISIT = component("CareVisit", {
    "type": "object",
    "required": ["id", "pair_id", "due_on", "state", "resident", "address", "frequency", "confirmed_at", "method",
                 "minutes", "points", "can_confirm"],
    "properties": {
        "id": {"type": "integer"},
        "pair_id": {"type": "integer"},
        "due_on": {**DAY, "description": "The day the visit is due (the community's date)."},
        "state": {"type": "string", "enum": list(VISIT_STATES)},
        "resident": {"type": "string", "description": "The resident visited (display name)."},
        "address": {"type": "string", "description": "Where the visit is."},
        "frequency": {"type": "string", "enum": list(FREQUENCIES)},
        "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
        "method": {"type": ["string", "null"], "enum": ["code", "phone", None],
                   "description": "With the resident's code at the door, or by staff after a phone call."},
        "minutes": {"type": ["integer", "null"], "description": "Hours credited (in minutes), once confirmed."},
        "points": {"type": ["integer", "null"], "description": "Points credited, once confirmed."},
        "can_confirm": {"type": "boolean", "description": "Due today and not confirmed: the code may be typed."},
    },
})
VISITS = component("CareVisits", {"type": "object", "required": ["items"],
                                  "properties": {"items": {"type": "array", "items": VISIT}}})
PAIR = component("CarePair", {
    "type": "object",
    "required": ["id", "volunteer_id", "volunteer", "frequency", "weekday", "starts_on", "state"],
    "properties": {
        "id": {"type": "integer"}, "volunteer_id": {"type": "integer"}, "volunteer": {"type": "string"},
        "frequency": {"type": "string", "enum": list(FREQUENCIES)},
        "weekday": {"type": ["integer", "null"], "minimum": 0, "maximum": 6, "description": "0 is Monday."},
        "starts_on": DAY, "state": {"type": "string", "enum": list(PAIR_STATES)},
    },
})
MEMBER = component("KeyGroupMember", {
    "type": "object",
    "required": ["id", "resident_id", "resident", "group", "note", "address", "pairs"],
    "properties": {
        "id": {"type": "integer"}, "resident_id": {"type": "integer"}, "resident": {"type": "string"},
        "group": {"type": "string", "enum": list(KEY_GROUPS)}, "note": {"type": "string"},
        "address": {"type": "string"}, "pairs": {"type": "array", "items": PAIR},
    },
})
REGISTER = component("KeyGroupRegister", {"type": "object", "required": ["items"],
                                          "properties": {"items": {"type": "array", "items": MEMBER}}})


def visit_json(visit: CareVisit, today) -> dict:
    pair = visit.pair
    return {"id": visit.id, "pair_id": pair.id, "due_on": visit.due_on.isoformat(), "state": visit.state,
            "resident": pair.member.resident.display_name, "address": services.address_for_volunteer(pair),
            "frequency": pair.frequency, "confirmed_at": iso(visit.confirmed_at), "method": visit.method,
            "minutes": visit.minutes, "points": visit.points,
            "can_confirm": visit.state == "due" and visit.due_on == today}


@operation("GET", "/care/visits", summary="My care visits", tag="care", allow=("volunteer",), scope="read",
           response=VISITS)
def list_care_visits(user):
    """The volunteer's visits from two weeks ago to eight weeks ahead, soonest first."""
    today = services.local_day()
    return {"items": [visit_json(v, today) for v in services.visits_of_volunteer(user)]}


@operation("POST", "/care/visits/<int:visit_id>/confirm", summary="Confirm a care visit with the resident's code",
           tag="care", allow=("volunteer",), scope="jobs", response=VISIT, body=FromForm(CodeForm),
           errors=(404, 409, 429))
def confirm_care_visit(user, visit_id, code):
    """On the visit's day, at the door: the code the resident shows. Confirmed once; the hours
    and points are credited once however often it is sent. A wrong code counts as a try."""
    visit = services.confirm_with_code(user, visit_id, code)
    return visit_json(visit, services.local_day())


@operation("GET", "/care/register", summary="The key-group register", tag="care",
           allow=services.KEEPERS, scope="staff", response=REGISTER, errors=(403,))
def list_care_register(user):
    """The staff who keep it, for the households in their scope only. Sensitive personal
    information (PIPL Art. 28): each read is written to the audit log."""
    rows = services.register(user)
    return {"items": [{
        "id": r["member"].id, "resident_id": r["member"].resident_id, "resident": r["member"].resident.display_name,
        "group": r["member"].key_group, "note": r["member"].note,
        "address": r["household"].address() if r["household"] else "",
        "pairs": [{"id": p.id, "volunteer_id": p.volunteer_id, "volunteer": p.volunteer.display_name,
                   "frequency": p.frequency, "weekday": p.weekday, "starts_on": p.starts_on.isoformat(),
                   "state": p.state} for p in r["pairs"]],
    } for r in rows]}


@operation("POST", "/care/visits/<int:visit_id>/phone", summary="Record a care visit after a phone call", tag="care",
           allow=services.KEEPERS, scope="staff", response=VISIT, body=FromForm(PhoneForm), errors=(404, 409))
def confirm_care_visit_by_phone(user, visit_id, note):
    """Staff in scope called the resident, who says the visit took place: recorded with who, when
    and the note, audited, and paid as a visit confirmed with the code."""
    visit = services.confirm_by_phone(user, visit_id, note)
    return visit_json(visit, services.local_day())
