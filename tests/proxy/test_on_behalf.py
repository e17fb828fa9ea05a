"""Acting on behalf (issue 16, items 4 and 5): a building head registers a resident without a
mobile phone and serves her by proxy; both names are recorded, she is told, and receipts and the
dashboards show who did what."""

import re

from marketplace.menu.models import ServiceItem
from marketplace.notifications.models import Notification
from marketplace.proxy.models import PhonelessMember, ProxyAct
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.users.models import RoleGrant, User
from tests.conftest import Auth, in_app, person


def _client(app, role):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(client).login_as(role)
    return client, Auth(client)


def _household_of(role):
    return RoleGrant.get((RoleGrant.user == person(role).id) & (RoleGrant.role == "resident")).household_id


def _register(auth, household_id, name="李奶奶", landline="010-6123 4567"):
    return auth.post("/on-behalf/members/new", {"household": str(household_id), "display_name": name,
                                                "landline": landline})


def test_a_building_head_registers_a_phoneless_resident_books_and_rates_for_her(app):
    head, head_auth = _client(app, "building_head")
    household = in_app(app, lambda: _household_of("resident"))  # 张阿姨's home, in 孙楼长's building
    response = _register(head_auth, household)
    assert response.status_code == 302
    member = in_app(app, lambda: User.get(User.display_name == "李奶奶"))
    assert in_app(app, lambda: PhonelessMember.get(PhonelessMember.user == member.id).landline) == "010-61234567"
    assert "李奶奶" in head.get("/on-behalf/?q=李").get_data(as_text=True)

    # She cannot log in: no mobile number, no usable password.
    assert not member.phone.isdigit()

    page = head.get(f"/on-behalf/people/{member.id}/book/companionship_visit")
    assert page.status_code == 200
    response = head_auth.post(f"/on-behalf/people/{member.id}/book/companionship_visit",
                              {"description": "老人独居，想有人陪着聊聊天", "preferred_period": "any"},
                              token_from=f"/on-behalf/people/{member.id}/book/companionship_visit")
    assert response.status_code == 302 and "/on-behalf/acts/" in response.location
    req = in_app(app, lambda: ServiceRequest.get(ServiceRequest.resident == member.id))
    slip = head.get(response.location).get_data(as_text=True)
    assert "孙楼长" in slip and "李奶奶" in slip
    code = re.search(r"data-onsite-code>(\d{3}) (\d{3})<", slip)
    assert code and code.group(1) + code.group(2) == req.onsite_code  # the slip carries her on-site code

    # The volunteer takes the job and confirms on site with the code from her slip.
    volunteer, volunteer_auth = _client(app, "volunteer")
    assert volunteer_auth.post(f"/jobs/{req.id}/claim", token_from="/jobs/").status_code == 302
    volunteer_auth.post(f"/jobs/{req.id}/finish", {"code": code.group(1) + code.group(2)},
                        token_from=f"/jobs/{req.id}/finish")
    assert in_app(app, lambda: ServiceRequest.get_by_id(req.id).state) == "confirmed"

    # The building head rates it for her.
    response = head_auth.post(f"/requests/{req.id}/rate", {"rating": "5", "comment": "老人很满意"},
                              token_from=f"/requests/{req.id}")
    assert response.status_code == 302
    assert in_app(app, lambda: ServiceRequest.get_by_id(req.id).rating) == 5

    # Her timeline names both; the acts and her messages are recorded.
    history = head.get(f"/requests/{req.id}").get_data(as_text=True)
    assert history.count("done for 李奶奶 by 孙楼长") == 2  # booked and rated for her
    assert "The resident's rating" in history and "Your rating" not in history  # hers, not his
    events = in_app(app, lambda: list(RequestEvent.select().where(RequestEvent.request == req.id)
                                       .order_by(RequestEvent.id)))
    assert [(e.action, e.actor.display_name, e.for_user_id) for e in events if e.for_user_id] == [
        ("book", "孙楼长", member.id), ("rate", "孙楼长", member.id)]
    acts = in_app(app, lambda: [(a.action, a.actor_name, a.resident_id) for a in ProxyAct.select().order_by(ProxyAct.id)])
    assert acts == [("book", "孙楼长", member.id), ("rate", "孙楼长", member.id)]
    messages = in_app(app, lambda: [n.text for n in Notification.select().where(Notification.user == member.id)
                                    if "/on-behalf/acts/" in n.link])
    assert len(messages) == 2 and all("孙楼长" in m for m in messages)
    rate_act = in_app(app, lambda: ProxyAct.get(ProxyAct.action == "rate").id)
    rate_slip = head.get(f"/on-behalf/acts/{rate_act}").get_data(as_text=True)
    assert "Done for you by 孙楼长" in rate_slip and "5/5" in rate_slip
    assert "data-onsite-code" not in rate_slip  # the code is used up: no longer printed

    # The dashboards: 孙楼长's own acts; the community administrator sees everyone's.
    assert "My acts on behalf this month: 2" in head.get("/on-behalf/").get_data(as_text=True)
    assert "My acts on behalf this month: 2" in head.get("/staff/dashboard").get_data(as_text=True)
    director, _ = _client(app, "community_admin")
    page = director.get("/on-behalf/").get_data(as_text=True)
    assert "My acts on behalf this month: 0" in page
    assert "All staff's acts on behalf this month: 2" in page
    assert "All staff's acts on behalf this month: 2" in director.get("/staff/dashboard").get_data(as_text=True)


