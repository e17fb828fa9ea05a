"""Property test: random sequences of earn / redeem / scan / expire / cancel / adjust / reverse,
with every invariant checked after every step against a simple model of what balances should be."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import adjustments
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, Transfer
from marketplace.partners.models import PartnerEnterprise
from marketplace.shop import services as shop
from marketplace.shop.models import Offer, Voucher
from marketplace.timeutil import utcnow
from tests.conftest import DEMO_PHONES, person
from tests.ledger_helpers import assert_books_balance

MEMBERS = ("resident", "volunteer")

steps = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.sampled_from(MEMBERS), st.integers(1, 60)),
        st.tuples(st.just("redeem"), st.sampled_from(MEMBERS), st.integers(0, 2)),
        st.tuples(st.just("scan"), st.integers(0, 30)),
        st.tuples(st.just("expire"), st.integers(0, 30)),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("adjust"), st.sampled_from(MEMBERS), st.sampled_from(["credit", "debit"]), st.integers(1, 80)),
        st.tuples(st.just("reverse"), st.integers(0, 60)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def world(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        db.connect(reuse_if_open=True)
        app.config["ADJUSTMENT_APPROVAL_THRESHOLD"] = 10**9  # every adjustment posts at once
        clerk = person(DEMO_PHONES["partner_staff"])
        partner = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
        offers = [
            shop.create_partner_offer(clerk, partner.id, {
                "title": f"offer {price}", "category": "services", "price": price, "stock": stock,
                "per_person_limit": limit, "valid_from": date.today() - timedelta(days=1),
                "valid_until": date.today() + timedelta(days=9),
            })
            for price, stock, limit in ((7, 4, None), (25, 2, 1), (60, 10, 3))
        ]
        yield {
            "members": {name: person(DEMO_PHONES[name]) for name in MEMBERS},
            "clerk": clerk,
            "admin": person(DEMO_PHONES["community_admin"]),
            "offers": offers,
            "initial_stock": {o.id: o.stock for o in offers},
        }


def _balances(members):
    return {name: ledger.user_account(m).balance for name, m in members.items()}


def _pick(items, index):
    return items[index % len(items)] if items else None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_every_invariant_holds_after_every_step(world, plan):
    members, expected = world["members"], _balances(world["members"])
    for step in plan:
        action = step[0]
        vouchers = list(Voucher.select().where(Voucher.status == "issued").order_by(Voucher.id))
        try:
            if action == "earn":
                _, who, amount = step
                ledger.award(None, members[who], amount, "earn_event", "prop", f"prop:{Transfer.select().count()}")
                expected[who] += amount
            elif action == "redeem":
                _, who, index = step
                offer = world["offers"][index]
                shop.redeem(members[who], offer.id, f"prop:{Transfer.select().count()}")
                expected[who] -= offer.price
            elif action == "scan" and (voucher := _pick(vouchers, step[1])):
                shop.scan(world["clerk"], voucher.code)
            elif action == "expire" and (voucher := _pick(vouchers, step[1])):
                Voucher.update(expires_at=utcnow() - timedelta(seconds=1)).where(Voucher.id == voucher.id).execute()
                shop.expire_if_due(Voucher.get_by_id(voucher.id))
                expected[_name(members, voucher.holder_id)] += voucher.price
            elif action == "cancel" and (voucher := _pick(vouchers, step[1])):
                shop.cancel_voucher(voucher.holder, voucher.id)
                expected[_name(members, voucher.holder_id)] += voucher.price
            elif action == "adjust":
                _, who, direction, amount = step
                account = ledger.user_account(members[who])
                adjustments.request_adjustment(world["admin"], account.id, direction, amount, "property test")
                expected[who] += amount if direction == "credit" else -amount
            elif action == "reverse":
                candidates = list(Transfer.select().where(Transfer.kind.in_(ledger.REVERSIBLE_KINDS)).order_by(Transfer.seq))
                original = _pick(candidates, step[1])
                already = original is not None and Transfer.select().where(Transfer.reverses == original.id).exists()
                if original is not None:
                    # The same key again is a retry: it returns the first reversal and moves nothing.
                    ledger.reverse(world["admin"], original, "property test", f"prop:rev:{original.id}")
                if original is not None and not already:
                    for name, m in members.items():
                        account_id = ledger.user_account(m).id
                        if original.credit_id == account_id:
                            expected[name] -= original.amount
                        if original.debit_id == account_id:
                            expected[name] += original.amount
        except DomainError:
            pass  # a refusal must change nothing: the model stays as it was
        assert _balances(members) == expected, step
        assert_books_balance()
        for offer in world["offers"]:
            live = Voucher.select().where(Voucher.offer == offer.id, Voucher.status.in_(("issued", "used"))).count()
            assert Offer.get_by_id(offer.id).stock + live == world["initial_stock"][offer.id]
        assert all(a.balance >= 0 for a in Account.select().where(Account.kind != "issuer"))
    # The model now carries over to the next example, which starts from this state.


def _name(members, user_id):
    return next(name for name, m in members.items() if m.id == user_id)
