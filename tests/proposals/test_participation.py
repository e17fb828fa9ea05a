"""The vote that closes itself at the end of its period (the periodic job, exactly once on two
hosts), and points for taking part paid through the ledger when staff turn them on: once per
household's vote (racing votes pay once), once per meeting attendance, each transfer claimed by
its row in `ledger verify`, a tampered row found."""

from datetime import timedelta

import pytest

from marketplace.audit import AuditLog
from marketplace.errors import DomainError
from marketplace.events.models import Attendance
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Transfer
from marketplace.ledger.verify import verify_ledger
from marketplace.notifications.models import Notification
from marketplace.ops import periodic
from marketplace.proposals import participation, services, votes
from marketplace.proposals.models import MeetingPay, Proposal, ProposalVote
from marketplace.timeutil import utcnow
from tests.conftest import in_app, person
from tests.ledger_helpers import assert_books_balance, run_at_once
from tests.proposals.helpers import later, new_resident, verify_all


def refused(code, call):
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def accepted(title="电动车车棚"):
    resident = person("resident")
    proposal = services.create_proposal(resident, "building", title, "3号楼下没有电动车车棚，飞线充电很危险，建议建一个。")
    services.decide(person("building_head"), proposal.id, "accept")
    return Proposal.get_by_id(proposal.id)


def opened(proposal, days=7, now=None):
    return votes.open_vote(person("building_head"), proposal.id, "同意在1号楼北侧建电动车车棚", "ordinary", days, now=now)


def balance(user):
    return ledger.balance_of(ledger.user_account(user))


def told(proposal, user):
    return Notification.select().where((Notification.user == user.id)
                                       & (Notification.link == f"/proposals/{proposal.id}#vote")).count()


# ---- the vote closes itself ---------------------------------------------------------------------


def test_the_vote_closes_itself_at_the_end_and_tells_the_households(ctx):
    proposal = opened(accepted())
    voters = verify_all()
    for voter in voters[:5]:
        votes.cast_vote(voter, proposal.id, "yes")
    assert votes.close_due_votes(proposal.vote_closes_at - timedelta(minutes=1)) == 0
    assert Proposal.get_by_id(proposal.id).status == "voting"

    assert votes.close_due_votes(later(proposal)) == 1
    closed = Proposal.get_by_id(proposal.id)
    assert (closed.status, closed.voted_households, closed.yes_households) == ("passed", 5, 5)
    assert closed.counted_at == later(proposal) and closed.vote_closes_at == proposal.vote_closes_at
    # the proposer and every verified member of the households concerned read the result, once
    assert told(proposal, person("resident")) == 1
    assert all(told(proposal, voter) == 1 for voter in voters)
    text = Notification.get((Notification.user == voters[-1].id) & (Notification.link.endswith("#vote"))).text
    assert "passed" in text or "通过" in text
    [entry] = AuditLog.select().where(AuditLog.action == "proposals.vote.counted")
    assert entry.actor_id is None  # counted by the job, not by a person
    assert votes.close_due_votes(later(proposal, 9)) == 0  # frozen: never counted again


def test_the_periodic_job_closes_votes_whose_period_ended(app):
    def setup():
        proposal = opened(accepted(), days=1, now=utcnow() - timedelta(days=2))
        verify_all()
        return proposal.id

    proposal_id = in_app(app, setup)
    [job] = [job for job in periodic.JOBS if job.name == "close_votes"]
    assert periodic.run_job(job) == 1
    assert in_app(app, lambda: Proposal.get_by_id(proposal_id).status) == "rejected"  # nobody voted
    assert periodic.run_job(job) == 0


def test_two_hosts_closing_at_once_count_and_tell_once(app, ctx):
    proposal = opened(accepted())
    voters = verify_all()
    for voter in voters[:4]:
        votes.cast_vote(voter, proposal.id, "yes")
    results = run_at_once(app, 8, lambda i: votes.close_due_votes(later(proposal)))
    assert sorted(results) == [0] * 7 + [1], results
    assert Proposal.get_by_id(proposal.id).status == "passed"
    assert AuditLog.select().where(AuditLog.action == "proposals.vote.counted").count() == 1
    assert told(proposal, person("resident")) == 1


def test_staff_closing_tells_the_result_as_the_job_does(ctx):
    proposal = opened(accepted())
    voters = verify_all()
    for voter in voters:
        votes.cast_vote(voter, proposal.id, "no")
    votes.close_vote(person("building_head"), proposal.id)  # every household voted: counted early
    assert Proposal.get_by_id(proposal.id).status == "rejected"
    assert told(proposal, person("resident")) == 1
    assert votes.close_due_votes(later(proposal)) == 0


# ---- points for taking part -----------------------------------------------------------------------


