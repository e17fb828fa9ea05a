"""The request lifecycle as one table, read by the services and by the tests.

Each row: (from state, action, to state, who may). "Who" is one of:
  resident  - the resident who asked
  provider  - a volunteer or partner's staff member allowed to do this item
  claimer   - the one who claimed it (or a colleague at the same partner)
  staff     - staff whose scope covers the household
  system    - the app itself (auto-confirmation after 3 working days)

The state groups below are the only lists of states: the figures, work queues, exports,
overview, scheduler, API and pages all read them.
"""

STATES = ("open", "claimed", "done", "confirmed", "cancelled", "disputed")

# Waiting for us (a helper or the staff): the states a deadline can pass in. "done" waits for
# the resident, not for us, so it is never late.
CAN_BE_LATE = ("open", "claimed", "disputed")
IN_PROGRESS = ("open", "claimed", "done", "disputed")  # the overview's "in progress"
HANDLED = ("done", "confirmed")
CLOSED = ("confirmed", "cancelled")  # nothing more to do: not escalated, no feedback owed
RATEABLE = ("confirmed",)  # the resident rates once it is finished

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
# Acts on a request that move no state, offered beside the transitions (available_actions).
SIDE_ACTIONS = ("rate", "escalate", "solve", "give_feedback", "explain_reasons", "request_reopen", "decide_reopen")
# Every action a person may be offered, in a stable order: the API documents these names.
PERSON_ACTIONS = tuple(dict.fromkeys(
    [action for _from, action, _to, who in TRANSITIONS if who != "system"] + list(SIDE_ACTIONS)))


def find(state: str, action: str):
    """The (to state, who) for an action from a state, or None when not allowed from it."""
    for from_state, name, to_state, who in TRANSITIONS:
        if from_state == state and name == action:
            return to_state, who
    return None


def actions_from(state: str) -> list[tuple[str, str]]:
    return [(action, who) for from_state, action, _to, who in TRANSITIONS if from_state == state]
