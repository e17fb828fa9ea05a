"""The points and mall pages as members, shops and staff use them."""

import re

from marketplace.ledger.models import Account, Transfer
from marketplace.partners.models import PartnerEnterprise
from marketplace.shop.models import Offer, Voucher
from marketplace.users.models import User
from tests.conftest import DEMO_PHONES, csrf_token, in_app
from tests.ledger_helpers import assert_books_balance

EN = {"Accept-Language": "en"}
KEY_PATTERN = re.compile(r'name="key" type="hidden" value="([^"]+)"')


def _offer_id(app, title_start):
    return in_app(app, lambda: Offer.get(Offer.title.startswith(title_start)).id)


def _balance(app, phone=None, partner=None):
    def read():
        if partner:
            account = Account.get_or_none(Account.partner == PartnerEnterprise.get(PartnerEnterprise.name == partner).id)
        else:
            account = Account.get_or_none(Account.user == User.get(User.phone == phone).id)
        return account.balance if account else 0
    return in_app(app, read)


def _redeem(client, offer_id, key=None):
    page = client.get(f"/shop/offers/{offer_id}", headers=EN).get_data(as_text=True)
    key = key or KEY_PATTERN.search(page).group(1)
    data = {"csrf_token": csrf_token(client, f"/shop/offers/{offer_id}"), "key": key}
    return client.post(f"/shop/offers/{offer_id}/redeem", data=data, headers=EN), key


def test_member_sees_statement_with_running_balance_and_downloads_it(client, auth):
    auth.login_as("volunteer")
    page = client.get("/points/", headers=EN).get_data(as_text=True)
    assert "Balance <strong>180</strong>" in page
    assert "+180" in page and "Event hours" in page
    csv = client.get(re.search(r'href="(/points/accounts/\d+/statement\.csv[^"]*)"', page).group(1))
    assert csv.mimetype == "text/csv"
    body = csv.data.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel opens it as UTF-8
    assert "志愿巡逻" in body and body.strip().endswith(",180,180")
    filtered = client.get("/points/?kind=redeem", headers=EN).get_data(as_text=True)
    assert "No points have moved yet." in filtered


def test_redeem_on_the_page_then_the_shop_takes_the_code(app, client, auth):
    auth.login_as("resident")
    offer_id = _offer_id(app, "免费磨刀")
    response, key = _redeem(client, offer_id)
    assert response.status_code == 302
    voucher_page = client.get(response.location, headers=EN).get_data(as_text=True)
    code = re.search(r'class="voucher-code"[^>]*>([A-Z0-9-]+)<', voucher_page).group(1)
    assert "<svg" in voucher_page and "Ready to use" in voucher_page
    again, _ = _redeem(client, offer_id, key)  # the same form sent twice
    assert again.location == response.location
    assert _balance(app, DEMO_PHONES["resident"]) == 40

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("partner_staff")
    scan = auth.post("/shop/scan", {"code": code.lower()}, token_from="/shop/scan", headers=EN)
    assert scan.status_code == 200 and "Accepted" in scan.get_data(as_text=True)
    assert _balance(app, partner="北苑五金维修店") == 20
    second = client.post("/shop/scan", data={"code": code, "csrf_token": csrf_token(client, "/shop/scan")}, headers=EN)
    assert second.status_code == 409
    assert "already used on" in second.get_data(as_text=True)
    assert _balance(app, partner="北苑五金维修店") == 20
    status_path = response.location.rstrip("/") + "/status"
    assert client.get(status_path).status_code == 404  # only the holder may ask
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("resident")
    assert client.get(status_path).get_json() == {"status": "used"}  # the member's page reloads on this
    in_app(app, assert_books_balance)


def test_not_enough_points_on_the_page_changes_nothing(app, client, auth):
    auth.login_as("resident")  # 60 points
    offer_id = _offer_id(app, "油烟机清洗")  # 80 points
    before = in_app(app, lambda: (Transfer.select().count(), Offer.get_by_id(offer_id).stock))
    response, _ = _redeem(client, offer_id)
    assert response.status_code == 409
    assert "Not enough points: the balance is 60 and this needs 80." in response.get_data(as_text=True)
    assert in_app(app, lambda: (Transfer.select().count(), Offer.get_by_id(offer_id).stock)) == before


