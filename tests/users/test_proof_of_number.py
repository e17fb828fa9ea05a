"""Proof of the number (issue 16, item 2): sign-up and a phone change confirm the new number with
a one-time code sent by text message; the old number hears of a change; registration is not
leaked; the codes are recovery's (HMAC-stored, once, 5 wrong tries)."""

import re

from marketplace.audit import AuditLog
from marketplace.demo import DEMO_PASSWORD
from marketplace.users.models import OneTimeCode, User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import DEMO_PHONES, Auth, csrf_token, in_app
from tests.users.test_recovery import _codes_sent, _en

RESIDENT = DEMO_PHONES["resident"]
NEW = "13712345670"
PASSWORD = "my grandson plants tomatoes"
EN = {"Accept-Language": "en"}


def _texts(caplog) -> list[str]:
    """The texts sent by the development SMS channel (after "to sms:", without its delivery key)."""
    return [r.getMessage().split("to sms:", 1)[1] for r in caplog.records
            if r.name == "marketplace.messages" and "to sms:" in r.getMessage()]


def _ask(client, phone):
    return client.post("/signup", data={"phone": phone, "csrf_token": csrf_token(client, "/signup")})


def _confirm(client, phone, code, name="新邻居", password=PASSWORD):
    return client.post("/signup/confirm", data={"phone": phone, "code": code, "display_name": name,
                                                "password": password,
                                                "csrf_token": csrf_token(client, "/signup/confirm")})


def _accounts(app, phone):
    return in_app(app, lambda: User.select().where(User.phone == phone).count())


