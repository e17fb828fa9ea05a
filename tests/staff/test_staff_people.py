"""Staff manage the people in their scope: look them up, give and take away roles, switch accounts
off and on. Every change shows on the person's next request and leaves an audit row."""

import json

import pytest

from marketplace import access
from marketplace.audit import AuditLog
from marketplace.errors import DomainError
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.users import services
from marketplace.users.models import LoginSession, RoleGrant, User
from tests.conftest import DEMO_PASSWORD, DEMO_PHONES, Auth, csrf_token, in_app, person
from tests.test_languages import _english_words

EN = {"Accept-Language": "en"}


def _id(app, model, code):
    with app.app_context():
        return model.get(model.code == code).id


def _signed_in(app, role):
    """A second browser, signed in as one of the demo people."""
    client = app.test_client()
    Auth(client).login_as(role)
    return client


def _post(client, path, data=None, token_from="/"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)}, headers=EN)


def _counts(app):
    with app.app_context():
        return RoleGrant.select().count(), AuditLog.select().count(), User.select().where(User.active == False).count()  # noqa: E712


def test_search_shows_only_people_in_scope_with_masked_phones(app, client, auth):
    with app.app_context():
        # A resident of another community: no Beiyuan Jiayuan staff may find her.
        household = Household.select().join(Building).where(Building.code == "jx_b1").first()
        other = User.create(phone="13611110000", display_name="锦绣居民", password_hash="x")
        RoleGrant.create(user=other, role="resident", household=household)

    auth.login_as("building_head")  # building 1: 张阿姨 lives there, 陈奶奶 waits to be verified there
    page = client.get("/staff/people", headers=EN).get_data(as_text=True)
    assert "张阿姨" in page and "陈奶奶" in page
    assert "139****0001" in page and DEMO_PHONES["resident"] not in page
    for outside in ("李大爷", "王小明", "钱师傅", "锦绣居民", "刘主任"):
        assert outside not in page
    li = in_app(app, lambda: person("13900000002"))  # 李大爷, building 3
    assert client.get(f"/staff/people/{li.id}").status_code == 404
    assert _post(client, f"/staff/people/{li.id}/deactivate").status_code == 404

    client = _signed_in(app, "community_admin")
    page = client.get("/staff/people?q=0001", headers=EN).get_data(as_text=True)
    # By the phone's last digits: 张阿姨 (a resident) and 钱师傅 (a partner's staff) are in scope,
    # the street's administrator 13800000001 is not.
    assert "张阿姨" in page and "钱师傅" in page and "系统管理员" not in page
    page = client.get("/staff/people?q=李", headers=EN).get_data(as_text=True)
    assert "李大爷" in page and "张阿姨" not in page
    page = client.get("/staff/people?q=锦绣", headers=EN).get_data(as_text=True)
    assert "锦绣居民" not in page and "No one found." in page
    assert client.get(f"/staff/people/{other.id}").status_code == 404

    client = _signed_in(app, "admin")
    page = client.get("/staff/people?q=锦绣", headers=EN).get_data(as_text=True)
    assert "锦绣居民" in page and "136****0000" in page


def test_a_given_role_works_on_the_next_request_and_a_taken_role_stops(app, client, auth):
    resident = _signed_in(app, "resident")
    assert resident.get("/staff/").status_code == 403
    member = in_app(app, lambda: person("resident"))

    auth.login_as("community_admin")
    response = _post(client, f"/staff/people/{member.id}/roles", {"role": "grid_admin", "grid": _id(app, Grid, "bj_g1")})
    assert response.status_code == 302
    assert "is now Grid administrator" in client.get(response.location, headers=EN).get_data(as_text=True)
    assert resident.get("/staff/").status_code == 200  # same session, next request

    with app.app_context():
        grant = RoleGrant.get(RoleGrant.user == member.id, RoleGrant.role == "grid_admin")
    assert _post(client, f"/staff/people/{member.id}/roles/{grant.id}/revoke").status_code == 302
    assert resident.get("/staff/").status_code == 403
    with app.app_context():
        rows = list(AuditLog.select().where(
            AuditLog.object_type == "User", AuditLog.object_id == member.id,
            AuditLog.action != "users.personal_data.viewed",  # opening the page to get the form
        ).order_by(AuditLog.id))
        assert [r.action for r in rows[-2:]] == ["users.role.granted", "users.role.revoked"]
        assert {r.actor_id for r in rows[-2:]} == {in_app(app, lambda: person(DEMO_PHONES["community_admin"])).id}
        assert all(json.loads(r.details) == {"role": "grid_admin", "grant": grant.id, "grid": grant.grid_id} for r in rows[-2:])


