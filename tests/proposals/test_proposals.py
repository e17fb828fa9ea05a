"""A building's matter through the five steps, on both databases: proposing and supporting,
accepting and declining, the meeting and its minutes, one vote per household (a second member is
refused; 50 racing votes count once), the count at the rule's edges and frozen, the action's
tasks, money and progress, the households' evaluation, and the public page without names."""

from datetime import timedelta

import pytest

from marketplace.audit import AuditLog
from marketplace.errors import DomainError
from marketplace.events.models import Event
from marketplace.notifications.models import Notification
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Household
from marketplace.proposals import action, evaluation, services, votes
from marketplace.proposals.models import Proposal, ProposalSupport, ProposalVote
from marketplace.public.models import FundUse
from marketplace.timeutil import utcnow
from tests.conftest import person
from tests.ledger_helpers import run_at_once
from tests.proposals.helpers import households, later, new_resident, to_vote, verify_all


def refused(code, call):
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_a_building_matter_through_all_five_steps(ctx):
    resident, head, admin = person("resident"), person("building_head"), person("community_admin")
    voters = verify_all("bj_b1")
    # 民提: the resident proposes; a neighbour supports it (twice: still one household)
    proposal = services.create_proposal(resident, "building", "电动车车棚", "楼下没有电动车车棚，飞线充电很危险。")
    assert proposal.status == "proposed" and proposal.building.code == "bj_b1"
    assert services.support(voters[1], proposal.id) is True
    assert services.support(voters[1], proposal.id) is False
    assert ProposalSupport.select().where(ProposalSupport.proposal == proposal.id).count() == 2  # with the proposer's
    # a household of another building neither sees nor supports it
    outsider = person("13900000002")
    refused("not_found", lambda: services.support(outsider, proposal.id))
    assert proposal.id not in [p.id for p in services.visible_proposals(outsider)]
    # staff in scope accept it
    services.decide(head, proposal.id, "accept")
    # 网格议: the meeting is an event of the community (sign-up and QR as for any), the minutes
    start = utcnow() + timedelta(days=2)
    proposal = services.schedule_meeting(admin, proposal.id, start, start + timedelta(hours=2), "1号楼活动室")
    meeting = Event.get_by_id(proposal.meeting_id)
    assert meeting.status == "published" and meeting.community_id == proposal.community_id
    services.record_minutes(head, proposal.id, "到会12户，讨论车棚位置和充电安全，同意付诸表决。")
    # 议定: every household votes for; staff record one in person (audited, on its behalf)
    proposal = votes.open_vote(head, proposal.id, "同意在1号楼北侧建电动车车棚", "ordinary", 7)
    for voter in voters[:-1]:
        votes.cast_vote(voter, proposal.id, "yes")
    votes.record_in_person(head, proposal.id, households("bj_b1")[-1].id, "no")
    assert AuditLog.select().where(AuditLog.action == "proposals.vote.recorded_in_person").count() == 1
    proposal = votes.close_vote(head, proposal.id)  # every household voted: counted before the period ends
    assert (proposal.status, proposal.eligible_households, proposal.voted_households, proposal.yes_households,
            proposal.no_households) == ("passed", 6, 6, 5, 1)
    # 联动: a partner builds it on a clock; the money goes on the board
    proposal = action.start_action(head, proposal.id, "12000")
    partner = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
    task = action.add_task(head, proposal.id, "搭建车棚并安装充电桩", "partner", 10, partner_id=partner.id)
    assert task.due_at > task.started_at and task.closed_at is None
    partner_staff = person("partner_staff")
    assert proposal.id in [p.id for p in services.visible_proposals(partner_staff)]
    action.add_update(partner_staff, proposal.id, "车棚钢架已搭好。")
    refused("not_allowed", lambda: action.finish(head, proposal.id))  # a task still open
    task = action.close_task(partner_staff, task.id, "车棚建成，安装10个充电口。")
    assert task.outcome == "on_time"
    action.add_spending(admin, proposal.id, utcnow().strftime("%Y-%m-%d"), "电动车车棚材料和施工", "11800.50")
    assert FundUse.select().where(FundUse.purpose == "电动车车棚材料和施工").count() == 1
    assert action.spent_fen(Proposal.get_by_id(proposal.id)) == 1180050
    action.finish(head, proposal.id)
    # 民评: each household once
    evaluation.evaluate(voters[0], proposal.id, 5, "很方便")
    evaluation.evaluate(voters[1], proposal.id, 4)
    refused("already_evaluated", lambda: evaluation.evaluate(voters[1], proposal.id, 1))
    summary = evaluation.summary(Proposal.get_by_id(proposal.id))
    assert summary["count"] == 2 and summary["average"] == "4.5"


def test_declined_with_a_reason_the_proposer_reads(ctx, client, auth):
    proposal = services.create_proposal(person("resident"), "building", "楼顶晾衣架", "希望在楼顶装晾衣架方便大家。")
    refused("invalid", lambda: services.decide(person("building_head"), proposal.id, "decline", ""))
    assert Proposal.get_by_id(proposal.id).status == "proposed"
    services.decide(person("building_head"), proposal.id, "decline", "楼顶属消防通道，不能占用")
    told = Notification.select().where(Notification.user == person("resident").id).order_by(Notification.id.desc()).first()
    assert "楼顶属消防通道，不能占用" in told.text and told.link == f"/proposals/{proposal.id}"
    auth.login_as("resident")
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "楼顶属消防通道，不能占用" in page
    assert client.get(f"/board/proposals/{proposal.id}").status_code == 404  # never accepted: not public