def test_an_account_is_opened_only_with_the_code_sent_to_the_number(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    client = _en(app)
    asked = _ask(client, NEW)
    assert asked.status_code == 302 and asked.location.endswith("/signup/confirm")
    page = client.get(asked.location).get_data(as_text=True)
    assert "We have sent a text message to this number" in page and f'value="{NEW}"' in page
    code = _codes_sent(caplog)[-1]
    assert _accounts(app, NEW) == 0  # nothing exists before the code
    assert in_app(app, lambda: OneTimeCode.select().where(OneTimeCode.code_hash.contains(code)).count()) == 0

    wrong = _confirm(client, NEW, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    assert _accounts(app, NEW) == 0
    assert Auth(_en(app)).login(NEW, PASSWORD).status_code == 401  # no account to log in to

    weak = _confirm(client, NEW, code, password="12345678")
    assert weak.status_code == 422 and _accounts(app, NEW) == 0  # a weak password costs no try

    done = _confirm(client, NEW, code)
    assert done.status_code == 302 and done.location.endswith("/account/household")
    assert "Your account is ready" in client.get(done.location, headers=EN).get_data(as_text=True)  # signed in
    assert _accounts(app, NEW) == 1
    assert Auth(_en(app)).login(NEW, PASSWORD).status_code == 302
    assert _confirm(_en(app), NEW, code).status_code == 422  # a code works once


def test_five_wrong_codes_burn_it_and_a_code_for_one_number_does_not_open_another(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    client = _en(app)
    _ask(client, NEW)
    code = _codes_sent(caplog)[-1]
    other = "13712345671"
    assert _confirm(_en(app), other, code).status_code == 422  # the code is the first number's only
    assert _accounts(app, other) == 0
    wrong = "000000" if code != "000000" else "111111"
    for _try in range(4):  # with the try above on another number (which has no code): 4 more on this one
        assert _confirm(client, NEW, wrong).status_code == 422
    assert _confirm(client, NEW, wrong).status_code == 422  # the fifth wrong try
    burnt = _confirm(client, NEW, code)
    assert burnt.status_code == 422 and _accounts(app, NEW) == 0  # even the right code no longer works
    assert in_app(app, lambda: OneTimeCode.get(OneTimeCode.phone == NEW).attempts) == 5


def test_a_registered_number_gets_the_same_answer_and_its_owner_a_text(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    users_before = in_app(app, lambda: User.select().count())

    def answer(phone):
        client = _en(app)
        response = _ask(client, phone)
        page = client.get(response.location).get_data(as_text=True)
        return response.status_code, response.location, re.sub(r'value="[^"]*"', "", page)

    registered, fresh = answer(RESIDENT), answer(NEW)
    assert registered == fresh
    texts = _texts(caplog)
    assert len(texts) == 2 and "新账号" in texts[0]  # to the owner, in their language (the default, Chinese)
    assert len(_codes_sent(caplog)) == 1  # a code only to the number without an account
    assert in_app(app, lambda: OneTimeCode.select().where(OneTimeCode.phone == RESIDENT).count()) == 0
    assert in_app(app, lambda: User.select().count()) == users_before
    # And through the API: the same status and words.
    api = _en(app)
    one = api.post("/api/v1/signup/code", json={"phone": RESIDENT})
    two = api.post("/api/v1/signup/code", json={"phone": "13712345672"})
    assert (one.status_code, one.get_json()) == (two.status_code, two.get_json()) and one.status_code == 202


def test_sign_up_through_the_api_needs_the_code(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    api = _en(app)
    assert api.post("/api/v1/signup/code", json={"phone": NEW}).status_code == 202
    code = _codes_sent(caplog)[-1]
    body = {"phone": NEW, "display_name": "新邻居", "password": PASSWORD}
    refused = api.post("/api/v1/signup", json=body | {"code": "000000" if code != "000000" else "111111"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "wrong_one_time_code"
    assert _accounts(app, NEW) == 0
    made = api.post("/api/v1/signup", json=body | {"code": code})
    assert made.status_code == 201 and _accounts(app, NEW) == 1


# ---- a phone change --------------------------------------------------------------------------


def _change(client, phone, password=DEMO_PASSWORD):
    return client.post("/account/phone", data={"phone": phone, "password": password,
                                               "csrf_token": csrf_token(client, "/account/phone")}, headers=EN)


def _change_confirm(client, code):
    return client.post("/account/phone/confirm", data={
        "phone": NEW, "code": code, "csrf_token": csrf_token(client, "/account")}, headers=EN)


def test_a_phone_change_needs_the_password_and_the_code_sent_to_the_new_number(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    client, other_device = _en(app), _en(app)
    Auth(client).login_as("resident")
    Auth(other_device).login_as("resident")

    no_password = _change(client, NEW, "not my password at all")
    assert no_password.status_code == 422 and "Your password is not right" in no_password.get_data(as_text=True)
    assert _codes_sent(caplog) == []

    asked = _change(client, NEW)
    assert asked.status_code == 302 and asked.location.endswith("/account/phone/confirm")
    code = _codes_sent(caplog)[-1]
    assert in_app(app, lambda: OneTimeCode.get(OneTimeCode.phone == NEW).purpose) == "phone"
    wrong = _change_confirm(client, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    # A wrong code changes nothing.
    assert _accounts(app, RESIDENT) == 1 and _accounts(app, NEW) == 0
    assert other_device.get("/account").status_code == 200
    assert in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.phone.changed").count()) == 0

    caplog.clear()
    done = _change_confirm(client, code)
    assert done.status_code == 302 and done.location.endswith("/account")
    assert _accounts(app, RESIDENT) == 0 and _accounts(app, NEW) == 1
    assert other_device.get("/account").status_code == 302  # the other session is over
    assert client.get("/account").status_code == 200  # this one goes on
    old_told = _texts(caplog)
    assert len(old_told) == 1 and "137****5670" in old_told[0]  # the old number hears of it
    assert in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.phone.changed").count()) == 1
    assert Auth(_en(app)).login(NEW).status_code == 302


def test_a_code_for_one_account_or_number_moves_no_other(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    resident, volunteer = _en(app), _en(app)
    Auth(resident).login_as("resident")
    Auth(volunteer).login_as("volunteer")
    _change(resident, NEW)
    code = _codes_sent(caplog)[-1]
    assert _change_confirm(volunteer, code).status_code == 422  # the code was sent for the resident's account
    refused = ApiClient(_en(app), make_token(app, "volunteer")).post("/me/phone", {"phone": NEW, "code": code})
    assert refused.status_code == 422 and error_of(refused)["code"] == "wrong_one_time_code"
    assert _accounts(app, DEMO_PHONES["volunteer"]) == 1 and _accounts(app, NEW) == 0
    assert in_app(app, lambda: OneTimeCode.get(OneTimeCode.phone == NEW).used_at) is None


def test_a_phone_change_through_the_api(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    api = ApiClient(_en(app), make_token(app, "resident"))
    wrong_password = api.post("/me/phone/code", {"phone": NEW, "password": "not my password at all"})
    assert wrong_password.status_code == 422 and error_of(wrong_password)["code"] == "wrong_password"
    taken = api.post("/me/phone/code", {"phone": DEMO_PHONES["volunteer"], "password": DEMO_PASSWORD})
    assert taken.status_code == 409 or error_of(taken)["code"] == "phone_taken"
    assert _codes_sent(caplog) == []
    assert api.post("/me/phone/code", {"phone": NEW, "password": DEMO_PASSWORD}).status_code == 202
    code = _codes_sent(caplog)[-1]
    assert api.post("/me/phone", {"phone": NEW, "code": "000000" if code != "000000" else "111111"}).status_code == 422
    assert _accounts(app, NEW) == 0
    assert api.post("/me/phone", {"phone": NEW, "code": code}).status_code == 200
    assert _accounts(app, NEW) == 1 and _accounts(app, RESIDENT) == 0
