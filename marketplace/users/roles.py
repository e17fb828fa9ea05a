"""Roles and the people staff manage: granting and revoking roles in a scope, finding people,
switching accounts off and on."""

import re

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid
from marketplace.users.accounts import set_active
from marketplace.users.models import (
    ROLES,
    ResidencyApplication,
    RoleGrant,
    User,
)

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
            values[field] = _listed_department(department, field)
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


def _listed_department(name: str, field: str) -> str:
    """A street officer's grant names a department on the list (by its Chinese or English name);
    the grant keeps the Chinese name, which the department's queue and messages look up."""
    from marketplace.service_requests.models import Department

    found = Department.get_or_none(((Department.name_zh == name) | (Department.name_en == name)) & Department.active)
    if found is None:
        names = "、".join(d.name_zh for d in Department.select().where(Department.active).order_by(Department.id))
        raise DomainError(_("Please choose a department on the list: %(names)s.", names=names), field, code="invalid")
    return found.name_zh
