"""Every promise kept and seen (issue 15): handing a matter to a street department, the answers
that close its clocks (solved, feedback given, reasons explained), rising one level when a
clock passes unclosed, the reminders before it does, and reopening.

Each act takes the acting person and plain values, writes its answer into the matter's history
(the resident reads it there and is told of it), and tells the staff concerned in their own
language. Rising and reminding are conditional updates on the clock (`risen_at IS NULL`,
`reminded_at IS NULL`), so two periodic runs at the same moment do each once.
"""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications.services import notify
from marketplace.service_requests import clocks, services, transitions
from marketplace.service_requests.models import (
    Clock,
    Department,
    HandOff,
    Reopening,
    ServiceRequest,
    clock_due_soon,
    clock_open,
    clock_to_rise,
)
from marketplace.timeutil import utcnow
from marketplace.users.models import STAFF_ROLES

ESCALATION_FEEDBACK_DAYS = 5
MAJOR_MATTER_EXPLANATION_DAYS = 10
ANSWER_MAX = 2000
# The act that closes each kind of clock: its history action and the words the resident reads.
ANSWERS = {
    "solve": ("solve", _l("%(item)s: %(who)s says it is solved: %(text)s")),
    "feedback": ("give_feedback", _l("%(item)s: feedback from %(who)s: %(text)s")),
    "explain": ("explain_reasons", _l("%(item)s: %(who)s explains why it cannot be solved yet: %(text)s")),
}


def departments():
    return Department.select().where(Department.active == True).order_by(Department.id)  # noqa: E712


def officer_department(user) -> Department | None:
    name = access.scope_of(user).department
    return Department.get_or_none(Department.name_zh == name) if name else None


def _officer_only(user) -> bool:
    """A street officer and no other staff role: they act on their department's matters only."""
    held = access.scope_of(user).roles.intersection(STAFF_ROLES)
    return held == {"street_officer"}


def handed_to_my_department(user, req: ServiceRequest) -> bool:
    department = officer_department(user)
    return department is not None and HandOff.select().where(
        HandOff.request == req.id, HandOff.department == department.id).exists()


def may_hand_off(user, req: ServiceRequest) -> bool:
    """Hand a matter to a department: the community's staff in scope (a street officer receives
    matters; the escalate form is not theirs)."""
    return user is not None and services.staff_covers(user, req) and not _officer_only(user)


def may_act(user, req: ServiceRequest) -> bool:
    """Answer and decide: the community's staff in scope, or the officers of a department the
    matter was handed to."""
    return may_hand_off(user, req) or (user is not None and handed_to_my_department(user, req))


def is_active(req: ServiceRequest) -> bool:
    """Still owed something: not closed, or finished with a clock open (reopened). A cancelled
    matter owes nothing."""
    if req.state == "cancelled":
        return False
    return req.state not in transitions.CLOSED or Clock.select().where(Clock.request == req.id, clock_open()).exists()


def open_kinds(req: ServiceRequest) -> set[str]:
    """The kinds of clock staff may answer now. A solve clock is theirs to close once the matter
    was handed on (escalated, risen or reopened); before that, the helper's work closes it."""
    if not is_active(req):
        return set()
    kinds = {c.kind for c in Clock.select(Clock.kind).where(Clock.request == req.id, clock_open())}
    if "solve" in kinds and clocks.last_hand_off(req.id) is None:
        kinds.discard("solve")
    return kinds


def available_actions(user, req: ServiceRequest) -> list[str]:
    """What this person may do with this request now: the lifecycle's (services.available_actions)
    and the promise acts. The request page shows a button for each and the API lists them."""
    if user is None:
        return []
    found = services.available_actions(user, req)
    if may_hand_off(user, req) and is_active(req):
        found.append("escalate")
    if may_act(user, req):
        kinds = open_kinds(req)
        found += [ANSWERS[kind][0] for kind in ("solve", "feedback", "explain") if kind in kinds]
        if clocks.pending_reopening(req.id) is not None:
            found.append("decide_reopen")
    if may_request_reopen(user, req):
        found.append("request_reopen")
    return found


