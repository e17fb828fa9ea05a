"""Proposals (民提) and the grid's discussion (网格议): who a proposal concerns, who may see and act
on it, proposing (a resident, or staff for them), supporting, accepting or declining with a
reason, the meeting (an event) and its minutes, and a household's floor area.

Every state change is a conditional UPDATE on the expected status, so of two staff acting at once
exactly one wins and the other is told the matter has moved on.
"""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import organising, permissions
from marketplace.notifications.services import notify
from marketplace.places.models import Building, Grid, Household
from marketplace.proposals.models import Proposal, ProposalSupport, ProposalTask
from marketplace.proxy import services as proxy
from marketplace.service_requests import services as request_services
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

PUBLIC_STATES = ("discussion", "voting", "passed", "rejected", "in_action", "done")
MAX_FLOOR_AREA_DM2 = 100_000_00  # 100,000 m²


# ---- whom a proposal concerns --------------------------------------------------------------


def household_of(user) -> Household | None:
    """The household a verified resident belongs to (staff verified it), or None."""
    grant = (RoleGrant.select().where((RoleGrant.user == user.id) & (RoleGrant.role == "resident")
                                      & RoleGrant.household.is_null(False)).order_by(RoleGrant.id).first())
    return Household.get_by_id(grant.household_id) if grant else None


def households_in(proposal: Proposal):
    """The households a proposal concerns (its building, grid or community), as a query."""
    query = Household.select().join(Building).join(Grid)
    if proposal.scope_kind == "building":
        return query.where(Household.building == proposal.building_id)
    if proposal.scope_kind == "grid":
        return query.where(Building.grid == proposal.grid_id)
    return query.where(Grid.community == proposal.community_id)


def verified_households_in(proposal: Proposal):
    """Those of them with at least one verified resident: the households that vote."""
    verified = RoleGrant.select(RoleGrant.household).where((RoleGrant.role == "resident")
                                                           & RoleGrant.household.is_null(False))
    return households_in(proposal).where(Household.id.in_(verified))


def concerns(proposal: Proposal, household: Household | None) -> bool:
    if household is None:
        return False
    building = household.building
    if proposal.scope_kind == "building":
        return building.id == proposal.building_id
    if proposal.scope_kind == "grid":
        return building.grid_id == proposal.grid_id
    return building.grid.community_id == proposal.community_id


def meeting_of(event_id: int) -> Proposal | None:
    return Proposal.get_or_none(Proposal.meeting == event_id)


def invited_to_meeting(event, user) -> bool:
    """A member of a household a matter concerns is invited to its grid meeting: they may sign
    up and check in as volunteers do at any event (events.permissions.OPEN_TO)."""
    proposal = meeting_of(event.id)
    return proposal is not None and concerns(proposal, household_of(user))


permissions.OPEN_TO.append(invited_to_meeting)


def staff_covers(user, proposal: Proposal) -> bool:
    """Staff in scope: a building head for a building's matter; the grid's administrator for
    the building's or the grid's; the community's administrators and street staff for all."""
    scope = access.scope_of(user)
    if scope.street_wide or proposal.community_id in scope.communities:
        return True
    if proposal.scope_kind in ("building", "grid") and proposal.grid_id in scope.grids:
        return True
    return proposal.scope_kind == "building" and proposal.building_id in scope.buildings


def partner_works_on(user, proposal: Proposal) -> bool:
    partners = access.scope_of(user).partners
    return bool(partners) and ProposalTask.select().where(
        (ProposalTask.proposal == proposal.id) & ProposalTask.partner.in_(list(partners))).exists()


def may_see(user, proposal: Proposal) -> bool:
    if staff_covers(user, proposal) or partner_works_on(user, proposal):
        return True
    return concerns(proposal, household_of(user)) and (
        proposal.status in PUBLIC_STATES or proposal.proposer_id == user.id or proposal.status == "proposed")


def get_visible(user, proposal_id: int) -> Proposal:
    proposal = Proposal.get_or_none(Proposal.id == proposal_id)
    if proposal is None or not may_see(user, proposal):
        raise DomainError(_("This matter was not found."), status=404, code="not_found")
    return proposal


def get_covered(staff, proposal_id: int) -> Proposal:
    proposal = get_visible(staff, proposal_id)
    if not staff_covers(staff, proposal):
        raise DomainError(_("Only the staff responsible for this building, grid or community may do this."),
                          status=403, code="out_of_scope")
    return proposal


