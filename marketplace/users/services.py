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
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.menu.models import Category
from marketplace.notifications.services import notify
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users import passwords
from marketplace.users.models import (
    ROLES,
    LoginSession,
    PartnerInvite,
    ResidencyApplication,
    RoleGrant,
    User,
    VolunteerApplication,
    VolunteerSkill,
    mask_phone,
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
        raise DomainError(_("Please enter an 11-digit mainland mobile number, such as 13812345678."), "phone",
                          code="invalid")
    return digits


# ---- accounts ------------------------------------------------------------------------------


def sign_up(phone: str, display_name: str, password: str, locale: str | None = None) -> User:
    phone = normalize_phone(phone)
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Please tell us your name."), "display_name", code="invalid")
    passwords.check_policy(password, phone)
    password_hash = passwords.hash_password(password)  # slow on purpose: before the write lock, not under it
    try:
        with db.atomic():
            user = User.create(phone=phone, display_name=display_name, password_hash=password_hash, locale=locale)
            ledger.user_account(user)  # every member has a points account from the start
            return user
    except pw.IntegrityError:
        raise DomainError(_("This phone number is already registered. Please log in instead."), "phone",
                          code="phone_taken") from None


def authenticate(phone: str, password: str) -> User:
    failure = DomainError(_("The phone number or password is not right."), code="wrong_credentials")
    try:
        phone = normalize_phone(phone)
    except DomainError:
        raise failure from None
    user = User.get_or_none(User.phone == phone)
    if not passwords.verify_password(user.password_hash if user else None, password):
        raise failure
    if not user.active:
        raise DomainError(_("This account has been switched off. Please contact your community office."),
                          code="account_inactive")
    if passwords.needs_rehash(user.password_hash):
        User.update(password_hash=passwords.hash_password(password)).where(User.id == user.id).execute()
    return user


def start_session(user: User, user_agent: str = "", remembered: bool = False) -> str:
    """Record a new signed-in browser; returns the id Flask-Login keeps in the cookie."""
    key = secrets.token_urlsafe(32)
    LoginSession.create(user=user, key_hash=_sha256(key), user_agent=(user_agent or "")[:200], remembered=remembered)
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
    # Absolute limit for every session; an idle limit for those not kept by "keep me signed in"
    # (enforced here, on the server, so a copied cookie ages like the browser's own).
    idle_limit = SESSION_MAX_AGE if row.remembered else timedelta(hours=settings().session_idle_hours)
    if now - row.created_at > SESSION_MAX_AGE or now - row.last_seen_at > idle_limit:
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
    """Every signed-in browser but (optionally) this one, and every API token: whoever had a
    copy of either is locked out (after a password or phone change, "log out on all devices",
    or staff switching the account off)."""
    from marketplace.users.tokens import revoke_all_tokens

    revoke_all_tokens(user)
    query = LoginSession.delete().where(LoginSession.user == user.id)
    if keep_session_id:
        _u, _s, key = keep_session_id.partition(":")
        query = query.where(LoginSession.key_hash != _sha256(key))
    return query.execute()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Every other signed-in browser is signed out: whoever knew the old password is locked out."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise DomainError(_("Your current password is not right."), "current_password", code="wrong_password")
    passwords.check_policy(new_password, user.phone)
    password_hash = passwords.hash_password(new_password)  # before the write lock, not under it
    with db.atomic():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        end_all_sessions(user, keep_session_id=getattr(user, "_session_id", None))


def change_phone(user: User, new_phone: str) -> User:
    """The phone number is what one logs in with: other signed-in browsers are signed out, and
    the change is in the audit log (so a stolen session cannot quietly take the account over)."""
    phone = normalize_phone(new_phone)
    if phone == user.phone:
        raise DomainError(_("That is already your mobile number."), "phone", code="invalid")
    with db.atomic():
        if User.select().where(User.phone == phone).exists():
            raise DomainError(_("This mobile number belongs to another account."), "phone", code="phone_taken")
        try:
            with db.atomic():
                User.update(phone=phone).where(User.id == user.id).execute()
        except pw.IntegrityError:  # taken at the same moment by someone else
            raise DomainError(_("This mobile number belongs to another account."), "phone",
                              code="phone_taken") from None
        end_all_sessions(user, keep_session_id=getattr(user, "_session_id", None))
        audit.record(user, "users.phone.changed", user, old=user.masked_phone(), new=mask_phone(phone))
    user.phone = phone
    return user


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


# ---- partner staff invitations --------------------------------------------------------------


def invite_partner_staff(staff: User, partner_id: int, note: str) -> str:
    """Returns the one-time token; only its hash is stored, so the link is shown once."""
    partner = PartnerEnterprise.get_or_none(PartnerEnterprise.id == partner_id)
    if partner is None or not access.scope_of(staff).administers(partner.community_id):
        raise DomainError(_("This partner was not found."), status=404, code="not_found")
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
        raise DomainError(_("This invitation link is not valid. Please ask the community office for a new one."), status=404,
                          code="not_found")
    if invite.used_at is not None:
        raise DomainError(_("This invitation has already been used."), status=410, code="invitation_used")
    if invite.expires_at < utcnow():
        raise DomainError(_("This invitation has expired. Please ask the community office for a new one."), status=410,
                          code="invitation_expired")
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
            raise DomainError(_("This invitation has already been used."), status=410, code="invitation_used")
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
            raise DomainError(_("This role needs a scope."), code="invalid")
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


# ---- people, as staff manage them -----------------------------------------------------------

ROLE_LABELS = {
    "resident": _l("Resident"),
    "volunteer": _l("Volunteer"),
    "partner_staff": _l("Partner staff"),
    "building_head": _l("Building head"),
    "grid_admin": _l("Grid administrator"),
    "community_admin": _l("Community administrator"),
    "street_officer": _l("Street officer"),
    "admin": _l("Administrator"),
}
# A community administrator staffs their own communities; partner staff join by invitation, so
# they may be removed here but not added. Residents are decided in the work queue, never here.
COMMUNITY_GRANTS = ("volunteer", "building_head", "grid_admin")
COMMUNITY_REVOKES = (*COMMUNITY_GRANTS, "partner_staff")
ADMIN_GRANTS = ("volunteer", "partner_staff", "building_head", "grid_admin", "community_admin", "street_officer", "admin")
PEOPLE_PAGE_SIZE = 50


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _is_admin(staff: User) -> bool:
    return access.scope_of(staff).everything


def people_in_scope(staff: User) -> pw.ModelSelect:
    """The accounts a staff member may look up: the residents (and applicants) of their
    households; for community administrators also their communities' volunteers, partner staff
    and staff; everyone for admins."""
    if _is_admin(staff):
        return User.select()
    households = access.scope_of(staff).households()
    ids = RoleGrant.select(RoleGrant.user).where(RoleGrant.role == "resident", RoleGrant.household.in_(households))
    ids = ids | ResidencyApplication.select(ResidencyApplication.user).where(
        ResidencyApplication.status == "pending", ResidencyApplication.household.in_(households)
    )
    communities = access.scope_of(staff).administered_community_ids()
    if communities:
        grids = Grid.select(Grid.id).where(Grid.community.in_(communities))
        buildings = Building.select(Building.id).where(Building.grid.in_(grids))
        partners = PartnerEnterprise.select(PartnerEnterprise.id).where(PartnerEnterprise.community.in_(communities))
        ids = ids | RoleGrant.select(RoleGrant.user).where(
            (RoleGrant.community.in_(communities) & RoleGrant.role.in_(["volunteer", "community_admin"]))
            | RoleGrant.partner.in_(partners)
            | RoleGrant.grid.in_(grids)
            | RoleGrant.building.in_(buildings)
        )
    return User.select().where(User.id.in_(ids))


def search_people(staff: User, text: str = "") -> list[User]:
    """By name or phone number (any part of it: the last four digits are what people remember)."""
    query = people_in_scope(staff)
    text = (text or "").strip()[:50]
    digits = re.sub(r"[\s\-()]", "", text).removeprefix("+86")
    if digits.isdigit():
        query = query.where(User.phone.contains(digits))
    elif text:
        query = query.where(User.display_name.contains(text))
    return list(query.order_by(User.display_name, User.id).limit(PEOPLE_PAGE_SIZE + 1))


def person_in_scope(staff: User, user_id: int) -> User:
    person = people_in_scope(staff).where(User.id == user_id).first()
    if person is None:
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    return person


def reveal_person(staff: User, user_id: int, shown: str = "address") -> User:
    """A person in scope for the page that shows their personal data: their home address, or on
    purpose their full phone number (shown="phone"). Each reveal is kept in the audit log (PIPL),
    here rather than in a page, so any other way of showing them records it alike."""
    person = person_in_scope(staff, user_id)
    audit.record(staff, "users.personal_data.viewed", person, shown=shown)
    return person


def roles_by_person(user_ids) -> dict[int, list[str]]:
    roles: dict[int, list[str]] = {}
    for grant in RoleGrant.select(RoleGrant.user, RoleGrant.role).where(RoleGrant.user.in_(list(user_ids) or [0])):
        roles.setdefault(grant.user_id, []).append(grant.role)
    return {user_id: sorted(set(held), key=ROLES.index) for user_id, held in roles.items()}


def grant_scope(grant: RoleGrant) -> tuple[int | None, str]:
    """The community a grant lies in (None for street-wide roles) and the name of its scope."""
    if grant.household_id:
        household = grant.household
        return household.building.grid.community_id, household.address()
    if grant.building_id:
        building = grant.building
        return building.grid.community_id, f"{building.grid.community.name} {building.grid.name} {building.name}"
    if grant.grid_id:
        return grant.grid.community_id, f"{grant.grid.community.name} {grant.grid.name}"
    if grant.community_id:
        return grant.community_id, grant.community.name
    if grant.partner_id:
        return grant.partner.community_id, grant.partner.name
    if grant.department:
        return None, grant.department
    return None, _("the whole street")


def _scope_ids(grant: RoleGrant) -> dict:
    """The grant's scope for the audit log, by id: names change, and a revoked grant is gone."""
    field = SCOPE_OF_ROLE.get(grant.role)
    if field is None:
        return {}
    return {field: getattr(grant, field if field == "department" else f"{field}_id")}


def roles_grantable_by(staff: User) -> tuple[str, ...]:
    if _is_admin(staff):
        return ADMIN_GRANTS
    return COMMUNITY_GRANTS if access.scope_of(staff).administered_community_ids() else ()


def _may_manage(staff: User, role: str, community_id: int | None, revoking: bool = False) -> bool:
    if _is_admin(staff):
        return role in ADMIN_GRANTS
    allowed = COMMUNITY_REVOKES if revoking else COMMUNITY_GRANTS
    return role in allowed and community_id is not None and access.scope_of(staff).administers(community_id)


def may_revoke(staff: User, grant: RoleGrant) -> bool:
    return _may_manage(staff, grant.role, grant_scope(grant)[0], revoking=True)


def may_set_active(staff: User, person: User) -> bool:
    """Admins may switch anyone off; a community administrator only people whose every role
    they could take away themselves, so no one can lock out their superiors."""
    if person.id == staff.id:
        return False
    if _is_admin(staff):
        return True
    if not access.scope_of(staff).administered_community_ids():
        return False
    return all(grant.role == "resident" or may_revoke(staff, grant) for grant in person.grants)


def _lock_admin_grants() -> None:
    """Take the admin grants' row locks (in id order) so that two administrators removing each
    other at the same moment cannot both succeed and leave the street with none. SQLite's
    IMMEDIATE transactions already run one at a time."""
    if db.for_update:
        list(RoleGrant.select(RoleGrant.id).where(RoleGrant.role == "admin").order_by(RoleGrant.id).for_update())


def _other_active_admins(grant_id: int | None = None, user_id: int | None = None) -> int:
    query = RoleGrant.select(RoleGrant.user).join(User, on=(RoleGrant.user == User.id)).where(
        RoleGrant.role == "admin", User.active == True  # noqa: E712
    )
    if grant_id is not None:
        query = query.where(RoleGrant.id != grant_id)
    if user_id is not None:
        query = query.where(RoleGrant.user != user_id)
    return query.distinct().count()


_SCOPE_MISSING = {
    "community": _l("Please choose the community."),
    "grid": _l("Please choose the grid."),
    "building": _l("Please choose the building."),
    "partner": _l("Please choose the partner."),
    "department": _l("Please give the department, such as the civil affairs section."),
}
_SCOPE_MODELS = {"community": Community, "grid": Grid, "building": Building, "partner": PartnerEnterprise}


def grant_role_in_scope(
    staff: User,
    user_id: int,
    role: str,
    *,
    community_id: int | None = None,
    grid_id: int | None = None,
    building_id: int | None = None,
    partner_id: int | None = None,
    department: str | None = None,
) -> RoleGrant:
    """Give a person in the staff member's scope a role in a place the staff member runs.
    Only the scope the role needs is read; the others are ignored."""
    with db.atomic():
        person = person_in_scope(staff, user_id)
        grantable = roles_grantable_by(staff)
        if not grantable:
            raise DomainError(_("Only community administrators and administrators can give roles."), "role", 403,
                              code="forbidden")
        if not role:
            raise DomainError(_("Please choose a role."), "role", code="invalid")
        if role not in grantable:
            label = role_label(role) if role in ROLES else role[:20]
            raise DomainError(_("You may not give the role “%(role)s”.", role=label), "role", 403, code="forbidden")
        field = SCOPE_OF_ROLE[role]
        values = {"user": person.id, "role": role}
        if field == "department":
            department = (department or "").strip()[:100]
            if not department:
                raise DomainError(str(_SCOPE_MISSING[field]), field, code="invalid")
            values[field] = department
        elif field is not None:
            wanted = {"community": community_id, "grid": grid_id, "building": building_id, "partner": partner_id}[field]
            model = _SCOPE_MODELS[field]
            place = model.get_or_none(model.id == wanted) if wanted else None
            if place is None:
                raise DomainError(str(_SCOPE_MISSING[field]), field, code="invalid")
            values[field] = place.id
        grant = RoleGrant(**values)
        if not _may_manage(staff, role, grant_scope(grant)[0]):
            raise DomainError(_("Please choose a place in a community you administer."), field, 403, code="forbidden")
        duplicate = RoleGrant.select().where(*[getattr(RoleGrant, k) == v for k, v in values.items()])
        if duplicate.exists():
            raise DomainError(_("%(name)s already has this role here.", name=person.display_name), "role", 409,
                              code="already_granted")
        grant.granted_by = staff.id
        grant.save()
        audit.record(staff, "users.role.granted", person, role=role, grant=grant.id, **_scope_ids(grant))
        return grant


def revoke_role(staff: User, user_id: int, grant_id: int) -> RoleGrant:
    """Take a role away; it stops working on the person's next request (grants are read afresh
    every request). Never one's own admin role, and never the street's last administrator."""
    with db.atomic():
        person = person_in_scope(staff, user_id)
        grant = RoleGrant.get_or_none(RoleGrant.id == grant_id, RoleGrant.user == person.id)
        if grant is None:
            raise DomainError(_("This role was not found."), status=404, code="not_found")
        if grant.role == "resident":
            raise DomainError(_("A household is changed through residency verification, not here."), status=409,
                              code="not_allowed")
        if not may_revoke(staff, grant):
            raise DomainError(_("You may not take away the role “%(role)s”.", role=role_label(grant.role)), status=403,
                              code="forbidden")
        if grant.role == "admin":
            if grant.user_id == staff.id:
                raise DomainError(_("You cannot take away your own administrator role. Ask another administrator."), status=409,
                                  code="own_account")
            _lock_admin_grants()
            if _other_active_admins(grant_id=grant.id) == 0:
                raise DomainError(_("There must always be at least one administrator."), status=409, code="last_admin")
        RoleGrant.delete().where(RoleGrant.id == grant.id).execute()
        audit.record(staff, "users.role.revoked", person, role=grant.role, grant=grant.id, **_scope_ids(grant))
        return grant


def set_account_active(staff: User, user_id: int, active: bool) -> User:
    """Switch an account off or on. Switching off ends every session of the person at once
    (set_active), so a copied cookie is refused on the next request."""
    with db.atomic():
        person = person_in_scope(staff, user_id)
        if person.id == staff.id:
            raise DomainError(_("You cannot switch off your own account."), status=409, code="own_account")
        if not may_set_active(staff, person):
            raise DomainError(_("Only an administrator can switch this account off or on."), status=403,
                              code="admins_only")
        if person.active == active:
            return person  # a second click changes nothing
        if not active and RoleGrant.select().where(RoleGrant.user == person.id, RoleGrant.role == "admin").exists():
            _lock_admin_grants()
            if _other_active_admins(user_id=person.id) == 0:
                raise DomainError(_("There must always be at least one administrator."), status=409, code="last_admin")
        set_active(staff, person, active)
        return User.get_by_id(person.id)
