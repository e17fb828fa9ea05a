"""Points for taking part in a matter (voting, attending the grid's meeting), paid through the
ledger when staff in scope turn them on for the matter before its vote opens; and the periodic
job that closes the votes whose period has ended and pays the meeting's attendance.

Each payment is made once: a vote's by its own row (one per household) and the key naming it
(votes._pay_vote), an attendance's by the MeetingPay row (UNIQUE per attendance), checked and
written while the ledger's lock is held, so two hosts running the job pay it once.
"""

from datetime import datetime

from flask_babel import gettext as _

from marketplace import audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.events.models import Attendance
from marketplace.ledger import services as ledger
from marketplace.places.models import Household
from marketplace.proposals import votes
from marketplace.proposals.models import MeetingPay, Proposal
from marketplace.proposals.services import _changed, get_covered, households_in
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

MAX_POINTS = 100
BEFORE_THE_VOTE = ("proposed", "discussion")


def _points(value, field: str) -> int:
    text = str(value if value is not None else "").strip() or "0"
    if not text.isdigit() or len(text) > 4 or int(text) > MAX_POINTS:
        raise DomainError(_("Points for taking part are a whole number from 0 (off) to %(most)d.", most=MAX_POINTS),
                          field=field, code="invalid")
    return int(text)


def set_points(staff, proposal_id: int, vote_points, meeting_points) -> Proposal:
    """Staff in scope set the points a member earns for voting and for attending the meeting
    (0 turns them off). Fixed once the vote opens: every household votes under the same offer."""
    proposal = get_covered(staff, proposal_id)
    vote, meeting = _points(vote_points, "vote_points"), _points(meeting_points, "meeting_points")
    if proposal.status not in BEFORE_THE_VOTE:
        raise DomainError(_("Points for taking part are set before the vote opens."), status=409, code="not_allowed")
    with db.atomic():
        _changed(proposal.id, BEFORE_THE_VOTE, vote_points=vote, meeting_points=meeting)
        audit.record(staff, "proposals.points.set", proposal, vote_points=vote, meeting_points=meeting)
    return Proposal.get_by_id(proposal.id)


def concerned_members(proposal: Proposal):
    """The verified residents of the households a matter concerns (as a subquery of user ids)."""
    return RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "resident") & RoleGrant.household.in_(households_in(proposal).select(Household.id)))


def pay_meeting(proposal: Proposal) -> int:
    """Each member of a household concerned who checked in at the matter's meeting earns its
    points for attending, once. Returns how many were paid now."""
    if proposal.meeting_points <= 0 or proposal.meeting_id is None:
        return 0
    paid = MeetingPay.select(MeetingPay.attendance).where(MeetingPay.proposal == proposal.id)
    waiting = list(Attendance.select().where((Attendance.event == proposal.meeting_id)
                                             & Attendance.user.in_(concerned_members(proposal))
                                             & Attendance.id.not_in(paid)).order_by(Attendance.id))
    count = 0
    for attendance in waiting:
        with ledger.ledger_transaction():
            # under the ledger's lock: a racer that paid this attendance first is seen here
            if MeetingPay.select().where(MeetingPay.attendance == attendance.id).exists():
                continue
            user = User.get_by_id(attendance.user_id)
            transfer = ledger.award(None, user, proposal.meeting_points, "earn_participation",
                                    f"proposal:{proposal.id}", f"proposal:{proposal.id}:attendance:{attendance.id}",
                                    memo=proposal.title)
            MeetingPay.create(proposal=proposal.id, attendance=attendance.id, user=user.id, transfer=transfer.id,
                              created_at=transfer.created_at)
            count += 1
    return count


def sweep(now: datetime | None = None) -> int:
    """The periodic job: count every vote whose period has ended, and pay the meetings'
    attendance. Returns what it did (votes counted + attendances paid)."""
    now = now or utcnow()
    done = votes.close_due_votes(now)
    for proposal in Proposal.select().where((Proposal.meeting_points > 0) & Proposal.meeting.is_null(False)):
        done += pay_meeting(proposal)
    return done
