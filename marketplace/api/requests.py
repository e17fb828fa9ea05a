"""A resident's service requests: book, list, show, cancel, confirm, dispute, rate."""

from flask_babel import lazy_gettext as _l

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation, page_of
from marketplace.api.schema import Base64, Fields, FromForm, Integer, String, iso
from marketplace.pagination import paginate
from marketplace.proxy import services as proxy
from marketplace.service_requests import clocks, promises, services, transitions
from marketplace.service_requests.forms import BookingForm
from marketplace.service_requests.models import (
    CLOCK_KINDS,
    LEVELS,
    OUTCOMES,
    PERIODS,
    STATES,
    RequestEvent,
    ServiceRequest,
)

NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
REQUEST = component("ServiceRequest", {
    "type": "object",
    "required": ["id", "item", "state", "state_label", "description", "preferred_date", "preferred_period", "points",
                 "created_at", "due_at", "claimed_at", "done_at", "confirmed_at", "confirmed_on_site",
                 "auto_confirmed", "overdue", "rating", "rating_comment", "escalated_to", "feedback_due_at",
                 "explanation_due_at", "has_photo", "claimer", "onsite_code", "actions", "holder", "clocks"],
    "properties": {
        "id": {"type": "integer"},
        "item": {"type": "object", "required": ["id", "code", "name", "category"], "properties": {
            "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
            "category": {"type": "string"}}},
        "state": {"type": "string", "enum": list(STATES)},
        "state_label": {"type": "string"},
        "description": {"type": "string"},
        "preferred_date": {"type": ["string", "null"], "format": "date"},
        "preferred_period": {"type": "string", "enum": list(PERIODS)},
        "points": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time",
                   "description": "The end of the last working day it must be handled by."},
        "claimed_at": NULLABLE_TIME, "done_at": NULLABLE_TIME, "confirmed_at": NULLABLE_TIME,
        "confirmed_on_site": {"type": "boolean"},
        "auto_confirmed": {"type": "boolean"},
        "overdue": {"type": "boolean"},
        "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "rating_comment": {"type": "string"},
        "escalated_to": {"type": "string"},
        "feedback_due_at": NULLABLE_TIME, "explanation_due_at": NULLABLE_TIME,
        "has_photo": {"type": "boolean"},
        "claimer": {"type": ["object", "null"], "required": ["name", "partner"], "properties": {
            "name": {"type": "string"}, "partner": {"type": ["string", "null"]}}},
        "onsite_code": {"type": ["string", "null"],
                        "description": "Only for the resident while the job is taken: the code the helper types "
                                       "at the door to confirm on site."},
        "actions": {"type": "array", "items": {"type": "string", "enum": list(transitions.PERSON_ACTIONS)},
                    "description": "What the caller may do with this request now, as on its web page (the same "
                                   "rule). Named after the lifecycle's actions; “rate” and the promise acts "
                                   "(escalate, solve, give_feedback, explain_reasons, request_reopen, "
                                   "decide_reopen) move no state; “resolve_*” are on the web pages only."},
        "holder": {"type": "object", "required": ["kind", "name", "since", "due_at"], "properties": {
            "kind": {"type": "string", "enum": ["helper", "resident", "nobody", *LEVELS]},
            "name": {"type": "string", "description": "The department or role in words (with the staff member's "
                                                      "name where one person holds it), or the helper's name."},
            "since": NULLABLE_TIME, "due_at": NULLABLE_TIME},
            "description": "Who must act next, since when, and by when they must answer."},
        "clocks": {"type": "array", "items": {
            "type": "object",
            "required": ["kind", "level", "department", "started_at", "due_at", "closed_at", "outcome",
                         "working_days_used", "answer"],
            "properties": {
                "kind": {"type": "string", "enum": list(CLOCK_KINDS)},
                "level": {"type": "string", "enum": list(LEVELS)},
                "department": {"type": ["string", "null"]},
                "started_at": {"type": "string", "format": "date-time"},
                "due_at": {"type": "string", "format": "date-time"},
                "closed_at": NULLABLE_TIME,
                "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
                "working_days_used": {"type": ["integer", "null"]},
                "answer": {"type": "string", "description": "The recorded answer that closed it."}}},
            "description": "Every promise on the matter (solve, feedback, explain), never reset: a new hand-off "
                           "starts new clocks."},
        "contact": {"type": "object", "required": ["name", "phone", "address"], "properties": {
            "name": {"type": "string"}, "phone": {"type": "string"}, "address": {"type": "string"}},
            "description": "The resident's name, phone and address: for the resident and the staff in scope; "
                           "for the helper only while the job is theirs and for a few days (a setting, 7 by "
                           "default) after it is done, never after a cancellation or release. Absent otherwise."},
        "history": {"type": "array", "items": {
            "type": "object", "required": ["action", "from_state", "to_state", "note", "at"],
            "description": "The timeline: every act on the matter, hand-offs and answers included.",
            "properties": {"action": {"type": "string"}, "from_state": {"type": "string"},
                           "to_state": {"type": "string"}, "note": {"type": "string"},
                           "at": {"type": "string", "format": "date-time"}}}},
    },
})
REQUEST_PAGE = component("ServiceRequestPage", page_of(REQUEST))


