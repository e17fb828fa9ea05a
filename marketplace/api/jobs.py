"""The job board and a volunteer's or partner's jobs: claim, give back, mark done, and finish
on site with the resident's one-time code."""

from flask_babel import lazy_gettext as _l

from marketplace.api.auth import per_user_key
from marketplace.api.registry import component, config_limit, operation, page_of
from marketplace.api.requests import REQUEST, REQUEST_PAGE, request_json, shown
from marketplace.api.schema import Fields, FromForm, Integer, String, iso
from marketplace.pagination import paginate
from marketplace.service_requests import jobs as open_jobs
from marketplace.service_requests import services
from marketplace.service_requests.forms import CodeForm
from marketplace.service_requests.models import PERIODS, ServiceRequest

PROVIDERS = ("volunteer", "partner_staff")

JOB = component("Job", {
    "type": "object",
    "required": ["id", "item", "category", "building", "description", "points", "preferred_date", "preferred_period",
                 "due_at", "overdue"],
    "properties": {
        "id": {"type": "integer"},
        "item": {"type": "object", "required": ["id", "code", "name"], "properties": {
            "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}}},
        "category": {"type": "string"},
        "building": {"type": "string", "description": "Where, roughly: the building (the address comes with the job)."},
        "description": {"type": "string"},
        "points": {"type": "integer"},
        "preferred_date": {"type": ["string", "null"], "format": "date"},
        "preferred_period": {"type": "string", "enum": list(PERIODS)},
        "due_at": {"type": "string", "format": "date-time"},
        "overdue": {"type": "boolean"},
    },
})
JOB_PAGE = component("JobPage", page_of(JOB))


def job_json(req: ServiceRequest) -> dict:
    return {
        "id": req.id, "item": {"id": req.item.id, "code": req.item.code, "name": req.item.name},
        "category": req.item.category.name, "building": req.household.building.name, "description": req.description,
        "points": req.points, "preferred_date": req.preferred_date.isoformat() if req.preferred_date else None,
        "preferred_period": req.preferred_period, "due_at": iso(req.due_at), "overdue": req.is_late,
    }


@operation("GET", "/jobs", summary="The job board", tag="jobs", allow=PROVIDERS, scope="read", response=JOB_PAGE,
           paginated=True, query=Fields(category=Integer(_l("Only this menu category."), minimum=1),
                                        grid=Integer(_l("Only this grid."), minimum=1)))
def job_board(user, category, grid, cursor, limit):
    """Open requests the caller may take (by the items' fulfilment and a volunteer's skills),
    soonest deadline first."""
    query = open_jobs.job_board(user, category, grid)
    rows, next_cursor = paginate(query, open_jobs.JOB_BOARD_ORDER, cursor, limit)
    return {"items": [job_json(r) for r in rows], "next_cursor": next_cursor}


@operation("GET", "/jobs/mine", summary="My jobs", tag="jobs", allow=PROVIDERS, scope="read", response=REQUEST_PAGE,
           paginated=True)
def my_jobs(user, cursor, limit):
    """Jobs the caller (or a colleague at the same partner) took, newest first, with the
    resident's contact details."""
    rows, next_cursor = paginate(open_jobs.my_jobs(user), [(ServiceRequest.id, "desc")], cursor, limit)
    return {"items": [request_json(services.auto_confirm_if_due(r), user, contact=True) for r in rows],
            "next_cursor": next_cursor}


@operation("POST", "/jobs/<int:request_id>/claim", summary="Take a job", tag="jobs", allow=PROVIDERS, scope="jobs",
           response=REQUEST, errors=(403, 409))
def claim(user, request_id):
    """Of two people taking the same job at once, one gets it and the other a 409."""
    services.claim(user, request_id)
    return shown(user, services.get_visible(user, request_id))


@operation("POST", "/jobs/<int:request_id>/release", summary="Give a job back", tag="jobs", allow=PROVIDERS,
           scope="jobs", response=REQUEST, errors=(403, 409),
           body=Fields(reason=String(_l("Why you are giving it back."), required=True,
                                     required_message=_l("Please say why you are giving the job back."))))
def release(user, request_id, reason):
    # No longer theirs: the answer is the job as the board shows it, without the resident's contact.
    return request_json(services.release(user, request_id, reason), user)


@operation("POST", "/jobs/<int:request_id>/done", summary="Mark a job done", tag="jobs", allow=PROVIDERS,
           scope="jobs", response=REQUEST, errors=(403, 409), body=Fields(note=String(_l("A note (optional)."))))
def mark_done(user, request_id, note):
    """Without the resident's code: the resident is asked to confirm (automatically after 3
    working days)."""
    services.mark_done(user, request_id, note or "")
    return shown(user, services.get_visible(user, request_id))


@operation("POST", "/jobs/<int:request_id>/finish", summary="Finish on site with the resident's code", tag="jobs",
           allow=PROVIDERS, scope="jobs", response=REQUEST, errors=(409,), body=FromForm(CodeForm),
           limits=[(config_limit("ONSITE_CODE_RATE_LIMIT", "10 per minute"), per_user_key("api-onsite"))])
def finish(user, request_id, code):
    """At the door: the resident's 6-digit code confirms the work and pays the points at once.
    Wrong codes are counted; after 5 the code stops working (429)."""
    services.finish_on_site(user, request_id, code)
    return shown(user, services.get_visible(user, request_id))
