"""Family links (issue 16, item 6): a family member asks, the resident consents (on her phone or
in person before staff), the family member then books and rates for her with both names
recorded; after revocation the very next request is refused."""

from marketplace.proxy.models import FamilyLink, ProxyAct
from marketplace.service_requests import services as requests
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.users.models import User
from tests.conftest import DEMO_PHONES, Auth, in_app, person

BOOK = "/on-behalf/people/{id}/book/companionship_visit"


def _client(app, who):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    Auth(client).login_as(who) if who in DEMO_PHONES else Auth(client).login(who)
    return client, Auth(client)


def _son(app):
    """The resident's son: an account of his own, living elsewhere (not a resident here)."""
    from marketplace.users import accounts

    return in_app(app, lambda: accounts.sign_up("13600000009", "张小军", "long enough pass phrase 9"))


def test_a_son_linked_with_consent_books_and_rates_for_his_mother_until_she_revokes(app):
    son = _son(app)
    son_client = app.test_client()
    son_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    son_auth = Auth(son_client)
    assert son_auth.login("13600000009", "long enough pass phrase 9").status_code == 302
    mother = in_app(app, lambda: person("resident"))

    # Before any consent he may not act for her.
    assert son_client.get(f"/on-behalf/people/{mother.id}").status_code == 404
    response = son_auth.post("/family/ask", {"phone": DEMO_PHONES["resident"], "relation": "儿子"}, token_from="/family/")
    assert response.status_code == 302
    assert son_client.get(f"/on-behalf/people/{mother.id}").status_code == 404  # asked, not yet consented

    # She says yes on her phone.
    her, her_auth = _client(app, "resident")
    page = her.get("/family/").get_data(as_text=True)
    assert "张小军" in page and "Asks to book, confirm and rate services for you." in page
    link = in_app(app, lambda: FamilyLink.get(FamilyLink.family == son.id))
    assert her_auth.post(f"/family/links/{link.id}/consent", token_from="/family/").status_code == 302
    page = her.get("/family/").get_data(as_text=True)
    assert "May act for you since" in page and "孙楼长" in page  # the building head is named too

    # He books for her, the helper finishes, he confirms and rates; both names everywhere.
    response = son_auth.post(BOOK.format(id=mother.id), {"description": "妈妈想有人陪着聊聊天", "preferred_period": "any"},
                             token_from=BOOK.format(id=mother.id))
    assert response.status_code == 302
    req = in_app(app, lambda: ServiceRequest.get(ServiceRequest.resident == mother.id))

    def helper_marks_done():
        requests.claim(person("volunteer"), req.id)
        requests.mark_done(person("volunteer"), req.id)

    in_app(app, helper_marks_done)
    assert son_auth.post(f"/requests/{req.id}/confirm", token_from=f"/requests/{req.id}").status_code == 302
    assert son_auth.post(f"/requests/{req.id}/rate", {"rating": "4", "comment": "挺好"},
                         token_from=f"/requests/{req.id}").status_code == 302
    fresh = in_app(app, lambda: ServiceRequest.get_by_id(req.id))
    assert (fresh.state, fresh.rating) == ("confirmed", 4)
    acts = in_app(app, lambda: [(a.action, a.via, a.actor_name, a.resident_id)
                                for a in ProxyAct.select().order_by(ProxyAct.id)])
    assert acts == [("book", "family", "张小军", mother.id), ("confirm", "family", "张小军", mother.id),
                    ("rate", "family", "张小军", mother.id)]
    events = in_app(app, lambda: [(e.action, e.actor_id, e.for_user_id) for e in
                                  RequestEvent.select().where(RequestEvent.for_user == mother.id).order_by(RequestEvent.id)])
    assert events == [("book", son.id, mother.id), ("confirm", son.id, mother.id), ("rate", son.id, mother.id)]
    assert "done for you by 张小军" in her.get(f"/requests/{req.id}").get_data(as_text=True)

    # She revokes; his very next request is refused and changes nothing.
    assert her_auth.post(f"/family/links/{link.id}/end", token_from="/family/").status_code == 302
    assert son_client.get(BOOK.format(id=mother.id)).status_code == 404
    before = in_app(app, lambda: ServiceRequest.select().count())

    def books_again():
        from marketplace.errors import DomainError
        from marketplace.menu.models import ServiceItem
        try:
            requests.book(User.get_by_id(mother.id), ServiceItem.get(ServiceItem.code == "companionship_visit").id,
                          "再约一次陪聊", actor=User.get_by_id(son.id))
        except DomainError as error:
            return error.code
        return None

    assert in_app(app, books_again) == "not_linked"
    assert in_app(app, lambda: ServiceRequest.select().count()) == before
    assert in_app(app, lambda: FamilyLink.get_by_id(link.id).state) == "revoked"


def test_staff_record_consent_given_in_person_and_bad_input_changes_nothing(app):
    son = _son(app)
    head, head_auth = _client(app, "building_head")
    mother = in_app(app, lambda: person("resident"))
    page = f"/on-behalf/people/{mother.id}"
    bad = head_auth.post(f"{page}/family", {"phone": "12345"}, token_from=page)
    assert bad.status_code == 302
    assert "11-digit" in head.get(page).get_data(as_text=True)
    unknown = head_auth.post(f"{page}/family", {"phone": "13600000008"}, token_from=page)
    assert unknown.status_code == 302 and in_app(app, lambda: FamilyLink.select().count()) == 0
    assert head_auth.post(f"{page}/family", {"phone": "13600000009", "relation": "儿子"},
                          token_from=page).status_code == 302
    link = in_app(app, lambda: FamilyLink.get(FamilyLink.family == son.id))
    assert (link.state, link.consented_via, link.witness_id) == ("active", "in_person", person_id(app, "building_head"))
    # A second time: already linked, nothing new.
    head_auth.post(f"{page}/family", {"phone": "13600000009"}, token_from=page)
    assert in_app(app, lambda: FamilyLink.select().count()) == 1
    # A volunteer (not staff, not family) can neither end it nor act for her.
    volunteer, volunteer_auth = _client(app, "volunteer")
    assert volunteer_auth.post(f"/family/links/{link.id}/end", token_from="/family/").status_code == 302
    assert in_app(app, lambda: FamilyLink.get_by_id(link.id).state) == "active"
    assert volunteer.get(page).status_code == 404
    # Staff end it; it counts at once.
    assert head_auth.post(f"/family/links/{link.id}/end", token_from=page).status_code == 302
    assert in_app(app, lambda: FamilyLink.get_by_id(link.id).state) == "revoked"


def test_asking_answers_the_same_for_any_number(app):
    son = _son(app)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth = Auth(client)
    auth.login("13600000009", "long enough pass phrase 9")
    answers = []
    for phone in (DEMO_PHONES["resident"], "13600000001"):
        response = auth.post("/family/ask", {"phone": phone}, token_from="/family/")
        answers.append(client.get(response.location).get_data(as_text=True).count("If this number is a verified"))
    assert answers == [1, 1]
    assert in_app(app, lambda: FamilyLink.select().where(FamilyLink.family == son.id).count()) == 1


def person_id(app, role):
    return in_app(app, lambda: person(role).id)
