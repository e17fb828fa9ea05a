"""Acting for someone, written once (issue 16, DESIGN.md §3 "Acting on behalf").

Who may act for whom: staff whose scope covers the resident's household (`access.scope_of`),
and family members the resident consented to (`FamilyLink`, active until revoked).
Every act done for another person is recorded with both names (`ProxyAct`), the resident is
told by a message that links to a printable receipt, and the staff dashboards count the acts.
The request, event and shop services ask `may_act_for` and call `record`; they keep no rule of
their own about it.
"""

import secrets
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import Case, fn

from marketplace import access, audit, workdays
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications.services import notify
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.proxy.models import FamilyLink, PhonelessMember, ProxyAct
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

ACT_LABELS = {
    "book": _l("asked for a service"),
    "cancel": _l("cancelled the request"),
    "confirm": _l("confirmed the work was done"),
    "dispute": _l("said something was not right"),
    "rate": _l("rated the service"),
    "redeem": _l("redeemed points at the mall"),
    "propose": _l("proposed a matter for the households to decide"),
    "event_signup": _l("signed up for an event"),
    "event_cancel": _l("gave back a place at an event"),
    "event_check_in": _l("checked in at an event"),
    "event_check_out": _l("checked out of an event"),
}
MEMBER_REGISTERED = "proxy.member.registered"


def household_of(user_id: int) -> int | None:
    grant = RoleGrant.get_or_none((RoleGrant.user == user_id) & (RoleGrant.role == "resident"))
    return grant.household_id if grant else None


def may_act_for(actor, resident_id: int) -> str | None:
    """How `actor` may act for the resident: "staff" (in scope), "family" (an active link the
    resident consented to), or None. Asked afresh at every request, so a change of scope or an
    ended link counts at once."""
    if actor is None or resident_id is None or actor.id == resident_id:
        return None
    scope = access.scope_of(actor)
    household_id = household_of(resident_id)
    if scope.is_staff and household_id is not None and scope.covers_household(household_id):
        return "staff"
    if FamilyLink.select().where((FamilyLink.resident == resident_id) & (FamilyLink.family == actor.id)
                                 & (FamilyLink.state == "active")).exists():
        return "family"
    return None


def require(actor, resident_id: int) -> str:
    via = may_act_for(actor, resident_id)
    if via is None:
        raise DomainError(_("You may not act for this person (any more)."), status=403, code="not_linked")
    return via


def person_to_act_for(actor, user_id: int) -> User:
    """The person `actor` may act for, by id; anyone else answers as if they did not exist."""
    person = User.get_or_none(User.id == user_id)
    if person is None or may_act_for(actor, person.id) is None:
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    return person


def record(actor, resident, action: str, request=None, note: str = "", voucher=None, event=None) -> ProxyAct:
    """Write down an act done for the resident and tell them, with a link to its receipt. The
    caller holds the transaction of the act itself, so the record and the act stand or fall together."""
    resident_id = getattr(resident, "id", resident)
    via = require(actor, resident_id)
    act = ProxyAct.create(actor=actor.id, actor_name=actor.display_name, resident=resident_id, via=via,
                          action=action, request=getattr(request, "id", request), note=note[:200], created_at=utcnow(),
                          voucher=getattr(voucher, "id", voucher), event=getattr(event, "id", event))
    what = request.item.name_zh if request is not None else event.title if event is not None else note
    kind = "event" if event is not None else "request"  # her message settings for events apply
    notify(User.get_by_id(resident_id), kind,
           _l("%(name)s %(act)s for you: %(what)s. You can print the receipt.",
              name=actor.display_name, act=ACT_LABELS.get(action, action), what=what),
           f"/on-behalf/acts/{act.id}")
    return act


def last_act_at_event(actor, resident, event_id: int) -> ProxyAct | None:
    """The latest act `actor` did for the resident at this event (the slip to print after it)."""
    return (ProxyAct.select().where((ProxyAct.actor == actor.id) & (ProxyAct.resident == resident.id)
                                    & (ProxyAct.event == event_id))
            .order_by(ProxyAct.id.desc()).first())


