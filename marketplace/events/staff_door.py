"""The door as staff run it: volunteers' badges scanned (also offline, sent later), and check-in
and check-out by hand with a reason."""

import re
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _

from marketplace import audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events import tokens
from marketplace.events.door import (
    ScanResult,
    _already_out,
    _close,
    _hours_text,
    _record,
    _refuse,
    _replay,
    _waiting_text,
)
from marketplace.events.models import Attendance, Badge, Event, Scan
from marketplace.events.organising import _check_may, get_managed, may_manage
from marketplace.events.records import may_replace_badge, may_see_volunteer
from marketplace.events.timing import _dt, _now, _t
from marketplace.proxy import services as proxy
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import User

MAX_BATCH = 200
NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# ---- badges --------------------------------------------------------------------------------


def badge_of(user) -> Badge:
    Badge.insert(user=user.id, serial=1, created_at=utcnow()).on_conflict_ignore().execute()
    return Badge.get(Badge.user == user.id)


def badge_token_of(user) -> str:
    return tokens.badge_token(user.id, badge_of(user).serial)


def replace_badge(actor, user_id: int) -> Badge:
    """A new badge; every copy of the old one stops working at once."""
    person = User.get_or_none(User.id == user_id)
    if person is None or (actor.id != person.id and not may_see_volunteer(actor, person)):
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    if not may_replace_badge(actor, person):
        raise DomainError(_("Only the community's administrators can do this; please ask them."), status=403,
                          code="organisers_only")
    with db.atomic():
        badge = badge_of(person)
        Badge.update(serial=Badge.serial + 1, replaced_at=utcnow(), replaced_by=actor.id).where(
            Badge.id == badge.id
        ).execute()
        if actor.id != person.id:
            audit.record(actor, "events.badge.replaced", person)
    return Badge.get_by_id(badge.id)


def badge_holder(raw: str) -> User:
    """The volunteer a scanned or typed badge belongs to, if it is genuine and current."""
    if tokens.looks_like_kiosk_or_poster(raw):
        raise DomainError(_("This is the event's own check-in code, not a volunteer's badge."), field="code",
                          code="invalid_code")
    try:
        user_id, sig = tokens.read_badge(tokens.normalize_badge(raw))
    except tokens.BadToken:
        raise DomainError(_("This is not a volunteer badge. A badge code looks like 17-K7Q2M-9XD4P."),
                          field="code", code="invalid_code") from None
    badge = Badge.get_or_none(Badge.user == user_id)
    person = User.get_or_none(User.id == user_id)
    if badge is None or person is None:
        raise DomainError(_("This badge is not valid."), field="code", status=403, code="badge_invalid")
    if not tokens.badge_matches(user_id, badge.serial, sig):
        if any(tokens.badge_matches(user_id, serial, sig) for serial in range(max(1, badge.serial - 50), badge.serial)):
            raise DomainError(
                _("This badge of %(name)s was replaced on %(date)s and no longer works. Please ask them to open their badge on their phone again.",
                  name=person.display_name, date=_dt(badge.replaced_at)), field="code", status=403,
                  code="badge_replaced")
        raise DomainError(_("This badge is not valid."), field="code", status=403, code="badge_invalid")
    return person


def check_with_badge(staff, event_id: int, raw: str, action: str, nonce: str | None = None,
                     scanned_at: datetime | None = None, now: datetime | None = None) -> ScanResult:
    """Event staff scanned (or typed) a volunteer's badge. `scanned_at` is when, for scans that
    waited on an offline device."""
    now = _now(now)
    event = get_managed(staff, event_id, "run_door")
    at = scanned_at or now
    if action not in ("in", "out"):
        raise DomainError(_("Please choose check-in or check-out."), code="invalid")
    if nonce is not None:
        earlier = Scan.get_or_none(Scan.nonce == nonce)
        if earlier is not None:
            return _replay(earlier)
    try:
        volunteer = badge_holder(raw)
    except DomainError as error:
        _refuse(error, event, None, staff, "badge", action, at, nonce)
    return _record(event, volunteer, action, "badge", at, actor=staff, nonce=nonce, self_service=False)


