"""Rules of service requests: booking, the job board, the lifecycle of transitions.TRANSITIONS,
on-site confirmation, automatic confirmation, rating, escalation, and paying the provider.

Every state change is a conditional UPDATE ("... WHERE state = <expected>"), so of two people
acting at once exactly one wins and the other gets a clear answer; each one is written to the
request's history.
"""

import secrets
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit, workdays
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import policy
from marketplace.ledger import services as ledger
from marketplace.menu.models import ServiceItem
from marketplace.notifications.services import notify
from marketplace.proxy import services as proxy
from marketplace.service_requests import clocks, onsite, photos, transitions
from marketplace.service_requests.models import PERIODS, RequestEvent, ServiceRequest
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, VolunteerSkill

AUTO_CONFIRM_WORKING_DAYS = 3


# ---- who may do what -------------------------------------------------------------------------


def provider_capacity(user, item: ServiceItem) -> tuple[bool, int | None]:
    """Whether the user may take this item, and for which partner (None: as a volunteer)."""
    partners = access.scope_of(user).partners
    if partners and item.fulfilment in ("partner", "either"):
        return True, partners[0]
    if access.has_role(user, "volunteer") and item.fulfilment in ("volunteer", "either"):
        skilled = VolunteerSkill.select().where(
            VolunteerSkill.user == user.id, VolunteerSkill.category == item.category_id
        ).exists()
        return skilled, None
    return False, None


def is_claimer(user, req: ServiceRequest) -> bool:
    if req.claimer_partner_id is not None:
        return req.claimer_partner_id in access.scope_of(user).partners
    return req.claimer_id == user.id


def staff_covers(user, req: ServiceRequest) -> bool:
    scope = access.scope_of(user)
    return scope.is_staff and scope.covers_household(req.household_id)


def may_see(user, req: ServiceRequest) -> bool:
    """A request: its resident, its claimer, the staff in scope, and a family member the resident
    consented to (marketplace.proxy), who acts for them."""
    return (req.resident_id == user.id or is_claimer(user, req) or staff_covers(user, req)
            or proxy.may_act_for(user, req.resident_id) is not None)


def may_see_contact(user, req: ServiceRequest) -> bool:
    """The resident's phone, address and photo (pages, API, photo file alike): the resident and
    the staff in scope always; the helper only while the job is theirs and for
    `contact_days_after_done` days after it is done, never after a cancellation (a release has
    already taken the job from them). The least a helper needs to do the job, and no more."""
    if user is None:
        return False
    if req.resident_id == user.id or staff_covers(user, req):
        return True
    if not is_claimer(user, req):
        return False
    if req.state == "claimed":
        return True
    if req.state in (*transitions.HANDLED, "disputed") and req.done_at is not None:
        return utcnow() < req.done_at + timedelta(days=settings().contact_days_after_done)
    return False


def _allowed(who: str, user, req: ServiceRequest) -> bool:
    if who == "resident":  # or someone who may act for them (proxy.may_act_for)
        return req.resident_id == user.id or proxy.may_act_for(user, req.resident_id) is not None
    if who == "claimer":
        return is_claimer(user, req)
    if who == "staff":
        return staff_covers(user, req)
    if who == "provider":
        return provider_capacity(user, req.item)[0]
    return who == "system" and user is None


def get_visible(user, request_id: int) -> ServiceRequest:
    req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
    if req is None or not may_see(user, req):
        raise DomainError(_("This request was not found."), status=404, code="not_found")
    return auto_confirm_if_due(req)


PERSONAL_DATA_VIEWED = "requests.personal_data.viewed"


def reveal_contact(user, req: ServiceRequest) -> dict:
    """The resident's name, phone and address, for those who may see them. Staff (neither the
    resident nor the helper) leave an audit entry each time (PIPL): pages and the API show the
    contact only through here, so every way of reading it is recorded alike."""
    if not may_see_contact(user, req):
        raise DomainError(_("This request was not found."), status=404, code="not_found")
    if req.resident_id != user.id and not is_claimer(user, req):
        audit.record(user, PERSONAL_DATA_VIEWED, req)
    return {"name": req.resident.display_name, "phone": proxy.contact_phone(req.resident), "address": req.household.address()}