def visible_proposals(user):
    """The matters the person may see, newest first: their own households', and those of the
    places they look after."""
    scope = access.scope_of(user)
    query = Proposal.select().order_by(Proposal.id.desc())
    if scope.street_wide:
        return query
    condition = Proposal.community.in_(sorted(scope.communities) or [0])
    condition |= (Proposal.scope_kind.in_(["building", "grid"]) & Proposal.grid.in_(sorted(scope.grids) or [0]))
    condition |= ((Proposal.scope_kind == "building") & Proposal.building.in_(sorted(scope.buildings) or [0]))
    if scope.partners:
        condition |= Proposal.id.in_(ProposalTask.select(ProposalTask.proposal)
                                     .where(ProposalTask.partner.in_(list(scope.partners))))
    household = household_of(user)
    if household is not None:
        building = household.building
        mine = (((Proposal.scope_kind == "building") & (Proposal.building == building.id))
                | ((Proposal.scope_kind == "grid") & (Proposal.grid == building.grid_id))
                | ((Proposal.scope_kind == "community") & (Proposal.community == building.grid.community_id)))
        condition |= mine & (Proposal.status.in_(PUBLIC_STATES) | (Proposal.status == "proposed")
                             | (Proposal.proposer == user.id))
    return query.where(condition)


def public_proposals(community_id: int | None = None):
    """What the board shows: every matter accepted for discussion, whatever came of it."""
    query = Proposal.select().where(Proposal.status.in_(PUBLIC_STATES)).order_by(Proposal.id.desc())
    if community_id is not None:
        query = query.where(Proposal.community == community_id)
    return query


def public_proposal(proposal_id: int) -> Proposal:
    proposal = Proposal.get_or_none(Proposal.id == proposal_id)
    if proposal is None or proposal.status not in PUBLIC_STATES:
        raise DomainError(_("This matter was not found."), status=404, code="not_found")
    return proposal


def _changed(proposal_id: int, expected, **values) -> None:
    """A conditional step: refused when the matter is no longer where the caller saw it."""
    expected = (expected,) if isinstance(expected, str) else expected
    done = Proposal.update(**values).where((Proposal.id == proposal_id) & Proposal.status.in_(expected)).execute()
    if not done:
        raise DomainError(_("This matter has moved on; please look at it again."), status=409, code="conflict")


# ---- 民提: proposing, supporting, accepting ------------------------------------------------


def _text(value: str, field: str, least: int, most: int, missing: str) -> str:
    value = " ".join((value or "").split()) if field == "title" else (value or "").strip()
    if len(value) < least:
        raise DomainError(missing, field=field, code="invalid")
    if len(value) > most:
        raise DomainError(_("Please keep this under %(most)d characters.", most=most), field=field, code="invalid")
    return value


def create_proposal(actor, scope_kind: str, title: str, body: str, photo: bytes | None = None,
                    for_user_id: int | None = None, now: datetime | None = None) -> Proposal:
    """A verified resident proposes a matter for their building, grid or community; staff may
    write it down for a resident in their scope (on their behalf: both are kept)."""
    now = now or utcnow()
    proposer = actor
    if for_user_id is not None and for_user_id != actor.id:
        # acting for a resident is asked of the one rule (proxy): staff in scope, or family
        proposer = User.get_or_none(User.id == for_user_id)
        if proposer is None or proxy.may_act_for(actor, proposer.id) is None:
            raise DomainError(_("Please choose a resident you look after."), field="for_user", code="out_of_scope")
    household = household_of(proposer)
    if household is None:
        raise DomainError(_("Only verified residents can propose a matter. Staff verify your household first."),
                          status=403, code="not_verified")
    if scope_kind not in ("building", "grid", "community"):
        raise DomainError(_("Please choose whom the matter concerns: your building, your grid or your community."),
                          field="scope_kind", code="invalid")
    title = _text(title, "title", 4, 100, _("Please give the matter a short title (at least 4 characters)."))
    body = _text(body, "body", 10, 5000, _("Please describe the matter and what you propose (at least 10 characters)."))
    photo_name = request_services._store_photo(photo) if photo else None  # the requests' rule: re-encoded, no metadata
    building = household.building
    with db.atomic():
        proposal = Proposal.create(
            community=building.grid.community_id, grid=building.grid_id if scope_kind != "community" else None,
            building=building.id if scope_kind == "building" else None, scope_kind=scope_kind, title=title, body=body,
            photo=photo_name, proposer=proposer, household=household, created_by=actor, created_at=now)
        # the proposer's household supports its own matter
        ProposalSupport.create(proposal=proposal.id, household=household.id, user=proposer.id, created_at=now)
        if proposer is not actor:
            audit.record(actor, "proposals.proposal.created_on_behalf", proposal, resident=proposer.id)
            # the same record, message and receipt as a request or the mall done for them
            proxy.record(actor, proposer, "propose", note=title)
    return proposal


def support(user, proposal_id: int, now: datetime | None = None) -> bool:
    """A household concerned supports a matter (once: supporting again changes nothing).
    Returns whether this was a new support."""
    proposal = get_visible(user, proposal_id)
    household = household_of(user)
    if not concerns(proposal, household):
        raise DomainError(_("Only the households this matter concerns can support it."), status=403,
                          code="out_of_scope")
    if proposal.status not in ("proposed", "discussion"):
        raise DomainError(_("Support is gathered before the vote; this matter is past that."), status=409,
                          code="not_allowed")
    with db.atomic():
        query = ProposalSupport.insert(proposal=proposal.id, household=household.id, user=user.id,
                                       created_at=now or utcnow())
        return db.execute(query.on_conflict_ignore()).rowcount == 1


