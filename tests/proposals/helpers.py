"""Helpers for the proposals' tests: verified households in a demo building, and a matter taken
to the vote."""

from datetime import timedelta

from marketplace.places.models import Building, Household
from marketplace.proposals import services, votes
from marketplace.users.models import RoleGrant, User
from tests.conftest import person

_numbers = iter(range(10_000, 99_999))


def new_resident(household, name=None) -> User:
    """A verified member of the household (staff verified it: a resident grant)."""
    number = next(_numbers)
    user = User.create(phone=f"139{number:08d}", display_name=name or f"邻居{number}", password_hash="x")
    RoleGrant.create(user=user, role="resident", household=household)
    return user


def building(code="bj_b1") -> Building:
    return Building.get(Building.code == code)


def households(code="bj_b1") -> list[Household]:
    return list(building(code).households.order_by(Household.id))


def verify_all(code="bj_b1") -> list[User]:
    """One verified resident for each household of the building (the demo's own where there is one)."""
    voters = []
    for household in households(code):
        grant = RoleGrant.get_or_none((RoleGrant.household == household.id) & (RoleGrant.role == "resident"))
        voters.append(User.get_by_id(grant.user_id) if grant else new_resident(household))
    return voters


def to_vote(matter="ordinary", title="电动车车棚", code="bj_b1", days=7, now=None):
    """A building's proposal by the demo resident, accepted and put to the vote by the building head."""
    resident = person("resident")
    proposal = services.create_proposal(resident, "building", title, "3号楼下没有电动车车棚，飞线充电很危险，建议建一个。")
    services.decide(person("building_head"), proposal.id, "accept")
    return votes.open_vote(person("building_head"), proposal.id, "同意在1号楼北侧建电动车车棚", matter, days, now=now)


def later(proposal, days=8):
    return proposal.vote_opens_at + timedelta(days=days)