def acts_for_at_event(resident, event_id: int) -> list[ProxyAct]:
    """What others did for the resident at this event, oldest first: their line on the event's
    page ("signed up for an event · done for you by 孙楼长")."""
    return list(ProxyAct.select().where((ProxyAct.resident == resident.id) & (ProxyAct.event == event_id))
                .order_by(ProxyAct.id))


def act_label(action: str) -> str:
    return str(ACT_LABELS.get(action, action))


# ---- reading the acts ------------------------------------------------------------------------


def month_start() -> datetime:
    """The first moment of this local month, as stored (naive UTC): what "this month" means to staff."""
    local = datetime.now(workdays.local_zone())
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC).replace(tzinfo=None)


def acts_this_month(viewer, everyone: bool = False):
    """The viewer's own acts of this month; with `everyone`, every act for a resident in the
    viewer's scope (a community administrator's view of all staff)."""
    query = ProxyAct.select().where(ProxyAct.created_at >= month_start())
    if everyone:
        scope = access.scope_of(viewer)
        residents = RoleGrant.select(RoleGrant.user).where(
            (RoleGrant.role == "resident") & RoleGrant.household.in_(scope.households()))
        query = query.where(ProxyAct.resident.in_(residents))
    else:
        query = query.where(ProxyAct.actor == viewer.id)
    return query.order_by(ProxyAct.id.desc())


def month_counts(viewer) -> tuple[int, int | None]:
    """The dashboard's two figures in one query: the viewer's own acts this month and, for a
    community administrator, everyone's for residents in their scope (None for others)."""
    mine = fn.SUM(Case(None, [(ProxyAct.actor == viewer.id, 1)], 0))
    this_month = ProxyAct.select().where(ProxyAct.created_at >= month_start())
    if not sees_everyones(viewer):
        return int(this_month.select(mine).scalar() or 0), None
    in_scope = ProxyAct.resident.in_(RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "resident") & RoleGrant.household.in_(access.scope_of(viewer).households())))
    own, everyone = this_month.select(mine, fn.SUM(Case(None, [(in_scope, 1)], 0))).tuples().first()
    return int(own or 0), int(everyone or 0)


def sees_everyones(viewer) -> bool:
    return access.has_role(viewer, "community_admin")


def get_receipt(viewer, act_id: int) -> ProxyAct:
    """A receipt is the resident's, the actor's, and in scope staff's to read; to others it does not exist."""
    act = ProxyAct.get_or_none(ProxyAct.id == act_id)
    if act is None or not (viewer.id in (act.resident_id, act.actor_id) or may_act_for(viewer, act.resident_id)):
        raise DomainError(_("This receipt was not found."), status=404, code="not_found")
    return act


def shows_code(act: ProxyAct) -> bool:
    """The booking slip carries the resident's on-site code while the helper may still use it, so a
    resident without a phone can hand it to the helper at the door; a mall slip, the voucher's
    code while it is unused."""
    if act.voucher is not None:
        return act.voucher.status == "issued"
    return act.action == "book" and act.request is not None and act.request.state in ("open", "claimed")


# ---- people without a mobile phone -------------------------------------------------------------


def is_phoneless(user) -> bool:
    return PhonelessMember.select().where(PhonelessMember.user == user.id).exists()


def contact_phone(user) -> str:
    """The number to call a person on: a phoneless member's landline (or nothing), else their mobile."""
    member = PhonelessMember.get_or_none(PhonelessMember.user == user.id)
    return member.landline if member is not None else user.phone


def _placeholder_phone() -> str:
    """Keeps the unique column filled with something that is never a mobile number (it starts with
    "n"), so the account can never log in."""
    return f"n{secrets.randbelow(10**10):010d}"


def households_to_register_in(staff, limit: int = 2000) -> list[Household]:
    """The households a staff member may add a member to, with their buildings, grids and
    communities read in the same query (each choice shows its full address)."""
    return list(Household.select(Household, Building, Grid, Community).join(Building).join(Grid).join(Community)
                .where(Household.id.in_(access.scope_of(staff).households())).order_by(Household.id).limit(limit))


