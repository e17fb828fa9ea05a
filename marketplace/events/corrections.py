"""Hour corrections: a volunteer asks to correct the times of one attendance (the phone died at
the door, they stayed on after checking out), the event's staff approve or decline with a reason
the volunteer reads, and an approved correction pays or takes back exactly the difference.

Why it is safe when two staff members press "approve" at the same moment:

- the decision runs inside the ledger's transaction, whose lock every posting takes first, and
  moves the row from pending with a conditional UPDATE: the second approver finds it decided;
- the difference is posted with the key `correction:<id>`, so even a retry moves points once;
- points are never edited: more hours are a new `earn_event` transfer, fewer hours a transfer
  back to the community's issuer (`adjust`, ref `correction:<id>`), each checked by
  `flask ledger verify` against this row (ledger/sources.py).
"""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import audit
from marketplace.errors import DomainError
from marketplace.events import caps, permissions
from marketplace.events.honour import waits_for_second_approval
from marketplace.events.models import Attendance, Event, HourCorrection
from marketplace.events.organising import _check_may, may_manage
from marketplace.events.permissions import community_ids_for
from marketplace.events.timing import _dt, _now, clipped_minutes, door_window, points_for
from marketplace.ledger import services as ledger
from marketplace.ledger.services import ledger_transaction
from marketplace.notifications.services import notify
from marketplace.service_requests.services import _store_photo as store_photo
from marketplace.timeutil import utcnow
from marketplace.users.models import User

MAX_REASON = 300


def _text(value: str, field: str, missing) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(missing, field=field, code="invalid")
    if len(value) > MAX_REASON:
        raise DomainError(_("Please keep it under %(most)d characters.", most=MAX_REASON), field=field, code="invalid")
    return value


def _own_attendance(volunteer, attendance_id: int) -> tuple[Attendance, Event]:
    attendance = Attendance.get_or_none(Attendance.id == attendance_id)
    if attendance is None or attendance.user_id != volunteer.id:
        raise DomainError(_("This attendance was not found."), status=404, code="not_found")
    return attendance, Event.get_by_id(attendance.event_id)


def request_hour_correction(volunteer, attendance_id: int, checked_in_at: datetime | None,
                            checked_out_at: datetime | None, reason: str, now: datetime | None = None,
                            photo: bytes | None = None) -> HourCorrection:
    """A volunteer asks for other times on one of their attendances, once its hours are counted.
    A time left out stays as recorded; a photo (of the sign-in sheet, say) may go with it. One
    request at a time per attendance."""
    now = _now(now)
    reason = _text(reason, "reason", _("Please say why the times should change."))
    attendance, event = _own_attendance(volunteer, attendance_id)
    if attendance.state != "out":
        raise DomainError(_("You can ask for a correction once the hours of this event are counted."), status=409,
                          code="hours_not_counted")
    new_in = (checked_in_at or attendance.checked_in_at).replace(second=0, microsecond=0)
    new_out = (checked_out_at or attendance.checked_out_at).replace(second=0, microsecond=0)
    if checked_in_at is None and checked_out_at is None:
        raise DomainError(_("Please give the time you arrived or the time you left."), field="checked_in_at",
                          code="invalid")
    if new_out <= new_in:
        raise DomainError(_("The time you left must be after the time you arrived."), field="checked_out_at",
                          code="invalid")
    if new_out > now:
        raise DomainError(_("The time cannot be in the future."), field="checked_out_at", code="invalid")
    window = door_window(event)
    if new_in < window.opens_at or new_out > window.closes_at:
        raise DomainError(_("The times must be within the event's door times, %(start)s to %(end)s.",
                            start=_dt(window.opens_at), end=_dt(window.closes_at)), field="checked_in_at",
                          code="invalid")
    if (new_in, new_out) == (attendance.checked_in_at.replace(second=0, microsecond=0),
                             attendance.checked_out_at.replace(second=0, microsecond=0)):
        raise DomainError(_("These are the times already recorded."), field="checked_in_at", code="invalid")
    # Checked and stored as a request's photo is: one rule for pictures people send.
    stored = store_photo(photo) if photo else ""
    # The ledger's lock serializes askers too, so two taps never leave two open requests.
    with ledger_transaction():
        if HourCorrection.select().where(HourCorrection.attendance == attendance.id,
                                         HourCorrection.status == "pending").exists():
            raise DomainError(_("You have already asked for a correction of these hours; please wait for the answer."),
                              status=409, code="correction_pending")
        attendance = Attendance.get_by_id(attendance.id)
        correction = HourCorrection.create(
            attendance=attendance.id, user=volunteer.id, checked_in_at=new_in, checked_out_at=new_out,
            reason=reason, photo=stored, old_checked_in_at=attendance.checked_in_at, old_checked_out_at=attendance.checked_out_at,
            old_minutes=attendance.minutes or 0, old_points=attendance.points or 0, created_at=utcnow(),
        )
        audit.record(volunteer, "events.correction.requested", correction, attendance=attendance.id,
                     checked_in_at=new_in, checked_out_at=new_out, reason=reason)
    return correction


