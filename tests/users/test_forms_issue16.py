"""The forms of issue 16: one skill or one permission is enough and the page says so when none
is ticked; a resident awaiting verification is told so plainly."""

from marketplace.menu.models import Category
from marketplace.users.models import ApiToken, VolunteerApplication
from tests.conftest import csrf_token, in_app, person

EN = {"Accept-Language": "en"}


def test_a_volunteer_ticking_one_skill_can_apply_and_none_is_refused_with_a_clear_message(app, client, auth):
    auth.login_as("resident")
    page = client.get("/account/volunteer", headers=EN).get_data(as_text=True)
    assert 'type="checkbox"' in page and "required" not in page.split('type="checkbox"', 1)[1].split(">", 1)[0]
    skill = in_app(app, lambda: Category.select().order_by(Category.position).first())

    none = client.post("/account/volunteer", headers=EN, data={"availability": "Saturday mornings",
                                                               "csrf_token": csrf_token(client, "/account/volunteer")})
    assert none.status_code == 422 and "Please choose at least one kind of help" in none.get_data(as_text=True)
    assert in_app(app, lambda: VolunteerApplication.select().where(
        VolunteerApplication.user == person("resident")).count()) == 0

    one = client.post("/account/volunteer", headers=EN, data={"skills": str(skill.id), "availability": "Saturday mornings",
                                                              "csrf_token": csrf_token(client, "/account/volunteer")})
    assert one.status_code == 302
    assert in_app(app, lambda: VolunteerApplication.get(VolunteerApplication.user == person("resident")).status) \
        == "pending"
    assert in_app(app, lambda: [s.category_id for s in person("resident").skills]) == [skill.id]


def test_a_token_with_one_permission_is_made_and_none_is_refused(app, client, auth):
    auth.login_as("resident")
    page = client.get("/account/api-tokens/", headers=EN).get_data(as_text=True)
    assert "required" not in page.split('type="checkbox"', 1)[1].split(">", 1)[0]
    none = client.post("/account/api-tokens/", headers=EN, data={"name": "my phone",
                                                                 "csrf_token": csrf_token(client, "/account/api-tokens/")})
    assert none.status_code == 422 and "Please choose at least one thing the token may do" in none.get_data(as_text=True)
    assert in_app(app, lambda: ApiToken.select().count()) == 0
    one = client.post("/account/api-tokens/", headers=EN, data={"name": "my phone", "scopes": "read",
                                                                "csrf_token": csrf_token(client, "/account/api-tokens/")})
    assert one.status_code == 200 and in_app(app, lambda: ApiToken.get().scopes) == "read"


def test_a_resident_awaiting_verification_who_tries_to_book_is_told_it_is_pending(app, client, auth):
    auth.login_as("pending_resident")
    answer = client.get("/requests/new/" + in_app(app, _any_item_code), headers=EN, follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "Your household is waiting for the community office to verify it." in text
    assert "Step 1 of 3" in text  # she may still correct her choice, below the notice


def _any_item_code():
    from marketplace.menu.models import ServiceItem

    return ServiceItem.select().where(ServiceItem.active).first().code
