"""Hours volunteers can trust: corrections (a volunteer asks for other times on one attendance; the
event's staff approve, paying or taking back the difference once, or decline with a reason), and
honour hours entered by hand that wait for a second staff member."""

from flask_babel import lazy_gettext as _l

from marketplace.access import SIGNED_IN, STAFF
from marketplace.api.events import ATTENDANCE, attendance_json
from marketplace.api.registry import component, operation, page_of
from marketplace.api.schema import Base64, Fields, FromForm, String, iso
from marketplace.events import services
from marketplace.events.forms import CorrectionForm
from marketplace.events.forms import utc_from_input as _utc
from marketplace.events.models import CORRECTION_STATES, Attendance, HourCorrection
from marketplace.pagination import paginate

TIME = {"type": "string", "format": "date-time"}
NULLABLE_INT = {"type": ["integer", "null"]}
CORRECTION = component("HourCorrection", {
    "type": "object",
    "required": ["id", "attendance_id", "event_id", "event_title", "volunteer", "status", "checked_in_at",
                 "checked_out_at", "reason", "has_photo", "old_checked_in_at", "old_checked_out_at", "old_hours", "old_points",
                 "new_hours", "new_points", "points_difference", "decision_note", "created_at", "decided_at"],
    "properties": {
        "id": {"type": "integer"},
        "attendance_id": {"type": "integer"},
        "event_id": {"type": "integer"},
        "event_title": {"type": "string"},
        "volunteer": {"type": "string", "description": "The volunteer's display name."},
        "status": {"type": "string", "enum": list(CORRECTION_STATES)},
        "checked_in_at": TIME, "checked_out_at": TIME,
        "reason": {"type": "string", "description": "The volunteer's reason."},
        "has_photo": {"type": "boolean", "description": "At /events/corrections/{id}/photo on the site."},
        "old_checked_in_at": TIME, "old_checked_out_at": TIME,
        "old_hours": {"type": "number"},
        "old_points": {"type": "integer"},
        "new_hours": {"type": ["number", "null"], "description": "Once approved."},
        "new_points": NULLABLE_INT,
        "points_difference": {"type": "integer", "description": "Paid (above 0) or taken back (below 0); 0 until approved."},
        "decision_note": {"type": "string", "description": "The staff's answer, which the volunteer reads."},
        "created_at": TIME,
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
    },
})
CORRECTION_PAGE = component("HourCorrectionPage", page_of(CORRECTION))
ORDER = [(HourCorrection.created_at, "desc"), (HourCorrection.id, "desc")]


def correction_json(c: HourCorrection) -> dict:
    attendance = Attendance.get_by_id(c.attendance_id)
    return {
        "id": c.id, "attendance_id": c.attendance_id, "event_id": attendance.event_id,
        "event_title": attendance.event.title, "volunteer": c.user.display_name, "status": c.status,
        "checked_in_at": iso(c.checked_in_at), "checked_out_at": iso(c.checked_out_at), "reason": c.reason,
        "has_photo": bool(c.photo),
        "old_checked_in_at": iso(c.old_checked_in_at), "old_checked_out_at": iso(c.old_checked_out_at),
        "old_hours": round(c.old_minutes / 60, 2), "old_points": c.old_points,
        "new_hours": round(c.new_minutes / 60, 2) if c.new_minutes is not None else None,
        "new_points": c.new_points, "points_difference": c.difference, "decision_note": c.decision_note,
        "created_at": iso(c.created_at), "decided_at": iso(c.decided_at),
    }


@operation("POST", "/events/attendances/<int:attendance_id>/correction", summary="Ask for a correction of my hours",
           tag="events", allow=(SIGNED_IN,), scope="events", response=CORRECTION, status=201, errors=(404, 409),
           body=FromForm(CorrectionForm, names=["checked_in_at", "checked_out_at", "reason"], extra={
               "photo": Base64(_l("A JPEG, PNG or WebP picture up to 5 MB, as base64."))}))
