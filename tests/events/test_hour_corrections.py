"""Hour corrections: a volunteer asks, the event's staff approve or decline; an approval pays or
takes back exactly the difference through the ledger, once, and `ledger verify` stays clean."""

import pytest

from marketplace.audit import AuditLog
from marketplace.errors import DomainError
from marketplace.events import services
from marketplace.events.models import Attendance, HourCorrection
from marketplace.ledger.models import Transfer
from marketplace.notifications.models import Notification
from tests.events.test_events import at, kiosk, make_event, signed_up, staff, volunteers
from tests.ledger_helpers import assert_books_balance as _assert_books_balance
from tests.ledger_helpers import balance, run_at_once


def assert_books_balance():
    """The books balance, and `flask ledger verify` is clean: every transfer has what made it."""
    from marketplace.ledger.verify import verify_ledger
    from marketplace.shop.services import escrow_faults

    _assert_books_balance()
    report = verify_ledger(extra_checks=[escrow_faults])
    assert report.ok, report.faults


def attended(minutes_in=0, minutes_out=60, points=10, hours=3):
    """A volunteer checked in and out at the door of a new event: minutes_out - minutes_in paid."""
    event = make_event(hours=hours, points=points)
    volunteer = volunteers(1)[0]
    signed_up(event, volunteer)
    services.check_with_kiosk(volunteer, kiosk(event, at(minutes_in)), now=at(minutes_in))
    services.check_with_kiosk(volunteer, kiosk(event, at(minutes_out), "out"), now=at(minutes_out))
    return event, volunteer, Attendance.get(Attendance.event == event.id, Attendance.user == volunteer.id)


def test_an_approved_correction_pays_exactly_the_difference_once(ctx):
    event, volunteer, attendance = attended(0, 60)
    assert attendance.points == 10
    before = balance(volunteer)
    correction = services.request_hour_correction(volunteer, attendance.id, None, at(150),
                                                  "My phone died; I stayed until the end.", now=at(200))
    assert correction.status == "pending" and balance(volunteer) == before  # asking moves nothing

    decided = services.approve_hour_correction(staff(), correction.id, "Seen on the patrol sheet")
    attendance = Attendance.get_by_id(attendance.id)
    assert (attendance.minutes, attendance.points, attendance.checked_out_at) == (150, 25, at(150))
    assert balance(volunteer) == before + 15
    transfer = Transfer.get_by_id(decided.transfer_id)
    assert (transfer.kind, transfer.amount, transfer.idempotency_key) == ("earn_event", 15, f"correction:{correction.id}")
    # The first pay is untouched: a second transfer, not an edit.
    assert Transfer.get_by_id(attendance.transfer_id).amount == 10
    assert (decided.old_minutes, decided.new_minutes, decided.difference) == (60, 150, 15)
    actions = [a.action for a in AuditLog.select().where(AuditLog.object_type == "HourCorrection")]
    assert actions == ["events.correction.requested", "events.correction.approved"]
    told = Notification.select().where(Notification.user == volunteer.id).order_by(Notification.id.desc()).first()
    assert told.kind == "event" and "+15" in told.text and "150" in told.text

    with pytest.raises(DomainError, match="already been decided") as again:
        services.approve_hour_correction(staff(), correction.id)
    assert again.value.code == "already_decided" and balance(volunteer) == before + 15
    assert_books_balance()


def test_fewer_hours_take_the_difference_back_with_a_transfer_to_the_community(ctx):
    event, volunteer, attendance = attended(0, 120)
    before = balance(volunteer)
    correction = services.request_hour_correction(volunteer, attendance.id, at(30), None, "I came late, sorry.",
                                                  now=at(200))
    decided = services.approve_hour_correction(staff("admin"), correction.id)
    assert Attendance.get_by_id(attendance.id).points == 15 and balance(volunteer) == before - 5
    transfer = Transfer.get_by_id(decided.transfer_id)
    assert (transfer.kind, transfer.amount, transfer.ref) == ("adjust", 5, f"correction:{correction.id}")
    assert_books_balance()


def test_a_declined_correction_moves_nothing_and_the_volunteer_reads_why(ctx):
    event, volunteer, attendance = attended(0, 60)
    before, transfers = balance(volunteer), Transfer.select().count()
    correction = services.request_hour_correction(volunteer, attendance.id, None, at(170), "stayed on",
                                                  now=at(200))
    with pytest.raises(DomainError, match="give a reason"):
        services.decline_hour_correction(staff(), correction.id, "  ")
    services.decline_hour_correction(staff(), correction.id, "You left with the first group at 10:00.")
    mine = list(services.my_hour_corrections(volunteer))
    assert [(c.status, c.decision_note) for c in mine] == [("declined", "You left with the first group at 10:00.")]
    assert balance(volunteer) == before and Transfer.select().count() == transfers
    assert Attendance.get_by_id(attendance.id).minutes == 60
    with pytest.raises(DomainError, match="already been decided"):
        services.approve_hour_correction(staff(), correction.id)
    # A new request may follow a declined one.
    assert services.request_hour_correction(volunteer, attendance.id, None, at(90), "I have a photo of the sheet",
                                            now=at(200)).status == "pending"
    assert_books_balance()


