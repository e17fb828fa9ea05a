"""What is waiting for a staff member, in their scope, oldest first: each queue is a query the
work queue page shows (with the button or link that deals with each item) and its CSV exports.

Who sees which queue follows who may act on it: verifying residents is for building heads, grid
and community administrators; volunteers, partner invitations and adjustments for community
administrators; flea-market listings for the listing reviewers; requests for every staff member
whose scope covers the household.
"""

from datetime import timedelta

from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import adjustments
from marketplace.menu.models import Category, ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Grid, Household
from marketplace.service_requests import models as requests
from marketplace.service_requests.models import Clock, Reopening, ServiceRequest, clock_open
from marketplace.shop import services as shop
from marketplace.timeutil import utcnow
from marketplace.users.models import PartnerInvite, ResidencyApplication, User, VolunteerApplication, VolunteerSkill

VERIFIERS = ("building_head", "grid_admin", "community_admin")
# Matters that rose because a promise passed unclosed head the queue, then reopening asked for.
QUEUES = ("risen", "reopens", "residents", "volunteers", "invitations", "listings", "adjustments", "deadlines",
          "disputes")
# Invitations stay in the queue for a while after they lapse, so staff notice and send a new one.
LAPSED_INVITES_SHOWN_FOR = timedelta(days=14)


def residents(staff):
    if not access.has_role(staff, *VERIFIERS):
        return ResidencyApplication.select().where(ResidencyApplication.id == 0)
    return (
        ResidencyApplication.select(ResidencyApplication, User, Household, Building, Grid)
        .join(User, on=(ResidencyApplication.user == User.id))
        .switch(ResidencyApplication)
        .join(Household).join(Building).join(Grid)
        .where(
            ResidencyApplication.status == "pending",
            ResidencyApplication.household.in_(access.scope_of(staff).households()),
        )
        .order_by(ResidencyApplication.created_at, ResidencyApplication.id)
    )


def volunteers(staff):
    communities = access.scope_of(staff).administered_community_ids()
    return (
        VolunteerApplication.select(VolunteerApplication, User)
        .join(User, on=(VolunteerApplication.user == User.id))
        .where(VolunteerApplication.status == "pending", VolunteerApplication.community.in_(communities or [0]))
        .order_by(VolunteerApplication.created_at, VolunteerApplication.id)
    )


def skills_of(applications) -> dict[int, list[str]]:
    """The kinds of help each applicant chose (menu categories), by user id, in one query."""
    user_ids = [a.user_id for a in applications]
    chosen: dict[int, list[str]] = {}
    query = (VolunteerSkill.select(VolunteerSkill.user, Category).join(Category)
             .where(VolunteerSkill.user.in_(user_ids or [0])).order_by(Category.position))
    for skill in query:
        chosen.setdefault(skill.user_id, []).append(skill.category.name)
    return chosen


def invitations(staff, now=None):
    """Partner staff invitations nobody has used yet: still open, or lapsed in the last two weeks."""
    now = now or utcnow()
    communities = access.scope_of(staff).administered_community_ids()
    return (
        PartnerInvite.select(PartnerInvite, PartnerEnterprise)
        .join(PartnerEnterprise)
        .where(
            PartnerInvite.used_at.is_null(),
            PartnerInvite.revoked == False,  # noqa: E712
            PartnerInvite.expires_at > now - LAPSED_INVITES_SHOWN_FOR,
            PartnerEnterprise.community.in_(communities or [0]),
        )
        .order_by(PartnerInvite.expires_at, PartnerInvite.id)
    )


def listings(staff):
    return shop.pending_listings(staff)


def pending_adjustments(staff):
    return adjustments.pending_for(staff)


def requests_in_scope(staff):
    return (
        ServiceRequest.select(ServiceRequest, ServiceItem, Category, Household, Building, Grid)
        .join(ServiceItem).join(Category)
        .switch(ServiceRequest).join(Household).join(Building).join(Grid)
        .where(ServiceRequest.household.in_(access.scope_of(staff).households()))
    )