def register_member(staff, household_id, display_name: str, landline: str = "") -> User:
    """Staff register, in person, a household member who has no mobile phone; they never log in and
    are served by proxy. Refused outside the staff member's scope."""
    display_name = (display_name or "").strip()
    landline = "".join(ch for ch in (landline or "") if ch.isdigit() or ch == "-")
    if not display_name or len(display_name) > 50:
        raise DomainError(_("Please write the person's name (up to 50 characters)."), field="display_name",
                          code="invalid")
    if len(landline) > 20:
        raise DomainError(_("Please write a landline of up to 20 digits, or leave it empty."), field="landline",
                          code="invalid")
    try:
        household_id = int(household_id)
    except (TypeError, ValueError):
        household_id = 0
    scope = access.scope_of(staff)
    if not Household.select().where(Household.id == household_id).exists():
        raise DomainError(_("Please choose the household."), field="household", code="invalid")
    if not (scope.is_staff and scope.covers_household(household_id)):
        raise DomainError(_("This household is outside the places you look after."), field="household",
                          status=403, code="out_of_scope")
    with db.atomic():
        user = User.create(phone=_placeholder_phone(), display_name=display_name, password_hash="!")
        RoleGrant.create(user=user, role="resident", household=household_id, granted_by=staff.id)
        PhonelessMember.create(user=user, landline=landline, registered_by=staff.id)
        audit.record(staff, MEMBER_REGISTERED, user, household=household_id)
    return user


def residents_in_scope(staff, query: str = "", limit: int = 50) -> list[User]:
    """The residents a staff member may act for, found by name or number."""
    scope = access.scope_of(staff)
    if not scope.is_staff:
        return []
    people = (User.select().join(RoleGrant, on=(RoleGrant.user == User.id))
              .where((RoleGrant.role == "resident") & RoleGrant.household.in_(scope.households())
                     & User.active))
    query = (query or "").strip()[:50].replace("\x00", "")
    if query:
        people = people.where(User.display_name.contains(query) | User.phone.startswith(query))
    return list(people.order_by(User.display_name, User.id).distinct().limit(limit))


# ---- family links ---------------------------------------------------------------------------

LINK_ASKED = "proxy.family.asked"


def _is_resident(user_id: int) -> bool:
    return household_of(user_id) is not None


def ask_link(family, phone: str, relation: str = "") -> None:
    """A family member asks to act for a resident, named by the resident's mobile number. The
    answer is the same whether or not the number is a resident's (nothing is learnt about a
    number); the resident is asked on their phone, or consents in person before staff."""
    from marketplace.users.accounts import normalize_phone

    phone = normalize_phone(phone)
    relation = (relation or "").strip()[:30]
    resident = User.get_or_none((User.phone == phone) & User.active)
    if resident is not None and resident.id == family.id:
        raise DomainError(_("You cannot link to your own account."), field="phone", code="own_account")
    if resident is None or not _is_resident(resident.id):
        return
    with db.atomic():
        open_link = FamilyLink.select().where(
            (FamilyLink.resident == resident.id) & (FamilyLink.family == family.id)
            & FamilyLink.state.in_(("asked", "active"))).exists()
        if open_link:
            return
        link = FamilyLink.create(resident=resident.id, family=family.id, relation=relation, asked_at=utcnow())
        notify(resident, "account", _l("%(name)s asks to act for you (book, confirm and rate services). "
                                       "Say yes or no on your page.", name=family.display_name),
               "/family/")
    return link


def _link(link_id) -> FamilyLink | None:
    try:
        return FamilyLink.get_or_none(FamilyLink.id == int(link_id))
    except (TypeError, ValueError, OverflowError):
        return None