def supported_by(user, proposal: Proposal) -> bool:
    household = household_of(user)
    return household is not None and ProposalSupport.select().where(
        (ProposalSupport.proposal == proposal.id) & (ProposalSupport.household == household.id)).exists()


def decide(staff, proposal_id: int, decision: str, reason: str = "", now: datetime | None = None) -> Proposal:
    """Staff in scope accept a proposal for the grid's discussion, or decline it with a reason
    the proposer reads."""
    proposal = get_covered(staff, proposal_id)
    reason = (reason or "").strip()
    if decision not in ("accept", "decline"):
        raise DomainError(_("Please choose to accept or to decline."), field="decision", code="invalid")
    if decision == "decline" and len(reason) < 4:
        raise DomainError(_("Please say why; the proposer reads it."), field="reason", code="invalid")
    if len(reason) > 500:
        raise DomainError(_("Please keep this under %(most)d characters.", most=500), field="reason", code="invalid")
    with db.atomic():
        _changed(proposal.id, "proposed", status="discussion" if decision == "accept" else "declined",
                 decided_by=staff.id, decided_at=now or utcnow(), decline_reason=reason if decision == "decline" else "")
        audit.record(staff, f"proposals.proposal.{decision}ed", proposal, reason=reason)
        # the proposer is told in their own language (notify renders it so)
        text = (_l("Your proposal “%(title)s” is accepted for the grid's discussion.", title=proposal.title)
                if decision == "accept" else
                _l("Your proposal “%(title)s” was declined: %(reason)s", title=proposal.title, reason=reason))
        notify(proposal.proposer, "other", text, f"/proposals/{proposal.id}")
    return Proposal.get_by_id(proposal.id)


# ---- 网格议: the meeting and its minutes -----------------------------------------------------


def schedule_meeting(staff, proposal_id: int, starts_at: datetime, ends_at: datetime, place: str,
                     now: datetime | None = None) -> Proposal:
    """The grid's meeting is an event of the community, published at once: sign-up and the
    door's QR check-in work as for any event. The households concerned are invited (one place
    each)."""
    proposal = get_covered(staff, proposal_id)
    if proposal.status != "discussion":
        raise DomainError(_("A meeting is held while the matter is under discussion."), status=409, code="not_allowed")
    if proposal.meeting_id is not None:
        raise DomainError(_("This matter already has its meeting."), status=409, code="conflict")
    places = max(households_in(proposal).count(), 1)
    fields = {"title": _("Discussion: %(title)s", title=proposal.title)[:100], "kind": "other",
              "description": proposal.body, "place": place, "community_id": proposal.community_id,
              "starts_at": starts_at, "ends_at": ends_at, "capacity": min(places, 10_000), "points_rule": "fixed",
              "points": 0, "allow_walk_ins": True}
    with db.atomic():
        event = organising.create_event(staff, fields, now=now)
        organising.publish_event(staff, event.id, now=now)
        _changed(proposal.id, "discussion", meeting=event.id)
    return Proposal.get_by_id(proposal.id)


def record_minutes(staff, proposal_id: int, text: str, now: datetime | None = None) -> Proposal:
    proposal = get_covered(staff, proposal_id)
    text = _text(text, "minutes", 10, 10_000, _("Please write the minutes: who took part, what was said, what was agreed."))
    with db.atomic():
        _changed(proposal.id, ("discussion", "voting"), minutes=text, minutes_by=staff.id, minutes_at=now or utcnow())
        audit.record(staff, "proposals.minutes.recorded", proposal)
    return Proposal.get_by_id(proposal.id)


# ---- floor areas ------------------------------------------------------------------------------


def parse_area(text: str) -> int | None:
    """"89.5" m² as dm² (8950), exactly; "" clears it; None when it is not an area."""
    text = (text or "").strip()
    if not text:
        return 0
    whole, _dot, cents = text.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)) or len(whole) > 6:
        return None
    return int(whole) * 100 + int((cents + "00")[:2])


def set_floor_area(staff, household_id: int, text: str) -> Household:
    household = Household.get_or_none(Household.id == household_id)
    if household is None or not access.scope_of(staff).covers_household(household):
        raise DomainError(_("This household was not found."), status=404, code="not_found")
    area = parse_area(text)
    if area is None or area > MAX_FLOOR_AREA_DM2:
        raise DomainError(_("Please enter the floor area in square metres, like 89.5."), field="floor_area",
                          code="invalid")
    with db.atomic():
        Household.update(floor_area=area or None).where(Household.id == household.id).execute()
        audit.record(staff, "places.household.floor_area", household, floor_area_dm2=area or None,
                     was_dm2=household.floor_area)
    return Household.get_by_id(household.id)


def area_text(dm2: int | None) -> str:
    if dm2 is None:
        return ""
    return f"{dm2 // 100}.{dm2 % 100:02d}".rstrip("0").rstrip(".")