def test_switching_an_account_off_refuses_a_copied_session_cookie(app, client, auth):
    resident = _signed_in(app, "resident")
    copied = resident.get_cookie("session").value
    member = in_app(app, lambda: person("resident"))

    auth.login_as("community_admin")
    assert _post(client, f"/staff/people/{member.id}/deactivate").status_code == 302
    with app.app_context():
        assert not User.get_by_id(member.id).active
        assert LoginSession.select().where(LoginSession.user == member.id).count() == 0

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/account").status_code == 302  # to the login page
    assert resident.get("/account").status_code == 302
    stranger = app.test_client()
    refused = stranger.post("/login", data={"phone": DEMO_PHONES["resident"], "password": DEMO_PASSWORD, "csrf_token": csrf_token(stranger)}, headers=EN)
    assert refused.status_code == 401
    assert "switched off" in refused.get_data(as_text=True)

    # Switched on again, the old cookie still stays dead: its session row is gone.
    assert _post(client, f"/staff/people/{member.id}/reactivate").status_code == 302
    assert thief.get("/account").status_code == 302
    assert _signed_in(app, "resident").get("/account").status_code == 200
    with app.app_context():
        actions = [a.action for a in AuditLog.select().where(AuditLog.object_type == "User", AuditLog.object_id == member.id).order_by(AuditLog.id)]
        assert actions[-2:] == ["users.account.deactivated", "users.account.activated"]