def consent(person, link_id) -> FamilyLink:
    """The resident says yes on their phone; or staff in scope record that the resident said yes
    in person before them (the staff member is the witness)."""
    link = _link(link_id)
    if link is None:
        raise DomainError(_("This family link was not found."), status=404, code="not_found")
    if person.id == link.resident_id:
        via, witness = "phone", None
    elif may_act_for(person, link.resident_id) == "staff":
        via, witness = "in_person", person.id
    else:
        raise DomainError(_("This family link was not found."), status=404, code="not_found")
    with db.atomic():
        done = (FamilyLink.update(state="active", consented_at=utcnow(), consented_via=via, witness=witness)
                .where((FamilyLink.id == link.id) & (FamilyLink.state == "asked")).execute())
        if done != 1:
            raise DomainError(_("This family link was already answered."), status=409, code="already_decided")
        if witness:
            audit.record(person, "proxy.family.consented", link, resident=link.resident_id, family=link.family_id)
        notify(link.family, "account", _l("%(name)s agreed: you may now act for them.",
                                          name=link.resident.display_name), "/family/")
    return FamilyLink.get_by_id(link.id)


def link_in_person(staff, resident_id: int, family_phone: str, relation: str = "") -> FamilyLink:
    """Staff in scope, with the resident before them consenting, link a family member's account."""
    from marketplace.users.accounts import normalize_phone

    if may_act_for(staff, resident_id) != "staff":
        raise DomainError(_("You may not act for this person (any more)."), status=403, code="not_linked")
    phone = normalize_phone(family_phone)
    family = User.get_or_none((User.phone == phone) & User.active)
    if family is None:
        raise DomainError(_("No account has this number. The family member must sign up first."), field="phone",
                          code="not_found")
    if family.id == resident_id:
        raise DomainError(_("You cannot link to your own account."), field="phone", code="own_account")
    ask = FamilyLink.select().where((FamilyLink.resident == resident_id) & (FamilyLink.family == family.id)
                                    & FamilyLink.state.in_(("asked", "active"))).first()
    if ask is not None and ask.state == "active":
        raise DomainError(_("This family member may already act for them."), field="phone", code="already_linked")
    if ask is None:
        with db.atomic():
            ask = FamilyLink.create(resident=resident_id, family=family.id, relation=(relation or "").strip()[:30],
                                    asked_at=utcnow())
    return consent(staff, ask.id)


def end_link(person, link_id) -> FamilyLink:
    """Decline a request or revoke a consent: the resident, the family member or staff in scope.
    From the next request on, the family member may no longer act."""
    link = _link(link_id)
    if link is None or not (person.id in (link.resident_id, link.family_id)
                            or may_act_for(person, link.resident_id) == "staff"):
        raise DomainError(_("This family link was not found."), status=404, code="not_found")
    to_state = "declined" if link.state == "asked" else "revoked"
    with db.atomic():
        done = (FamilyLink.update(state=to_state, ended_at=utcnow(), ended_by=person.id)
                .where((FamilyLink.id == link.id) & FamilyLink.state.in_(("asked", "active"))).execute())
        if done != 1:
            raise DomainError(_("This family link has already ended."), status=409, code="already_decided")
        if person.id not in (link.resident_id, link.family_id):
            audit.record(person, "proxy.family.ended", link, resident=link.resident_id, family=link.family_id)
        other = link.family if person.id != link.family_id else link.resident
        notify(other, "account", _l("The family link between %(resident)s and %(family)s has ended.",
                                    resident=link.resident.display_name, family=link.family.display_name),
               "/family/")
    return FamilyLink.get_by_id(link.id)


def links_of(person) -> dict:
    """A person's family links: who may act for them (and who asks to), whom they may act for."""
    def query(condition):
        return list(FamilyLink.select().where(condition & FamilyLink.state.in_(("asked", "active")))
                    .order_by(FamilyLink.id))
    return {"for_me": query(FamilyLink.resident == person.id), "i_act_for": query(FamilyLink.family == person.id)}


def staff_for(resident) -> list[User]:
    """The staff directly responsible for a resident's building and grid (building head, grid
    administrator), named on the resident's page as people who may act for them."""
    from marketplace.places.models import Building

    household_id = household_of(resident.id)
    if household_id is None:
        return []
    household = Household.get_by_id(household_id)
    building = Building.get_by_id(household.building_id)
    grants = RoleGrant.select().where(
        ((RoleGrant.role == "building_head") & (RoleGrant.building == building.id))
        | ((RoleGrant.role == "grid_admin") & (RoleGrant.grid == building.grid_id)))
    return [grant.user for grant in grants.order_by(RoleGrant.id)]
