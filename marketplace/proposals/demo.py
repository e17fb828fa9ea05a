"""Demo matters, so the pages are not empty: one finished (the electric-bike shelter of the seed's
example, voted, built by a partner and rated) and one under discussion. Idempotent: found by
title. The finished one's vote is the demo's history: its figures are stored as counted (frozen),
without the households' individual votes. No fund use is published (the board's own demo)."""

from datetime import timedelta

from marketplace.db import db
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Household
from marketplace.proposals.models import Proposal, ProposalEvaluation, ProposalSupport, ProposalTask, ProposalUpdate
from marketplace.timeutil import utcnow
from marketplace.users.models import User

DONE_TITLE = ("1号楼电动车车棚", "An electric-bike shelter for building 1")
OPEN_TITLE = ("1号楼楼道加装扶手", "Handrails in the stairwells of building 1")


def load_demo_proposals(in_language, language: str) -> None:
    resident = User.get_or_none(User.phone == "13900000001")
    head = User.get_or_none(User.phone == "13800000004")
    partner = PartnerEnterprise.get_or_none(PartnerEnterprise.name == "北苑五金维修店")
    if resident is None or head is None or partner is None:
        return
    building = Building.get(Building.code == "bj_b1")
    household = building.households.order_by(Household.id).first()
    community_id, grid_id = building.grid.community_id, building.grid_id
    now = utcnow().replace(microsecond=0)
    common = {"community": community_id, "grid": grid_id, "building": building.id, "scope_kind": "building",
              "proposer": resident.id, "household": household.id, "created_by": resident.id}
    with db.atomic():
        if not Proposal.select().where(Proposal.title == in_language(DONE_TITLE, language)).exists():
            opened = now - timedelta(days=40)
            done = Proposal.create(
                **common, title=in_language(DONE_TITLE, language), created_at=now - timedelta(days=60),
                body=in_language(("楼下没有电动车车棚，大家只能飞线充电，很危险。建议在北侧空地建一个带充电口的车棚。",
                                  "There is no shelter for electric bikes; people charge them on cables from "
                                  "their windows, which is dangerous. We propose a shelter with charging points on "
                                  "the empty ground to the north."), language),
                status="done", decided_by=head.id, decided_at=now - timedelta(days=55),
                minutes=in_language(("到会5户。讨论了车棚的位置、充电安全和费用，同意付诸表决。",
                                     "5 households came. The shelter's place, safe charging and the cost were "
                                     "discussed; agreed to put it to the vote."), language),
                minutes_by=head.id, minutes_at=now - timedelta(days=45),
                motion=in_language(("同意在1号楼北侧建电动车车棚", "Build an electric-bike shelter north of building 1"),
                                   language),
                vote_opens_at=opened, vote_closes_at=opened + timedelta(days=7), counted_at=opened + timedelta(days=7),
                eligible_households=6, eligible_area=0, area_counted=False, voted_households=5, voted_area=0,
                yes_households=5, yes_area=0, no_households=0, abstain_households=0, budget_fen=1_200_000,
                done_at=now - timedelta(days=5))
            started = opened + timedelta(days=8)
            ProposalTask.create(
                proposal=done.id, title=in_language(("搭建车棚并安装充电口", "Build the shelter and fit charging points"),
                                                    language),
                party_kind="partner", partner=partner.id, days=15, started_at=started,
                due_at=started + timedelta(days=21), created_by=head.id, closed_at=now - timedelta(days=6),
                closed_by=head.id, answer=in_language(("车棚建成，安装10个充电口。", "Built, with 10 charging points."),
                                                      language), outcome="on_time")
            ProposalUpdate.create(proposal=done.id, created_by=head.id, created_at=now - timedelta(days=15),
                                  text=in_language(("钢架已搭好，下周安装充电口。",
                                                    "The frame is up; the charging points go in next week."), language))
            ProposalSupport.create(proposal=done.id, household=household.id, user=resident.id,
                                   created_at=now - timedelta(days=59))
            ProposalEvaluation.create(proposal=done.id, household=household.id, user=resident.id, rating=5,
                                      comment=in_language(("再也不用飞线充电了", "No more charging cables from windows"),
                                                          language), created_at=now - timedelta(days=3))
        if not Proposal.select().where(Proposal.title == in_language(OPEN_TITLE, language)).exists():
            Proposal.create(
                **common, title=in_language(OPEN_TITLE, language), created_at=now - timedelta(days=3),
                body=in_language(("楼里老人多，楼道没有扶手，上下楼不安全。建议每层加装扶手。",
                                  "Many elderly people live here and the stairwells have no handrails. We propose "
                                  "handrails on every floor."), language),
                status="discussion", decided_by=head.id, decided_at=now - timedelta(days=1))