def request_hour_correction(user, attendance_id, checked_in_at, checked_out_at, reason, photo):
    """On one attendance whose hours are counted: the times the volunteer really arrived or left,
    as local times of the community (`2026-12-05T09:30`); a time left out stays as recorded.
    The event's staff answer; one request at a time per attendance."""
    return correction_json(services.request_hour_correction(user, attendance_id, _utc(checked_in_at),
                                                            _utc(checked_out_at), reason, photo=photo or None))


@operation("GET", "/events/corrections/mine", summary="My requests to correct hours", tag="events",
           allow=(SIGNED_IN,), scope="read", response=CORRECTION_PAGE, paginated=True)
def my_hour_corrections(user, cursor, limit):
    """Newest first, with the staff's answers and the points paid or taken back."""
    rows, next_cursor = paginate(services.my_hour_corrections(user), ORDER, cursor, limit)
    return {"items": [correction_json(c) for c in rows], "next_cursor": next_cursor}


@operation("GET", "/events/corrections", summary="Hour corrections waiting for an answer", tag="events",
           allow=STAFF, scope="read", response=CORRECTION_PAGE, paginated=True)
def hour_corrections_to_decide(user, cursor, limit):
    """At the events whose door the caller runs."""
    rows, next_cursor = paginate(services.corrections_for_staff(user), ORDER, cursor, limit)
    return {"items": [correction_json(c) for c in rows], "next_cursor": next_cursor}


@operation("POST", "/events/corrections/<int:correction_id>/approve", summary="Approve an hour correction",
           tag="events", allow=STAFF, scope="events", response=CORRECTION, errors=(403, 404, 409),
           body=Fields(note=String(_l("A note the volunteer reads."), maxLength=300)))
def approve_hour_correction(user, correction_id, note):
    """The hours change and exactly the difference in points is paid or taken back, once, even
    when two staff members approve at the same moment. Not one's own hours."""
    return correction_json(services.approve_hour_correction(user, correction_id, note or ""))


@operation("POST", "/events/corrections/<int:correction_id>/decline", summary="Decline an hour correction",
           tag="events", allow=STAFF, scope="events", response=CORRECTION, errors=(403, 404, 409),
           body=Fields(reason=String(_l("Why, for the volunteer to read."), required=True, maxLength=300,
                                     required_message=_l("Please give a reason; the volunteer reads it."))))
def decline_hour_correction(user, correction_id, reason):
    """Nothing changes in the hours or the points."""
    return correction_json(services.decline_hour_correction(user, correction_id, reason))


HONOUR_WAITING = component("HonourHoursWaiting", {
    "type": "object", "required": ["attendance_id", "volunteer", "event_title", "attendance", "note"],
    "properties": {
        "attendance_id": {"type": "integer"},
        "volunteer": {"type": "string"},
        "event_title": {"type": "string"},
        "attendance": ATTENDANCE,
        "note": {"type": "string", "description": "Why the staff entered the hours by hand."},
    },
})
HONOUR_PAGE = component("HonourHoursWaitingPage", page_of(HONOUR_WAITING))


def honour_json(a: Attendance) -> dict:
    return {"attendance_id": a.id, "volunteer": a.user.display_name, "event_title": a.event.title,
            "attendance": attendance_json(a), "note": a.note}


@operation("GET", "/events/honour-hours", summary="Honour hours waiting for a second approval", tag="events",
           allow=STAFF, scope="read", response=HONOUR_PAGE, paginated=True)
def honour_hours_to_approve(user, cursor, limit):
    """Hours entered by hand above HONOUR_APPROVAL_MINUTES at one event, at the events whose door the caller runs."""
    rows, next_cursor = paginate(services.honour_hours_waiting(user), [(Attendance.id, "asc")], cursor, limit)
    return {"items": [honour_json(a) for a in rows], "next_cursor": next_cursor}


@operation("POST", "/events/honour-hours/<int:attendance_id>/approve", summary="Approve honour hours as the second staff member",
           tag="events", allow=STAFF, scope="events", response=ATTENDANCE, errors=(403, 404, 409))
def approve_honour_hours(user, attendance_id):
    """Not by the staff member who entered them, nor by the volunteer. Pays once."""
    return attendance_json(services.approve_honour_hours(user, attendance_id))
