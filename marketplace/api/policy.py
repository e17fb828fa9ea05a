"""The points policy (earning caps and expiry) in plain words, with what the caps held back of
the caller's earnings and what expired: the points page of a phone app."""

from marketplace.access import SIGNED_IN
from marketplace.api.registry import component, operation
from marketplace.api.schema import iso
from marketplace.ledger import policy
from marketplace.ledger.models import CAP_RULES, CAP_SOURCES

POLICY = component("PointsPolicy", {
    "type": "object",
    "required": ["lines", "capped_points", "capped_hours", "expired_points", "capped"],
    "properties": {
        "lines": {"type": "array", "items": {"type": "string"},
                  "description": "The policy in plain words, in the caller's language."},
        "capped_points": {"type": "integer", "description": "Held back from the caller by the caps so far."},
        "capped_hours": {"type": "number"},
        "expired_points": {"type": "integer", "description": "The caller's points that expired."},
        "capped": {"type": "array", "description": "The latest earnings a cap held back, newest first.", "items": {
            "type": "object", "required": ["source", "ref", "rule", "hours", "points", "at"],
            "properties": {
                "source": {"type": "string", "enum": list(CAP_SOURCES)},
                "ref": {"type": "string", "description": "attendance:<id> or request:<id>"},
                "rule": {"type": "string", "enum": list(CAP_RULES)},
                "hours": {"type": "number"},
                "points": {"type": "integer", "description": "Negative when a later correction gave some back."},
                "at": {"type": "string", "format": "date-time"},
            }}},
    },
})


@operation("GET", "/points/policy", summary="The points policy, and what the caps held back of mine", tag="points",
           allow=(SIGNED_IN,), scope="read", response=POLICY)
def points_policy(user):
    """Earning caps per day and month, and whether and when points expire, as the points page says them."""
    figures = policy.figures(user.id)
    return {"lines": policy.plain_words(), "capped_points": figures.capped_points,
            "capped_hours": round(figures.capped_minutes / 60, 2), "expired_points": figures.expired_points,
            "capped": [{"source": c.source, "ref": c.ref, "rule": c.rule, "hours": round(c.minutes / 60, 2),
                        "points": c.points, "at": iso(c.created_at)} for c in policy.capped_for(user.id)]}