def deadlines(staff, now=None):
    """Requests still waiting for help (open, taken or disputed) that are late or due soon (by
    the end of the next working day), and escalated matters whose feedback to the resident is due
    as soon. The rules are the request model's, so this queue counts what the figures count."""
    now = now or utcnow()
    horizon = requests.due_soon_horizon(now)
    near = requests.late(now) | requests.due_soon(now, horizon) | requests.feedback_due_by(horizon)
    return requests_in_scope(staff).where(near).order_by(ServiceRequest.due_at, ServiceRequest.id)


def risen(staff):
    """Matters in scope with a clock that passed unclosed and rose (issue 15): an answer is late."""
    late_clocks = Clock.select(Clock.request).where(clock_open(), Clock.risen_at.is_null(False))
    return requests_in_scope(staff).where(ServiceRequest.id.in_(late_clocks)).order_by(
        ServiceRequest.due_at, ServiceRequest.id)


def reopens(staff):
    """Finished matters in scope whose resident asked to reopen them, waiting for a decision."""
    pending = Reopening.select(Reopening.request).where(Reopening.decision.is_null())
    return requests_in_scope(staff).where(ServiceRequest.id.in_(pending)).order_by(
        ServiceRequest.due_at, ServiceRequest.id)


def disputes(staff):
    return requests_in_scope(staff).where(ServiceRequest.state == "disputed").order_by(
        ServiceRequest.due_at, ServiceRequest.id
    )


QUERIES = {
    "risen": risen, "reopens": reopens, "residents": residents, "volunteers": volunteers, "invitations": invitations, "listings": listings,
    "adjustments": pending_adjustments, "deadlines": deadlines, "disputes": disputes,
}


def items(staff, name: str):
    """One queue's items (the query), for a queue this staff member is shown."""
    return QUERIES[name](staff)


def first_items(staff, names, limit: int) -> tuple[dict, dict]:
    """Each queue's oldest `limit` items, and how many it holds in all (counted only when the
    first page is full, so a short queue costs one query)."""
    shown, counts = {}, {}
    for name in names:
        query = items(staff, name)
        shown[name] = list(query.limit(limit))
        counts[name] = len(shown[name]) if len(shown[name]) < limit else query.count()
    return shown, counts


def queues_for(staff) -> tuple[str, ...]:
    """The queues this staff member can act on (the others are not shown at all)."""
    shown = ["risen", "reopens", "deadlines", "disputes"]
    if access.has_role(staff, *VERIFIERS):
        shown.insert(0, "residents")
    if access.scope_of(staff).administered_community_ids():
        shown[1:1] = ["volunteers", "invitations"]
    if access.has_role(staff, *shop.LISTING_REVIEWERS):
        shown.append("listings")
    if access.has_role(staff, *adjustments.ADJUSTERS):
        shown.append("adjustments")
    return tuple(name for name in QUEUES if name in shown)


def withdraw_invitation(staff, invite_id: int) -> PartnerInvite:
    """An invitation sent to the wrong person (or no longer needed) stops working at once."""
    with db.atomic():
        invite = (
            PartnerInvite.select(PartnerInvite, PartnerEnterprise).join(PartnerEnterprise)
            .where(PartnerInvite.id == invite_id).first()
        )
        if invite is None or not access.scope_of(staff).administers(invite.partner.community_id):
            raise DomainError(_("This invitation was not found."), status=404, code="not_found")
        if invite.used_at is not None:
            raise DomainError(_("This invitation has already been used, so it cannot be withdrawn."), status=409,
                              code="invitation_used")
        if invite.revoked:
            raise DomainError(_("This invitation was already withdrawn."), status=409, code="already_withdrawn")
        PartnerInvite.update(revoked=True).where(PartnerInvite.id == invite.id).execute()
        audit.record(staff, "partners.invite.withdrawn", invite, partner=invite.partner_id, note=invite.note)
    return invite