def test_a_resident_who_logs_in_reads_what_was_done_for_her(app):
    head, head_auth = _client(app, "building_head")
    resident = in_app(app, lambda: person("resident"))
    head_auth.post(f"/on-behalf/people/{resident.id}/book/companionship_visit",
                   {"description": "想找人陪着聊聊天", "preferred_period": "any"},
                   token_from=f"/on-behalf/people/{resident.id}/book/companionship_visit")
    req = in_app(app, lambda: ServiceRequest.get(ServiceRequest.resident == resident.id))
    act = in_app(app, lambda: ProxyAct.get(ProxyAct.request == req.id))
    her, _ = _client(app, "resident")
    assert "done for you by 孙楼长" in her.get(f"/requests/{req.id}").get_data(as_text=True)
    assert her.get(f"/on-behalf/acts/{act.id}").status_code == 200
    # She may cancel it herself; the building head may cancel for her too (recorded).
    head_auth.post(f"/requests/{req.id}/cancel", {"reason": "她改主意了"}, token_from=f"/requests/{req.id}")
    assert in_app(app, lambda: ServiceRequest.get_by_id(req.id).state) == "cancelled"
    assert in_app(app, lambda: ProxyAct.select().where(ProxyAct.action == "cancel").count()) == 1
    # Someone else's receipt does not exist for another resident.
    volunteer, _ = _client(app, "volunteer")
    assert volunteer.get(f"/on-behalf/acts/{act.id}").status_code == 404


def test_staff_cannot_act_for_someone_outside_their_scope_and_nothing_changes(app):
    head, head_auth = _client(app, "building_head")
    outsider = in_app(app, lambda: User.get(User.display_name == "李大爷"))  # building 3, not 孙楼长's
    item_code = "companionship_visit"
    assert head.get(f"/on-behalf/people/{outsider.id}").status_code == 404
    response = head_auth.post(f"/on-behalf/people/{outsider.id}/book/{item_code}",
                              {"description": "陪聊", "preferred_period": "any"},
                              token_from="/on-behalf/")
    assert response.status_code == 404
    assert in_app(app, lambda: ServiceRequest.select().where(ServiceRequest.resident == outsider.id).count()) == 0
    # A resident is no staff: the pages are closed to her.
    her, her_auth = _client(app, "resident")
    assert her.get("/on-behalf/").status_code == 403
    assert in_app(app, lambda: ProxyAct.select().count()) == 0
    assert in_app(app, lambda: ServiceItem.select().where(ServiceItem.code == item_code).exists())


