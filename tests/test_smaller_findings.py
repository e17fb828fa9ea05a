"""The audit's smaller findings (issue 19, finding 7): another shop's voucher names no issuer,
/healthz gives no timings, the CSP limits where forms post, and sign-up does not tell whether a
number is registered (the owner hears of the attempt instead, by text message)."""

import re

from marketplace.shop.models import Offer, Voucher
from marketplace.users.models import User
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import DEMO_PHONES, csrf_token, in_app, person

EN = {"Accept-Language": "en"}


def test_finding_7_another_shops_voucher_names_no_issuer(app, client):
    def voucher_of_the_grocery():
        from marketplace.shop import services as shop

        offer = Offer.get(Offer.title == "环保购物袋")
        return shop.redeem(person("resident"), offer.id, "finding-7").code, offer.partner.name
    code, grocery = in_app(app, voucher_of_the_grocery)
    answer = ApiClient(client, make_token(app, "partner_staff")).post("/vouchers/scan", {"code": code})
    assert answer.status_code == 403
    error = error_of(answer)
    assert error["code"] == "voucher_other_shop" and grocery not in answer.get_data(as_text=True)
    assert in_app(app, lambda: Voucher.get(Voucher.code == code).status) == "issued"


def test_finding_7_healthz_gives_no_timings(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok", "database": "ok"}


def test_finding_7_the_csp_lets_forms_post_only_to_this_site(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp


def _sign_up(client, phone):
    return client.post("/signup", headers=EN, data={"phone": phone, "csrf_token": csrf_token(client, "/signup")})


def test_finding_7_sign_up_does_not_reveal_whether_a_number_is_registered(app, caplog):
    caplog.set_level("INFO", logger="marketplace.messages")
    taken, fresh = app.test_client(), app.test_client()
    users_before = in_app(app, lambda: User.select().count())
    answers = [_sign_up(taken, DEMO_PHONES["resident"]), _sign_up(fresh, "13712345670")]
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].location == answers[1].location and "/signup/confirm" in answers[0].location
    pages = [re.sub(r'value="[^"]*"', "", c.get(a.location, headers=EN).get_data(as_text=True))  # no CSRF tokens
             for c, a in zip((taken, fresh), answers, strict=True)]
    assert pages[0] == pages[1]
    assert "already registered" not in pages[0] and "We have sent a text message to this number" in pages[0]
    # The owner is told by text message, in their language (the default, Chinese); the new number
    # gets a code; no account is touched or created until a code is typed.
    texts = [r.getMessage().split("to sms:", 1)[1] for r in caplog.records
             if r.name == "marketplace.messages" and "to sms:" in r.getMessage()]  # the texts, not the delivery keys
    assert len(texts) == 2 and "新账号" in texts[0] and not re.search(r"\d{6}", texts[0])
    assert re.search(r"\d{6}", texts[1])
    assert in_app(app, lambda: User.select().count()) == users_before
    assert in_app(app, lambda: User.get(User.phone == DEMO_PHONES["resident"]).display_name) != "试探"
