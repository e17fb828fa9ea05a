"""Family links in /api/v1 (issue 16, item 9): ask, consent, book for her (`for_user_id`) and act
through the request operations, revoke; the next request is refused."""

from marketplace.menu.models import ServiceItem
from marketplace.proxy.models import ProxyAct
from marketplace.service_requests.models import ServiceRequest
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import DEMO_PHONES, in_app, person


def test_a_son_asks_his_mother_consents_he_acts_for_her_then_she_revokes(app):
    from marketplace.users import accounts

    in_app(app, lambda: accounts.sign_up("13600000009", "张小军", "long enough pass phrase 9"))
    son = ApiClient(app.test_client(), make_token(app, "13600000009"))
    mother = ApiClient(app.test_client(), make_token(app, "resident"))

    bad = son.post("/family/links", {"phone": "12345"})
    assert bad.status_code == 422 and error_of(bad)["fields"]
    assert son.get("/family/links").get_json() == {"for_me": [], "i_act_for": []}
    assert son.post("/family/links", {"phone": DEMO_PHONES["resident"], "relation": "儿子"}).status_code == 202
    assert son.post("/family/links", {"phone": "13600000001"}).get_json() == {"asked": True}  # no such resident
    asked = mother.get("/family/links").get_json()["for_me"]
    assert [(link["family"], link["state"]) for link in asked] == [("张小军", "asked")]
    link_id = asked[0]["id"]
    assert son.post(f"/family/links/{link_id}/consent").status_code == 404  # only she (or staff) consents
    consented = mother.post(f"/family/links/{link_id}/consent").get_json()
    assert (consented["state"], consented["consented_via"]) == ("active", "phone")
    assert error_of(mother.post(f"/family/links/{link_id}/consent"))["code"] == "already_decided"

    # He acts for her through the request operations: her request, his name recorded.
    mother_id = in_app(app, lambda: person("resident").id)
    item = in_app(app, lambda: ServiceItem.get(ServiceItem.code == "companionship_visit").id)
    volunteer = ApiClient(app.test_client(), make_token(app, "volunteer"))
    booking = {"item_id": item, "description": "想找人陪着聊聊天", "for_user_id": mother_id}
    requests_before = in_app(app, lambda: ServiceRequest.select().count())
    assert error_of(volunteer.post("/requests", booking))["code"] == "not_found"  # not linked to her
    assert in_app(app, lambda: ServiceRequest.select().count()) == requests_before
    booked = son.post("/requests", booking)
    assert booked.status_code == 201, booked.get_json()
    request_id = booked.get_json()["id"]
    assert in_app(app, lambda: (ServiceRequest.get_by_id(request_id).resident_id,
                                ProxyAct.get(ProxyAct.action == "book").actor_name)) == (mother_id, "张小军")
    cancelled = son.post(f"/requests/{request_id}/cancel", {"reason": "妈妈不需要了"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert in_app(app, lambda: ProxyAct.get(ProxyAct.action == "cancel").actor_name) == "张小军"

    ended = mother.post(f"/family/links/{link_id}/end").get_json()
    assert ended["state"] == "revoked"
    assert son.get(f"/requests/{request_id}").status_code == 404  # the very next request
    hers = in_app(app, lambda: ServiceRequest.select().where(ServiceRequest.resident == mother_id).count())
    assert son.post("/requests", booking).status_code == 404  # nor may he ask for her any more
    assert in_app(app, lambda: ServiceRequest.select().where(ServiceRequest.resident == mother_id).count()) == hers