def request_json(req: ServiceRequest, user, detail: bool = False, contact: bool = False) -> dict:
    claimer = None
    if req.claimer_id is not None:
        claimer = {"name": req.claimer.display_name,
                   "partner": req.claimer_partner.name if req.claimer_partner_id else None}
    data = {
        "id": req.id,
        "item": {"id": req.item.id, "code": req.item.code, "name": req.item.name, "category": req.item.category.name},
        "state": req.state, "state_label": services.state_label(req.state), "description": req.description,
        "preferred_date": req.preferred_date.isoformat() if req.preferred_date else None,
        "preferred_period": req.preferred_period, "points": req.points, "created_at": iso(req.created_at),
        "due_at": iso(req.due_at), "claimed_at": iso(req.claimed_at), "done_at": iso(req.done_at),
        "confirmed_at": iso(req.confirmed_at), "confirmed_on_site": req.confirmed_on_site_at is not None,
        "auto_confirmed": bool(req.auto_confirmed), "overdue": req.is_late, "rating": req.rating,
        "rating_comment": req.rating_comment, "escalated_to": req.escalated_to,
        "feedback_due_at": iso(req.feedback_due_at), "explanation_due_at": iso(req.explanation_due_at),
        "has_photo": bool(req.photo) and services.may_see_contact(user, req), "claimer": claimer,
        "onsite_code": req.onsite_code if services.shows_onsite_code(user, req) else None,
        "actions": promises.available_actions(user, req),
        "holder": holder_json(req), "clocks": [clock_json(c) for c in clocks.clocks_of(req.id)],
    }
    if contact and services.may_see_contact(user, req):  # audited when staff read it, as on the page
        data["contact"] = services.reveal_contact(user, req)
    if detail:
        data["history"] = [
            {"action": e.action, "from_state": e.from_state, "to_state": e.to_state, "note": e.note, "at": iso(e.created_at)}
            for e in RequestEvent.select().where(RequestEvent.request == req.id).order_by(RequestEvent.id)
        ]
    return data


def holder_json(req: ServiceRequest) -> dict:
    found = clocks.holder(req)
    return {"kind": found["kind"], "name": found["name"], "since": iso(found["since"]), "due_at": iso(found["due_at"])}


def clock_json(clock) -> dict:
    return {"kind": clock.kind, "level": clock.level, "department": clock.department.name if clock.department_id else None,
            "started_at": iso(clock.started_at), "due_at": iso(clock.due_at), "closed_at": iso(clock.closed_at),
            "outcome": clock.outcome, "working_days_used": clock.working_days_used, "answer": clock.answer}


def shown(user, req: ServiceRequest) -> dict:
    """A request as the person who may see it sees it (get_visible has checked that)."""
    return request_json(req, user, detail=True, contact=True)


@operation("GET", "/requests", summary="My requests", tag="requests", allow=(SIGNED_IN,), scope="read",
           response=REQUEST_PAGE, paginated=True)
