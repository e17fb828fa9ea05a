"""Rules about people: signing up and in, sessions, residency, volunteering, roles, invitations.

Plain functions over models. They take the acting user and plain values, run inside one
transaction, and raise DomainError with a message the person can act on.
"""

import hashlib
import re
import secrets
from datetime import timedelta

import peewee as pw
from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.menu.models import Category
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Community, Household
from marketplace.timeutil import utcnow
from marketplace.users import passwords
from marketplace.users.models import (
    LoginSession,
    PartnerInvite,
    ResidencyApplication,
    RoleGrant,
    User,
    VolunteerApplication,
    VolunteerSkill,
)

# Mainland China mobile numbers: 11 digits starting 13-19.
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
SESSION_MAX_AGE = timedelta(days=30)  # absolute: no session outlives the remember-me limit
SESSION_TOUCH_EVERY = timedelta(minutes=5)
INVITE_VALID_FOR = timedelta(days=7)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_phone(raw: str) -> str:
    """Accept what people type: spaces, dashes, a +86 prefix."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not PHONE_PATTERN.match(digits):
        raise DomainError(_("Please enter an 11-digit mainland mobile number, such as 13812345678."), "phone")
    return digits


# ---- accounts ------------------------------------------------------------------------------


def sign_up(phone: str, display_name: str, password: str, locale: str | None = None) -> User:
    phone = normalize_phone(phone)
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Please tell us your name."), "display_name")
    passwords.check_policy(password, phone)
    try:
        with db.atomic():
            return User.create(
                phone=phone, display_name=display_name, password_hash=passwords.hash_password(password), locale=locale
            )
    except pw.IntegrityError:
        raise DomainError(_("This phone number is already registered. Please log in instead."), "phone") from None


def authenticate(phone: str, password: str) -> User:
    failure = DomainError(_("The phone number or password is not right."))
    try:
        phone = normalize_phone(phone)
    except DomainError:
        raise failure from None
    user = User.get_or_none(User.phone == phone)
    if not passwords.verify_password(user.password_hash if user else None, password):
        raise failure
    if not user.active:
        raise DomainError(_("This account has been switched off. Please contact your community office."))
    if passwords.needs_rehash(user.password_hash):
        User.update(password_hash=passwords.hash_password(password)).where(User.id == user.id).execute()
    return user


def start_session(user: User, user_agent: str = "") -> str:
    """Record a new signed-in browser; returns the id Flask-Login keeps in the cookie."""
    key = secrets.token_urlsafe(32)
    LoginSession.create(user=user, key_hash=_sha256(key), user_agent=(user_agent or "")[:200])
    user._session_id = f"{user.id}:{key}"
    return user._session_id


def load_session(session_id: str) -> User | None:
    user_id, _sep, key = (session_id or "").partition(":")
    if not user_id.isdigit() or not key:
        return None
    row = (
        LoginSession.select(LoginSession, User)
        .join(User)
        .where(LoginSession.key_hash == _sha256(key), LoginSession.user == int(user_id))
        .first()
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if now - row.created_at > SESSION_MAX_AGE:
        row.delete_instance()
        return None
    if now - row.last_seen_at > SESSION_TOUCH_EVERY:
        LoginSession.update(last_seen_at=now).where(LoginSession.id == row.id).execute()
    user = row.user
    user._session_id = session_id
    return user


def end_session(session_id: str) -> None:
    _user_id, _sep, key = (session_id or "").partition(":")
    LoginSession.delete().where(LoginSession.key_hash == _sha256(key)).execute()


def end_all_sessions(user: User, keep_session_id: str | None = None) -> int:
    query = LoginSession.delete().where(LoginSession.user == user.id)
    if keep_session_id:
        _u, _s, key = keep_session_id.partition(":")
        query = query.where(LoginSession.key_hash != _sha256(key))
    return query.execute()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Every other signed-in browser is signed out: whoever knew the old password is locked out."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise DomainError(_("Your current password is not right."), "current_password")
    passwords.check_policy(new_password, user.phone)
    with db.atomic():
        User.update(password_hash=passwords.hash_password(new_password)).where(User.id == user.id).execute()
        end_all_sessions(user, keep_session_id=getattr(user, "_session_id", None))


def set_locale(user: User, locale: str) -> None:
    User.update(locale=locale).where(User.id == user.id).execute()


def set_active(staff: User, user: User, active: bool) -> None:
    with db.atomic():
        User.update(active=active).where(User.id == user.id).execute()
        if not active:
            end_all_sessions(user)
        audit.record(staff, "users.account.activated" if active else "users.account.deactivated", user)


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
        raise DomainError(_("Please choose your home from the list."), "household")
    with db.atomic():
        existing = current_residency(user)
        if existing and existing.status == "pending":
            raise DomainError(_("You already asked to join a household; please wait for the community's answer."))
        if existing and existing.status == "verified" and existing.household_id == household.id:
            raise DomainError(_("You are already verified in this household."))
        return ResidencyApplication.create(user=user, household=household)


def _pending_application(model, staff: User, application_id: int):
    application = model.get_or_none(model.id == application_id)
    if application is None or not _in_scope(staff, application):
        raise DomainError(_("This application was not found."), status=404)
    if application.status != "pending":
        raise DomainError(_("This application has already been decided."), status=409)
    return application


def _in_scope(staff: User, application) -> bool:
    if isinstance(application, ResidencyApplication):
        return access.covers(staff, application.household)
    return application.community_id in access.community_ids_administered(staff) or access.has_role(
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
        return ResidencyApplication.get_by_id(application.id)


def reject_residency(staff: User, application_id: int, reason: str) -> ResidencyApplication:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give the resident a reason."), "reason")
    with db.atomic():
        application = _pending_application(ResidencyApplication, staff, application_id)
        ResidencyApplication.update(status="rejected", reason=reason[:200], decided_by=staff, decided_at=utcnow()).where(
            ResidencyApplication.id == application.id
        ).execute()
        audit.record(staff, "users.residency.rejected", application, reason=reason)
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
        raise DomainError(_("Please choose your household first; volunteers serve the community they live in."))
    categories = list(Category.select().where(Category.id.in_(category_ids or [0])))
    if not categories:
        raise DomainError(_("Please choose at least one kind of help you can offer."), "skills")
    availability = (availability or "").strip()
    if not availability:
        raise DomainError(_("Please tell us when you are usually free."), "availability")
    community = residency.household.building.grid.community
    with db.atomic():
        previous = current_volunteer_application(user)
        if previous and previous.status == "pending":
            raise DomainError(_("Your application is already waiting for the community's answer."))
        if previous and previous.status == "verified":
            raise DomainError(_("You are already a volunteer."))
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
        return VolunteerApplication.get_by_id(application.id)


def reject_volunteer(staff: User, application_id: int, reason: str) -> VolunteerApplication:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give the applicant a reason."), "reason")
    with db.atomic():
        application = _pending_application(VolunteerApplication, staff, application_id)
        VolunteerApplication.update(status="rejected", reason=reason[:200], decided_by=staff, decided_at=utcnow()).where(
            VolunteerApplication.id == application.id
        ).execute()
        audit.record(staff, "users.volunteer.rejected", application, reason=reason)
        return VolunteerApplication.get_by_id(application.id)


# ---- partner staff invitations --------------------------------------------------------------


def invite_partner_staff(staff: User, partner_id: int, note: str) -> str:
    """Returns the one-time token; only its hash is stored, so the link is shown once."""
    partner = PartnerEnterprise.get_or_none(PartnerEnterprise.id == partner_id)
    if partner is None or partner.community_id not in access.community_ids_administered(staff):
        raise DomainError(_("This partner was not found."), status=404)
    token = secrets.token_urlsafe(24)
    with db.atomic():
        invite = PartnerInvite.create(
            partner=partner,
            token_hash=_sha256(token),
            note=(note or "").strip()[:100],
            created_by=staff,
            expires_at=utcnow() + INVITE_VALID_FOR,
        )
        audit.record(staff, "partners.invite.created", invite, partner=partner.id)
    return token


def find_invite(token: str) -> PartnerInvite:
    invite = PartnerInvite.get_or_none(PartnerInvite.token_hash == _sha256(token or ""))
    if invite is None or invite.revoked:
        raise DomainError(_("This invitation link is not valid. Please ask the community office for a new one."), status=404)
    if invite.used_at is not None:
        raise DomainError(_("This invitation has already been used."), status=410)
    if invite.expires_at < utcnow():
        raise DomainError(_("This invitation has expired. Please ask the community office for a new one."), status=410)
    return invite


def accept_invite(user: User, token: str) -> PartnerEnterprise:
    with db.atomic():
        invite = find_invite(token)
        # The conditional update makes the link single-use even if two people open it at once.
        claimed = (
            PartnerInvite.update(used_by=user, used_at=utcnow())
            .where(PartnerInvite.id == invite.id, PartnerInvite.used_at.is_null())
            .execute()
        )
        if claimed != 1:
            raise DomainError(_("This invitation has already been used."), status=410)
        already = RoleGrant.select().where(
            RoleGrant.user == user.id, RoleGrant.role == "partner_staff", RoleGrant.partner == invite.partner_id
        )
        if not already.exists():
            RoleGrant.create(user=user, role="partner_staff", partner=invite.partner_id, granted_by=invite.created_by_id)
        audit.record(user, "partners.invite.accepted", invite, partner=invite.partner_id)
        return invite.partner


# ---- roles ------------------------------------------------------------------------------------

SCOPE_OF_ROLE = {
    "resident": "household",
    "volunteer": "community",
    "partner_staff": "partner",
    "building_head": "building",
    "grid_admin": "grid",
    "community_admin": "community",
    "street_officer": "department",
    "admin": None,
}


def grant_role(actor: User | None, user: User, role: str, scope=None) -> RoleGrant:
    """Give a role in its scope (a Household, Building, Grid, Community, PartnerEnterprise or a
    department name). Used by the CLI and the demo loader; staff pages go through their own checks."""
    field = SCOPE_OF_ROLE[role]
    values = {"user": user, "role": role, "granted_by": actor}
    if field is not None:
        if scope is None:
            raise DomainError(_("This role needs a scope."))
        values[field] = scope
    with db.atomic():
        existing = RoleGrant.select().where(
            *[getattr(RoleGrant, k) == (v.id if hasattr(v, "id") else v) for k, v in values.items() if k != "granted_by"]
        )
        grant = existing.first() or RoleGrant.create(**values)
        if actor is not None:
            audit.record(actor, "users.role.granted", user, role=role)
        return grant


def find_community(code: str) -> Community:
    return Community.get(Community.code == code)