def test_registering_a_member_refuses_bad_input_clearly_and_stores_nothing(app):
    head, head_auth = _client(app, "building_head")
    users_before = in_app(app, lambda: User.select().count())
    household = in_app(app, lambda: _household_of("resident"))
    empty = _register(head_auth, household, name="   ")
    assert empty.status_code == 422 and "Please write the person&#39;s name" in empty.get_data(as_text=True)
    too_long = _register(head_auth, household, landline="1" * 25)
    assert too_long.status_code == 422
    outside = in_app(app, lambda: _household_of("volunteer"))  # building 2: not 孙楼长's
    refused = _register(head_auth, outside)
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    assert in_app(app, lambda: User.select().count()) == users_before
    assert in_app(app, lambda: PhonelessMember.select().count()) == 0


def test_the_service_refuses_a_household_outside_scope(app):
    from marketplace.errors import DomainError
    from marketplace.proxy import services

    def attempt():
        try:
            services.register_member(person("building_head"), _household_of("volunteer"), "王奶奶")
        except DomainError as error:
            return error.code
        return None

    assert in_app(app, attempt) == "out_of_scope"
    assert in_app(app, lambda: PhonelessMember.select().count()) == 0


def test_staff_redeem_at_the_mall_for_a_resident_and_her_slip_carries_the_voucher_code(app):
    from marketplace.ledger import services as ledger
    from marketplace.shop.models import Offer, Voucher

    head, head_auth = _client(app, "building_head")
    resident = in_app(app, lambda: person("resident"))
    before = in_app(app, lambda: ledger.user_account(resident).balance)
    offer = in_app(app, lambda: Offer.get(Offer.title.startswith("免费磨刀")))
    page = head.get(f"/on-behalf/people/{resident.id}").get_data(as_text=True)
    key = re.search(rf'/redeem/{offer.id}">.*?name="key" value="([^"]+)"', page, re.S).group(1)
    path = f"/on-behalf/people/{resident.id}/redeem/{offer.id}"
    response = head_auth.post(path, {"key": key}, token_from=f"/on-behalf/people/{resident.id}")
    assert response.status_code == 302 and "/on-behalf/acts/" in response.location
    again = head_auth.post(path, {"key": key}, token_from=f"/on-behalf/people/{resident.id}")  # a double click
    assert again.location == response.location
    voucher = in_app(app, lambda: Voucher.get(Voucher.holder == resident.id))
    assert in_app(app, lambda: ledger.user_account(resident).balance) == before - offer.price
    slip = head.get(response.location).get_data(as_text=True)
    assert f"{voucher.code[:5]}-{voucher.code[5:]}" in slip and "孙楼长" in slip
    act = in_app(app, lambda: ProxyAct.get(ProxyAct.voucher == voucher.id))
    assert (act.action, act.actor_name, act.resident_id) == ("redeem", "孙楼长", resident.id)
    # Someone with no right to act for her cannot spend her points.
    volunteer, volunteer_auth = _client(app, "volunteer")
    assert volunteer_auth.post(path, {"key": "other"}, token_from="/family/").status_code == 404
    assert in_app(app, lambda: Voucher.select().where(Voucher.holder == resident.id).count()) == 1


def test_a_key_of_the_residents_own_never_replays_into_an_act_for_her(app):
    from marketplace.shop import services as shop
    from marketplace.shop.models import Offer

    def both():
        offer = Offer.get(Offer.title.startswith("免费磨刀"))
        own = shop.redeem(person("resident"), offer.id, "same-key")
        for_her = shop.redeem(person("resident"), offer.id, "same-key", actor=person("building_head"))
        return own.id != for_her.id, ProxyAct.select().where(ProxyAct.voucher == for_her.id).count()

    assert in_app(app, both) == (True, 1)
