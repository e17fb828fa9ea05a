"""Events: the list, signing up and cancelling, checking in and out with the kiosk's QR or its
six digits, and the volunteer's record of hours and stars."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.access import PUBLIC, SIGNED_IN, STAFF
from marketplace.api.auth import per_user_key
from marketplace.api.registry import component, config_limit, operation, page_of
from marketplace.api.schema import Fields, FromForm, String, iso
from marketplace.errors import DomainError
from marketplace.events import permissions, services
from marketplace.events.forms import KIND_LABELS, CodeForm
from marketplace.events.models import (
    ATTENDANCE_STATES,
    EVENT_KINDS,
    EVENT_STATES,
    POINTS_RULES,
    SIGNUP_STATES,
    Attendance,
    Event,
    Signup,
)
from marketplace.pagination import paginate
from marketplace.proxy import services as proxy
from marketplace.users.models import User

TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
SIGNUP = component("Signup", {
    "type": "object", "required": ["event_id", "status", "waitlist_position"],
    "properties": {
        "event_id": {"type": "integer"},
        "status": {"type": "string", "enum": list(SIGNUP_STATES)},
        "waitlist_position": {"type": ["integer", "null"], "description": "1 is next in line; null unless waiting."},
    },
})
ATTENDANCE = component("Attendance", {
    "type": "object",
    "required": ["event_id", "state", "checked_in_at", "checked_out_at", "hours", "points"],
    "properties": {
        "event_id": {"type": "integer"},
        "state": {"type": "string", "enum": list(ATTENDANCE_STATES),
                  "description": "in; out (hours final and paid); review (waiting for staff to confirm the hours)."},
        "checked_in_at": TIME,
        "checked_out_at": NULLABLE_TIME,
        "hours": {"type": ["number", "null"]},
        "points": {"type": ["integer", "null"]},
    },
})
EVENT = component("Event", {
    "type": "object",
    "required": ["id", "title", "kind", "kind_label", "description", "place", "community", "starts_at", "ends_at",
                 "checkin_opens_at", "capacity", "taken", "points_rule", "points", "allow_walk_ins", "status",
                 "cancel_reason"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "kind": {"type": "string", "enum": list(EVENT_KINDS)},
        "kind_label": {"type": "string"},
        "description": {"type": "string"},
        "place": {"type": "string"},
        "community": {"type": "string"},
        "starts_at": TIME, "ends_at": TIME, "checkin_opens_at": TIME,
        "capacity": {"type": "integer"},
        "taken": {"type": "integer"},
        "points_rule": {"type": "string", "enum": list(POINTS_RULES)},
        "points": {"type": "integer", "description": "For each hour, or once for taking part."},
        "allow_walk_ins": {"type": "boolean"},
        "status": {"type": "string", "enum": list(EVENT_STATES)},
        "cancel_reason": {"type": "string"},
        "my_signup": {"oneOf": [SIGNUP, {"type": "null"}], "description": "Signed-in callers only."},
        "my_attendance": {"oneOf": [ATTENDANCE, {"type": "null"}], "description": "Signed-in callers only."},
        "my_actions": {"type": "array", "items": {"type": "string", "enum": list(permissions.ACTIONS)},
                       "description": "Signed-in callers only: what the caller may do with this event as staff "
                                      "(the same table the pages use to show their buttons)."},
    },
})
ROSTER_ROW = component("RosterRow", {
    "type": "object", "required": ["user_id", "name", "phone", "phone_masked", "signup", "attendance"],
    "properties": {
        "user_id": {"type": "integer"},
        "name": {"type": "string"},
        "phone": {"type": "string", "description": "In full, or masked (138****1234) when not the caller's to read."},
        "phone_masked": {"type": "boolean"},
        "signup": {"oneOf": [SIGNUP, {"type": "null"}], "description": "null for a walk-in."},
        "attendance": {"oneOf": [ATTENDANCE, {"type": "null"}]},
    },
})
ROSTER = component("EventRoster", {
    "type": "object", "required": ["event_id", "people"],
    "properties": {"event_id": {"type": "integer"}, "people": {"type": "array", "items": ROSTER_ROW}},
})
EVENT_PAGE = component("EventPage", page_of(EVENT))
CHECK = component("CheckResult", {
    "type": "object", "required": ["outcome", "message", "event_id", "attendance"],
    "properties": {
        "outcome": {"type": "string", "enum": ["checked_in", "checked_out", "already"]},
        "message": {"type": "string", "description": "What to show the volunteer, e.g. “Checked in at 09:02.”"},
        "event_id": {"type": "integer"},
        "attendance": {"oneOf": [ATTENDANCE, {"type": "null"}]},
    },
})
RECORD = component("VolunteerRecord", {
    "type": "object", "required": ["hours", "credit_hours", "honour_hours", "stars", "hours_to_next_star", "attended", "pending", "signups"],
    "properties": {
        "hours": {"type": "number"},
        "credit_hours": {"type": "number", "description": "Recorded at the door (kiosk, code, poster, badge)."},
        "honour_hours": {"type": "number", "description": "Added by staff by hand; shown apart, counted for stars "
                                                          "only where the community's setting says so."},
        "stars": {"type": "integer", "minimum": 0, "maximum": 5},
        "hours_to_next_star": {"type": ["number", "null"]},
        "attended": {"type": "array", "items": ATTENDANCE},
        "pending": {"type": "array", "items": ATTENDANCE},
        "signups": {"type": "array", "items": SIGNUP},
    },
})


def signup_json(signup: Signup | None) -> dict | None:
    if signup is None:
        return None
    return {"event_id": signup.event_id, "status": signup.status,
            "waitlist_position": services.waitlist_position(signup) if signup.status == "waitlisted" else None}


def attendance_json(attendance: Attendance | None) -> dict | None:
    if attendance is None:
        return None
    return {"event_id": attendance.event_id, "state": attendance.state, "checked_in_at": iso(attendance.checked_in_at),
            "checked_out_at": iso(attendance.checked_out_at),
            "hours": round(attendance.minutes / 60, 2) if attendance.minutes is not None else None,
            "points": attendance.points}


def event_json(event: Event, user=None) -> dict:
    data = {
        "id": event.id, "title": event.title, "kind": event.kind, "kind_label": str(KIND_LABELS[event.kind]),
        "description": event.description, "place": event.place, "community": event.community.name,
        "starts_at": iso(event.starts_at), "ends_at": iso(event.ends_at),
        "checkin_opens_at": iso(services.door_window(event).opens_at), "capacity": event.capacity, "taken": event.taken,
        "points_rule": event.points_rule, "points": event.points, "allow_walk_ins": bool(event.allow_walk_ins),
        "status": event.status, "cancel_reason": event.cancel_reason,
    }
    if user is not None:
        data["my_signup"] = signup_json(Signup.get_or_none(Signup.event == event.id, Signup.user == user.id))
        data["my_attendance"] = attendance_json(
            Attendance.get_or_none(Attendance.event == event.id, Attendance.user == user.id))
        data["my_actions"] = [action for action in permissions.ACTIONS if permissions.may(user, action, event)]
    return data


@operation("GET", "/events", summary="Events still to come or under way", tag="events", allow=(PUBLIC,),
           response=EVENT_PAGE, paginated=True)
def list_events(user, cursor, limit):
    """Published events that have not ended, soonest first."""
    rows, next_cursor = paginate(services.upcoming_events(), [(Event.starts_at, "asc"), (Event.id, "asc")], cursor,
                                 limit)
    return {"items": [event_json(e, user) for e in rows], "next_cursor": next_cursor}


@operation("GET", "/events/<int:event_id>", summary="One event", tag="events", allow=(PUBLIC,), response=EVENT)
def show_event(user, event_id):
    """Drafts only to their organisers."""
    return event_json(services.get_event(user, event_id), user)


@operation("POST", "/events/<int:event_id>/signup", summary="Sign up", tag="events", allow=(SIGNED_IN,),
           scope="events", response=SIGNUP, errors=(403, 409))
def sign_up(user, event_id):
    """A place if one is free, otherwise the end of the waiting list. Volunteers only."""
    return signup_json(services.sign_up(user, event_id))


@operation("POST", "/events/<int:event_id>/signup/cancel", summary="Give my place back", tag="events",
           allow=(SIGNED_IN,), scope="events", response=SIGNUP, errors=(409,))
def cancel_signup(user, event_id):
    """The first person waiting moves up."""
    services.cancel_signup(user, event_id)
    return signup_json(Signup.get(Signup.event == event_id, Signup.user == user.id))


def check_json(result) -> dict:
    return {"outcome": result.outcome, "message": result.message, "event_id": result.event.id,
            "attendance": attendance_json(result.attendance)}


@operation("POST", "/events/checkin", summary="Check in or out with the kiosk's QR", tag="events",
           allow=(SIGNED_IN,), scope="events", response=CHECK, errors=(403, 404, 409, 410),
           body=Fields(token=String(_l("The text of the kiosk's QR code: its whole address, or the token at its end."),
                                    required=True, maxLength=500,
                                    required_message=_l("Please scan the code on the screen at the door."))))
def kiosk_check(user, token):
    """The QR on the screen at the door changes every 30 seconds and says whether it checks in
    or out. Checking out pays the hours in points, once."""
    token = token.strip()
    if "/events/k/" in token:
        token = token.rsplit("/events/k/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return check_json(services.check_with_kiosk(user, token))


@operation("POST", "/events/<int:event_id>/code", summary="Check in or out with the kiosk's six digits",
           tag="events", allow=(SIGNED_IN,), scope="events", response=CHECK, errors=(403, 409, 410),
           body=FromForm(CodeForm),
           limits=[(config_limit("EVENT_CODE_RATE_LIMIT", "10 per minute"), per_user_key("api-event-code"))])
def code_check(user, event_id, code):
    """For phones whose camera will not read the QR."""
    return check_json(services.check_with_code(user, event_id, code))


@operation("GET", "/events/record", summary="My volunteer record", tag="events", allow=(SIGNED_IN,), scope="read",
           response=RECORD)
def record(user):
    """Hours (counted only within each event's times), star level, and places still to come."""
    data = services.volunteer_record(user)
    return {"hours": round(data.hours, 2), "credit_hours": round(data.credit_hours, 2),
            "honour_hours": round(data.honour_hours, 2), "stars": data.stars,
            "hours_to_next_star": round(data.hours_to_next, 2) if data.hours_to_next is not None else None,
            "attended": [attendance_json(a) for a in data.attended],
            "pending": [attendance_json(a) for a in data.pending],
            "signups": [signup_json(s) for s in data.signups]}


@operation("GET", "/events/<int:event_id>/roster", summary="The event's roster", tag="events", allow=STAFF,
           scope="read", response=ROSTER, errors=(403, 404))
def event_roster(user, event_id):
    """Everyone signed up or checked in, for the event's staff. Organisers read every phone
    number; building heads and grid administrators helping at the door read those of the
    volunteers living in their own buildings or grid, the others masked. Each reading is kept in
    the audit log, as on the roster page."""
    event, data = services.roster_for(user, event_id)
    rows, shown = data["rows"], data["phones_shown"]
    return {"event_id": event.id, "people": [{
        "user_id": row["user"].id, "name": row["user"].display_name,
        "phone": row["user"].phone if row["user"].id in shown else row["user"].masked_phone(),
        "phone_masked": row["user"].id not in shown,
        "signup": signup_json(row["signup"]), "attendance": attendance_json(row["attendance"]),
    } for row in rows]}


# ---- for someone: staff in scope (or a family member, for sign-ups) act for a resident ----------

ACT_FOR = component("EventActForSomeone", {
    "type": "object", "required": ["message", "act_id", "receipt", "signup", "attendance"],
    "properties": {
        "message": {"type": "string", "description": "What was done, in the request's language."},
        "act_id": {"type": ["integer", "null"],
                   "description": "The record of the act, shown on the person's timeline and told to them; null "
                                  "when nothing changed (already signed up, already checked in)."},
        "receipt": {"type": ["string", "null"], "description": "The printable slip's page, for the person."},
        "signup": {"anyOf": [SIGNUP, {"type": "null"}]},
        "attendance": {"anyOf": [ATTENDANCE, {"type": "null"}]},
    },
})


def _person(user, user_id):
    """Anyone at all, for the door: the service then says plainly when they are not in the staff
    member's area (they stand at the door, the person before them)."""
    person = User.get_or_none(User.id == user_id)
    if person is None:
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    return person


def _for_someone(user, event_id, user_id, act, find=proxy.person_to_act_for) -> dict:
    """Run `act(person)` for the person and answer with the act it recorded, if any."""
    person = find(user, user_id)
    before = proxy.last_act_at_event(user, person, event_id)
    message = act(person)
    done = proxy.last_act_at_event(user, person, event_id)
    done = done if done is not None and done != before else None
    return {"message": str(message), "act_id": done.id if done else None,
            "receipt": f"/on-behalf/acts/{done.id}" if done else None,
            "signup": signup_json(Signup.get_or_none(Signup.event == event_id, Signup.user == person.id)),
            "attendance": attendance_json(Attendance.get_or_none(Attendance.event == event_id,
                                                                 Attendance.user == person.id))}


@operation("POST", "/events/<int:event_id>/for/<int:user_id>/signup", summary="Sign someone up, for them",
           tag="events", allow=(SIGNED_IN,), scope="events", response=ACT_FOR, errors=(403, 404, 409))
def sign_up_for(user, event_id, user_id):
    """Staff whose area holds the person's home (or a family member they consented to) sign them
    up: an elderly volunteer without a phone, say. Recorded with both names, the person told,
    the slip printable. Anyone else: 404, as if the person did not exist."""
    def act(person):
        services.sign_up(person, event_id, actor=user)
        return _l("Signed up. Print the slip for them: it says when and where.")
    return _for_someone(user, event_id, user_id, act)


@operation("POST", "/events/<int:event_id>/for/<int:user_id>/signup/cancel", summary="Give someone's place back",
           tag="events", allow=(SIGNED_IN,), scope="events", response=ACT_FOR, errors=(403, 404, 409))
def cancel_signup_for(user, event_id, user_id):
    """As signing them up; the first person waiting moves up."""
    def act(person):
        services.cancel_signup(person, event_id, actor=user)
        return _l("Their place is given back.")
    return _for_someone(user, event_id, user_id, act)


@operation("POST", "/events/<int:event_id>/for/<int:user_id>/check-in", summary="Check someone in at the door",
           tag="events", allow=STAFF, scope="events", response=ACT_FOR, errors=(403, 404, 409))
def check_in_for(user, event_id, user_id):
    """Staff running the event's door who look after the person's home check them in now, by the
    event's usual rules (signed up, the door open). Recorded for the person as done for them."""
    return _for_someone(user, event_id, user_id,
                        lambda person: services.check_for(user, event_id, person.id, "in").message, _person)


@operation("POST", "/events/<int:event_id>/for/<int:user_id>/check-out", summary="Check someone out at the door",
           tag="events", allow=STAFF, scope="events", response=ACT_FOR, errors=(403, 404, 409))
def check_out_for(user, event_id, user_id):
    """As checking them in; their hours are paid in points, once."""
    return _for_someone(user, event_id, user_id,
                        lambda person: services.check_for(user, event_id, person.id, "out").message, _person)
