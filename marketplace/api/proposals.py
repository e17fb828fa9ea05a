"""Matters the residents decide together (issue 23): list, read, propose, support, vote and
evaluate for one's household; staff accept or decline, open and count the vote, record a vote
given in person; the party doing a task records it done. The same services as the pages."""

from flask_babel import lazy_gettext as _l

from marketplace.access import SIGNED_IN, STAFF
from marketplace.api.registry import component, operation, page_of
from marketplace.api.schema import Base64, Fields, Integer, String, iso
from marketplace.pagination import paginate
from marketplace.proposals import action, evaluation, participation, services, votes
from marketplace.proposals.models import CHOICES, MATTERS, OUTCOMES, PARTY_KINDS, SCOPE_KINDS, STATES, Proposal

NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
COUNT = {"type": "integer"}
NULLABLE_COUNT = {"type": ["integer", "null"]}
PROPOSAL = component("Proposal", {
    "type": "object",
    "required": ["id", "title", "body", "scope_kind", "place", "community", "status", "created_at", "supports",
                 "my_household_supports", "has_photo", "decline_reason", "meeting", "minutes", "vote", "budget_fen",
                 "spent_fen", "tasks", "evaluation", "vote_points", "meeting_points", "written_down_by_staff"],
    "properties": {
        "id": COUNT, "title": {"type": "string"}, "body": {"type": "string"},
        "scope_kind": {"type": "string", "enum": list(SCOPE_KINDS)},
        "place": {"type": "string", "description": "The building, grid or community it concerns."},
        "community": {"type": "string"},
        "status": {"type": "string", "enum": list(STATES)},
        "created_at": {"type": "string", "format": "date-time"},
        "supports": {"type": "integer", "description": "Households supporting it."},
        "my_household_supports": {"type": "boolean"},
        "has_photo": {"type": "boolean"},
        "decline_reason": {"type": "string", "description": "Why the staff declined it (the proposer reads it)."},
        "meeting": {"type": ["object", "null"], "required": ["event_id", "starts_at", "ends_at", "place"],
                    "properties": {"event_id": COUNT, "starts_at": {"type": "string", "format": "date-time"},
                                   "ends_at": {"type": "string", "format": "date-time"}, "place": {"type": "string"}},
                    "description": "The grid's meeting: an event (GET /events/{event_id}). Members of the households concerned are invited: they sign up (POST /events/{event_id}/signup) and check in with the door's QR as volunteers do."},
        "minutes": {"type": "string"},
        "vote_points": {"type": "integer", "description": "Points the member who votes for the household earns (0: none)."},
        "meeting_points": {"type": "integer", "description": "Points each member who checks in at the meeting earns (0: none)."},
        "written_down_by_staff": {"type": "boolean",
                                  "description": "Proposed on the resident's behalf (by staff or family)."},
        "vote": {"type": ["object", "null"], "required": [
            "motion", "matter", "participation", "majority", "majority_strict", "opens_at", "closes_at", "counted",
            "passed", "eligible_households", "voted_households", "yes_households", "no_households",
            "abstain_households", "area_counted", "eligible_area_dm2", "voted_area_dm2", "yes_area_dm2",
            "my_household_voted"], "properties": {
            "motion": {"type": "string"}, "matter": {"type": "string", "enum": list(MATTERS)},
            "participation": {"type": "string", "description": "A fraction, e.g. 2/3."},
            "majority": {"type": "string", "description": "A fraction of those taking part, e.g. 1/2 or 3/4."},
            "majority_strict": {"type": "boolean", "description": "true: more than the fraction; false: at least."},
            "opens_at": {"type": "string", "format": "date-time"}, "closes_at": {"type": "string", "format": "date-time"},
            "counted": {"type": "boolean", "description": "The figures are final (frozen at the count)."},
            "passed": {"type": ["boolean", "null"], "description": "null while the vote is open."},
            "eligible_households": COUNT, "voted_households": COUNT, "yes_households": COUNT,
            "no_households": NULLABLE_COUNT, "abstain_households": NULLABLE_COUNT,
            "area_counted": {"type": "boolean"}, "eligible_area_dm2": COUNT, "voted_area_dm2": COUNT,
            "yes_area_dm2": COUNT, "my_household_voted": {"type": "boolean"}},
            "description": "Counts only: never who voted how."},
        "budget_fen": COUNT, "spent_fen": COUNT,
        "tasks": {"type": "array", "items": {"type": "object", "required": [
            "id", "title", "party_kind", "party", "started_at", "due_at", "closed_at", "outcome", "answer"],
            "properties": {"id": COUNT, "title": {"type": "string"}, "party_kind": {"type": "string", "enum": list(PARTY_KINDS)},
                           "party": {"type": "string"}, "started_at": {"type": "string", "format": "date-time"},
                           "due_at": {"type": "string", "format": "date-time"}, "closed_at": NULLABLE_TIME,
                           "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
                           "answer": {"type": "string"}}}},
        "evaluation": {"type": "object", "required": ["count", "average", "my_household_rating"], "properties": {
            "count": COUNT, "average": {"type": ["string", "null"]},
            "my_household_rating": {"type": ["integer", "null"]}}},
    },
})
PROPOSAL_PAGE = component("ProposalPage", page_of(PROPOSAL))