def test_another_shops_voucher_is_refused_at_the_counter(app, client, auth):
    auth.login_as("resident")
    response, _ = _redeem(client, _offer_id(app, "环保购物袋"))  # the grocery's
    code = in_app(app, lambda: Voucher.select().order_by(Voucher.id.desc()).first().code)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("partner_staff")  # the hardware shop
    scan = client.post("/shop/scan", data={"code": code, "csrf_token": csrf_token(client, "/shop/scan")}, headers=EN)
    assert scan.status_code == 403
    assert "This voucher is not for your shop. Nothing was charged." in scan.get_data(as_text=True)
    assert "邻里生鲜便利店" not in scan.get_data(as_text=True)  # which shop issued it is not the scanner's business
    assert in_app(app, lambda: Voucher.get(Voucher.code == code).status) == "issued"


def test_statements_are_private_to_their_owner_and_staff_in_scope(app, client, auth):
    volunteer_account = in_app(app, lambda: Account.get(Account.user == User.get(User.phone == DEMO_PHONES["volunteer"]).id).id)
    auth.login_as("resident")
    assert client.get(f"/points/accounts/{volunteer_account}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("community_admin")
    assert client.get(f"/points/accounts/{volunteer_account}").status_code == 200
    listing = client.get("/points/accounts", headers=EN).get_data(as_text=True)
    assert "王小明" in listing and "李大爷" in listing


def test_adjustment_needs_a_fresh_password_and_a_reason(app, client, auth):
    resident_account = in_app(app, lambda: Account.get(Account.user == User.get(User.phone == DEMO_PHONES["resident"]).id).id)
    auth.login_as("community_admin")
    path = f"/points/accounts/{resident_account}/adjust"
    with client.session_transaction() as session:
        session["fresh_at"] = 0  # logged in long ago
    stale = client.get(path, headers=EN)
    assert stale.status_code == 302 and "/account/confirm" in stale.location
    confirm = auth.post("/account/confirm", {"password": "beiyuan-demo-2026", "next": path}, token_from="/account/confirm")
    assert confirm.status_code == 302 and confirm.location.endswith(path)
    missing_reason = client.post(path, data={"direction": "credit", "amount": "5", "reason": "",
                                             "csrf_token": csrf_token(client, path)}, headers=EN)
    assert missing_reason.status_code == 422 and "Please give a reason." in missing_reason.get_data(as_text=True)
    assert _balance(app, DEMO_PHONES["resident"]) == 60
    done = auth.post(path, {"direction": "credit", "amount": "5", "reason": "帮忙搬运物资"})
    assert done.status_code == 302
    assert _balance(app, DEMO_PHONES["resident"]) == 65


def test_settlement_report_counts_points_per_shop_per_month(app, client, auth):
    auth.login_as("resident")
    _redeem(client, _offer_id(app, "免费磨刀"))
    code = in_app(app, lambda: Voucher.select().order_by(Voucher.id.desc()).first().code)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("partner_staff")
    auth.post("/shop/scan", {"code": code})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    auth.login_as("community_admin")
    page = client.get("/points/settlement", headers=EN).get_data(as_text=True)
    assert re.search(r"<td>\d{4}-\d{2}</td><td>北苑五金维修店</td><td class=\"num\">1</td><td class=\"num\">20</td>", page)
    csv = client.get("/points/settlement?format=csv").data.decode("utf-8")
    assert csv.startswith("\ufeff") and ",北苑五金维修店,1,20" in csv


def test_catalogue_filters_by_shop_and_category(app, client):
    everything = client.get("/shop/", headers=EN).get_data(as_text=True)
    assert "免费磨刀一次" in everything and "新鲜鸡蛋一盒" in everything and "儿童绘本" in everything
    grocery = in_app(app, lambda: PartnerEnterprise.get(PartnerEnterprise.name == "邻里生鲜便利店").id)
    only_grocery = client.get(f"/shop/?shop={grocery}", headers=EN).get_data(as_text=True)
    assert "新鲜鸡蛋一盒" in only_grocery and "免费磨刀一次" not in only_grocery
    flea = client.get("/shop/?shop=flea", headers=EN).get_data(as_text=True)
    assert "儿童绘本" in flea and "新鲜鸡蛋一盒" not in flea
    food = client.get("/shop/?category=food", headers=EN).get_data(as_text=True)
    assert "新鲜鸡蛋一盒" in food and "环保购物袋" not in food
    assert "Log in" in everything  # a visitor may look, and is asked to log in to redeem


def test_approving_with_a_stale_login_asks_for_the_password_then_returns_to_the_list(app, client, auth):
    from marketplace.ledger import adjustments
    from marketplace.notifications.models import Notification

    app.config["ADJUSTMENT_APPROVAL_THRESHOLD"] = 100
    resident = in_app(app, lambda: User.get(User.phone == DEMO_PHONES["resident"]))
    with app.test_request_context():
        account = Account.get(Account.user == resident.id)
        asked_by = User.get(User.phone == DEMO_PHONES["community_admin"])
        big = adjustments.request_adjustment(asked_by, account.id, "credit", 300, "全年巡逻时长")
    auth.login_as("admin")
    with client.session_transaction() as session:
        session["fresh_at"] = 0  # logged in long ago
    approve = f"/points/adjustments/{big.id}/approve"
    stale = auth.post(approve, token_from="/points/adjustments")
    assert stale.status_code == 302 and "/account/confirm" in stale.location
    assert _balance(app, DEMO_PHONES["resident"]) == 60  # nothing moved yet
    confirm = auth.post("/account/confirm", {"password": "beiyuan-demo-2026", "next": "/points/adjustments"},
                        token_from=stale.location)
    assert confirm.status_code == 302 and confirm.location.endswith("/points/adjustments")
    assert client.get(confirm.location).status_code == 200  # the list, not a 405 on the POST address
    assert auth.post(approve, token_from="/points/adjustments").status_code == 302
    assert _balance(app, DEMO_PHONES["resident"]) == 360
    told = in_app(app, lambda: Notification.get(Notification.user == resident.id, Notification.kind == "points"))
    assert "300" in told.text and "全年巡逻时长" in told.text


def test_a_long_statement_comes_in_pages_of_50_with_older_and_newer(app, client, auth):
    from marketplace.ledger import services as ledger

    with app.test_request_context():
        volunteer = User.get(User.phone == DEMO_PHONES["volunteer"])
        before = Transfer.select().where((Transfer.credit == ledger.user_account(volunteer).id)
                                         | (Transfer.debit == ledger.user_account(volunteer).id)).count()
        for n in range(55 - before):
            ledger.award(None, volunteer, 1, "earn_event", f"test:{n}", f"test:{n}", memo=f"第{n}次")
    auth.login_as("volunteer")
    first = client.get("/points/", headers=EN).get_data(as_text=True)
    second = client.get("/points/?page=2", headers=EN).get_data(as_text=True)
    assert first.count("<tr") - 1 == 50 and "Older" in first and "Newer" not in first
    assert second.count("<tr") - 1 == 5 and "Newer" in second and "Older" not in second


def test_the_compiled_unfiltered_statement_reads_what_the_query_reads(app):
    """statements.statement_page runs the unfiltered page from SQL compiled once (db.PreparedQuery):
    each page of it holds the same rows, amounts and running balances as the query built afresh."""
    from marketplace.ledger import statements

    def pages():
        account = Account.get(Account.kind == "issuer")  # the community fund: every award moves its points
        built = [(t.id, t.signed, t.running) for t in statements.statement(account)]
        compiled = [(t.id, t.signed, t.running) for offset in range(0, len(built) + 2, 2)
                    for t in statements.statement_page(account, offset, 2)]
        return built, compiled, account.balance

    built, compiled, balance = in_app(app, pages)
    assert len(built) >= 3 and compiled == built
    assert built[0][2] == balance  # the newest row's running balance is the balance