def test_points_are_set_by_staff_in_scope_before_the_vote_and_bad_input_changes_nothing(ctx):
    proposal = accepted()
    head = person("building_head")
    for vote_points, meeting_points in (("-1", "0"), ("abc", "0"), ("0", "101"), ("2.5", "0"), ("0", "9" * 30)):
        refused("invalid", lambda v=vote_points, m=meeting_points: participation.set_points(head, proposal.id, v, m))
    refused("out_of_scope", lambda: participation.set_points(person("resident"), proposal.id, "5", "5"))
    unchanged = Proposal.get_by_id(proposal.id)
    assert (unchanged.vote_points, unchanged.meeting_points) == (0, 0)  # off by default

    participation.set_points(head, proposal.id, "5", "3")
    assert AuditLog.select().where(AuditLog.action == "proposals.points.set").count() == 1
    opened(proposal)
    refused("not_allowed", lambda: participation.set_points(head, proposal.id, "50", "50"))
    assert (Proposal.get_by_id(proposal.id).vote_points, Proposal.get_by_id(proposal.id).meeting_points) == (5, 3)


def test_a_household_s_vote_pays_the_voting_member_once(ctx):
    proposal = accepted()
    participation.set_points(person("building_head"), proposal.id, "5", "0")
    opened(proposal)
    resident = person("resident")
    household = services.household_of(resident)
    other = new_resident(household, "同户成员")
    before = balance(resident)
    vote = votes.cast_vote(resident, proposal.id, "yes")
    assert balance(resident) == before + 5 and vote.transfer_id is not None
    assert Transfer.get_by_id(vote.transfer_id).kind == "earn_participation"
    refused("already_voted", lambda: votes.cast_vote(other, proposal.id, "no"))
    assert balance(other) == 0 and balance(resident) == before + 5
    # a vote recorded in person for a household pays nobody (no member voted online)
    voters = verify_all()
    in_person = votes.record_in_person(person("building_head"), proposal.id, services.household_of(voters[1]).id, "no")
    assert in_person.transfer_id is None
    assert_books_balance()
    assert verify_ledger().ok


def test_no_points_when_staff_left_them_off(ctx):
    proposal = opened(accepted())
    resident = person("resident")
    before = balance(resident)
    assert votes.cast_vote(resident, proposal.id, "yes").transfer_id is None
    assert balance(resident) == before


def test_50_racing_votes_from_one_household_pay_once(app, ctx):
    proposal = accepted()
    participation.set_points(person("building_head"), proposal.id, "5", "0")
    opened(proposal)
    household = services.household_of(person("resident"))
    members = [new_resident(household, f"成员{i}") for i in range(50)]
    results = run_at_once(app, 50, lambda i: votes.cast_vote(members[i], proposal.id, "yes"))
    assert len([r for r in results if isinstance(r, ProposalVote)]) == 1, results
    assert Transfer.select().where(Transfer.kind == "earn_participation").count() == 1
    assert sum(balance(m) for m in members) == 5
    assert_books_balance()


def _attended(proposal, users):
    event_id = Proposal.get_by_id(proposal.id).meeting_id
    return [Attendance.create(event=event_id, user=u.id, checked_in_at=utcnow(), in_method="kiosk") for u in users]


def test_attending_the_meeting_pays_once_and_only_the_households_concerned(app, ctx):
    proposal = accepted()
    head = person("building_head")
    participation.set_points(head, proposal.id, "0", "3")
    start = utcnow() + timedelta(hours=1)
    services.schedule_meeting(person("community_admin"), proposal.id, start, start + timedelta(hours=2), "1号楼架空层")
    proposal = Proposal.get_by_id(proposal.id)
    resident = person("resident")
    outsider = person("volunteer")  # not a member of a household of this building
    _attended(proposal, [resident, outsider])
    before = balance(resident), balance(outsider)
    results = run_at_once(app, 4, lambda i: participation.sweep())
    assert sum(results) == 1, results
    assert (balance(resident), balance(outsider)) == (before[0] + 3, before[1])
    assert MeetingPay.select().count() == 1 and participation.sweep() == 0
    assert_books_balance()
    assert verify_ledger().ok


def test_ledger_verify_finds_a_participation_pay_changed_behind_the_apps_back(ctx):
    proposal = accepted()
    head = person("building_head")
    participation.set_points(head, proposal.id, "5", "3")
    start = utcnow() + timedelta(hours=1)
    services.schedule_meeting(person("community_admin"), proposal.id, start, start + timedelta(hours=2), "1号楼架空层")
    proposal = opened(Proposal.get_by_id(proposal.id))
    vote = votes.cast_vote(person("resident"), proposal.id, "yes")
    _attended(proposal, [person("resident")])
    participation.sweep(proposal.vote_opens_at)
    pay = MeetingPay.get()
    assert verify_ledger().ok

    Proposal.update(vote_points=50).where(Proposal.id == proposal.id).execute()
    faults = verify_ledger().faults
    assert any(f"proposal vote {vote.id}" in fault for fault in faults), faults
    Proposal.update(vote_points=5).where(Proposal.id == proposal.id).execute()

    MeetingPay.update(transfer=vote.transfer_id).where(MeetingPay.id == pay.id).execute()  # one transfer, two rows
    faults = verify_ledger().faults
    assert any("also belongs to" in fault for fault in faults), faults
    assert any("nothing in the app made" in fault for fault in faults), faults  # the meeting's own is now unclaimed
    MeetingPay.update(transfer=pay.transfer_id).where(MeetingPay.id == pay.id).execute()

    ProposalVote.update(transfer=None).where(ProposalVote.id == vote.id).execute()
    faults = verify_ledger().faults
    assert any("nothing in the app made" in fault for fault in faults), faults