def _place(proposal: Proposal) -> str:
    if proposal.building_id:
        return proposal.building.name
    return proposal.grid.name if proposal.grid_id else proposal.community.name


def _vote_json(user, proposal: Proposal) -> dict | None:
    figures = votes.figures_of(proposal)
    if figures is None:
        return None
    tally, rule = figures["tally"], figures["rule"]
    return {"motion": proposal.motion, "matter": proposal.matter, "participation": str(rule.participation),
            "majority": str(rule.majority), "majority_strict": rule.strict, "opens_at": iso(proposal.vote_opens_at),
            "closes_at": iso(proposal.vote_closes_at), "counted": figures["counted"],
            "passed": figures["outcome"].passed if figures["counted"] else None,
            "eligible_households": tally.eligible_households, "voted_households": tally.voted_households,
            "yes_households": tally.yes_households, "no_households": figures["no"], "abstain_households": figures["abstain"],
            "area_counted": tally.area_counted, "eligible_area_dm2": tally.eligible_area,
            "voted_area_dm2": tally.voted_area, "yes_area_dm2": tally.yes_area,
            "my_household_voted": votes.household_vote(user, proposal) is not None}


def proposal_json(user, proposal: Proposal) -> dict:
    mine = evaluation.household_evaluation(user, proposal)
    summary = evaluation.summary(proposal)
    meeting = proposal.meeting if proposal.meeting_id else None
    return {
        "id": proposal.id, "title": proposal.title, "body": proposal.body, "scope_kind": proposal.scope_kind,
        "place": _place(proposal), "community": proposal.community.name, "status": proposal.status,
        "created_at": iso(proposal.created_at), "supports": proposal.supports.count(),
        "my_household_supports": services.supported_by(user, proposal), "has_photo": bool(proposal.photo),
        "decline_reason": proposal.decline_reason,
        "meeting": {"event_id": meeting.id, "starts_at": iso(meeting.starts_at), "ends_at": iso(meeting.ends_at),
                    "place": meeting.place} if meeting else None,
        "minutes": proposal.minutes, "vote_points": proposal.vote_points, "meeting_points": proposal.meeting_points,
        "written_down_by_staff": proposal.created_by_id != proposal.proposer_id, "vote": _vote_json(user, proposal), "budget_fen": proposal.budget_fen,
        "spent_fen": action.spent_fen(proposal),
        "tasks": [{"id": t.id, "title": t.title, "party_kind": t.party_kind,
                   "party": t.partner.name if t.partner_id else t.department.name if t.department_id else t.party_name,
                   "started_at": iso(t.started_at), "due_at": iso(t.due_at), "closed_at": iso(t.closed_at),
                   "outcome": t.outcome, "answer": t.answer} for t in proposal.tasks.order_by(proposal.tasks.model.id)],
        "evaluation": {"count": summary["count"], "average": summary["average"],
                       "my_household_rating": mine.rating if mine else None},
    }


def _shown(user, proposal_id: int) -> dict:
    return proposal_json(user, services.get_visible(user, proposal_id))


@operation("GET", "/proposals", summary="Matters I may see", tag="proposals", allow=(SIGNED_IN,), scope="read",
           response=PROPOSAL_PAGE, paginated=True)
def list_proposals(user, cursor, limit):
    """Those of the caller's household's building, grid and community, and those of the places a
    staff member looks after (or a partner's tasks), newest first."""
    query = services.visible_proposals(user).order_by()
    rows, next_cursor = paginate(query, [(Proposal.id, "desc")], cursor, limit)
    return {"items": [proposal_json(user, p) for p in rows], "next_cursor": next_cursor}


@operation("GET", "/proposals/<int:proposal_id>", summary="One matter", tag="proposals", allow=(SIGNED_IN,),
           scope="read", response=PROPOSAL)
def get_proposal(user, proposal_id):
    """404 for a matter the caller may not see, as for one that does not exist."""
    return _shown(user, proposal_id)


