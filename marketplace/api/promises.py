"""Promises on a matter (issue 15): staff hand it to a department and record the answers that
close its clocks (solved, feedback given, reasons explained) and decide reopening; the resident
asks to reopen; a department's officers read their queue. The same services as the pages."""

from flask_babel import lazy_gettext as _l

from marketplace.access import SIGNED_IN, STAFF
from marketplace.api.registry import operation
from marketplace.api.requests import REQUEST, REQUEST_PAGE, request_json, shown
from marketplace.api.schema import Boolean, Fields, Integer, String
from marketplace.pagination import paginate
from marketplace.service_requests import promises, services
from marketplace.service_requests.models import ServiceRequest

ANSWER = Fields(text=String(_l("The answer, in words the resident understands."), required=True, maxLength=2000,
                            required_message=_l("Please write the answer the resident will read.")))


def _after(user, request_id):
    return shown(user, services.get_visible(user, request_id))


@operation("POST", "/requests/<int:request_id>/escalate", summary="Hand a matter to a street department",
           tag="promises", allow=STAFF, scope="staff", response=REQUEST, errors=(403, 409),
           body=Fields(department_id=Integer(_l("The department (see the request page's list)."), minimum=1,
                                             required=True,
                                             required_message=_l("Please choose the department from the list.")),
                       major=Boolean(_l("A major matter that may not be solved within a year: its reasons are "
                                        "explained within 10 working days.")),
                       note=String(_l("Why (optional)."), maxLength=2000)))
def escalate_request(user, request_id, department_id, major, note):
    """Starts a feedback clock (5 working days) and, for a major matter, an explain clock (10).
    Handing on again adds a hand-off with new clocks; earlier clocks are never reset."""
    promises.escalate(user, request_id, department_id, bool(major), note or "")
    return _after(user, request_id)


@operation("POST", "/requests/<int:request_id>/feedback", summary="Record the feedback given to the resident",
           tag="promises", allow=STAFF, scope="staff", response=REQUEST, errors=(403, 409), body=ANSWER)
def give_feedback(user, request_id, text):
    """Closes the matter's open feedback clocks, each with its outcome (on time or late)."""
    promises.give_feedback(user, request_id, text)
    return _after(user, request_id)


@operation("POST", "/requests/<int:request_id>/explain", summary="Record the reasons explained to the resident",
           tag="promises", allow=STAFF, scope="staff", response=REQUEST, errors=(403, 409), body=ANSWER)
def explain_reasons(user, request_id, text):
    """Closes the matter's open explain clocks (a major matter that cannot be solved yet)."""
    promises.explain_reasons(user, request_id, text)
    return _after(user, request_id)


@operation("POST", "/requests/<int:request_id>/solve", summary="Record that the matter is solved",
           tag="promises", allow=STAFF, scope="staff", response=REQUEST, errors=(403, 409), body=ANSWER)
def solve_request(user, request_id, text):
    """Closes the matter's open solve clocks (a reopened matter's, or one staff solved)."""
    promises.solve(user, request_id, text)
    return _after(user, request_id)


@operation("POST", "/requests/<int:request_id>/reopen", summary="Say my finished matter is not solved",
           tag="promises", allow=(SIGNED_IN,), scope="requests", response=REQUEST, errors=(409,),
           body=Fields(reason=String(_l("What is still not solved."), required=True, maxLength=2000,
                                     required_message=_l("Please say what is still not solved."))))
def request_reopen(user, request_id, reason):
    """Within 14 days of closing: a "reopen requested" item in the staff's queue."""
    promises.request_reopen(user, request_id, reason)
    return _after(user, request_id)


@operation("POST", "/requests/<int:request_id>/reopen/decide", summary="Reopen a matter, or decline",
           tag="promises", allow=STAFF, scope="staff", response=REQUEST, errors=(403, 409),
           body=Fields(decision=String(_l("reopen or decline."), required=True, enum=["reopen", "decline"],
                                       required_message=_l("Please choose to reopen or to decline.")),
                       reason=String(_l("Why; required to decline (the resident reads it)."), maxLength=2000)))
def decide_reopen(user, request_id, decision, reason):
    """Reopening starts a new solve clock, held one level higher than the matter stands."""
    promises.decide_reopen(user, request_id, decision, reason or "")
    return _after(user, request_id)


@operation("GET", "/department/requests", summary="My department's matters", tag="promises",
           allow=("street_officer",), scope="read", response=REQUEST_PAGE, paginated=True,
           query=Fields(include_closed=Boolean(_l("Also the matters already answered."))))
def department_queue(user, include_closed, cursor, limit):
    """The matters handed to the caller's department, and only those."""
    query = promises.department_queue(user, include_closed=bool(include_closed)).order_by()
    rows, next_cursor = paginate(query, [(ServiceRequest.id, "asc")], cursor, limit)
    return {"items": [request_json(r, user) for r in rows], "next_cursor": next_cursor}
