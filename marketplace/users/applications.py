"""Applications staff answer: a resident's residency in a household, and a volunteer's application."""


from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.menu.models import Category
from marketplace.notifications.services import notify
from marketplace.places.models import Household
from marketplace.timeutil import utcnow
from marketplace.users.models import (
    ResidencyApplication,
    RoleGrant,
    User,
    VolunteerApplication,
    VolunteerSkill,
)

# ---- residency ------------------------------------------------------------------------------


def current_residency(user: User) -> ResidencyApplication | None:
    """The newest application: what the resident sees as their household status."""
    return (
        ResidencyApplication.select()
        .where(ResidencyApplication.user == user.id)
        .order_by(ResidencyApplication.id.desc())
        .first()
    )


def apply_for_residency(user: User, household_id: int) -> ResidencyApplication:
    household = Household.get_or_none(Household.id == household_id)
    if household is None:
        raise DomainError(_("Please choose your home from the list."), "household", code="invalid")
    with db.atomic():
        existing = current_residency(user)
        if existing and existing.status == "pending":
            raise DomainError(_("You already asked to join a household; please wait for the community's answer."),
                              code="already_applied")
        if existing and existing.status == "verified" and existing.household_id == household.id:
            raise DomainError(_("You are already verified in this household."), code="already_verified")
        return ResidencyApplication.create(user=user, household=household)


def _pending_application(model, staff: User, application_id: int):
    application = model.get_or_none(model.id == application_id)
    if application is None or not _in_scope(staff, application):
        raise DomainError(_("This application was not found."), status=404, code="not_found")
    if application.status != "pending":
        raise DomainError(_("This application has already been decided."), status=409, code="already_decided")
    return application


def _in_scope(staff: User, application) -> bool:
    if isinstance(application, ResidencyApplication):
        return access.scope_of(staff).covers_household(application.household_id)
    return access.scope_of(staff).administers(application.community_id) or access.has_role(
        staff, "admin"
    )


def verify_residency(staff: User, application_id: int) -> ResidencyApplication:
    with db.atomic():
        application = _pending_application(ResidencyApplication, staff, application_id)
        now = utcnow()
        ResidencyApplication.update(status="verified", decided_by=staff, decided_at=now).where(
            ResidencyApplication.id == application.id
        ).execute()
        # One household per resident: a move replaces the old grant.
        RoleGrant.delete().where(RoleGrant.user == application.user_id, RoleGrant.role == "resident").execute()
        RoleGrant.create(user=application.user_id, role="resident", household=application.household_id, granted_by=staff)
        audit.record(staff, "users.residency.verified", application, household=application.household_id)
        notify(application.user, "account", _l("Your household has been verified. You can now book services."),
               "/account")
        return ResidencyApplication.get_by_id(application.id)


def reject_residency(staff: User, application_id: int, reason: str) -> ResidencyApplication:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give the resident a reason."), "reason", code="invalid")
    with db.atomic():
        application = _pending_application(ResidencyApplication, staff, application_id)
        ResidencyApplication.update(status="rejected", reason=reason[:200], decided_by=staff, decided_at=utcnow()).where(
            ResidencyApplication.id == application.id
        ).execute()
        audit.record(staff, "users.residency.rejected", application, reason=reason)
        notify(application.user, "account", _l("Your household could not be verified: %(reason)s", reason=reason[:200]),
               "/account")
        return ResidencyApplication.get_by_id(application.id)


# ---- volunteering ---------------------------------------------------------------------------


def current_volunteer_application(user: User) -> VolunteerApplication | None:
    return (
        VolunteerApplication.select()
        .where(VolunteerApplication.user == user.id)
        .order_by(VolunteerApplication.id.desc())
        .first()
    )


def apply_as_volunteer(user: User, category_ids: list[int], availability: str) -> VolunteerApplication:
    residency = current_residency(user)
    if residency is None or residency.status == "rejected":
        raise DomainError(_("Please choose your household first; volunteers serve the community they live in."),
                          code="not_verified")
    categories = list(Category.select().where(Category.id.in_(category_ids or [0])))
    if not categories:
        raise DomainError(_("Please choose at least one kind of help you can offer."), "skills", code="invalid")
    availability = (availability or "").strip()
    if not availability:
        raise DomainError(_("Please tell us when you are usually free."), "availability", code="invalid")
    community = residency.household.building.grid.community
    with db.atomic():
        previous = current_volunteer_application(user)
        if previous and previous.status == "pending":
            raise DomainError(_("Your application is already waiting for the community's answer."),
                              code="already_applied")
        if previous and previous.status == "verified":
            raise DomainError(_("You are already a volunteer."), code="already_volunteer")
        VolunteerSkill.delete().where(VolunteerSkill.user == user.id).execute()
        VolunteerSkill.insert_many([{"user": user.id, "category": c.id} for c in categories]).execute()
        return VolunteerApplication.create(user=user, community=community, availability=availability[:200])


def approve_volunteer(staff: User, application_id: int) -> VolunteerApplication:
    with db.atomic():
        application = _pending_application(VolunteerApplication, staff, application_id)
        VolunteerApplication.update(status="verified", decided_by=staff, decided_at=utcnow()).where(
            VolunteerApplication.id == application.id
        ).execute()
        RoleGrant.create(user=application.user_id, role="volunteer", community=application.community_id, granted_by=staff)
        audit.record(staff, "users.volunteer.approved", application)
        notify(application.user, "account", _l("Welcome, volunteer! You can now take jobs and sign up for events."),
               "/jobs/")
        return VolunteerApplication.get_by_id(application.id)


def reject_volunteer(staff: User, application_id: int, reason: str) -> VolunteerApplication:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give the applicant a reason."), "reason", code="invalid")
    with db.atomic():
        application = _pending_application(VolunteerApplication, staff, application_id)
        VolunteerApplication.update(status="rejected", reason=reason[:200], decided_by=staff, decided_at=utcnow()).where(
            VolunteerApplication.id == application.id
        ).execute()
        audit.record(staff, "users.volunteer.rejected", application, reason=reason)
        notify(application.user, "account",
               _l("Your volunteer application was not accepted: %(reason)s", reason=reason[:200]), "/account")
        return VolunteerApplication.get_by_id(application.id)