def correction_photo(user, correction_id: int) -> str:
    """The photo's file name, for the volunteer who sent it and the staff who decide on it."""
    correction = HourCorrection.get_or_none(HourCorrection.id == correction_id)
    if correction is not None and correction.photo and correction.user_id != user.id:
        event = Event.get_by_id(Attendance.get_by_id(correction.attendance_id).event_id)
        if not (may_manage(user, event) and permissions.may(user, "run_door", event)):
            correction = None
    if correction is None or not correction.photo:
        raise DomainError(_("This photo was not found."), status=404, code="not_found")
    return correction.photo


def my_hour_corrections(volunteer):
    """The volunteer's requests, newest first, with their events."""
    return (HourCorrection.select(HourCorrection, Attendance, Event)
            .join(Attendance).join(Event)
            .where(HourCorrection.user == volunteer.id)
            .order_by(HourCorrection.created_at.desc(), HourCorrection.id.desc()))


def corrections_for_staff(staff, status: str = "pending"):
    """Requests at the events this staff member runs the door of (oldest first when pending)."""
    query = (HourCorrection.select(HourCorrection, Attendance, Event, User)
             .join(Attendance).join(Event)
             .switch(HourCorrection).join(User, on=(HourCorrection.user == User.id))
             .where(HourCorrection.status == status))
    ids = community_ids_for(staff, "run_door")
    if ids is not None:
        query = query.where(Event.community.in_(ids))
    order = HourCorrection.created_at.asc() if status == "pending" else HourCorrection.decided_at.desc()
    return query.order_by(order, HourCorrection.id)


def _decidable(staff, correction_id: int) -> tuple[HourCorrection, Attendance, Event]:
    correction = HourCorrection.get_or_none(HourCorrection.id == correction_id)
    if correction is None:
        raise DomainError(_("This correction request was not found."), status=404, code="not_found")
    attendance = Attendance.get_by_id(correction.attendance_id)
    event = Event.get_by_id(attendance.event_id)
    if not may_manage(staff, event):
        raise DomainError(_("This correction request was not found."), status=404, code="not_found")
    _check_may(staff, "run_door", event)
    if correction.user_id == staff.id:
        raise DomainError(_("Another staff member must decide on your own hours."), status=403,
                          code="second_approver_needed")
    return correction, attendance, event


def _claim(correction: HourCorrection, status: str) -> None:
    """Move the request out of pending, or find that someone else already has."""
    moved = HourCorrection.update(status=status).where(
        HourCorrection.id == correction.id, HourCorrection.status == "pending").execute()
    if moved != 1:
        raise DomainError(_("This correction request has already been decided."), status=409, code="already_decided")


def _tell(correction: HourCorrection, event: Event, text) -> None:
    notify(User.get_by_id(correction.user_id), "event", text, "/events/hours#corrections")


