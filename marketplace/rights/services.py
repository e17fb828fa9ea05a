"""Everything the site holds about one person, gathered in one place (PIPL Art. 45: the right
to see and copy one's personal information).

The copy holds the person's own data and what was done with it, never another person's: a
helper or a staff member who acted on a request is named by their part ("you", "a helper",
"staff"), a shop by its business name. Two exceptions name people: the audit trail of staff who
viewed the person's contact details, which the person is entitled to know (who and when), and
their family links, which the person and the family member agreed to together.
"""

from marketplace.audit import AuditLog
from marketplace.care import personal as care
from marketplace.events.models import Attendance, Event, Signup
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account
from marketplace.menu.models import ServiceItem
from marketplace.notifications.models import Delivery, Notification
from marketplace.places.models import Household
from marketplace.proxy.models import FamilyLink
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.shop.models import Offer, Voucher
from marketplace.users.models import ResidencyApplication, RoleGrant, User

# Audit actions that record someone looking at this person's contact details or personal data.
VIEWED_ACTIONS = ("users.personal_data.viewed", "requests.personal_data.viewed")
SCHEMA_VERSION = 1


def _when(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _part(actor_id, person_id, claimer_id=None) -> str:
    if actor_id is None:
        return "system"
    if actor_id == person_id:
        return "you"
    if claimer_id is not None and actor_id == claimer_id:
        return "helper"
    return "staff"


def _account(user: User) -> dict:
    return {"id": user.id, "phone": user.phone, "display_name": user.display_name, "locale": user.locale,
            "active": user.active, "created_at": _when(user.created_at)}


def _roles(user: User) -> list[dict]:
    return [{"role": grant.role, "since": _when(grant.created_at)}
            for grant in RoleGrant.select().where(RoleGrant.user == user.id).order_by(RoleGrant.id)]


def _households(user: User) -> list[dict]:
    applications = (ResidencyApplication.select(ResidencyApplication, Household)
                    .join(Household).where(ResidencyApplication.user == user.id).order_by(ResidencyApplication.id))
    return [{"household": app.household.address(), "status": app.status, "reason": app.reason,
             "applied_at": _when(app.created_at)} for app in applications]


def _family_links(user: User) -> list[dict]:
    """Who may act for the person and for whom they may act (proxy.models.FamilyLink): the other
    side is named, as the person sees it on their own page, since a link needs both to agree."""
    links = FamilyLink.select().where((FamilyLink.resident == user.id) | (FamilyLink.family == user.id))
    return [{"as": "resident" if link.resident_id == user.id else "family",
             "with": (link.family if link.resident_id == user.id else link.resident).display_name,
             "relation": link.relation, "state": link.state, "asked_at": _when(link.asked_at),
             "consented_at": _when(link.consented_at), "ended_at": _when(link.ended_at)}
            for link in links.order_by(FamilyLink.id)]


def _requests(user: User) -> list[dict]:
    requests = list(ServiceRequest.select(ServiceRequest, ServiceItem).join(ServiceItem)
                    .where(ServiceRequest.resident == user.id).order_by(ServiceRequest.id))
    timeline: dict[int, list[dict]] = {}
    if requests:
        events = RequestEvent.select().where(RequestEvent.request.in_([r.id for r in requests])).order_by(RequestEvent.id)
        for event in events:
            owner = next(r for r in requests if r.id == event.request_id)
            timeline.setdefault(event.request_id, []).append({
                "at": _when(event.created_at), "action": event.action, "from": event.from_state, "to": event.to_state,
                "by": _part(event.actor_id, user.id, owner.claimer_id),
                "note": event.note if event.actor_id == user.id else "",
            })
    return [{
        "id": r.id, "item": r.item.code, "description": r.description, "state": r.state,
        "preferred_date": r.preferred_date.isoformat() if r.preferred_date else None, "preferred_period": r.preferred_period,
        "has_photo": bool(r.photo), "created_at": _when(r.created_at),
        "helper": r.claimer_partner.name if r.claimer_partner_id else ("volunteer" if r.claimer_id else None),
        "rating": r.rating, "rating_comment": r.rating_comment, "timeline": timeline.get(r.id, []),
    } for r in requests]


def _events(user: User) -> dict:
    signups = (Signup.select(Signup, Event).join(Event).where(Signup.user == user.id).order_by(Signup.id))
    attendances = (Attendance.select(Attendance, Event).join(Event).where(Attendance.user == user.id)
                   .order_by(Attendance.id))
    return {
        "signups": [{"event": s.event.title, "starts_at": _when(s.event.starts_at), "status": s.status} for s in signups],
        "attendance": [{"event": a.event.title, "checked_in_at": _when(a.checked_in_at),
                        "checked_out_at": _when(a.checked_out_at), "hours": round(a.hours, 2), "state": a.state}
                       for a in attendances],
    }


def _points(user: User) -> dict:
    account = Account.get_or_none(Account.user == user.id)
    if account is None:
        return {"balance": 0, "transfers": []}
    from marketplace.ledger.statements import memo_text, statement

    return {
        "account": account.code, "balance": ledger.balance_of(account),
        "transfers": [{"at": _when(t.created_at), "points": int(t.signed), "balance_after": int(t.running), "kind": t.kind,
                       "memo": memo_text(t)} for t in statement(account)],
    }


def _vouchers(user: User) -> list[dict]:
    vouchers = Voucher.select(Voucher, Offer).join(Offer).where(Voucher.holder == user.id).order_by(Voucher.id)
    return [{"offer": v.offer.title, "code": v.code, "status": v.status, "issued_at": _when(v.created_at),
             "used_at_place": v.used_at_place} for v in vouchers]


def _messages(user: User) -> list[dict]:
    notes = list(Notification.select().where(Notification.user == user.id).order_by(Notification.id))
    deliveries: dict[int, list[dict]] = {}
    for d in Delivery.select().where(Delivery.user == user.id).order_by(Delivery.id):
        deliveries.setdefault(d.notification_id, []).append(
            {"channel": d.channel, "state": d.state, "attempts": d.attempts,
             "created_at": _when(d.created_at)})
    return [{"kind": n.kind, "text": n.text, "link": n.link, "created_at": _when(n.created_at),
             "read_at": _when(n.read_at), "deliveries": deliveries.get(n.id, [])} for n in notes]


def _viewed_by_staff(user: User, request_ids: list[int]) -> list[dict]:
    about_me = (AuditLog.object_type == "User") & (AuditLog.object_id == user.id)
    if request_ids:
        about_me |= (AuditLog.object_type == "ServiceRequest") & AuditLog.object_id.in_(request_ids)
    entries = (AuditLog.select(AuditLog, User).join(User, on=(AuditLog.actor == User.id))
               .where(AuditLog.action.in_(VIEWED_ACTIONS) & about_me & (AuditLog.actor != user.id))
               .order_by(AuditLog.id))
    return [{"at": _when(e.created_at), "by": e.actor.display_name, "what": e.action} for e in entries]


def personal_data(user: User) -> dict:
    """The person's copy: account, household, requests with their timelines and ratings, events
    and hours, points statement, vouchers, messages with their deliveries, who among the staff
    viewed their personal data, their family links, and what care keeps about them."""
    requests = _requests(user)
    return {
        "schema_version": SCHEMA_VERSION,
        "account": _account(user),
        "roles": _roles(user),
        "households": _households(user),
        "family_links": _family_links(user),
        "requests": requests,
        "events": _events(user),
        "points": _points(user),
        "vouchers": _vouchers(user),
        "messages": _messages(user),
        "viewed_by_staff": _viewed_by_staff(user, [r["id"] for r in requests]),
        "care": care.personal_data_of(user),
    }
