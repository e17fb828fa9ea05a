"""Credit hours and honour hours (as China's volunteer systems keep them apart).

- **Credit hours** are recorded at the door by the system: the kiosk's QR, the typed code, the
  poster, a badge scanned by staff. They count towards star levels.
- **Honour hours** are hours staff add by hand (a check-in by hand). They are shown apart on the
  volunteer's record and certificate, count towards stars only when STARS_COUNT_HONOUR_HOURS is
  on, and more than HONOUR_APPROVAL_MINUTES of them at one event wait (state `review`, nothing
  paid) until a second staff member approves them: not the one who entered them, nor the
  volunteer. The approval pays with the attendance's own key, so it pays once however many press.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import audit
from marketplace.errors import DomainError
from marketplace.events import caps
from marketplace.events.models import Attendance, Event
from marketplace.events.organising import _check_may, may_manage
from marketplace.events.permissions import community_ids_for
from marketplace.events.timing import points_for
from marketplace.ledger import services as ledger
from marketplace.ledger.services import ledger_transaction
from marketplace.notifications.services import notify
from marketplace.settings import settings
from marketplace.users.models import User

HONOUR_METHODS = ("manual",)  # how an attendance began when staff added it by hand


def is_honour(attendance: Attendance) -> bool:
    return attendance.in_method in HONOUR_METHODS


def waits_for_second_approval(attendance: Attendance, minutes: int) -> bool:
    """Honour hours above the setting are not paid until a second staff member approves them."""
    return is_honour(attendance) and minutes > settings().honour_approval_minutes


def split_minutes(attendances) -> tuple[int, int]:
    """(credit, honour) minutes of attendances whose hours are final."""
    credit = sum(a.minutes or 0 for a in attendances if not is_honour(a))
    honour = sum(a.minutes or 0 for a in attendances if is_honour(a))
    return credit, honour


def star_minutes(credit: int, honour: int) -> int:
    return credit + (honour if settings().stars_count_honour_hours else 0)


def _awaiting():
    return ((Attendance.state == "review") & Attendance.in_method.in_(HONOUR_METHODS)
            & (Attendance.out_method != "auto"))


def honour_hours_waiting(staff):
    """Honour hours waiting for a second approval at the events whose door this person runs."""
    query = (Attendance.select(Attendance, Event, User).join(Event)
             .switch(Attendance).join(User, on=(Attendance.user == User.id)).where(_awaiting()))
    ids = community_ids_for(staff, "run_door")
    if ids is not None:
        query = query.where(Event.community.in_(ids))
    return query.order_by(Attendance.checked_out_at, Attendance.id)


def approve_honour_hours(staff, attendance_id: int) -> Attendance:
    """The second staff member's approval: the hours become final and are paid, once."""
    with ledger_transaction():
        attendance = Attendance.get_or_none(Attendance.id == attendance_id)
        event = Event.get_or_none(Event.id == attendance.event_id) if attendance is not None else None
        if event is None or not may_manage(staff, event):
            raise DomainError(_("This attendance was not found."), status=404, code="not_found")
        _check_may(staff, "run_door", event)
        if not (attendance.state == "review" and is_honour(attendance) and attendance.out_method != "auto"):
            raise DomainError(_("These hours are not waiting for a second approval."), status=409,
                              code="already_decided")
        if staff.id in (attendance.in_by_id, attendance.out_by_id, attendance.user_id):
            raise DomainError(_("A second staff member must approve hours you entered (or your own)."), status=403,
                              code="second_approver_needed")
        moved = Attendance.update(state="out").where(Attendance.id == attendance.id,
                                                     Attendance.state == "review").execute()
        if moved != 1:
            raise DomainError(_("These hours are not waiting for a second approval."), status=409,
                              code="already_decided")
        # The earning caps again, as of now: other hours may have been paid while these waited.
        paid, rule = caps.event_pay(attendance.user_id, attendance.id, attendance.checked_in_at, attendance.minutes or 0)
        points = points_for(event, paid)
        held_minutes, held_points = caps.capped_so_far(attendance.id)
        caps.record_capped(attendance.user_id, attendance.id, rule, (attendance.minutes or 0) - paid - held_minutes,
                           points_for(event, attendance.minutes or 0) - points - held_points)
        Attendance.update(points=points).where(Attendance.id == attendance.id).execute()
        attendance = Attendance.get_by_id(attendance.id)
        volunteer = User.get_by_id(attendance.user_id)
        if attendance.points:
            transfer = ledger.award(staff, volunteer, attendance.points, "earn_event", f"event:{event.id}",
                                    f"attendance:{attendance.id}:pay", memo=event.title)
            Attendance.update(transfer=transfer).where(Attendance.id == attendance.id).execute()
        attendance = Attendance.get_by_id(attendance.id)
        audit.record(staff, "events.attendance.honour_approved", attendance, minutes=attendance.minutes,
                     points=attendance.points)
        notify(volunteer, "event", _l("Your honour hours at “%(event)s” were approved: %(minutes)d minutes, %(points)d points.",
                                      event=event.title, minutes=attendance.minutes or 0, points=attendance.points or 0),
               "/events/hours")
    return attendance