def test_two_approvals_racing_pay_once(ctx, app):
    event, volunteer, attendance = attended(0, 60)
    before = balance(volunteer)
    correction = services.request_hour_correction(volunteer, attendance.id, None, at(180), "stayed", now=at(200))
    deciders = [staff("community_admin"), staff("admin")] * 4
    results = run_at_once(app, 8, lambda i: services.approve_hour_correction(deciders[i], correction.id).status)
    assert results.count("approved") == 1, results
    assert all(getattr(r, "code", None) == "already_decided" for r in results if r != "approved"), results
    assert balance(volunteer) == before + 20
    assert Transfer.select().where(Transfer.idempotency_key == f"correction:{correction.id}").count() == 1
    assert_books_balance()


def test_racing_requests_leave_one_waiting(ctx, app):
    event, volunteer, attendance = attended(0, 60)
    results = run_at_once(app, 6, lambda i: services.request_hour_correction(
        volunteer, attendance.id, None, at(90 + i), "stayed", now=at(200)).status)
    assert results.count("pending") == 1, results
    assert all(getattr(r, "code", None) == "correction_pending" for r in results if r != "pending"), results
    assert HourCorrection.select().where(HourCorrection.attendance == attendance.id).count() == 1


def test_bad_requests_are_refused_clearly_and_change_nothing(ctx):
    event, volunteer, attendance = attended(0, 60)
    other = volunteers(1, start=50)[0]
    cases = [
        (other, attendance.id, None, at(90), "x", "not found"),
        (volunteer, 2**62, None, at(90), "x", "not found"),
        (volunteer, attendance.id, None, at(90), "  ", "say why"),
        (volunteer, attendance.id, None, None, "x", "time you arrived or the time you left"),
        (volunteer, attendance.id, at(100), at(90), "x", "must be after"),
        (volunteer, attendance.id, None, at(60 * 24), "x", "door times"),
        (volunteer, attendance.id, None, at(60), "x", "already recorded"),
        (volunteer, attendance.id, None, at(2100), "x", "future"),
        (volunteer, attendance.id, None, at(90), "x" * 301, "under 300"),
    ]
    for person, attendance_id, new_in, new_out, reason, message in cases:
        with pytest.raises(DomainError, match=message):
            services.request_hour_correction(person, attendance_id, new_in, new_out, reason, now=at(2000))
    assert HourCorrection.select().count() == 0

    correction = services.request_hour_correction(volunteer, attendance.id, None, at(90), "stayed", now=at(200))
    with pytest.raises(DomainError, match="already asked") as twice:
        services.request_hour_correction(volunteer, attendance.id, None, at(95), "stayed", now=at(200))
    assert twice.value.code == "correction_pending"
    # The volunteer cannot approve it, nor can staff of another community.
    with pytest.raises(DomainError, match="not found"):
        services.approve_hour_correction(volunteer, correction.id)
    with pytest.raises(DomainError, match="not found"):
        services.approve_hour_correction(staff("community_admin"), 2**62)
    assert HourCorrection.get_by_id(correction.id).status == "pending"


def test_hours_still_open_cannot_be_corrected_yet(ctx):
    event = make_event()
    volunteer = volunteers(1)[0]
    signed_up(event, volunteer)
    services.check_with_kiosk(volunteer, kiosk(event, at(0)), now=at(0))
    attendance = Attendance.get(Attendance.user == volunteer.id)
    with pytest.raises(DomainError, match="once the hours") as error:
        services.request_hour_correction(volunteer, attendance.id, None, at(60), "x", now=at(30))
    assert error.value.code == "hours_not_counted"


def test_taking_back_points_already_spent_is_refused_and_changes_nothing(ctx):
    from marketplace.ledger import services as ledger

    event, volunteer, attendance = attended(0, 120)
    spend = balance(volunteer)
    ledger.post_transfer(ledger.user_account(volunteer), ledger.system_account("flea_market"), spend, "adjust",
                         "adjustment:spent", "adjustment:spent")
    correction = services.request_hour_correction(volunteer, attendance.id, at(60), None, "came late", now=at(200))
    with pytest.raises(DomainError, match="already spent") as error:
        services.approve_hour_correction(staff(), correction.id)
    assert error.value.code == "not_enough_points"
    assert HourCorrection.get_by_id(correction.id).status == "pending"
    assert Attendance.get_by_id(attendance.id).minutes == 120


def test_ledger_verify_finds_a_correction_or_its_transfer_changed_behind_the_apps_back(ctx):
    from marketplace.ledger.verify import verify_ledger as verify_books

    event, volunteer, attendance = attended(0, 60)
    correction = services.request_hour_correction(volunteer, attendance.id, None, at(120), "stayed", now=at(200))
    decided = services.approve_hour_correction(staff(), correction.id)
    assert verify_books().ok
    HourCorrection.update(new_points=decided.new_points + 5).where(HourCorrection.id == correction.id).execute()
    faults = verify_books().faults
    assert any(f"hour correction {correction.id}" in fault for fault in faults), faults
    HourCorrection.update(new_points=decided.new_points).where(HourCorrection.id == correction.id).execute()
    Attendance.update(points=Attendance.points + 5).where(Attendance.id == attendance.id).execute()
    faults = verify_books().faults
    assert any(f"attendance {attendance.id}" in fault for fault in faults), faults
