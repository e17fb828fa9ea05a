"""Authorization in one place.

Every view declares who may use it with `@allow(...)`; a hook checks it before the view runs
and refuses any endpoint that declares nothing (fail closed). Object scope (which household,
building, grid, community or partner a person covers) is decided by `scope_of(user)` below,
and nowhere else.
"""

from dataclasses import dataclass

from flask import abort, current_app, g, has_request_context, request
from flask_login import current_user

from marketplace.places.models import Building, Community, Grid, Household
from marketplace.users.models import STAFF_ROLES, RoleGrant

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any active account
STAFF = STAFF_ROLES


def allow(*who):
    """Declare who may use a view: PUBLIC, SIGNED_IN, or role names (admin always may)."""
    flat = frozenset(w for item in who for w in ((item,) if isinstance(item, str) else item))

    def decorator(view):
        view.allowed = flat
        return view

    return decorator


def grants(user) -> list[RoleGrant]:
    """The user's role grants, read once per request (so a revoked role counts at once)."""
    if user is None or not user.is_authenticated:
        return []
    if not has_request_context():  # a periodic job: no request to cache for
        return list(RoleGrant.select().where(RoleGrant.user == user.id))
    cache = g.setdefault("_grants", {})
    if user.id not in cache:
        loaded = getattr(user, "grants_at_load", None)  # read with the session (users.accounts.load_session)
        cache[user.id] = loaded if loaded is not None else list(RoleGrant.select().where(RoleGrant.user == user.id))
    return cache[user.id]


def roles(user) -> set[str]:
    return {grant.role for grant in grants(user)}


def has_role(user, *wanted) -> bool:
    held = roles(user)
    return "admin" in held or bool(held.intersection(wanted))


def is_staff(user) -> bool:
    return has_role(user, *STAFF_ROLES)


def _check_request():
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: Flask answers 404 itself
    view = current_app.view_functions[endpoint]
    allowed = getattr(view, "allowed", None)
    if allowed is None:
        abort(403)  # a route that declares nothing is closed to everyone
    if PUBLIC in allowed:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if SIGNED_IN in allowed or has_role(current_user, *allowed):
        return None
    abort(403)


def init_app(app) -> None:
    app.before_request(_check_request)


# ---- object scope -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one person covers, read from their role grants: the one answer every query, check,
    figure, CSV and periodic job asks (DESIGN.md: "a rule is written once").

    - `everything`: an admin, who covers and may do everything;
    - `street_wide`: an admin or a street officer, who covers every household and every
      community's events (a street officer is read-wide but administers no community);
    - `communities`: the communities the person administers (community_admin);
    - `grids`, `buildings`: the grids and buildings they are responsible for;
    - `door_communities`: the communities their grids and buildings lie in, whose events they
      help run at the door (see marketplace.events.permissions);
    - `department`: a street officer's department, if any;
    - `partners`: the partner enterprises they staff, in the order they were granted.
    """

    user_id: int | None = None
    roles: frozenset = frozenset()
    everything: bool = False
    street_wide: bool = False
    communities: frozenset = frozenset()
    grids: frozenset = frozenset()
    buildings: frozenset = frozenset()
    door_communities: frozenset = frozenset()
    department: str | None = None
    partners: tuple = ()

    @property
    def is_staff(self) -> bool:
        return bool(self.roles.intersection(STAFF_ROLES))

    def households(self):
        """Ids of the households the person is responsible for, as a subquery."""
        if self.street_wide:
            return Household.select(Household.id)
        condition = (
            Grid.community.in_(sorted(self.communities) or [0])
            | Building.grid.in_(sorted(self.grids) or [0])
            | Household.building.in_(sorted(self.buildings) or [0])
        )
        return Household.select(Household.id).join(Building).join(Grid).where(condition)

    def covers_household(self, household) -> bool:
        household_id = getattr(household, "id", household)
        return self.households().where(Household.id == household_id).exists()

    def administered_community_ids(self) -> list[int]:
        """Communities whose map, menu, partners, volunteers and events the person runs."""
        if self.everything:
            return [c.id for c in Community.select(Community.id).order_by(Community.id)]
        return sorted(self.communities)

    def administers(self, community_id) -> bool:
        if self.everything:  # still only a community that exists: an admin's unknown id is not found
            return community_id in self.administered_community_ids()
        return community_id in self.communities

    def covers_community(self, community_id) -> bool:
        """Whether the person works in this community at all: runs it, or a part of it."""
        return self.street_wide or community_id in self.communities or community_id in self.door_communities

    def staffs_partner(self, partner_id) -> bool:
        return partner_id in self.partners


NO_SCOPE = Scope()


def _scope_from(user_id: int, held: list[RoleGrant]) -> Scope:
    roles_held = frozenset(grant.role for grant in held)
    grids = frozenset(grant.grid_id for grant in held if grant.role == "grid_admin")
    buildings = frozenset(grant.building_id for grant in held if grant.role == "building_head")
    door = set()
    if grids:
        door |= {row.community_id for row in Grid.select(Grid.community).where(Grid.id.in_(sorted(grids)))}
    if buildings:
        rows = Grid.select(Grid.community).join(Building).where(Building.id.in_(sorted(buildings)))
        door |= {row.community_id for row in rows}
    return Scope(
        user_id=user_id,
        roles=roles_held,
        everything="admin" in roles_held,
        street_wide=bool(roles_held.intersection(("admin", "street_officer"))),
        communities=frozenset(grant.community_id for grant in held if grant.role == "community_admin"),
        grids=grids,
        buildings=buildings,
        door_communities=frozenset(door),
        department=next((grant.department for grant in held if grant.role == "street_officer"), None),
        partners=tuple(grant.partner_id for grant in sorted(held, key=lambda gr: gr.id)
                       if grant.role == "partner_staff"),
    )


def scope_of(user) -> Scope:
    """What the user covers. Computed once per request (like `grants`); outside a request (a
    periodic job) it is simply computed afresh on each call."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if not has_request_context():
        return _scope_from(user.id, grants(user))
    cache = g.setdefault("_scopes", {})
    if user.id not in cache:
        cache[user.id] = _scope_from(user.id, grants(user))
    return cache[user.id]