@pytest.mark.parametrize(
    ("actor", "target", "form", "status", "message"),
    [
        ("building_head", "resident", {"role": "community_admin", "community": "beiyuan_jiayuan"}, 403, "Only community administrators and administrators can give roles."),
        ("community_admin", "resident", {"role": "community_admin", "community": "beiyuan_jiayuan"}, 403, "You may not give the role “Community administrator”."),
        ("community_admin", "resident", {"role": "building_head", "building": "jx_b1"}, 403, "Please choose a place in a community you administer."),
        ("community_admin", "resident", {"role": "building_head"}, 400, "Please choose the building."),
        ("community_admin", "resident", {}, 400, "Please choose a role."),
        ("community_admin", "resident", {"role": "no_such_role"}, 403, "You may not give the role"),
        ("community_admin", "volunteer", {"role": "volunteer", "community": "beiyuan_jiayuan"}, 409, "王小明 already has this role here."),
        ("admin", "resident", {"role": "street_officer", "department": "  "}, 400, "Please give the department"),
    ],
)
def test_a_role_that_may_not_be_given_is_refused_clearly_and_nothing_is_stored(app, client, auth, actor, target, form, status, message):
    places = {"community": Community, "building": Building}
    data = {k: (_id(app, places[k], v) if k in places else v) for k, v in form.items()}
    someone = in_app(app, lambda: person(DEMO_PHONES[target]))
    before = _counts(app)
    auth.login_as(actor)
    response = _post(client, f"/staff/people/{someone.id}/roles", data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _counts(app) == before


def test_administrators_cannot_remove_themselves_nor_switch_off_superiors(app, client, auth):
    admin = in_app(app, lambda: person(DEMO_PHONES["admin"]))
    with app.app_context():
        own = RoleGrant.get(RoleGrant.user == admin.id, RoleGrant.role == "admin")
    before = _counts(app)

    auth.login_as("admin")
    response = _post(client, f"/staff/people/{admin.id}/roles/{own.id}/revoke")
    assert response.status_code == 409 and "your own administrator role" in response.get_data(as_text=True)
    response = _post(client, f"/staff/people/{admin.id}/deactivate")
    assert response.status_code == 409 and "your own account" in response.get_data(as_text=True)
    assert _counts(app) == before

    # A community administrator may not switch off a street officer, nor take away a resident's household.
    officer = in_app(app, lambda: person(DEMO_PHONES["street_officer"]))
    resident = in_app(app, lambda: person(DEMO_PHONES["resident"]))
    with app.app_context():
        RoleGrant.create(user=officer, role="resident", household=Household.select().join(Building).where(Building.code == "bj_b1").first())
        home = RoleGrant.get(RoleGrant.user == resident.id, RoleGrant.role == "resident")
    before = _counts(app)
    client = _signed_in(app, "community_admin")
    response = _post(client, f"/staff/people/{officer.id}/deactivate")
    assert response.status_code == 403 and "Only an administrator" in response.get_data(as_text=True)
    response = _post(client, f"/staff/people/{resident.id}/roles/{home.id}/revoke")
    assert response.status_code == 409 and "residency verification" in response.get_data(as_text=True)
    assert _counts(app) == before


def test_an_administrator_gives_any_role_and_takes_back_another_administrators(app, client, auth):
    someone = in_app(app, lambda: person(DEMO_PHONES["partner_staff"]))
    auth.login_as("admin")
    for data in ({"role": "street_officer", "department": "城管科"}, {"role": "admin"}):
        assert _post(client, f"/staff/people/{someone.id}/roles", data).status_code == 302
    with app.app_context():
        held = {(g.role, g.department) for g in RoleGrant.select().where(RoleGrant.user == someone.id)}
        assert {("street_officer", "城管科"), ("admin", None)} <= held
        grant = RoleGrant.get(RoleGrant.user == someone.id, RoleGrant.role == "admin")
    assert _post(client, f"/staff/people/{someone.id}/roles/{grant.id}/revoke").status_code == 302
    with app.app_context():
        assert not RoleGrant.select().where(RoleGrant.user == someone.id, RoleGrant.role == "admin").exists()


def test_the_last_administrator_is_never_removed_even_by_a_racing_colleague(app):
    """Two administrators removing each other at once: the one who commits second must find
    that the other already removed them and refuse, so the street keeps an administrator."""
    first, second = in_app(app, lambda: person(DEMO_PHONES["admin"])), in_app(app, lambda: person("13800000002"))
    with app.test_request_context(headers=EN):
        RoleGrant.create(user=second, role="admin")
        second_grant = RoleGrant.get(RoleGrant.user == second.id, RoleGrant.role == "admin")
        assert "admin" in access.roles(first)  # what `first` was when their request began
        RoleGrant.delete().where(RoleGrant.user == first.id, RoleGrant.role == "admin").execute()  # `second` won the race
        with pytest.raises(DomainError, match="at least one administrator"):
            services.revoke_role(first, second.id, second_grant.id)
        with pytest.raises(DomainError, match="at least one administrator"):
            services.set_account_active(first, second.id, False)
        assert RoleGrant.select().where(RoleGrant.role == "admin").count() == 1
        assert User.get_by_id(second.id).active


def test_people_pages_in_chinese_have_no_english(client, auth, app):
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    auth.login_as("admin")
    paths = ["/staff/people"] + [f"/staff/people/{in_app(app, lambda r=r: person(r)).id}" for r in ("resident", "street_officer", "partner_staff", "pending_resident")]
    found = {path: _english_words(client, path) for path in paths}
    assert {path: words for path, words in found.items() if words} == {}


def test_administrators_removing_each_other_at_once_leave_one(app):
    """A ring of administrators, each taking away the next one's role at the same moment: without
    the row locks every check would see the others still there and all would succeed."""
    import threading

    from marketplace.db import db

    count = 10
    with app.app_context():
        admins = [User.get(User.phone == DEMO_PHONES["admin"])]
        for n in range(1, count):
            admins.append(User.create(phone=f"1350000{n:04d}", display_name=f"管理员{n}", password_hash="x"))
            RoleGrant.create(user=admins[-1], role="admin")
        grants = {gr.user_id: gr.id for gr in RoleGrant.select().where(RoleGrant.role == "admin")}
    start = threading.Barrier(count)
    outcomes = []

    def revoke(actor, target):
        with app.test_request_context(headers=EN):
            access.roles(actor)  # each request reads the actor's roles when it begins
            start.wait()
            try:
                services.revoke_role(actor, target.id, grants[target.id])
                outcomes.append("revoked")
            except DomainError as error:
                outcomes.append(error.message)
            finally:
                db.close()

    threads = [threading.Thread(target=revoke, args=(admins[i], admins[(i + 1) % count])) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        assert RoleGrant.select().where(RoleGrant.role == "admin").count() == 1
    assert sorted(outcomes) == ["There must always be at least one administrator."] + ["revoked"] * (count - 1)
