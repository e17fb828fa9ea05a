"""Who may do what with an event: one table, read by the services, the pages (to hide the
buttons a person may not use) and the API alike.

A staff member stands to an event's community in one of two ways (access.scope_of decides):

- an **organiser**: an admin or a street officer (every community), or the community's own
  administrator — they run its events from draft to roster;
- at the **door**: a building head or grid administrator of one of the community's grids or
  buildings — they help check people in and out and read the roster, but the phone numbers
  shown to them are only those of the volunteers living in their own buildings or grid, and
  they do not create, edit, publish or cancel events, reissue posters or replace badges.

Anyone else does not see a community's drafts or staff pages at all (404, as a missing event).
"""

from marketplace import access
from marketplace.users.models import RoleGrant

ORGANISER = "organiser"
DOOR = "door"

# action: the standings that may do it
MATRIX = {
    "view": {ORGANISER, DOOR},  # the event's staff pages, its drafts, its volunteers' records
    "create": {ORGANISER},
    "edit": {ORGANISER},
    "publish": {ORGANISER},
    "cancel": {ORGANISER},
    "reissue_poster": {ORGANISER},
    "run_door": {ORGANISER, DOOR},  # kiosk code, printed poster, badge scanner, check-in and out by hand
    "read_roster": {ORGANISER, DOOR},
    "read_all_phones": {ORGANISER},  # the door reads only its own residents' phones
    "replace_badge": {ORGANISER},
}
ACTIONS = tuple(MATRIX)


def standing(user, community_id) -> str | None:
    """How the user stands to a community's events: ORGANISER, DOOR or None."""
    scope = access.scope_of(user)
    if scope.street_wide or community_id in scope.communities:
        return ORGANISER
    if community_id in scope.door_communities:
        return DOOR
    return None


def community_ids_for(user, action: str) -> list[int] | None:
    """The communities in whose events the user may do `action`; None means every community."""
    allowed = MATRIX[action]
    scope = access.scope_of(user)
    if scope.street_wide:
        return None
    ids = set(scope.communities) if ORGANISER in allowed else set()
    if DOOR in allowed:
        ids |= scope.door_communities
    return sorted(ids)


def may(user, action: str, event=None) -> bool:
    """May the user do `action` with this event (or, without one, with some community's events:
    "may they create any event at all")."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if event is None:
        ids = community_ids_for(user, action)
        return ids is None or bool(ids)
    return standing(user, event.community_id) in MATRIX[action]


def phones_shown(user, event, user_ids) -> set[int]:
    """Of these people on an event's roster, those whose full phone number the user may read:
    all of them for its organisers; at the door, the residents of the user's own households."""
    user_ids = list(user_ids)
    if not user_ids or not may(user, "read_roster", event):
        return set()
    if may(user, "read_all_phones", event):
        return set(user_ids)
    rows = RoleGrant.select(RoleGrant.user).where(
        RoleGrant.role == "resident", RoleGrant.user.in_(user_ids),
        RoleGrant.household.in_(access.scope_of(user).households()),
    )
    return {row.user_id for row in rows}


# ---- who may take part ------------------------------------------------------------------------

# Events are the volunteers'; besides them, rules other domains add may let a person sign up and
# check in at a given event, each (event, user) -> bool. The residents' matters add one: the
# members of the households a matter's grid meeting invites (proposals.services).
OPEN_TO: list = []


def is_volunteer(user) -> bool:
    return RoleGrant.select().where(RoleGrant.user == user.id, RoleGrant.role == "volunteer").exists() or \
        access.has_role(user, "admin")


def may_attend(event, user) -> bool:
    """Sign up for the event and check in at its door (as a volunteer, or invited by a rule)."""
    return is_volunteer(user) or (event is not None and any(rule(event, user) for rule in OPEN_TO))
