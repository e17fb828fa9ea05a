"""The request lifecycle as one table, read by the services and by the tests.

Each row: (from state, action, to state, who may). "Who" is one of:
  resident  - the resident who asked
  provider  - a volunteer or partner's staff member allowed to do this item
  claimer   - the one who claimed it (or a colleague at the same partner)
  staff     - staff whose scope covers the household
  system    - the app itself (auto-confirmation after 3 working days)
"""

TRANSITIONS = (
    ("open", "claim", "claimed", "provider"),
    ("open", "cancel", "cancelled", "resident"),
    ("claimed", "release", "open", "claimer"),
    ("claimed", "cancel", "cancelled", "resident"),
    ("claimed", "finish_on_site", "confirmed", "claimer"),  # with the resident's one-time code
    ("claimed", "mark_done", "done", "claimer"),  # without it: waits for the resident
    ("done", "confirm", "confirmed", "resident"),
    ("done", "dispute", "disputed", "resident"),
    ("done", "auto_confirm", "confirmed", "system"),
    ("disputed", "resolve_confirm", "confirmed", "staff"),
    ("disputed", "resolve_redo", "claimed", "staff"),
    ("disputed", "resolve_cancel", "cancelled", "staff"),
)

ACTIONS = {action for _from, action, _to, _who in TRANSITIONS}


def find(state: str, action: str):
    """The (to state, who) for an action from a state, or None when not allowed from it."""
    for from_state, name, to_state, who in TRANSITIONS:
        if from_state == state and name == action:
            return to_state, who
    return None


def actions_from(state: str) -> list[tuple[str, str]]:
    return [(action, who) for from_state, action, _to, who in TRANSITIONS if from_state == state]
