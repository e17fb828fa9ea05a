"""Family links in /api/v1 (issue 16, item 9): ask, consent, act through the request operations,
revoke; the next request is refused."""

from marketplace.menu.models import ServiceItem
from marketplace.proxy.models import ProxyAct
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
    request_id = in_app(app, lambda: _book_for(mother_id, item))
    cancelled = son.post(f"/requests/{request_id}/cancel", {"reason": "妈妈不需要了"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert in_app(app, lambda: ProxyAct.get(ProxyAct.action == "cancel").actor_name) == "张小军"

    ended = mother.post(f"/family/links/{link_id}/end").get_json()
    assert ended["state"] == "revoked"
    assert son.get(f"/requests/{request_id}").status_code == 404  # the very next request


def _book_for(resident_id, item_id):
    from marketplace.service_requests import services
    from marketplace.users.models import User

    return services.book(User.get_by_id(resident_id), item_id, "想找人陪着聊聊天").id