# What a proposal says, the same whoever writes it down.
MATTER_FIELDS = {
    "title": String(_l("A short title."), required=True, maxLength=100,
                    required_message=_l("Please give the matter a short title (at least 4 characters).")),
    "body": String(_l("The problem and what is proposed."), required=True, maxLength=5000,
                   required_message=_l("Please describe the matter and what you propose (at least 10 characters).")),
    "photo": Base64(_l("A JPEG, PNG or WebP picture up to 5 MB, as base64.")),
}


@operation("POST", "/proposals", summary="Propose a matter", tag="proposals", allow=(SIGNED_IN,), scope="proposals",
           response=PROPOSAL, status=201, errors=(403,), body=Fields(
               scope_kind=String(_l("Whom it concerns: building, grid or community (the caller's own)."),
                                 required=True, enum=list(SCOPE_KINDS),
                                 required_message=_l("Please choose whom the matter concerns.")),
               **MATTER_FIELDS))
def create_proposal(user, scope_kind, title, body, photo):
    """Only verified residents (403 otherwise); the households concerned see it and may support it."""
    proposal = services.create_proposal(user, scope_kind, title, body, photo or None)
    return proposal_json(user, proposal)


@operation("POST", "/proposals/<int:proposal_id>/support", summary="My household supports the matter",
           tag="proposals", allow=(SIGNED_IN,), scope="proposals", response=PROPOSAL, errors=(403, 409))
def support_proposal(user, proposal_id):
    """Once per household; supporting again changes nothing."""
    services.support(user, proposal_id)
    return _shown(user, proposal_id)


@operation("POST", "/proposals/<int:proposal_id>/vote", summary="My household's vote", tag="proposals",
           allow=(SIGNED_IN,), scope="proposals", response=PROPOSAL, errors=(403, 409), body=Fields(
               choice=String(_l("yes, no or abstain."), required=True, enum=list(CHOICES),
                             required_message=_l("Please choose for, against or abstain."))))
def vote_on_proposal(user, proposal_id, choice):
    """One vote per verified household: a second one, by any member, is refused (409
    already_voted)."""
    votes.cast_vote(user, proposal_id, choice)
    return _shown(user, proposal_id)


@operation("POST", "/proposals/<int:proposal_id>/evaluate", summary="My household's evaluation", tag="proposals",
           allow=(SIGNED_IN,), scope="proposals", response=PROPOSAL, errors=(403, 409), body=Fields(
               rating=Integer(_l("1 to 5 stars."), minimum=None, maximum=None, required=True,
                              required_message=_l("Please choose 1 to 5 stars.")),
               comment=String(_l("Anything to add (optional)."), maxLength=500)))
def evaluate_proposal(user, proposal_id, rating, comment):
    """Once per household, when the work is done."""
    evaluation.evaluate(user, proposal_id, rating, comment or "")
    return _shown(user, proposal_id)


@operation("POST", "/proposals/<int:proposal_id>/decide", summary="Accept a matter for discussion, or decline",
           tag="proposals", allow=STAFF, scope="staff", response=PROPOSAL, errors=(403, 409), body=Fields(
               decision=String(_l("accept or decline."), required=True, enum=["accept", "decline"],
                               required_message=_l("Please choose to accept or to decline.")),
               reason=String(_l("Why; required to decline (the proposer reads it)."), maxLength=500)))
def decide_proposal(user, proposal_id, decision, reason):
    """Staff in scope of the matter's building, grid or community."""
    services.decide(user, proposal_id, decision, reason or "")
    return _shown(user, proposal_id)


@operation("POST", "/proposals/<int:proposal_id>/vote/open", summary="Put the motion to the households' vote",
           tag="proposals", allow=STAFF, scope="staff", response=PROPOSAL, errors=(403, 409), body=Fields(
               motion=String(_l("The motion voted on."), required=True, maxLength=500,
                             required_message=_l("Please write the motion the households vote on (4 to 500 characters).")),
               matter=String(_l("ordinary (more than 1/2) or special (at least 3/4)."), required=True,
                             enum=list(MATTERS), required_message=_l("Please choose the kind of matter.")),
               days=Integer(_l("Days the vote stays open."), minimum=None, maximum=None, required=True,
                            required_message=_l("Please say how many days the vote stays open.")),
               participation=String(_l("Participation needed, e.g. 2/3 (the default)."), maxLength=9),
               majority=String(_l("Majority needed of those taking part, e.g. 3/4."), maxLength=9)))
def open_proposal_vote(user, proposal_id, motion, matter, days, participation, majority):
    """Defaults: Civil Code Art. 278."""
    votes.open_vote(user, proposal_id, motion, matter, days, participation or "", majority or "")
    return _shown(user, proposal_id)