def record_scans(staff, event_id: int, items, sent_at_ms, now: datetime | None = None) -> list[dict]:
    """A batch from the staff scanner, sent when the network allowed: each scan with its nonce,
    the code, the direction and the device's time of the scan.

    The device's clock may be wrong, so its times are shifted by the difference between its
    clock when sending (`sent_at`) and ours on arrival: a phone five minutes slow still records
    09:02 as 09:02. A time still in the future counts as now; one older than
    EVENT_OFFLINE_SCAN_MAX_HOURS is refused."""
    now = _now(now)
    get_managed(staff, event_id, "run_door")
    if not isinstance(items, list) or not items:
        raise DomainError(_("No scans were sent."), code="invalid")
    if len(items) > MAX_BATCH:
        raise DomainError(_("Please send at most %(most)d scans at a time.", most=MAX_BATCH), code="invalid")
    offset = timedelta(0)
    if isinstance(sent_at_ms, int | float) and not isinstance(sent_at_ms, bool):
        try:
            offset = now - datetime.fromtimestamp(sent_at_ms / 1000, UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            offset = timedelta(0)
    oldest = now - timedelta(hours=settings().event_offline_scan_max_hours)
    results = []
    for item in items:
        item = item if isinstance(item, dict) else {}
        nonce = item.get("nonce")
        nonce = nonce if isinstance(nonce, str) and NONCE.match(nonce) else None
        answer = {"nonce": item.get("nonce") if isinstance(item.get("nonce"), str) else None}
        try:
            if nonce is None:
                raise DomainError(_("This scan has no valid nonce; please scan again."), code="invalid")
            code, action, scanned_ms = item.get("code"), item.get("action"), item.get("scanned_at")
            if not isinstance(code, str) or not code.strip() or len(code) > 500:
                raise DomainError(_("This scan has no code."), field="code", code="invalid")
            if isinstance(scanned_ms, bool) or not isinstance(scanned_ms, int | float):
                raise DomainError(_("This scan has no time."), code="invalid")
            try:
                at = datetime.fromtimestamp(scanned_ms / 1000, UTC).replace(tzinfo=None) + offset
            except (ValueError, OverflowError, OSError):
                raise DomainError(_("This scan has no time."), code="invalid") from None
            at = min(at, now).replace(microsecond=0)
            if at < oldest:
                raise DomainError(_("This scan is more than %(hours)d hours old and was not recorded. Please enter it by hand.",
                                    hours=settings().event_offline_scan_max_hours), code="scan_too_old")
            result = check_with_badge(staff, event_id, code, action, nonce=nonce, scanned_at=at, now=now)
        except DomainError as error:
            answer.update(outcome="refused", message=error.message)
        else:
            answer.update(outcome=result.outcome, message=result.message, name=result.volunteer.display_name,
                          time=_t(result.at or now), replay=result.replay)
        results.append(answer)
    return results


# ---- staff by hand -------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give a reason; it is kept in the audit log."), field="reason", code="invalid")
    return reason[:200]


def check_in_by_hand(staff, event_id: int, phone: str, at: datetime | None, reason: str,
                     now: datetime | None = None) -> ScanResult:
    """For a volunteer whose phone is flat or who forgot: staff enter the time, with a reason."""
    from marketplace.users.services import normalize_phone

    now = _now(now)
    event = get_managed(staff, event_id, "run_door")
    reason = _reason(reason)
    volunteer = User.get_or_none(User.phone == normalize_phone(phone))
    if volunteer is None:
        raise DomainError(_("No one has this mobile number here."), field="phone", status=404, code="not_found")
    at = (at or now).replace(microsecond=0)
    if at > now + timedelta(minutes=1):
        raise DomainError(_("The time cannot be in the future."), field="at", code="invalid")
    result = _record(event, volunteer, "in", "manual", at, actor=staff, note=reason, manual=True, self_service=False)
    if result.outcome == "checked_in":
        audit.record(staff, "events.attendance.checked_in_by_hand", result.attendance, reason=reason, at=at)
    return result


def _managed_attendance(staff, attendance_id: int) -> tuple[Attendance, Event]:
    attendance = Attendance.get_or_none(Attendance.id == attendance_id)
    if attendance is None:
        raise DomainError(_("This attendance was not found."), status=404, code="not_found")
    event = Event.get_by_id(attendance.event_id)
    if not may_manage(staff, event):
        raise DomainError(_("This attendance was not found."), status=404, code="not_found")
    return attendance, _check_may(staff, "run_door", event)


def check_out_by_hand(staff, attendance_id: int, at: datetime | None, reason: str,
                      now: datetime | None = None) -> ScanResult:
    """Check someone out, or confirm the hours of someone checked out automatically at the end:
    staff give the time they left and a reason. The hours are paid then, once."""
    now = _now(now)
    reason = _reason(reason)
    attendance, event = _managed_attendance(staff, attendance_id)
    at = (at or min(now, event.ends_at)).replace(microsecond=0)
    if at > now + timedelta(minutes=1):
        raise DomainError(_("The time cannot be in the future."), field="at", code="invalid")
    if at < attendance.checked_in_at:
        raise DomainError(_("A check-out cannot be before the check-in at %(time)s.", time=_dt(attendance.checked_in_at)),
                          field="at", code="check_out_before_check_in")
    volunteer = User.get_by_id(attendance.user_id)
    if attendance.state == "out":
        raise DomainError(_already_out(attendance, volunteer, False), status=409, code="already_checked_out")
    with db.atomic():
        closed = _close(attendance, event, at, "manual", staff, reason)
        if closed is None:
            raise DomainError(_("Someone else has just checked this person out."), status=409,
                              code="already_checked_out")
        audit.record(staff, "events.attendance.checked_out_by_hand", closed, reason=reason, at=at,
                     minutes=closed.minutes, points=closed.points, was=attendance.state)
    if closed.state == "review":
        message = _waiting_text(closed, volunteer, at, False)
    else:
        message = _("%(name)s checked out at %(time)s: %(hours)s hours, %(points)d points.",
                    name=volunteer.display_name, time=_t(at), hours=_hours_text(closed.minutes), points=closed.points)
    return ScanResult("checked_out", message, event, volunteer, closed, at)


# ---- at the door for someone -----------------------------------------------------------------


def check_for(staff, event_id: int, user_id: int, action: str, now: datetime | None = None) -> ScanResult:
    """Staff helping at the door check in or out a resident they may act for (an elderly volunteer
    without a phone), at this moment and by the event's usual rules (signed up, the door open).
    The act is recorded with both names, the person told, the slip printable (marketplace.proxy);
    nothing is recorded when nothing changed ("already checked in")."""
    now = _now(now)
    if action not in ("in", "out"):
        raise DomainError(_("Please choose check-in or check-out."), code="invalid")
    event = get_managed(staff, event_id, "run_door")
    person = User.get_or_none(User.id == user_id)
    if person is None:
        raise DomainError(_("This person was not found."), status=404, code="not_found")
    if proxy.may_act_for(staff, person.id) != "staff":
        raise DomainError(_("This person lives outside the places you look after, so you cannot act for them. "
                            "Please ask their own building head or grid administrator."), status=403,
                          code="out_of_scope")
    kind = "event_check_in" if action == "in" else "event_check_out"
    return _record(event, person, action, "manual", now.replace(microsecond=0), actor=staff, self_service=False,
                   on_done=lambda result: proxy.record(staff, person, kind, event=event))