def test_a_household_votes_once_and_a_second_member_is_refused(ctx):
    proposal = to_vote()
    household = Household.get_by_id(services.household_of(person("resident")).id)
    spouse = new_resident(household, "张叔叔")
    votes.cast_vote(person("resident"), proposal.id, "yes")
    error = refused("already_voted", lambda: votes.cast_vote(spouse, proposal.id, "no"))
    assert "already voted" in error.message
    refused("already_voted", lambda: votes.record_in_person(person("building_head"), proposal.id, household.id, "no"))
    assert [v.choice for v in ProposalVote.select().where(ProposalVote.proposal == proposal.id)] == ["yes"]


def test_50_racing_votes_from_one_household_count_once(app, ctx):
    proposal = to_vote()
    household = services.household_of(person("resident"))
    members = [new_resident(household, f"成员{i}") for i in range(50)]
    results = run_at_once(app, 50, lambda i: votes.cast_vote(members[i], proposal.id, "yes" if i % 2 else "no"))
    won = [r for r in results if isinstance(r, ProposalVote)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 49, [r for r in results if not isinstance(r, ProposalVote | DomainError)]
    assert {e.code for e in lost} == {"already_voted"}
    assert ProposalVote.select().where(ProposalVote.proposal == proposal.id).count() == 1


def _vote(proposal, voters, yes, no=0):
    for voter in voters[:yes]:
        votes.cast_vote(voter, proposal.id, "yes")
    for voter in voters[yes:yes + no]:
        votes.cast_vote(voter, proposal.id, "no")


@pytest.mark.parametrize(("matter", "yes", "no", "passed"), [
    ("ordinary", 3, 1, True),   # exactly 2/3 take part (4 of 6), 3 of 4 for
    ("ordinary", 3, 0, False),  # 3 of 6 take part: one household short of 2/3
    ("ordinary", 2, 2, False),  # exactly half for: not more than half
    ("special", 3, 1, True),    # exactly 3/4 of those taking part
    ("special", 4, 2, False),   # 4 of 6: one vote short of 3/4
])
def test_the_count_at_the_rule_edges_is_frozen(ctx, matter, yes, no, passed):
    voters = verify_all("bj_b1")  # six verified households
    proposal = to_vote(matter)
    _vote(proposal, voters, yes, no)
    if yes + no < 6:  # counted before the period ends only once every household has voted
        refused("vote_still_open", lambda: votes.close_vote(person("building_head"), proposal.id))
    proposal = votes.close_vote(person("building_head"), proposal.id, now=later(proposal))
    assert proposal.status == ("passed" if passed else "rejected")
    assert (proposal.eligible_households, proposal.voted_households, proposal.yes_households) == (6, yes + no, yes)
    # frozen: a household verified afterwards, or a late vote, changes nothing
    new_resident(Household.create(building=households()[0].building, unit="9-999"))
    refused("vote_closed", lambda: votes.cast_vote(voters[-1], proposal.id, "yes"))
    refused("vote_closed", lambda: votes.close_vote(person("building_head"), proposal.id))
    again = Proposal.get_by_id(proposal.id)
    assert (again.eligible_households, again.voted_households, again.status) == (6, yes + no, proposal.status)


def test_floor_area_counts_where_every_household_has_one(ctx):
    voters = verify_all("bj_b1")
    head = person("building_head")
    areas = ["150", "150", "50", "50", "50", "50"]  # 500 m²; two large flats hold 300
    for household, area in zip(households("bj_b1"), areas, strict=True):
        services.set_floor_area(head, household.id, area)
    proposal = to_vote()
    # four of six households (2/3) take part, but only the small flats: 200 of 500 m², short of 2/3
    for voter in voters[2:]:
        votes.cast_vote(voter, proposal.id, "yes")
    proposal = votes.close_vote(head, proposal.id, now=later(proposal))
    assert proposal.area_counted and (proposal.eligible_area, proposal.voted_area) == (50000, 20000)
    assert proposal.status == "rejected"


def test_bad_input_gets_a_clear_answer_and_changes_nothing(ctx):
    resident, head = person("resident"), person("building_head")
    before = Proposal.select().count()
    refused("invalid", lambda: services.create_proposal(resident, "building", "车棚", "太短"))
    refused("invalid", lambda: services.create_proposal(resident, "street", "电动车车棚", "楼下没有电动车车棚。"))
    refused("not_verified", lambda: services.create_proposal(person("pending_resident"), "building", "电动车车棚",
                                                             "楼下没有电动车车棚。"))
    assert Proposal.select().count() == before
    proposal = services.create_proposal(resident, "building", "电动车车棚", "楼下没有电动车车棚，很不方便。")
    refused("not_found", lambda: services.decide(person("13900000002"), proposal.id, "accept"))
    services.decide(head, proposal.id, "accept")
    for motion, matter, days, participation in (("", "ordinary", 7, ""), ("同意建车棚", "x", 7, ""),
                                                ("同意建车棚", "ordinary", 0, ""), ("同意建车棚", "ordinary", 7, "5/4")):
        refused("invalid", lambda m=motion, k=matter, d=days, p=participation: votes.open_vote(head, proposal.id, m, k, d, p))
    assert Proposal.get_by_id(proposal.id).status == "discussion"
    refused("invalid", lambda: services.set_floor_area(head, households()[0].id, "12.345"))
    assert Household.get_by_id(households()[0].id).floor_area is None
    votes.open_vote(head, proposal.id, "同意建车棚", "ordinary", 7)
    refused("invalid", lambda: votes.cast_vote(resident, proposal.id, "maybe"))
    assert ProposalVote.select().count() == 0