def _get(user, request_id: int) -> ServiceRequest:
    req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
    if req is None or not (services.may_see(user, req) or handed_to_my_department(user, req)):
        raise DomainError(_("This request was not found."), status=404, code="not_found")
    return req


def _get_to_act(user, request_id: int) -> ServiceRequest:
    req = _get(user, request_id)
    if not may_act(user, req):
        raise DomainError(_("You cannot do this with this request."), status=403, code="not_allowed")
    return req


def _text(text: str, field: str, missing: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(missing, field=field, code="invalid")
    if len(text) > ANSWER_MAX:
        raise DomainError(_("Please keep it under %(count)d characters.", count=ANSWER_MAX), field=field,
                          code="invalid")
    return text


# ---- hand-offs -----------------------------------------------------------------------------------


def escalate(staff, request_id: int, department_id, major: bool, note: str, now: datetime | None = None) -> HandOff:
    """Hand the matter to a department: feedback to the resident within 5 working days, and for a
    major matter the reasons explained within 10. Handing on again adds a hand-off with its own
    clocks; the earlier ones keep running (a late one stays late)."""
    now, note = now or utcnow(), (note or "").strip()[:ANSWER_MAX]
    chosen = str(department_id or "")
    department = Department.get_or_none(Department.id == int(chosen)) if chosen.isdigit() and len(chosen) < 10 else None
    if department is None or not department.active:
        raise DomainError(_("Please choose the department from the list."), field="department", code="invalid")
    with db.atomic():
        req = _get(staff, request_id)
        if not may_hand_off(staff, req):
            raise DomainError(_("You cannot do this with this request."), status=403, code="not_allowed")
        if not is_active(req):
            raise services._refuse_state(req)
        level, _department, _since = clocks.position(req)
        hand_off = HandOff.create(request=req.id, kind="escalate", from_level=level, to_level="department",
                                  department=department.id, actor=staff.id, reason=note, major=bool(major),
                                  created_at=now)
        clocks.start_clock(req.id, "feedback", "department", now, ESCALATION_FEEDBACK_DAYS, department.id, hand_off.id)
        if major:
            clocks.start_clock(req.id, "explain", "department", now, MAJOR_MATTER_EXPLANATION_DAYS, department.id,
                               hand_off.id)
        ServiceRequest.update(escalated_at=req.escalated_at or now, escalated_to=department.name_zh).where(
            ServiceRequest.id == req.id).execute()
        clocks.sync_request_dues(req.id)
        clocks.record(req, staff, "escalate", f"{department.name_zh}: {note}" if note else department.name_zh, now)
        audit.record(staff, "requests.escalated", req, department=department.name_zh, major=bool(major), note=note)
        item = clocks.ItemName(req.item)
        notify(req.resident, "request", clocks.Words(_l("%(item)s was passed to %(department)s, who will answer you."),
                                               item=item, department=clocks.LevelName("department", department.id)),
               f"/requests/{req.id}")
        clocks.tell(clocks.staff_at("department", req.household_id, department.id),
              clocks.Words(_l("A matter was handed to your department: %(item)s. Please give feedback within %(days)d "
                        "working days."), item=item, days=ESCALATION_FEEDBACK_DAYS), req)
    return hand_off


# ---- answers that close clocks ----------------------------------------------------------------------


def _answer(user, request_id: int, kind: str, text: str, now: datetime | None) -> list[Clock]:
    action, words = ANSWERS[kind]
    text = _text(text, "text", _("Please write the answer the resident will read."))
    now = now or utcnow()
    with db.atomic():
        req = _get_to_act(user, request_id)
        closed = clocks.close_clocks(req.id, [kind], user, text, now) if kind in open_kinds(req) else []
        if not closed:
            raise DomainError(_("Nothing of this kind is waiting for an answer on this matter."), status=409,
                              code="no_open_clock")
        clocks.record(req, user, action, text, now)
        audit.record(user, f"requests.{action}", req, outcomes=[c.outcome for c in closed])
        notify(req.resident, "request", clocks.Words(words, item=clocks.ItemName(req.item), who=user.display_name,
                                               text=text), f"/requests/{req.id}#timeline")
    return closed


def give_feedback(user, request_id: int, text: str, now: datetime | None = None) -> list[Clock]:
    return _answer(user, request_id, "feedback", text, now)


def explain_reasons(user, request_id: int, text: str, now: datetime | None = None) -> list[Clock]:
    return _answer(user, request_id, "explain", text, now)


def solve(user, request_id: int, text: str, now: datetime | None = None) -> list[Clock]:
    return _answer(user, request_id, "solve", text, now)


# ---- the periodic job: reminders and rising ----------------------------------------------------------


def _waiting_clocks(condition):
    return (Clock.select().join(ServiceRequest)
            .where(condition, ServiceRequest.state != "cancelled").order_by(Clock.due_at, Clock.id))


def remind_due_soon(now: datetime | None = None) -> int:
    """Clocks due within one working day: the staff holding the matter are told, once."""
    now, told = now or utcnow(), 0
    for clock in _waiting_clocks(clock_due_soon(now)):
        with db.atomic():
            if not Clock.update(reminded_at=now).where(Clock.id == clock.id, Clock.reminded_at.is_null()).execute():
                continue
            req = ServiceRequest.get_by_id(clock.request_id)
            level, department_id, _since = clocks.position(req)
            clocks.tell(clocks.staff_at(level, req.household_id, department_id),
                  clocks.Words(_l("Due within one working day: %(what)s for %(item)s."),
                         what=clocks.CLOCK_LABELS[clock.kind], item=clocks.ItemName(req.item)), req)
        told += 1
    return told


def rise_overdue(now: datetime | None = None) -> int:
    """Each clock that passed unclosed raises its matter one level, once: a hand-off from the
    level holding it to the next, and everyone concerned is told (the level it leaves, the
    level it reaches, and the resident). The clock itself keeps running: only an answer closes it."""
    now, risen = now or utcnow(), 0
    for clock in _waiting_clocks(clock_to_rise(now)):
        with db.atomic():
            if not Clock.update(risen_at=now).where(Clock.id == clock.id, Clock.risen_at.is_null()).execute():
                continue  # another run raised it a moment ago
            req = ServiceRequest.get_by_id(clock.request_id)
            level, department_id, _since = clocks.position(req)
            to_level, to_department = clocks.next_level(level, req.id)
            if (to_level, to_department) != (level, department_id):
                HandOff.create(request=req.id, kind="rise", from_level=level, to_level=to_level,
                               department=to_department, actor=None, reason=clock.kind, created_at=now)
            clocks.record(req, None, "rise", clock.kind, now)
            item = clocks.ItemName(req.item)
            what = clocks.CLOCK_LABELS[clock.kind]
            clocks.tell(clocks.staff_at(to_level, req.household_id, to_department)
                  + clocks.staff_at(level, req.household_id, department_id),
                  clocks.Words(_l("Overdue: %(what)s for %(item)s. The matter now rises to %(level)s."),
                         what=what, item=item, level=clocks.LevelName(to_level, to_department)), req)
            notify(req.resident, "request", clocks.Words(
                _l("%(item)s: the answer is late, so the matter was passed up to %(level)s."),
                item=item, level=clocks.LevelName(to_level, to_department)), f"/requests/{req.id}#timeline")
        risen += 1
    return risen


def keep_promises(now: datetime | None = None) -> int:
    """The periodic job: remind, then raise what is overdue. Returns how many it acted on."""
    now = now or utcnow()
    return remind_due_soon(now) + rise_overdue(now)


# ---- reopening -----------------------------------------------------------------------------------------


def may_request_reopen(user, req: ServiceRequest, now: datetime | None = None) -> bool:
    return (user is not None and req.resident_id == user.id and clocks.within_reopen_days(req, now or utcnow())
            and clocks.pending_reopening(req.id) is None)


def request_reopen(resident, request_id: int, reason: str, now: datetime | None = None) -> Reopening:
    """The resident says it is not solved, within 14 days of closing."""
    reason = _text(reason, "reason", _("Please say what is still not solved."))
    now = now or utcnow()
    with db.atomic():
        req = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        if req is None or req.resident_id != resident.id:
            raise DomainError(_("This request was not found."), status=404, code="not_found")
        if clocks.pending_reopening(req.id) is not None:
            raise DomainError(_("You already asked to reopen it; the staff will answer you."), status=409,
                              code="reopen_pending")
        if not may_request_reopen(resident, req, now):
            raise DomainError(_("A finished matter can be reopened within %(days)d days of closing.", days=clocks.REOPEN_DAYS),
                              status=409, code="reopen_closed")
        return clocks.ask_to_reopen(req, resident, reason, None, now)


def decide_reopen(staff, request_id: int, decision: str, reason: str, now: datetime | None = None) -> Reopening:
    """Reopen (a new solve clock, held one level higher than the matter stands) or decline with a
    reason the resident reads."""
    if decision not in ("reopen", "decline"):
        raise DomainError(_("Please choose to reopen or to decline."), field="decision", code="invalid")
    reason = (reason or "").strip()[:ANSWER_MAX]
    if decision == "decline":
        reason = _text(reason, "reason", _("Please give the reason the resident will read."))
    now = now or utcnow()
    with db.atomic():
        req = _get_to_act(staff, request_id)
        reopening = clocks.pending_reopening(req.id)
        decided = reopening is not None and Reopening.update(
            decision="reopened" if decision == "reopen" else "declined", decided_by=staff.id, decided_at=now,
            decline_reason=reason if decision == "decline" else "",
        ).where(Reopening.id == reopening.id, Reopening.decision.is_null()).execute()
        if not decided:
            raise DomainError(_("There is no request to reopen this matter waiting."), status=409,
                              code="no_reopen_pending")
        item = clocks.ItemName(req.item)
        if decision == "reopen":
            level, _department, _since = clocks.position(req)
            up, up_department = clocks.next_level(level, req.id)
            hand_off = HandOff.create(request=req.id, kind="reopen", from_level=level, to_level=up,
                                      department=up_department, actor=staff.id, reason=reason, created_at=now)
            clocks.start_clock(req.id, "solve", up, now, req.item.deadline_days, up_department, hand_off.id)
            clocks.record(req, staff, "reopen", reason, now)
            notify(req.resident, "request", clocks.Words(_l("%(item)s is reopened; %(level)s will take it up."), item=item,
                                                   level=clocks.LevelName(up, up_department)), f"/requests/{req.id}")
            clocks.tell(clocks.staff_at(up, req.household_id, up_department),
                  clocks.Words(_l("A matter was reopened and is now yours: %(item)s."), item=item), req)
        else:
            clocks.record(req, staff, "decline_reopen", reason, now)
            notify(req.resident, "request", clocks.Words(_l("%(item)s will not be reopened: %(reason)s"), item=item,
                                                   reason=reason), f"/requests/{req.id}#timeline")
        audit.record(staff, f"requests.reopen.{decision}", req, reason=reason)
    return Reopening.get_by_id(reopening.id)


# ---- the department's queue ------------------------------------------------------------------------


def department_queue(officer, include_closed: bool = False):
    """The matters handed to the officer's department (and only those), soonest due first; by
    default those with a clock still open."""
    department = officer_department(officer)
    if department is None:
        return ServiceRequest.select().where(ServiceRequest.id == 0)
    handed = HandOff.select(HandOff.request).where(HandOff.department == department.id)
    query = ServiceRequest.select().where(ServiceRequest.id.in_(handed))
    if not include_closed:
        query = query.where(ServiceRequest.id.in_(Clock.select(Clock.request).where(clock_open())))
    return query.order_by(ServiceRequest.due_at, ServiceRequest.id)
