"""Getting back in (issue 16): a code by SMS, a code from the building head, the operator's
command; the old sessions and tokens end; the same answer for any number."""

import re

import pytest

from marketplace.audit import AuditLog
from marketplace.users.models import ApiToken, OneTimeCode, User
from tests.conftest import DEMO_PHONES, Auth, csrf_token, in_app, person

RESIDENT = DEMO_PHONES["resident"]
NEW_PASSWORD = "my grandson plants tomatoes"


def _en(app):
    """A browser reading the site in English (the messages asserted below are English)."""
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return browser


@pytest.fixture
def client(app):
    return _en(app)


def _codes_sent(caplog) -> list[str]:
    """The codes the development SMS channel wrote to the log (it logs no phone numbers)."""
    return [m.group(1) for r in caplog.records if r.name == "marketplace.messages"
            for m in [re.search(r"to sms: \D*(\d{6})\D", r.getMessage())] if m]


def _sms_code(caplog) -> str:
    codes = _codes_sent(caplog)
    assert codes, "no text message was sent"
    return codes[-1]


def _ask_code(client, phone):
    return client.post("/password/forgot", data={"phone": phone, "csrf_token": csrf_token(client, "/password/forgot")},
                       follow_redirects=True)


def _reset(client, phone, code, password=NEW_PASSWORD):
    return client.post("/password/reset", data={"phone": phone, "code": code, "new_password": password,
                                                "csrf_token": csrf_token(client, "/password/reset")})


def _signed_in_elsewhere(app, phone=RESIDENT):
    other = _en(app)
    Auth(other).login(phone)
    assert other.get("/account").status_code == 200
    return other