def available_actions(user, req: ServiceRequest) -> list[str]:
    """What this person may do with this request now, from the transition table (the rows from
    its state whose "who" they are), then rating, which moves no state. The promise acts (hand on,
    answer, reopen) are added by promises.available_actions, which pages and the API ask. The
    request page shows a button for each and the API lists them, so neither keeps its own rules."""
    if user is None:
        return []
    actions = [
        action for action, who in transitions.actions_from(req.state)
        if who != "system" and _allowed(who, user, req) and not (action == "claim" and req.resident_id == user.id)
    ]
    if req.state in transitions.RATEABLE and req.rating is None and _allowed("resident", user, req):
        actions.append("rate")
    return actions


def shows_onsite_code(user, req: ServiceRequest) -> bool:
    """The resident sees their one-time code while the helper may finish on site with it."""
    return user is not None and req.resident_id == user.id and transitions.find(req.state, "finish_on_site") is not None


# ---- booking -----------------------------------------------------------------------------------


def resident_household_id(user) -> int | None:
    grant = RoleGrant.get_or_none((RoleGrant.user == user.id) & (RoleGrant.role == "resident"))
    return grant.household_id if grant else None


def _store_photo(photo: bytes) -> str:
    if len(photo) > settings().photo_max_bytes:
        raise DomainError(
            _("The photo is too large; please send one under %(mb)d MB.", mb=settings().photo_max_bytes // 2**20),
            field="photo", status=413,
            code="too_large",
        )
    try:
        cleaned, suffix = photos.reencode(photo)
    except photos.NotAPhoto:
        raise DomainError(_("Please send a photo as a JPEG, PNG or WebP picture."), field="photo",
                          code="invalid") from None
    folder = settings().upload_folder
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{suffix}"
    (folder / name).write_bytes(cleaned)
    return name


def book(resident, item_id: int, description: str, preferred_date: date | None = None,
         preferred_period: str = "any", photo: bytes | None = None, actor=None) -> ServiceRequest:
    """The resident asks for a service; or `actor` asks for them (staff in scope), which is
    recorded with both names and told to the resident (marketplace.proxy)."""
    actor = resident if actor is None or actor.id == resident.id else actor
    if actor is not resident:
        proxy.require(actor, resident.id)
    household_id = resident_household_id(resident)
    if household_id is None:
        raise DomainError(_("Only verified residents can ask for a service. Please tell us where you live first."), status=403,
                          code="not_verified")
    item = ServiceItem.get_or_none(ServiceItem.id == item_id)
    if item is None or not item.active:
        raise DomainError(_("This service is not on the menu."), status=404, code="not_found")
    description = (description or "").strip()
    if len(description) < 4:
        raise DomainError(_("Please say in a few words what you need."), field="description", code="invalid")
    if len(description) > 1000:
        raise DomainError(_("Please keep the description under 1000 characters."), field="description", code="invalid")
    if preferred_period not in PERIODS:
        raise DomainError(_("Please choose a time of day."), field="preferred_period", code="invalid")
    if preferred_date is not None and preferred_date < workdays_today():
        raise DomainError(_("The preferred day cannot be in the past."), field="preferred_date", code="invalid")
    photo_name = _store_photo(photo) if photo else None
    now = utcnow()
    with db.atomic():
        req = ServiceRequest.create(
            resident=resident, household=household_id, item=item, description=description,
            preferred_date=preferred_date, preferred_period=preferred_period, photo=photo_name,
            points=item.points, created_at=now, due_at=workdays.add_working_days(now, item.deadline_days),
            onsite_code=onsite.new_code(),
        )
        RequestEvent.create(request=req, actor=actor, action="book", from_state="", to_state="open", created_at=now,
                            for_user=resident.id if actor is not resident else None)
        if actor is not resident:
            proxy.record(actor, resident, "book", req)
        clocks.start_clock(req.id, "solve", clocks.BASE_LEVEL, now, item.deadline_days)
        clocks.tell(clocks.staff_at(clocks.BASE_LEVEL, household_id),
                    clocks.Words(_l("A new matter in your area: %(item)s."), item=clocks.ItemName(item)), req)
    return req


def workdays_today() -> date:
    return datetime.now(workdays.local_zone()).date()


# ---- transitions -------------------------------------------------------------------------------


def _refuse_state(req: ServiceRequest):
    if req.state == "claimed":
        return DomainError(_("Sorry, someone else just took this job."), status=409, code="job_taken")
    return DomainError(_("This request has moved on (it is now: %(state)s); please look again.",
                         state=state_label(req.state)), status=409, code="state_changed")


def state_label(state: str, for_resident: bool = True) -> str:
    """The state in words. "Done" reads differently for the resident (who must confirm) than for
    the helper and staff (who wait for the resident)."""
    if state == "done" and not for_resident:
        return _("done, waiting for the resident to confirm")
    return {
        "open": _("waiting for a helper"), "claimed": _("taken, help is on the way"),
        "done": _("done, waiting for your confirmation"), "confirmed": _("finished"),
        "cancelled": _("cancelled"), "disputed": _("disputed, the community is looking into it"),
    }[state]


def _transition(req: ServiceRequest, action: str, actor, note: str = "", **changes) -> ServiceRequest:
    """Move the request by one row of the table, or refuse clearly. Caller holds a transaction."""
    found = transitions.find(req.state, action)
    if found is None:
        raise _refuse_state(req)
    to_state, who = found
    if not _allowed(who, actor, req):
        raise DomainError(_("You cannot do this with this request."), status=403, code="not_allowed")
    now = utcnow()
    updated = (
        ServiceRequest.update(state=to_state, **changes)
        .where(ServiceRequest.id == req.id, ServiceRequest.state == req.state)
        .execute()
    )
    if updated != 1:
        raise _refuse_state(ServiceRequest.get_by_id(req.id))
    for_someone = who == "resident" and actor.id != req.resident_id
    RequestEvent.create(request=req.id, actor=actor, action=action, from_state=req.state, to_state=to_state,
                        note=note, created_at=now, for_user=req.resident_id if for_someone else None)
    if for_someone:
        proxy.record(actor, req.resident_id, action, req, note)
    if who == "staff":
        audit.record(actor, f"requests.{action}", req, note=note)
    if to_state in transitions.HANDLED and req.state not in transitions.HANDLED:
        # The helper's work is the answer that closes the solve clock.
        clocks.close_clocks(req.id, ["solve"], actor, note, now)
    fresh = ServiceRequest.get_by_id(req.id)
    if to_state == "confirmed":
        _pay_provider(fresh, actor)
    _tell_the_other_side(fresh, action, actor)
    return fresh


_ItemName = clocks.ItemName


def _tell_the_other_side(req: ServiceRequest, action: str, actor) -> None:
    """The resident hears what the helper did, the helper what the resident (or the system) did."""
    item, link = _ItemName(req.item), f"/requests/{req.id}"
    helper = req.claimer_partner.name if req.claimer_partner_id else (req.claimer.display_name if req.claimer_id else "")
    to_resident = {
        "claim": _l("%(item)s: %(helper)s will help you.", item=item, helper=helper),
        "release": _l("%(item)s: the helper had to step back; your request is open again for others.", item=item),
        "mark_done": _l("%(item)s is done. Please confirm it, or say what is not right, within 3 working days.",
                        item=item),
        "resolve_redo": _l("%(item)s: the community office asked the helper to do it again.", item=item),
        "resolve_cancel": _l("%(item)s: the community office closed your request.", item=item),
    }
    to_helper = {
        "cancel": _l("%(item)s was cancelled by the resident.", item=item),
        "dispute": _l("%(item)s: the resident says something is not right. The community office will look at it.",
                      item=item),
        "resolve_redo": _l("%(item)s: the community office asks you to do it again.", item=item),
        "resolve_cancel": _l("%(item)s: the community office closed the request.", item=item),
    }
    if action in ("auto_confirm", "finish_on_site", "resolve_confirm"):
        to_resident[action] = _l("%(item)s is finished. How was it? Please rate it; if it is not solved, say so.",
                                 item=item)
    if action in ("confirm", "auto_confirm", "finish_on_site", "resolve_confirm"):
        # Even after the helper's own on-site code: the message says the points arrived.
        to_helper[action] = _l("%(item)s is confirmed: %(points)d points were paid.", item=item, points=req.points)
    if action in to_resident:
        notify(req.resident, "request", to_resident[action], link)
    if action in to_helper and req.claimer_id:
        notify(req.claimer, "job", to_helper[action], link)


def _pay_provider(req: ServiceRequest, actor) -> None:
    account = (
        ledger.partner_account(req.claimer_partner) if req.claimer_partner_id else ledger.user_account(req.claimer)
    )
    amount, rule = (req.points, None) if req.claimer_partner_id else policy.capped_request_pay(account, req.points)
    if rule is not None:  # an earning cap (ledger/policy.py): what it holds back is recorded, not lost
        policy.record_capped_request(req.claimer_id, req.id, rule, req.points - amount)
    if amount <= 0:
        ServiceRequest.update(confirmed_at=utcnow()).where(ServiceRequest.id == req.id).execute()
        return
    transfer = ledger.post_transfer(
        ledger.system_account("issuer"), account, amount, "earn_request", f"request:{req.id}",
        f"request:{req.id}:payout", actor, memo=req.item.name_zh,
    )
    ServiceRequest.update(payout=transfer, confirmed_at=transfer.created_at).where(ServiceRequest.id == req.id).execute()


def _act(user, request_id: int, action: str, note: str = "", **changes) -> ServiceRequest:
    with ledger.ledger_transaction():
        req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        if req is None or not (may_see(user, req) or action == "claim"):
            raise DomainError(_("This request was not found."), status=404, code="not_found")
        return _transition(req, action, user, note, **changes)


def claim(user, request_id: int) -> ServiceRequest:
    with ledger.ledger_transaction():
        req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        if req is None:
            raise DomainError(_("This request was not found."), status=404, code="not_found")
        if req.resident_id == user.id:
            raise DomainError(_("You cannot take your own request."), status=409, code="own_request")
        able, partner_id = provider_capacity(user, req.item)
        if not able and req.state == "open":
            raise DomainError(_("This job needs a helper with other skills."), status=403, code="skills_needed")
        return _transition(req, "claim", user, claimer=user.id, claimer_partner=partner_id, claimed_at=utcnow())


def release(user, request_id: int, reason: str) -> ServiceRequest:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please say why you are giving the job back."), field="reason", code="invalid")
    return _act(user, request_id, "release", reason, claimer=None, claimer_partner=None, claimed_at=None)


def cancel(user, request_id: int, reason: str = "") -> ServiceRequest:
    return _act(user, request_id, "cancel", (reason or "").strip())


def mark_done(user, request_id: int, note: str = "") -> ServiceRequest:
    return _act(user, request_id, "mark_done", (note or "").strip(), done_at=utcnow())


def finish_on_site(user, request_id: int, code: str) -> ServiceRequest:
    """The provider types (or scans) the resident's one-time code at the door: confirmed on site.
    Wrong codes are counted, and after onsite.ATTEMPTS the code stops working (service_requests.onsite)."""
    with ledger.ledger_transaction():
        req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        if req is None or not is_claimer(user, req):
            raise DomainError(_("This request was not found."), status=404, code="not_found")
        if req.state != "claimed":
            raise _refuse_state(req)
        if onsite.used_up(req.onsite_failures):
            raise DomainError(_("Too many wrong codes. Mark the job done instead, and the resident will confirm it."),
                              field="code", status=429, code="too_many_wrong_codes")
        if not onsite.matches(code, req.onsite_code):
            ServiceRequest.update(onsite_failures=ServiceRequest.onsite_failures + 1).where(
                ServiceRequest.id == req.id).execute()
            wrong = onsite.wrong_code(req.onsite_failures)
        else:
            now = utcnow()
            return _transition(req, "finish_on_site", user, done_at=now, confirmed_on_site_at=now)
    raise wrong  # after the transaction commits, so the failed try is counted


def confirm(user, request_id: int) -> ServiceRequest:
    return _act(user, request_id, "confirm")


def dispute(user, request_id: int, reason: str) -> ServiceRequest:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please tell us what went wrong."), field="reason", code="invalid")
    return _act(user, request_id, "dispute", reason)


def resolve(staff, request_id: int, outcome: str, note: str) -> ServiceRequest:
    note = (note or "").strip()
    if outcome not in ("resolve_confirm", "resolve_redo", "resolve_cancel"):
        raise DomainError(_("Please choose how the dispute ends."), field="outcome", code="invalid")
    if not note:
        raise DomainError(_("Please write down how it was settled."), field="note", code="invalid")
    return _act(staff, request_id, outcome, note)


def rate(user, request_id: int, rating: int, comment: str = "") -> ServiceRequest:
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError(_("Please give 1 to 5 stars."), field="rating", code="invalid")
    with db.atomic():
        req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        if req is None or not _allowed("resident", user, req):
            raise DomainError(_("This request was not found."), status=404, code="not_found")
        if req.state not in transitions.RATEABLE:
            raise DomainError(_("You can rate the service once it is finished."), status=409, code="not_finished")
        rated = (
            ServiceRequest.update(rating=rating, rating_comment=(comment or "").strip()[:1000], rated_at=utcnow())
            .where(ServiceRequest.id == req.id, ServiceRequest.rating.is_null())
            .execute()
        )
        if rated != 1:
            raise DomainError(_("You have already rated this service. Thank you!"), status=409, code="already_rated")
        for_someone = user.id != req.resident_id
        RequestEvent.create(request=req.id, actor=user, action="rate", from_state=req.state, to_state=req.state,
                            note=f"{rating}/5", for_user=req.resident_id if for_someone else None)
        if for_someone:
            proxy.record(user, req.resident_id, "rate", req, f"{rating}/5")
        clocks.after_rating(ServiceRequest.get_by_id(req.id), user, rating, (comment or "").strip()[:1000], utcnow())
    return ServiceRequest.get_by_id(req.id)


# ---- automatic confirmation --------------------------------------------------------------------


def auto_confirm_if_due(req: ServiceRequest) -> ServiceRequest:
    """Done and not confirmed nor disputed for 3 working days: confirmed for the resident."""
    if req.state != "done" or req.done_at is None:
        return req
    if workdays.working_days_between(req.done_at, utcnow()) < AUTO_CONFIRM_WORKING_DAYS:
        return req
    try:
        with ledger.ledger_transaction():
            fresh = ServiceRequest.get_by_id(req.id)
            if fresh.state != "done":
                return fresh
            result = _transition(fresh, "auto_confirm", None, auto_confirmed=True)
    except DomainError:
        return ServiceRequest.get_by_id(req.id)  # someone acted a moment before us
    return result


def sweep() -> int:
    """`flask requests sweep`: auto-confirm every request that is due. Returns how many."""
    count = 0
    for req in ServiceRequest.select().where(ServiceRequest.state == "done").iterator():
        if auto_confirm_if_due(req).state == "confirmed":
            count += 1
    return count