def list_requests(user, cursor, limit):
    """The caller's own requests, newest first. Requests done 3 working days ago and not yet
    confirmed are confirmed as they are read, as on the web page."""
    query = ServiceRequest.select().where(ServiceRequest.resident == user.id)
    rows, next_cursor = paginate(query, [(ServiceRequest.id, "desc")], cursor, limit)
    return {"items": [request_json(services.auto_confirm_if_due(r), user) for r in rows], "next_cursor": next_cursor}


BOOKING = FromForm(BookingForm, names=["description", "preferred_date", "preferred_period"], extra={
    "item_id": Integer(_l("The menu item (see GET /menu)."), minimum=1, required=True,
                       required_message=_l("This service is not on the menu.")),
    "photo": Base64(_l("A JPEG, PNG or WebP picture up to 5 MB, as base64.")),
    "for_user_id": Integer(_l("Ask for someone you may act for (a parent who consented to a family link, or a "
                              "resident in a staff member's area): the request is theirs, recorded as made by "
                              "you, and they are told."), minimum=1),
})


@operation("POST", "/requests", summary="Ask for a service", tag="requests", allow=(SIGNED_IN,), scope="requests",
           response=REQUEST, status=201, body=BOOKING, errors=(403, 404))
def book(user, item_id, description, preferred_date, preferred_period, photo, for_user_id):
    """Only verified residents may ask (403 otherwise); with `for_user_id`, for a person the caller
    may act for (404 for anyone else). The description, day and time of day are checked by the
    booking page's own form and rules."""
    resident = proxy.person_to_act_for(user, for_user_id) if for_user_id else user
    req = services.book(resident, item_id, description, preferred_date, preferred_period or "any", photo or None,
                        actor=user)
    return shown(user, req)


@operation("GET", "/requests/<int:request_id>", summary="One request", tag="requests", allow=(SIGNED_IN,),
           scope="read", response=REQUEST)
def show_request(user, request_id):
    """The resident's own request, a job the caller took, or one in a staff member's scope;
    anything else is 404, as if it did not exist."""
    return shown(user, services.get_visible(user, request_id))


def _act(user, request_id, action):
    action()
    return shown(user, services.get_visible(user, request_id))


@operation("POST", "/requests/<int:request_id>/cancel", summary="Cancel my request", tag="requests",
           allow=(SIGNED_IN,), scope="requests", response=REQUEST, errors=(403, 409),
           body=Fields(reason=String(_l("Why (optional)."))))
def cancel_request(user, request_id, reason):
    """While it is open or taken."""
    return _act(user, request_id, lambda: services.cancel(user, request_id, reason or ""))


@operation("POST", "/requests/<int:request_id>/confirm", summary="Confirm the work was done", tag="requests",
           allow=(SIGNED_IN,), scope="requests", response=REQUEST, errors=(403, 409))
def confirm_request(user, request_id):
    """The helper is paid the item's points at once."""
    return _act(user, request_id, lambda: services.confirm(user, request_id))


@operation("POST", "/requests/<int:request_id>/dispute", summary="Report a problem with the work", tag="requests",
           allow=(SIGNED_IN,), scope="requests", response=REQUEST, errors=(403, 409),
           body=Fields(reason=String(_l("What went wrong."), required=True,
                                     required_message=_l("Please tell us what went wrong."))))
def dispute_request(user, request_id, reason):
    """Instead of confirming: the community staff look into it."""
    return _act(user, request_id, lambda: services.dispute(user, request_id, reason))


@operation("POST", "/requests/<int:request_id>/rate", summary="Rate the service", tag="requests",
           allow=(SIGNED_IN,), scope="requests", response=REQUEST, errors=(409,),
           body=Fields(rating=Integer(_l("1 to 5 stars."), minimum=None, maximum=None, required=True,
                                      required_message=_l("Please give 1 to 5 stars.")),
                       comment=String(_l("Anything to add (optional)."))))
def rate_request(user, request_id, rating, comment):
    """Once, after it is finished. Stars outside 1 to 5 are refused by the same rule as on the page."""
    return _act(user, request_id, lambda: services.rate(user, request_id, rating, comment or ""))