def test_a_forgotten_password_is_recovered_by_a_code_by_sms_and_the_old_sessions_and_tokens_end(app, client, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    old_browser = _signed_in_elsewhere(app)
    in_app(app, lambda: ApiToken.create(user=person("resident"), name="phone", token_hash="x" * 64, prefix="mk_x",
                                        scopes="read"))

    page = _ask_code(client, RESIDENT)
    assert "we have sent it a 6-digit code" in page.get_data(as_text=True)
    assert 'value="13900000001"' in page.get_data(as_text=True)  # the reset page knows the number
    code = _sms_code(caplog)
    assert in_app(app, lambda: OneTimeCode.select().where(OneTimeCode.code_hash.contains(code)).count()) == 0

    answer = _reset(client, RESIDENT, code)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert old_browser.get("/account").status_code == 302  # the old session is refused
    assert in_app(app, lambda: ApiToken.select().where(ApiToken.revoked_at.is_null()).join(User)
                  .where(User.phone == RESIDENT).count()) == 0
    assert Auth(_en(app)).login(RESIDENT).status_code == 401  # the old password no longer works
    assert Auth(_en(app)).login(RESIDENT, NEW_PASSWORD).status_code == 302
    assert _reset(_en(app), RESIDENT, code, "another fine sentence").status_code == 422  # once only
    assert in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.password.reset").count()) == 1


def test_the_same_answer_for_a_registered_and_an_unregistered_number(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")

    def answer(phone):
        client = _en(app)
        response = client.post("/password/forgot", data={"phone": phone, "csrf_token": csrf_token(client, "/password/forgot")})
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        return response.status_code, response.headers["Location"], re.sub(r'value="[^"]*"', "", page)

    registered = answer(RESIDENT)
    assert len(_codes_sent(caplog)) == 1
    unregistered = answer("13912345678")
    assert registered[:2] == unregistered[:2]
    assert registered[2].replace(RESIDENT, "") == unregistered[2].replace("13912345678", "")
    assert len(_codes_sent(caplog)) == 1  # nothing sent to a number without an account
    # And through the API.
    api = _en(app)
    one = api.post("/api/v1/password/code", json={"phone": RESIDENT})
    two = api.post("/api/v1/password/code", json={"phone": "13912345678"})
    assert (one.status_code, one.get_json()) == (two.status_code, two.get_json()) and one.status_code == 202


def test_recovered_in_person_with_the_building_heads_code_printable_and_audited(app, client, auth):
    old_browser = _signed_in_elsewhere(app)
    resident = in_app(app, lambda: person("resident"))
    auth.login_as("building_head")
    page = client.get(f"/staff/people/{resident.id}")
    assert "Give a one-time code to set a new password" in page.get_data(as_text=True)
    path = f"/staff/people/{resident.id}/reset-code"
    unchecked = auth.post(path, {})
    assert unchecked.status_code == 422 and "identity card" in unchecked.get_data(as_text=True)
    assert in_app(app, lambda: OneTimeCode.select().count()) == 0  # nothing issued

    shown = auth.post(path, {"identity_checked": "y"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Print the slip" in text and "data-print" in text
    code = re.search(r'class="reset-code"[^>]*>(\d{4}) (\d{4})<', text)
    code = code.group(1) + code.group(2)
    entry = in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.password.code_issued").get())
    assert entry.actor_id == person("building_head").id and entry.object_id == resident.id

    resident_phone = _en(app)
    assert _reset(resident_phone, RESIDENT, code).status_code == 302
    assert old_browser.get("/account").status_code == 302
    assert Auth(_en(app)).login(RESIDENT, NEW_PASSWORD).status_code == 302
    assert client.get("/account").status_code == 200  # the building head's own session goes on


def test_staff_out_of_scope_or_without_the_role_cannot_give_a_code(app, client, auth):
    outside = in_app(app, lambda: person("13900000002"))  # lives in another building
    auth.login_as("building_head")
    assert client.get(f"/staff/people/{outside.id}/reset-code").status_code == 404
    assert auth.post(f"/staff/people/{outside.id}/reset-code", {"identity_checked": "y"},
                     token_from="/account").status_code == 404
    other = _en(app)
    Auth(other).login_as("street_officer")
    resident = in_app(app, lambda: person("resident"))
    assert other.get(f"/staff/people/{resident.id}/reset-code").status_code == 403
    assert in_app(app, lambda: OneTimeCode.select().count()) == 0


def test_a_wrong_code_or_a_weak_password_changes_nothing_and_five_wrong_codes_burn_it(app, client, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    _ask_code(client, RESIDENT)
    code = _sms_code(caplog)
    weak = _reset(client, RESIDENT, code, "        ")
    assert weak.status_code == 422 and "spaces only" in weak.get_data(as_text=True)
    wrong = "000000" if code != "000000" else "111111"
    answer = _reset(client, RESIDENT, wrong)
    assert answer.status_code == 422 and "not right or no longer valid" in answer.get_data(as_text=True)
    assert Auth(_en(app)).login(RESIDENT).status_code == 302  # password unchanged
    assert _reset(client, "139", code).status_code == 422  # a malformed number: the same plain answer
    for _i in range(4):
        _reset(client, RESIDENT, wrong)
    assert _reset(client, RESIDENT, code).status_code == 422  # burnt after 5 wrong tries
    assert Auth(_en(app)).login(RESIDENT).status_code == 302


def test_asking_for_codes_is_limited_per_number_whatever_the_address(app):
    app.config["RECOVERY_CODES_PER_NUMBER"] = "2 per hour"
    answers = []
    for i, phone in enumerate([RESIDENT, "139 0000 0001", "+8613900000001"]):
        client = _en(app)
        client.environ_base["REMOTE_ADDR"] = f"10.3.3.{i + 1}"
        answers.append(_ask_code(client, phone).status_code)
    assert answers == [200, 200, 429]


def test_the_operators_command_gives_a_code_that_works_once(app):
    result = app.test_cli_runner().invoke(args=["reset-password", RESIDENT])
    assert result.exit_code == 0, result.output
    code = re.search(r": (\d{8})\n", result.output).group(1)
    assert "张阿姨" in result.output and RESIDENT not in result.output  # the number masked
    assert _reset(_en(app), RESIDENT, code).status_code == 302
    assert _reset(_en(app), RESIDENT, code, "yet another sentence").status_code == 422
    unknown = app.test_cli_runner().invoke(args=["reset-password", "13912345678"])
    assert unknown.exit_code != 0 and "No account" in unknown.output


def test_the_phone_app_recovers_with_a_code(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    api = _en(app)
    assert api.post("/api/v1/password/code", json={"phone": RESIDENT}).status_code == 202
    code = _sms_code(caplog)
    bad = api.post("/api/v1/password/reset", json={"phone": RESIDENT, "code": code, "new_password": "admin123"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "weak_password"
    assert set(bad.get_json()["error"]["fields"]) == {"new_password"}
    wrong = api.post("/api/v1/password/reset", json={"phone": RESIDENT, "code": "12", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "wrong_one_time_code"
    missing = api.post("/api/v1/password/reset", json={"phone": RESIDENT})
    assert missing.status_code == 422 and set(missing.get_json()["error"]["fields"]) == {"code", "new_password"}
    done = api.post("/api/v1/password/reset", json={"phone": RESIDENT, "code": code, "new_password": NEW_PASSWORD})
    assert done.status_code == 200
    assert Auth(_en(app)).login(RESIDENT, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("password,why", [
    ("        ", "spaces only"), ("admin123", "too easy to guess"), ("beiyuan123", "too easy to guess"),
    ("x" * 64, "same few characters"), ("beiyuan-demo-2026", "demo password"), ("iloveyou", "too easy to guess"),
])
def test_weak_passwords_are_refused_with_the_reason(app, client, auth, password, why):
    auth.login_as("resident")
    answer = client.post("/account/password", data={"current_password": "beiyuan-demo-2026", "new_password": password,
                                                    "csrf_token": csrf_token(client, "/account/password")})
    assert answer.status_code == 422 and why in answer.get_data(as_text=True)
    assert Auth(_en(app)).login(RESIDENT).status_code == 302  # unchanged


def test_one_code_used_from_two_phones_at_once_sets_one_password(app):
    """A code read out to a resident and typed on her phone and on her daughter's at the same
    moment: one reset wins, the others are told the code no longer works (both databases)."""
    from marketplace.errors import DomainError
    from marketplace.users import recovery
    from marketplace.users.passwords import verify_password
    from tests.ledger_helpers import run_at_once

    resident_id = in_app(app, lambda: person("resident").id)
    _, code, _ = in_app(app, lambda: recovery.issue_reset_code(None, resident_id))
    results = run_at_once(app, 6, lambda i: recovery.reset_with_code(RESIDENT, code, f"{NEW_PASSWORD} {i}"))
    winners = [i for i, result in enumerate(results) if isinstance(result, User)]
    refused = [result for result in results if isinstance(result, DomainError)]
    assert len(winners) == 1 and len(refused) == 5, results
    assert {error.code for error in refused} == {"wrong_one_time_code"}
    stored = in_app(app, lambda: User.get_by_id(resident_id).password_hash)
    assert verify_password(stored, f"{NEW_PASSWORD} {winners[0]}")