def approve_hour_correction(staff, correction_id: int, note: str = "") -> HourCorrection:
    """Change the hours and pay (or take back) exactly the difference in points, once."""
    note = (note or "").strip()[:MAX_REASON]
    with ledger_transaction():
        correction, attendance, event = _decidable(staff, correction_id)
        _claim(correction, "approved")
        minutes = clipped_minutes(event, correction.checked_in_at, correction.checked_out_at)
        if waits_for_second_approval(attendance, minutes) and staff.id in (attendance.in_by_id, attendance.out_by_id):
            # Honour hours above the setting: not by the staff member who entered them (events/honour.py).
            raise DomainError(_("A second staff member must approve hours you entered (or your own)."), status=403,
                              code="second_approver_needed")
        paid, rule = caps.event_pay(correction.user_id, attendance.id, correction.checked_in_at, minutes)
        points = points_for(event, paid)
        held_minutes, held_points = caps.capped_so_far(attendance.id)  # the earning caps, as at the door
        caps.record_capped(correction.user_id, attendance.id, rule, minutes - paid - held_minutes,
                           points_for(event, minutes) - points - held_points)
        old_points = attendance.points or 0
        difference = points - old_points
        transfer = None
        key, memo = f"correction:{correction.id}", event.title
        volunteer = User.get_by_id(correction.user_id)
        if difference > 0:
            transfer = ledger.award(staff, volunteer, difference, "earn_event", f"event:{event.id}", key, memo=memo)
        elif difference < 0:
            account = ledger.user_account(volunteer)
            try:
                transfer = ledger.post_transfer(account, ledger.system_account("issuer"), -difference, "adjust",
                                                key, key, staff, memo=memo)
            except ledger.NotEnoughPoints as error:
                raise DomainError(
                    _("%(name)s has already spent these points: %(points)d would be taken back, %(balance)d are left. "
                      "Please decline, or adjust the points first.", name=volunteer.display_name,
                      points=-difference, balance=ledger.balance_of(account)),
                    status=409, code="not_enough_points") from error
        Attendance.update(checked_in_at=correction.checked_in_at, checked_out_at=correction.checked_out_at,
                          minutes=minutes, points=points).where(Attendance.id == attendance.id).execute()
        HourCorrection.update(
            old_checked_in_at=attendance.checked_in_at, old_checked_out_at=attendance.checked_out_at,
            old_minutes=attendance.minutes or 0, old_points=old_points, new_minutes=minutes, new_points=points,
            transfer=transfer.id if transfer is not None else None, decided_by=staff.id, decided_at=utcnow(),
            decision_note=note,
        ).where(HourCorrection.id == correction.id).execute()
        correction = HourCorrection.get_by_id(correction.id)
        audit.record(staff, "events.correction.approved", correction, attendance=attendance.id,
                     minutes=minutes, points=difference, note=note)
        _tell(correction, event, _l("Your hours at “%(event)s” were corrected: %(minutes)d minutes, %(points)+d points.",
                                    event=event.title, minutes=minutes, points=difference))
    return correction


def decline_hour_correction(staff, correction_id: int, reason: str) -> HourCorrection:
    """Keep the hours as they are; the volunteer reads why. Nothing moves in the ledger."""
    with ledger_transaction():
        correction, _attendance, event = _decidable(staff, correction_id)
        reason = _text(reason, "reason", _("Please give a reason; the volunteer reads it."))
        _claim(correction, "declined")
        HourCorrection.update(decided_by=staff.id, decided_at=utcnow(), decision_note=reason).where(
            HourCorrection.id == correction.id).execute()
        correction = HourCorrection.get_by_id(correction.id)
        audit.record(staff, "events.correction.declined", correction, reason=reason)
        _tell(correction, event, _l("Your request to correct your hours at “%(event)s” was declined: %(reason)s",
                                    event=event.title, reason=reason))
    return correction