@operation("POST", "/proposals/<int:proposal_id>/vote/in-person", summary="Record a vote given in person",
           tag="proposals", allow=STAFF, scope="staff", response=PROPOSAL, errors=(403, 409), body=Fields(
               household_id=Integer(_l("The household."), minimum=1, required=True,
                                    required_message=_l("Please choose a household.")),
               choice=String(_l("yes, no or abstain."), required=True, enum=list(CHOICES),
                             required_message=_l("Please choose for, against or abstain."))))
def record_proposal_vote(user, proposal_id, household_id, choice):
    """On the household's behalf; audited."""
    votes.record_in_person(user, proposal_id, household_id, choice)
    return _shown(user, proposal_id)


@operation("POST", "/proposals/<int:proposal_id>/vote/close", summary="Count the vote", tag="proposals",
           allow=STAFF, scope="staff", response=PROPOSAL, errors=(403, 409))
def close_proposal_vote(user, proposal_id):
    """After its period, or once every household has voted; the figures are then final."""
    votes.close_vote(user, proposal_id)
    return _shown(user, proposal_id)


@operation("POST", "/proposals/tasks/<int:task_id>/done", summary="Record a task done", tag="proposals",
           allow=(SIGNED_IN,), scope="jobs", response=PROPOSAL, errors=(403, 409), body=Fields(
               answer=String(_l("What was done."), required=True, maxLength=2000,
                             required_message=_l("Please say what was done (4 to 2000 characters)."))))
def close_proposal_task(user, task_id, answer):
    """By the party carrying it out (a partner's staff, a department's officer) or staff in scope."""
    task = action.close_task(user, task_id, answer)
    return _shown(user, task.proposal_id)


@operation("POST", "/proposals/on-behalf", summary="Propose a matter for a resident", tag="proposals",
           allow=(SIGNED_IN,), scope="proposals", response=PROPOSAL, status=201, errors=(403, 404), body=Fields(
               resident_id=Integer(_l("The resident it is written down for."), minimum=1, required=True,
                                   required_message=_l("Please choose a resident you look after.")),
               scope_kind=String(_l("Whom it concerns: the resident's building, grid or community."),
                                 required=True, enum=list(SCOPE_KINDS),
                                 required_message=_l("Please choose whom the matter concerns.")),
               **MATTER_FIELDS))
def propose_on_behalf(user, resident_id, scope_kind, title, body, photo):
    """A resident without a phone tells the building head: staff covering the resident's household
    (or family the resident consented to) write the proposal down in the resident's name. Recorded
    as an act on their behalf: both names kept, the resident told, a receipt to print."""
    proposal = services.create_proposal(user, scope_kind, title, body, photo or None, for_user_id=resident_id)
    return proposal_json(user, proposal)


@operation("POST", "/proposals/<int:proposal_id>/points", summary="Set the points for taking part",
           tag="proposals", allow=STAFF, scope="staff", response=PROPOSAL, errors=(403, 409), body=Fields(
               vote_points=Integer(_l("Points for the member who votes for the household (0: none)."), minimum=None,
                                   maximum=None, required=True, required_message=_l("Please give a number of points.")),
               meeting_points=Integer(_l("Points for each member who checks in at the meeting (0: none)."),
                                      minimum=None, maximum=None, required=True,
                                      required_message=_l("Please give a number of points."))))
def set_proposal_points(user, proposal_id, vote_points, meeting_points):
    """Staff in scope, before the vote opens (409 after); paid through the ledger."""
    participation.set_points(user, proposal_id, vote_points, meeting_points)
    return _shown(user, proposal_id)


HOUSEHOLD_AREA = component("HouseholdFloorArea", {
    "type": "object", "required": ["household_id", "floor_area_dm2", "floor_area"],
    "properties": {"household_id": COUNT, "floor_area_dm2": NULLABLE_COUNT,
                   "floor_area": {"type": "string", "description": "In square metres, e.g. 89.5; empty when unknown."}},
})


@operation("POST", "/households/<int:household_id>/floor-area", summary="Set a household's floor area",
           tag="proposals", allow=STAFF, scope="staff", response=HOUSEHOLD_AREA, errors=(404,), body=Fields(
               floor_area=String(_l("Square metres, e.g. 89.5; 0 to clear it."), required=True, maxLength=12,
                                 required_message=_l("Please enter the floor area in square metres, like 89.5."))))
def set_household_floor_area(user, household_id, floor_area):
    """Staff covering the household; audited. Votes count by area where every household has one."""
    household = services.set_floor_area(user, household_id, floor_area)
    return {"household_id": household.id, "floor_area_dm2": household.floor_area,
            "floor_area": services.area_text(household.floor_area)}
