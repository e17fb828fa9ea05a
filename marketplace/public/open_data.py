"""The board's figures as open data: one row per community (and the whole street) and month,
with a documented schema and a licence line (issue 21).

The rows are the board's own (`public.services.board`, the stored snapshot the page reads), and a
month's average satisfaction is withheld exactly where the page withholds it
(`public_satisfaction`: never from fewer than 3 ratings, never where subtraction would reveal a
hidden one). Counts and sums only: no name, phone number or address is in these figures.
"""

from flask_babel import gettext as _

from marketplace.public import services as board_services

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
STREET = "all"  # the community code of the whole street's rows


def fields() -> list[tuple[str, str, str]]:
    """(name, JSON type, description) of a row: the JSON's keys, the CSV's header and the schema."""
    return [
        ("community", "string", _("The community's code; \"all\" for the whole street.")),
        ("community_name", "string", _("The community's name.")),
        ("month", "string", _("The month, as YYYY-MM.")),
        ("requests_made", "integer", _("Requests made in the month.")),
        ("handled", "integer", _("Requests handled in the month.")),
        ("deadline_passed_or_handled", "integer", _("Requests whose deadline passed or that were handled in the month.")),
        ("handled_on_time", "integer", _("Of those, the ones handled by their deadline.")),
        ("share_on_time_percent", "number|null", _("Handled on time as a share of those, in per cent; empty when there were none.")),
        ("ratings", "integer", _("Satisfaction ratings given in the month.")),
        ("average_satisfaction", "number|null", _(
            "The average rating, 1 to 5; empty when fewer than %(n)d ratings were given or when it would let a hidden one be worked out.",
            n=board_services.MIN_PUBLIC_RATINGS)),
        ("volunteer_hours", "number", _("Volunteer hours recorded at events in the month.")),
        ("events_held", "integer", _("Events held in the month.")),
        ("points_issued", "integer", _("Points earned by volunteers and helpers in the month.")),
        ("points_redeemed", "integer", _("Points spent at the points mall and partner shops in the month.")),
    ]


def _rounded(value, scale=1):
    return None if value is None else round(value * scale, 1)


def _rows_of(code: str, name: str, community_id: int | None) -> list[dict]:
    data = board_services.board(community_id)
    satisfaction = board_services.public_satisfaction(community_id, data)
    return [{
        "community": code, "community_name": name, "month": row.key, "requests_made": row.received,
        "handled": row.handled, "deadline_passed_or_handled": row.decided, "handled_on_time": row.on_time,
        "share_on_time_percent": _rounded(row.on_time_share, 100), "ratings": row.ratings,
        "average_satisfaction": _rounded(satisfaction(row)), "volunteer_hours": round(row.hours, 1),
        "events_held": row.events, "points_issued": row.issued, "points_redeemed": row.redeemed,
    } for row in data.months]


def rows(street_name: str) -> list[dict]:
    """Every month of the board, for the whole street and then each community."""
    found = _rows_of(STREET, street_name, None)
    for community in board_services.communities():
        found += _rows_of(community.code, community.name, community.id)
    return found


def document(street_name: str, schema_url: str, csv_url: str) -> dict:
    return {
        "title": _("%(street)s: community services, per month and community", street=street_name),
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "licence_line": _("Published by %(street)s under %(licence)s: free to share and adapt, naming the source.",
                          street=street_name, licence=LICENCE),
        "schema": schema_url,
        "csv": csv_url,
        "suppression": _("An average satisfaction from fewer than %(n)d ratings is never published.",
                         n=board_services.MIN_PUBLIC_RATINGS),
        "rows": rows(street_name),
    }


def schema() -> dict:
    """A JSON Schema (draft 2020-12) of the document, each field described in the reader's language."""
    def type_of(kind):
        return ["number", "null"] if kind == "number|null" else kind

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": _("The public board's figures as open data"),
        "type": "object",
        "required": ["licence", "licence_line", "rows"],
        "properties": {
            "title": {"type": "string"},
            "licence": {"type": "string", "const": LICENCE},
            "licence_url": {"type": "string"},
            "licence_line": {"type": "string"},
            "schema": {"type": "string"},
            "csv": {"type": "string"},
            "suppression": {"type": "string"},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [name for name, _kind, _text in fields()],
                    "properties": {name: {"type": type_of(kind), "description": text} for name, kind, text in fields()},
                },
            },
        },
    }
