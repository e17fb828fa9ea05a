"""The audit log in the reader's words: what each dotted action means, what each detail is, and
account codes, roles and times as a person reads them (times in the community's zone).

The chain keeps the stable dotted names and raw values (they are what is hashed and searched);
only the page and its CSV translate them."""

import re
from datetime import UTC, datetime

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "care.member.added": _l("Added a resident to the key-group register"),
    "care.pair.created": _l("Paired a volunteer with a resident for care visits"),
    "care.pair.paused": _l("Paused a care pair"),
    "care.pair.resumed": _l("Resumed a care pair"),
    "care.pair.ended": _l("Ended a care pair"),
    "care.register.viewed": _l("Looked at the key-group register"),
    "care.visit.confirmed_by_phone": _l("Recorded a care visit after a phone call"),
    "events.attendance.checked_in_by_hand": _l("Checked a volunteer in by hand"),
    "events.attendance.checked_out_by_hand": _l("Checked a volunteer out by hand"),
    "events.attendance.honour_approved": _l("Approved honour hours as the second staff member"),
    "events.badge.replaced": _l("Replaced a volunteer's badge"),
    "events.correction.approved": _l("Approved a correction of a volunteer's hours"),
    "events.correction.declined": _l("Declined a correction of a volunteer's hours"),
    "events.correction.requested": _l("Asked for a correction of one's hours"),
    "events.event.cancelled": _l("Cancelled an event"),
    "events.event.created": _l("Created an event"),
    "events.event.published": _l("Published an event"),
    "events.event.updated": _l("Changed an event"),
    "events.poster.reissued": _l("Issued a new door poster"),
    "events.roster.downloaded": _l("Downloaded an event's roster"),
    "events.roster.viewed": _l("Looked at volunteers' phone numbers on a roster"),
    "ledger.adjustment.pending": _l("Asked for a points adjustment"),
    "ledger.adjustment.posted": _l("Adjusted points"),
    "ledger.adjustment.approved": _l("Approved a points adjustment"),
    "ledger.adjustment.rejected": _l("Rejected a points adjustment"),
    "menu.item.created": _l("Added a menu item"),
    "menu.item.restored": _l("Put a menu item back"),
    "menu.item.retired": _l("Took a menu item off the menu"),
    "menu.item.updated": _l("Changed a menu item"),
    "partners.invite.accepted": _l("Accepted a partner invitation"),
    "partners.invite.created": _l("Invited a partner's staff member"),
    "partners.invite.withdrawn": _l("Withdrew a partner invitation"),
    "partners.partner.created": _l("Added a partner"),
    "places.building.created": _l("Added a building"),
    "places.building.renamed": _l("Renamed a building"),
    "places.grid.created": _l("Added a grid"),
    "places.grid.renamed": _l("Renamed a grid"),
    "places.community.renamed": _l("Renamed a community"),
    "places.households.added": _l("Added households"),
    "public.fund_use.published": _l("Published a fund-use entry"),
    "public.fund_use.withdrawn": _l("Withdrew a fund-use entry"),
    "requests.escalated": _l("Passed a request to a street department"),
    "requests.exported": _l("Downloaded requests as CSV"),
    "requests.give_feedback": _l("Recorded the feedback given to a resident"),
    "requests.explain_reasons": _l("Recorded the reasons explained to a resident"),
    "requests.solve": _l("Recorded a matter as solved"),
    "requests.reopen.reopen": _l("Reopened a matter one level higher"),
    "requests.reopen.decline": _l("Declined to reopen a matter"),
    "requests.personal_data.viewed": _l("Looked at a resident's address and phone"),
    "requests.resolve_confirm": _l("Settled a dispute: confirmed and paid"),
    "requests.resolve_redo": _l("Settled a dispute: the helper comes back"),
    "requests.resolve_cancel": _l("Settled a dispute: cancelled the request"),
    "shop.listing.approved": _l("Approved a flea-market listing"),
    "shop.listing.rejected": _l("Rejected a flea-market listing"),
    "shop.offer.created": _l("Added a mall offer"),
    "shop.offer.withdrawn": _l("Withdrew a mall offer"),
    "users.account.activated": _l("Switched an account on"),
    "users.account.closed": _l("Closed an account and anonymised its personal data"),
    "users.account.deactivated": _l("Switched an account off"),
    "users.password.code_issued": _l("Gave a one-time code to set a new password"),
    "users.password.reset": _l("Set a new password with a one-time code"),
    "users.people.exported": _l("Downloaded people as CSV"),
    "users.token.issued_by_operator": _l("An operator made an API token for an account"),
    "users.personal_data.viewed": _l("Looked at a person's phone number"),
    "users.phone.changed": _l("Changed a phone number"),
    "users.residency.rejected": _l("Turned down a residency application"),
    "users.residency.verified": _l("Verified a resident"),
    "users.role.granted": _l("Gave a role"),
    "users.role.revoked": _l("Took a role away"),
    "users.volunteer.approved": _l("Approved a volunteer"),
    "users.volunteer.rejected": _l("Turned down a volunteer"),
    "workdays.day.removed": _l("Removed a day from the working-day calendar"),
    "workdays.days.set": _l("Set days in the working-day calendar"),
    "workdays.imported": _l("Imported the working-day calendar"),
}

