"""The phone app's part (/api/v1): propose, support, vote (once per household), evaluate; staff
accept and count; bad input is refused with its code and changes nothing."""

from marketplace.proposals import votes
from marketplace.proposals.models import Proposal, ProposalVote
from marketplace.users.models import User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import in_app, person
from tests.proposals.helpers import later, new_resident, verify_all


def test_a_matter_through_the_api(app, client):
    resident = ApiClient(client, make_token(app, "resident"))
    head = ApiClient(client, make_token(app, "building_head"))
    response = resident.post("/proposals", {"scope_kind": "building", "title": "电动车车棚",
                                            "body": "楼下没有电动车车棚，飞线充电很危险。"})
    assert response.status_code == 201, response.get_json()
    proposal = response.get_json()
    assert proposal["status"] == "proposed" and proposal["vote"] is None
    pid = proposal["id"]
    assert proposal["supports"] == 1 and proposal["my_household_supports"]  # the proposer's own household
    assert resident.post(f"/proposals/{pid}/support").get_json()["supports"] == 1  # once per household
    assert head.post(f"/proposals/{pid}/decide", {"decision": "accept"}).get_json()["status"] == "discussion"
    voters = in_app(app, lambda: [u.id for u in verify_all("bj_b1")])
    opened = head.post(f"/proposals/{pid}/vote/open", {"motion": "同意建车棚", "matter": "special", "days": 7})
    assert opened.get_json()["vote"]["majority"] == "3/4" and opened.get_json()["vote"]["majority_strict"] is False
    voted = resident.post(f"/proposals/{pid}/vote", {"choice": "yes"}).get_json()
    assert voted["vote"]["my_household_voted"] and voted["vote"]["voted_households"] == 1
    again = resident.post(f"/proposals/{pid}/vote", {"choice": "no"})
    assert again.status_code == 409 and error_of(again)["code"] == "already_voted"
    assert [item["id"] for item in resident.get("/proposals").get_json()["items"]][0] == pid
    # the vote counted after its period: by the service (the API's clock is now), then read back

    def count():
        for voter in voters[1:5]:
            votes.cast_vote(User.get_by_id(voter), pid, "yes")
        p = Proposal.get_by_id(pid)
        return votes.close_vote(person("building_head"), pid, now=later(p)).status

    assert in_app(app, count) == "passed"
    shown = resident.get(f"/proposals/{pid}").get_json()["vote"]
    assert (shown["counted"], shown["passed"], shown["voted_households"], shown["yes_households"]) == (True, True, 5, 5)
    assert "voter" not in str(shown) and "张阿姨" not in str(shown)


def test_bad_input_is_refused_with_its_code_and_changes_nothing(app, client):
    resident = ApiClient(client, make_token(app, "resident"))
    before = in_app(app, lambda: Proposal.select().count())
    response = resident.post("/proposals", {"scope_kind": "street", "title": "电动车车棚", "body": "楼下没有车棚。。。。"})
    assert response.status_code == 422 and "scope_kind" in error_of(response)["fields"]
    response = resident.post("/proposals", {"scope_kind": "building", "title": "棚", "body": "楼下没有电动车车棚。"})
    assert response.status_code == 422 and error_of(response)["code"] == "invalid"
    pending = ApiClient(client, make_token(app, "pending_resident"))
    response = pending.post("/proposals", {"scope_kind": "building", "title": "电动车车棚", "body": "楼下没有电动车车棚。"})
    assert response.status_code == 403 and error_of(response)["code"] == "not_verified"
    assert in_app(app, lambda: Proposal.select().count()) == before
    demo_open = in_app(app, lambda: Proposal.get(Proposal.status == "discussion").id)
    response = resident.post(f"/proposals/{demo_open}/vote", {"choice": "yes"})
    assert response.status_code == 409 and error_of(response)["code"] == "vote_closed"
    response = resident.post(f"/proposals/{demo_open}/evaluate", {"rating": 9})
    assert response.status_code in (409, 422)
    assert in_app(app, lambda: ProposalVote.select().count()) == 0


def test_a_second_member_of_the_household_is_refused_through_the_api(app, client):
    resident = ApiClient(client, make_token(app, "resident"))
    head = ApiClient(client, make_token(app, "building_head"))
    pid = resident.post("/proposals", {"scope_kind": "building", "title": "楼道扶手",
                                       "body": "楼道没有扶手，老人上下楼不安全。"}).get_json()["id"]
    head.post(f"/proposals/{pid}/decide", {"decision": "accept"})
    head.post(f"/proposals/{pid}/vote/open", {"motion": "同意加装扶手", "matter": "ordinary", "days": 7})

    def spouse_token():
        from marketplace.proposals.services import household_of
        from marketplace.users import tokens
        from tests.conftest import person

        spouse = new_resident(household_of(person("resident")), "张叔叔")
        return tokens.create_token(spouse, "app", ["read", "proposals"])[1]

    spouse = ApiClient(client, in_app(app, spouse_token))
    assert resident.post(f"/proposals/{pid}/vote", {"choice": "yes"}).status_code == 200
    response = spouse.post(f"/proposals/{pid}/vote", {"choice": "no"})
    assert response.status_code == 409 and error_of(response)["code"] == "already_voted"
    assert in_app(app, lambda: [v.choice for v in ProposalVote.select().where(ProposalVote.proposal == pid)]) == ["yes"]
