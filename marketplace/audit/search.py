"""Searching the audit log: every staff action on people, points, requests and deadlines.

Administrators see every entry. A community administrator sees what concerns their communities:
entries by the people in their scope (their staff, volunteers, partners and residents), and
entries about the objects in it (a request of one of their households, one of their partners, an
adjustment of one of their accounts ...), whoever made them; and the working-day calendar and the
service menu, which the whole street shares.
"""

import json
import re
from dataclasses import dataclass
from datetime import date

from flask import url_for
from flask_babel import lazy_gettext as _l

from marketplace import access, workdays
from marketplace.audit.chain import AuditLog
from marketplace.events.models import Attendance, Event
from marketplace.ledger import scope as ledger_scope
from marketplace.ledger.models import Account, Adjustment
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Grid
from marketplace.public.models import FundUse
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop.models import Offer
from marketplace.timeutil import utc_end_of_day, utc_start_of_day
from marketplace.users import services as user_services
from marketplace.users.models import PartnerInvite, ResidencyApplication, User, VolunteerApplication

READERS = ("community_admin",)  # and admins
PAGE_SIZE = 50
CSV_LIMIT = 10_000

OBJECT_LABELS = {
    "ServiceRequest": _l("Request"),
    "User": _l("Person"),
    "ResidencyApplication": _l("Residency application"),
    "VolunteerApplication": _l("Volunteer application"),
    "PartnerInvite": _l("Partner invitation"),
    "PartnerEnterprise": _l("Partner"),
    "Adjustment": _l("Points adjustment"),
    "Offer": _l("Mall offer or listing"),
    "Event": _l("Event"),
    "Attendance": _l("Attendance"),
    "ServiceItem": _l("Menu item"),
    "Grid": _l("Grid"),
    "Building": _l("Building"),
    "Community": _l("Community"),
    "FundUse": _l("Fund-use entry"),
    "WorkdayOverride": _l("Working-day calendar"),
}

# Areas of the log, by the first part of the action's dotted name.
AREA_LABELS = {
    "users": _l("People and roles"),
    "partners": _l("Partners"),
    "requests": _l("Requests and deadlines"),
    "ledger": _l("Points"),
    "shop": _l("Points mall"),
    "events": _l("Events and volunteer hours"),
    "workdays": _l("Working-day calendar"),
    "menu": _l("Service menu"),
    "places": _l("Community map"),
    "public": _l("Public board"),
}
STREET_WIDE_AREAS = ("workdays.", "menu.")


def visible_to(staff):
    if access.scope_of(staff).everything:
        return AuditLog.select()
    communities = access.scope_of(staff).administered_community_ids() or [0]
    households = access.scope_of(staff).households()
    partners = PartnerEnterprise.select(PartnerEnterprise.id).where(PartnerEnterprise.community.in_(communities))
    events = Event.select(Event.id).where(Event.community.in_(communities))
    people = user_services.people_in_scope(staff).select(User.id)
    about = {
        "ServiceRequest": ServiceRequest.select(ServiceRequest.id).where(ServiceRequest.household.in_(households)),
        "User": people,
        "ResidencyApplication": ResidencyApplication.select(ResidencyApplication.id).where(
            ResidencyApplication.household.in_(households)),
        "VolunteerApplication": VolunteerApplication.select(VolunteerApplication.id).where(
            VolunteerApplication.community.in_(communities)),
        "PartnerInvite": PartnerInvite.select(PartnerInvite.id).where(PartnerInvite.partner.in_(partners)),
        "PartnerEnterprise": partners,
        "Adjustment": Adjustment.select(Adjustment.id).where(
            Adjustment.account.in_(ledger_scope.accounts_in_staff_scope(staff).select(Account.id))),
        "Offer": Offer.select(Offer.id).where(Offer.community.in_(communities)),
        "Event": events,
        "Attendance": Attendance.select(Attendance.id).where(Attendance.event.in_(events)),
        "Grid": Grid.select(Grid.id).where(Grid.community.in_(communities)),
        "Building": Building.select(Building.id).join(Grid).where(Grid.community.in_(communities)),
        "FundUse": FundUse.select(FundUse.id).where(FundUse.community.in_(communities)),
    }
    condition = AuditLog.actor.in_(people)
    for object_type, ids in about.items():
        condition |= (AuditLog.object_type == object_type) & AuditLog.object_id.in_(ids)
    condition |= (AuditLog.object_type == "Community") & AuditLog.object_id.in_(communities)
    for prefix in STREET_WIDE_AREAS:
        condition |= AuditLog.action.startswith(prefix)
    return AuditLog.select().where(condition)


@dataclass
class Filters:
    actor: str = ""
    object_type: str = ""
    object_id: int | None = None
    area: str = ""
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict:
        args = {"actor": self.actor, "object_type": self.object_type, "object_id": self.object_id,
                "area": self.area, "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}
        return {k: v for k, v in args.items() if v not in (None, "")}


def search(staff, filters: Filters):
    query = visible_to(staff)
    text = filters.actor.strip()[:50]
    if text:
        digits = re.sub(r"[\s\-()]", "", text).removeprefix("+86")
        who = User.phone.contains(digits) if digits.isdigit() else User.display_name.contains(text)
        query = query.where(AuditLog.actor.in_(User.select(User.id).where(who)))
    if filters.object_type == "WorkdayOverride":  # days set and imported are about no single row
        query = query.where((AuditLog.object_type == "WorkdayOverride") | AuditLog.action.startswith("workdays."))
    elif filters.object_type:
        query = query.where(AuditLog.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditLog.object_id == filters.object_id)
    if filters.area:
        query = query.where(AuditLog.action.startswith(filters.area + "."))
    if filters.since:
        query = query.where(AuditLog.created_at >= utc_start_of_day(filters.since, workdays.local_zone()))
    if filters.until:
        query = query.where(AuditLog.created_at < utc_end_of_day(filters.until, workdays.local_zone()))
    return query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())


def actor_names(entries) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id}
    return {u.id: f"{u.display_name} ({u.masked_phone()})" for u in User.select().where(User.id.in_(list(ids) or [0]))}


def details(entry: AuditLog) -> list[tuple[str, str]]:
    try:
        values = json.loads(entry.details or "{}")
    except ValueError:
        return [("details", entry.details)]
    if not isinstance(values, dict):
        return [("details", str(values))]
    return [(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)) for key, value in values.items()]


def object_label(entry: AuditLog) -> str:
    if not entry.object_type:  # a change to the calendar, an export: about no one row
        return str(OBJECT_LABELS["WorkdayOverride"]) if entry.action.startswith("workdays.") else "—"
    label = str(OBJECT_LABELS.get(entry.object_type, entry.object_type))
    return f"{label} #{entry.object_id}" if entry.object_id is not None else label


LINKS = {
    "ServiceRequest": ("service_requests.show", "request_id"),
    "User": ("staff.person", "user_id"),
    "PartnerEnterprise": ("partners.show", "partner_id"),
    "Event": ("events.show", "event_id"),
    "Offer": ("shop.offer", "offer_id"),
}


def object_link(entry: AuditLog) -> str | None:
    """Where to look at the object, when it has a page."""
    found = LINKS.get(entry.object_type)
    if found is None or entry.object_id is None:
        return None
    endpoint, argument = found
    try:
        return url_for(endpoint, **{argument: entry.object_id})
    except Exception:  # noqa: BLE001 - a page that no longer exists: show the name without a link
        return None