DETAIL_LABELS = {
    "account": _l("Points account"), "amount": _l("Points"), "amount_fen": _l("Amount (fen)"),
    "approved_by": _l("Approved by"), "at": _l("Time"), "capacity": _l("Places"), "code": _l("Code"),
    "community": _l("Community"), "day": _l("Day"), "days": _l("Days"), "department": _l("Department"),
    "direction": _l("Add or take away"), "first": _l("First day"), "flea_market": _l("Flea market"),
    "grant": _l("Role grant"), "grid": _l("Grid"), "building": _l("Building"), "household": _l("Household"),
    "item": _l("Menu item"), "last": _l("Last day"), "list": _l("List"), "major": _l("Major matter"),
    "minutes": _l("Minutes"), "name": _l("Name"), "new": _l("New"), "note": _l("Note"), "old": _l("Before"),
    "partner": _l("Partner"), "points": _l("Points"), "purpose": _l("Purpose"), "reason": _l("Reason"),
    "replaced": _l("Replaced"), "role": _l("Role"), "rows": _l("Rows"), "shown": _l("Shown"),
    "spent_on": _l("Spent on"), "title": _l("Title"), "units": _l("Units"), "was": _l("Was"),
    "working": _l("Working day"), "years": _l("Years"), "details": _l("Details"),
    "attendance": _l("Attendance"), "checked_in_at": _l("Arrived at"), "checked_out_at": _l("Left at"),
    "members": _l("People on the register"), "volunteer": _l("Volunteer"), "frequency": _l("How often"),
    "starts_on": _l("From"), "due_on": _l("Visit day"), "group": _l("Key group"),
}

VALUE_LABELS = {
    "credit": _l("Add points"), "debit": _l("Take points away"),
    "true": _l("yes"), "false": _l("no"),
    "in": _l("checked in"), "out": _l("checked out"), "review": _l("to review"),
}

_STORED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key


def local_time(moment: datetime, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    """A stored (naive UTC) time in the community's zone."""
    return format_datetime(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment, pattern)


def detail_value(key: str, value: str, account_names: dict[str, str], role_label) -> str:
    """Codes as a person reads them: an account's owner, a role's name, a stored UTC time in local time."""
    if key == "account" and value in account_names:
        return account_names[value]
    if key == "role":
        return role_label(value)
    if _STORED_TIME.match(value):
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    label = VALUE_LABELS.get(value)
    return str(label) if label is not None else value


def readable_details(entries, raw_details) -> dict[int, list[tuple[str, str]]]:
    """Each entry's details as (label, value) in the reader's words; account codes named with one query."""
    from marketplace.ledger.models import Account
    from marketplace.ledger.statements import account_labels
    from marketplace.users.roles import role_label

    rows = {entry.id: raw_details(entry) for entry in entries}
    codes = {value for details in rows.values() for key, value in details if key == "account"}
    accounts = {a.id: a.code for a in Account.select(Account.id, Account.code).where(Account.code.in_(list(codes) or [""]))}
    names = {accounts[i]: label for i, label in account_labels(accounts).items()}
    return {entry_id: [(detail_label(key), detail_value(key, value, names, role_label)) for key, value in details]
            for entry_id, details in rows.items()}
