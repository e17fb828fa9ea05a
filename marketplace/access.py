"""Authorization in one place.

Every view declares who may use it with `@allow(...)`; a hook checks it before the view runs
and refuses any endpoint that declares nothing (fail closed). Object scope (which household,
building, grid or community a staff member covers) is decided by `covers()` and the
`*_in_scope()` queries below, and nowhere else.
"""

from flask import abort, current_app, g, request
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
    cache = g.setdefault("_grants", {})
    if user.id not in cache:
        cache[user.id] = list(RoleGrant.select().where(RoleGrant.user == user.id))
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


def household_ids_in_scope(user):
    """Ids of the households a staff member is responsible for, as a subquery."""
    held = grants(user)
    if any(gr.role in ("admin", "street_officer") for gr in held):
        return Household.select(Household.id)
    communities = [gr.community_id for gr in held if gr.role == "community_admin"]
    grids = [gr.grid_id for gr in held if gr.role == "grid_admin"]
    buildings = [gr.building_id for gr in held if gr.role == "building_head"]
    condition = (
        Grid.community.in_(communities or [0]) | Building.grid.in_(grids or [0]) | Household.building.in_(buildings or [0])
    )
    return Household.select(Household.id).join(Building).join(Grid).where(condition)


def community_ids_administered(user) -> list[int]:
    """Communities whose map, menu and partners the user may edit."""
    held = grants(user)
    if any(gr.role == "admin" for gr in held):
        return [c.id for c in Community.select(Community.id)]
    return [gr.community_id for gr in held if gr.role == "community_admin"]


def covers(user, household: Household) -> bool:
    return household_ids_in_scope(user).where(Household.id == household.id).exists()
