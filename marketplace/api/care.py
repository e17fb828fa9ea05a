"""Care visits (issue 16, item 7): the volunteer lists their visits and confirms one at the door
with the resident's code; the staff who keep the key-group register read it (each read audited,
PIPL Art. 28), add residents to it, pair volunteers, pause, resume or end a pair, and record a
visit after a phone call; the resident reads who visits her and the code for today's visit."""

from flask_babel import lazy_gettext as _l

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation
from marketplace.api.schema import Date, Fields, FromForm, Integer, String, iso
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


VISITORS = component("CareVisitors", {"type": "object", "required": ["items"], "properties": {"items": {
    "type": "array", "items": {
        "type": "object", "required": ["pair_id", "volunteer", "frequency", "next_visit_on", "code_today"],
        "properties": {
            "pair_id": {"type": "integer"}, "volunteer": {"type": "string"},
            "frequency": {"type": "string", "enum": list(FREQUENCIES)},
            "next_visit_on": {"type": ["string", "null"], "format": "date"},
            "code_today": {"type": ["string", "null"],
                           "description": "On a visit's day: the code to show the volunteer at the door."},
        }}}}})
ADDED = component("KeyGroupMemberAdded", {"type": "object", "required": ["id", "resident_id", "group"], "properties": {
    "id": {"type": "integer"}, "resident_id": {"type": "integer"}, "group": {"type": "string", "enum": list(KEY_GROUPS)}}})


def pair_json(pair) -> dict:
    return {"id": pair.id, "volunteer_id": pair.volunteer_id, "volunteer": pair.volunteer.display_name,
            "frequency": pair.frequency, "weekday": pair.weekday, "starts_on": pair.starts_on.isoformat(),
            "state": pair.state}


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
        "pairs": [pair_json(p) for p in r["pairs"]],
    } for r in rows]}


@operation("POST", "/care/visits/<int:visit_id>/phone", summary="Record a care visit after a phone call", tag="care",
           allow=services.KEEPERS, scope="staff", response=VISIT, body=FromForm(PhoneForm), errors=(404, 409))
def confirm_care_visit_by_phone(user, visit_id, note):
    """Staff in scope called the resident, who says the visit took place: recorded with who, when
    and the note, audited, and paid as a visit confirmed with the code."""
    visit = services.confirm_by_phone(user, visit_id, note)
    return visit_json(visit, services.local_day())


@operation("GET", "/care/visitors", summary="Who visits me", tag="care", allow=(SIGNED_IN,), scope="read",
           response=VISITORS)
def list_my_care_visitors(user):
    """The resident's visitors: each active pair's volunteer, the next visit, and on a visit's day
    the code to show at the door."""
    return {"items": [{"pair_id": row["pair"].id, "volunteer": row["volunteer"].display_name,
                       "frequency": row["pair"].frequency,
                       "next_visit_on": row["next"].due_on.isoformat() if row["next"] else None,
                       "code_today": row["code"]} for row in services.visitors_of(user)]}


@operation("POST", "/care/register", summary="Add a resident to the key-group register", tag="care",
           allow=services.KEEPERS, scope="staff", response=ADDED, status=201, errors=(409,), body=Fields(
               resident_id=Integer(_l("A resident of a household in your scope."), minimum=1, required=True,
                                   required_message=_l("Please choose a resident of a household you are "
                                                       "responsible for.")),
               group=String(_l("The key group."), required=True, enum=list(KEY_GROUPS),
                            required_message=_l("Please choose a key group.")),
               note=String(_l("What a visitor should know, kept on the register only."), maxLength=300)))
def add_care_member(user, resident_id, group, note):
    """Audited; the register stays visible only to the staff in scope."""
    member = services.add_member(user, resident_id, group, note or "")
    return {"id": member.id, "resident_id": member.resident_id, "group": member.key_group}


@operation("POST", "/care/pairs", summary="Pair a volunteer with a resident on the register", tag="care",
           allow=services.KEEPERS, scope="staff", response=PAIR, status=201, errors=(404,), body=Fields(
               member_id=Integer(_l("The register entry (see the register)."), minimum=1, required=True,
                                 required_message=_l("Please choose a resident on the register.")),
               volunteer_id=Integer(_l("A volunteer of your community."), minimum=1, required=True,
                                    required_message=_l("Please choose a volunteer of your community.")),
               frequency=String(_l("How often the visits are."), required=True, enum=list(FREQUENCIES),
                                required_message=_l("Please choose how often the visits are.")),
               starts_on=Date(_l("The first day, from today on, within a year."), required=True,
                              required_message=_l("Please choose a start day from today on, within a year.")),
               weekday=Integer(_l("0 (Monday) to 6: the visits' day of the week, if any."), minimum=None,
                               maximum=None),
               minutes=Integer(_l("How long a visit lasts: 15 to 480 minutes."), minimum=None, maximum=None),
               points=Integer(_l("Points a visit earns: 0 to 100."), minimum=None, maximum=None)))
def create_care_pair(user, member_id, volunteer_id, frequency, starts_on, weekday, minutes, points):
    """The volunteer and the resident are told; the visits of the next eight weeks are made."""
    given = {name: value for name, value in (("minutes", minutes), ("points", points)) if value is not None}
    pair = services.create_pair(user, member_id, volunteer_id, frequency, starts_on, weekday, **given)
    return pair_json(pair)


@operation("POST", "/care/pairs/<int:pair_id>", summary="Pause, resume or end a care pair", tag="care",
           allow=services.KEEPERS, scope="staff", response=PAIR, errors=(404, 409), body=Fields(
               action=String(_l("pause, resume or end."), required=True, enum=list(services.PAIR_MOVES),
                             required_message=_l("Please choose what to do with the pair."))))
def change_care_pair(user, pair_id, action):
    """Pausing or ending removes the visits not yet made from today on; resuming makes them again."""
    return pair_json(services.change_pair(user, pair_id, action))
