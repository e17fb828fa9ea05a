"""The points mall: redeeming, scanning, refunds, and every refusal changing nothing."""

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.ledger.cli import sweep_command
from marketplace.partners.models import PartnerEnterprise
from marketplace.shop import services as shop
from marketplace.shop.models import Offer, Voucher
from marketplace.timeutil import utcnow
from tests.conftest import DEMO_PHONES, person
from tests.ledger_helpers import assert_books_balance, balance, run_at_once

HARDWARE, CLEANING = "北苑五金维修店", "洁家家政服务公司"


def partner(name):
    return PartnerEnterprise.get(PartnerEnterprise.name == name)


def make_offer(shop_name=HARDWARE, price=10, stock=100, limit=None, **extra):
    staff = person(DEMO_PHONES["partner_staff"]) if shop_name == HARDWARE else person(DEMO_PHONES["admin"])
    fields = {"title": "测试商品", "category": "services", "price": price, "stock": stock, "per_person_limit": limit,
              "valid_from": date.today() - timedelta(days=1), "valid_until": date.today() + timedelta(days=30), **extra}
    return shop.create_partner_offer(staff, partner(shop_name).id, fields)


def fund(member, points):
    """Give a member exactly `points` (the demo gave some already)."""
    have = balance(member)
    if points > have:
        ledger.award(None, member, points - have, "earn_event", "test", f"fund:{member.id}:{points}")
    elif points < have:
        ledger.post_transfer(ledger.user_account(member), ledger.system_account("issuer"), have - points, "adjust",
                             "test", f"unfund:{member.id}:{points}")


def snapshot(*offers):
    members = [person(p) for p in DEMO_PHONES.values()]
    return ([balance(m) for m in members], [Offer.get_by_id(o.id).stock for o in offers],
            Voucher.select().count(), balance(partner(HARDWARE)))


def test_redeem_then_scan_moves_points_member_to_escrow_to_shop(ctx):
    member, clerk = person(DEMO_PHONES["resident"]), person(DEMO_PHONES["partner_staff"])
    offer = make_offer(price=20, stock=5)
    voucher = shop.redeem(member, offer.id, "k1")
    assert balance(member) == 40 and Offer.get_by_id(offer.id).stock == 4
    assert ledger.system_account("escrow").balance == 20
    assert len(voucher.code) == 10 and set(voucher.code) <= set(shop.CODE_ALPHABET)
    assert_books_balance()
    used = shop.scan(clerk, shop.format_code(voucher.code).lower())  # typed as the member read it out
    assert used.status == "used" and used.used_at_place == HARDWARE
    assert balance(partner(HARDWARE)) == 20 and balance(member) == 40
    with pytest.raises(DomainError, match=f"already used on .* at {HARDWARE}"):
        shop.scan(clerk, voucher.code)
    assert balance(partner(HARDWARE)) == 20
    assert_books_balance()


def test_a_double_click_on_redeem_issues_one_voucher(ctx):
    member = person(DEMO_PHONES["resident"])
    offer = make_offer(price=10)
    first, second = shop.redeem(member, offer.id, "same-form"), shop.redeem(member, offer.id, "same-form")
    assert first.id == second.id and balance(member) == 50


def test_every_refusal_is_clear_and_changes_nothing(ctx):
    member = person(DEMO_PHONES["resident"])
    cheap = make_offer(price=10, stock=5, limit=1)
    pricey = make_offer(price=1000)
    sold_out = make_offer(stock=0)
    cleaning_offer = make_offer(CLEANING, price=10)
    voucher = shop.redeem(member, cheap.id, "first")
    cleaning_voucher = shop.redeem(member, cleaning_offer.id, "c1")
    before = snapshot(cheap, pricey, sold_out, cleaning_offer)
    clerk = person(DEMO_PHONES["partner_staff"])
    refusals = [
        (lambda: shop.redeem(member, pricey.id, "p"), "Not enough points: the balance is 40 and this needs 1000", 409),
        (lambda: shop.redeem(member, sold_out.id, "s"), "sold out", 409),
        (lambda: shop.redeem(member, cheap.id, "second"), "the most one person may have", 409),
        (lambda: shop.scan(clerk, cleaning_voucher.code), "This voucher is not for your shop", 403),
        (lambda: shop.scan(clerk, "ABC"), "10 letters and digits", 400),
        (lambda: shop.scan(clerk, "ZZZZZZZZZZ"), "No voucher has this code", 404),
        (lambda: shop.cancel_voucher(person(DEMO_PHONES["volunteer"]), voucher.id), "not found", 404),
    ]
    for attempt, message, status in refusals:
        with pytest.raises(DomainError, match=message) as error:
            attempt()
        assert error.value.status == status
        assert snapshot(cheap, pricey, sold_out, cleaning_offer) == before, message
    assert_books_balance()


def test_an_expired_voucher_refunds_when_touched_and_by_the_sweep(ctx):
    member, clerk = person(DEMO_PHONES["resident"]), person(DEMO_PHONES["partner_staff"])
    offer = make_offer(price=10, stock=2)
    touched, swept = shop.redeem(member, offer.id, "a"), shop.redeem(member, offer.id, "b")
    Voucher.update(expires_at=utcnow() - timedelta(minutes=1)).execute()
    with pytest.raises(DomainError, match="expired; its points went back"):
        shop.scan(clerk, touched.code)
    assert Voucher.get_by_id(touched.id).status == "expired" and balance(member) == 50
    result = CliRunner().invoke(sweep_command, [], standalone_mode=False)
    assert "Refunded 1 expired voucher" in result.output
    assert Voucher.get_by_id(swept.id).status == "expired"
    assert balance(member) == 60 and Offer.get_by_id(offer.id).stock == 2 and balance(partner(HARDWARE)) == 0
    assert_books_balance()


def test_cancelling_refunds_and_restocks_once(ctx):
    member = person(DEMO_PHONES["resident"])
    offer = make_offer(price=15, stock=1)
    voucher = shop.redeem(member, offer.id, "x")
    shop.cancel_voucher(member, voucher.id)
    with pytest.raises(DomainError, match="can no longer be cancelled"):
        shop.cancel_voucher(member, voucher.id)
    assert balance(member) == 60 and Offer.get_by_id(offer.id).stock == 1
    with pytest.raises(DomainError, match="cancelled by the member"):
        shop.scan(person(DEMO_PHONES["partner_staff"]), voucher.code)
    assert_books_balance()


def test_flea_market_listing_is_reviewed_and_pays_the_seller_at_handover(ctx):
    seller, buyer = person(DEMO_PHONES["resident"]), person(DEMO_PHONES["volunteer"])
    fields = {"title": "儿童自行车", "price": 40, "stock": 1, "per_person_limit": None, "category": "other",
              "valid_from": date.today(), "valid_until": date.today() + timedelta(days=14)}
    listing = shop.list_second_hand_item(seller, fields)
    assert listing.status == "pending" and listing.category == "second_hand"
    with pytest.raises(DomainError, match="not found"):  # not on sale before staff approve it
        shop.redeem(buyer, listing.id, "early")
    with pytest.raises(DomainError, match="tell the seller why"):
        shop.review_listing(person(DEMO_PHONES["building_head"]), listing.id, approve=False)
    shop.review_listing(person(DEMO_PHONES["building_head"]), listing.id, approve=True)
    voucher = shop.redeem(buyer, listing.id, "bike")
    with pytest.raises(DomainError, match="not for your shop"):
        shop.scan(person(DEMO_PHONES["partner_staff"]), voucher.code)
    shop.scan(seller, voucher.code)  # the seller takes the code when handing the bike over
    assert balance(seller) == 100 and balance(buyer) == 140
    assert_books_balance()


def test_fifty_racing_redemptions_against_a_balance_of_one_hundred(ctx, app):
    member = person(DEMO_PHONES["resident"])
    fund(member, 100)
    offer = make_offer(price=10, stock=1000)

    results = run_at_once(app, 50, lambda i: shop.redeem(member, offer.id, f"phone-{i}"))
    vouchers = [r for r in results if isinstance(r, Voucher)]
    refusals = [r for r in results if isinstance(r, ledger.NotEnoughPoints)]
    assert len(vouchers) == 10 and len(refusals) == 40, [r for r in results if not isinstance(r, (Voucher, DomainError))][:3]
    assert all("Not enough points" in r.message for r in refusals)
    assert balance(member) == 0 and Offer.get_by_id(offer.id).stock == 990
    assert_books_balance()


def test_twenty_racing_scans_of_one_voucher_settle_once(ctx, app):
    member, clerk = person(DEMO_PHONES["resident"]), person(DEMO_PHONES["partner_staff"])
    voucher = shop.redeem(member, make_offer(price=30).id, "v")

    results = run_at_once(app, 20, lambda i: shop.scan(clerk, voucher.code))
    settled = [r for r in results if isinstance(r, Voucher)]
    repeats = [r for r in results if isinstance(r, DomainError) and "already used" in r.message]
    assert len(settled) == 1 and len(repeats) == 19, results[:3]
    assert balance(partner(HARDWARE)) == 30
    assert_books_balance()


def test_stock_of_three_and_twenty_racing_buyers(ctx, app):
    offer = make_offer(price=5, stock=3)
    buyers = [person(DEMO_PHONES["resident"]), person(DEMO_PHONES["volunteer"])]
    for member in buyers:
        fund(member, 200)

    results = run_at_once(app, 20, lambda i: shop.redeem(buyers[i % 2], offer.id, f"buyer-{i}"))
    vouchers = [r for r in results if isinstance(r, Voucher)]
    sold_out = [r for r in results if isinstance(r, DomainError) and "sold out" in r.message]
    assert len(vouchers) == 3 and len(sold_out) == 17, results[:3]
    assert Offer.get_by_id(offer.id).stock == 0
    assert_books_balance()
