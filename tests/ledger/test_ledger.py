"""The points ledger: double entry, no overdraft, idempotency, reversal, the hash chain, verify."""

import peewee as pw
import pytest
from click.testing import CliRunner

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import adjustments
from marketplace.ledger import services as ledger
from marketplace.ledger.cli import verify_command
from marketplace.ledger.models import Account, Adjustment, Transfer
from marketplace.ledger.verify import verify_books
from tests.conftest import DEMO_PHONES, person
from tests.ledger_helpers import assert_books_balance, balance, run_at_once


def test_demo_books_balance_and_verify_command_says_so(ctx):
    assert balance(person(DEMO_PHONES["volunteer"])) == 180
    result = CliRunner().invoke(verify_command, [], obj=None, standalone_mode=False)
    assert result.exit_code == 0, result.output
    assert "Ledger OK" in result.output
    assert_books_balance()


def test_a_transfer_moves_points_once_per_key(ctx):
    resident = person(DEMO_PHONES["resident"])
    before = balance(resident)
    first = ledger.award(None, resident, 25, "earn_request", "request:1", "request:1:pay")
    again = ledger.award(None, resident, 25, "earn_request", "request:1", "request:1:pay")
    assert again.id == first.id
    assert balance(resident) == before + 25
    with pytest.raises(DomainError, match="different operation"):
        ledger.award(None, resident, 99, "earn_request", "request:1", "request:1:pay")
    assert balance(resident) == before + 25
    assert_books_balance()


@pytest.mark.parametrize("amount", [0, -5, 2.5, True, "10"])
def test_amounts_must_be_positive_whole_numbers(ctx, amount):
    resident = person(DEMO_PHONES["resident"])
    before = Transfer.select().count()
    with pytest.raises(DomainError, match="whole number above zero"):
        ledger.award(None, resident, amount, "earn_request", "x", f"bad:{amount!r}")
    assert Transfer.select().count() == before


def test_no_overdraft_and_the_database_refuses_one_too(ctx):
    resident = person(DEMO_PHONES["resident"])
    account = ledger.user_account(resident)
    with pytest.raises(ledger.NotEnoughPoints, match="balance is 60 and this needs 61"):
        ledger.post_transfer(account, ledger.system_account("escrow"), 61, "redeem", "x", "overdraw")
    assert balance(resident) == 60
    # Even a raw write behind the services' back cannot push a member below zero.
    with pytest.raises(pw.IntegrityError), db.atomic():
        Account.update(balance=-1).where(Account.id == account.id).execute()
    assert balance(resident) == 60


def test_reversal_points_at_the_original_and_happens_once(ctx):
    resident = person(DEMO_PHONES["resident"])
    admin = person(DEMO_PHONES["admin"])
    original = ledger.award(admin, resident, 10, "earn_request", "request:7", "request:7:pay")
    undo = ledger.reverse(admin, original, "paid twice by mistake", "reverse:1")
    assert undo.reverses_id == original.id
    assert (undo.debit_id, undo.credit_id, undo.amount) == (original.credit_id, original.debit_id, 10)
    with pytest.raises(DomainError, match="already reversed"):
        ledger.reverse(admin, original, "again", "reverse:2")
    with pytest.raises(DomainError, match="reason"):
        ledger.reverse(admin, original, " ", "reverse:3")
    assert balance(resident) == 60
    assert_books_balance()


def test_editing_a_transfer_behind_the_apps_back_is_found_and_named(ctx):
    resident = person(DEMO_PHONES["resident"])
    target = ledger.award(None, resident, 5, "earn_request", "request:9", "request:9:pay")
    ledger.award(None, resident, 6, "earn_request", "request:10", "request:10:pay")
    # Someone with database access turns 5 points into 500, and fixes the cached balance too.
    Transfer.update(amount=500).where(Transfer.id == target.id).execute()
    Account.update(balance=Account.balance + 495).where(Account.id == target.credit_id).execute()
    Account.update(balance=Account.balance - 495).where(Account.code == "issuer").execute()
    result = CliRunner().invoke(verify_command, [], standalone_mode=False)
    assert result.exit_code == 1
    assert f"LEDGER FAULT: transfer seq {target.seq} (id {target.id}): content does not match its hash" in result.output


def test_deleting_the_last_transfer_is_found(ctx):
    resident = person(DEMO_PHONES["resident"])
    last = ledger.award(None, resident, 5, "earn_request", "request:11", "request:11:pay")
    Transfer.delete().where(Transfer.id == last.id).execute()
    Account.update(balance=Account.balance - 5).where(Account.id == last.credit_id).execute()
    Account.update(balance=Account.balance + 5).where(Account.code == "issuer").execute()
    report = verify_books()
    assert not report.ok
    assert "chain head does not match" in report.faults[0]


def test_small_adjustment_posts_at_once_large_one_needs_a_second_staff_member(ctx, app):
    app.config["ADJUSTMENT_APPROVAL_THRESHOLD"] = 100
    community_admin, admin = person(DEMO_PHONES["community_admin"]), person(DEMO_PHONES["admin"])
    resident = person(DEMO_PHONES["resident"])
    account = ledger.user_account(resident)
    small = adjustments.request_adjustment(community_admin, account.id, "credit", 20, "helped at the fair")
    assert small.status == "posted" and balance(resident) == 80
    big = adjustments.request_adjustment(community_admin, account.id, "credit", 300, "year's patrol hours")
    assert big.status == "pending" and balance(resident) == 80
    with pytest.raises(DomainError, match="second staff member"):
        adjustments.approve_adjustment(community_admin, big.id)
    assert balance(resident) == 80
    adjustments.approve_adjustment(admin, big.id)
    assert balance(resident) == 380
    with pytest.raises(DomainError, match="already been decided"):
        adjustments.approve_adjustment(admin, big.id)
    assert Adjustment.get_by_id(big.id).transfer.memo == "year's patrol hours"
    assert_books_balance()


def test_adjustment_refusals_change_nothing(ctx):
    community_admin = person(DEMO_PHONES["community_admin"])
    building_head = person(DEMO_PHONES["building_head"])
    resident = person(DEMO_PHONES["resident"])
    account = ledger.user_account(resident)
    before = (balance(resident), Adjustment.select().count())
    with pytest.raises(DomainError, match="reason"):
        adjustments.request_adjustment(community_admin, account.id, "credit", 5, "  ")
    with pytest.raises(ledger.NotEnoughPoints):
        adjustments.request_adjustment(community_admin, account.id, "debit", 61, "wrong award")
    with pytest.raises(DomainError, match="Only community administrators"):
        adjustments.request_adjustment(building_head, account.id, "credit", 5, "kind deed")
    other_community_user = ledger.user_account(person(DEMO_PHONES["admin"]))
    with pytest.raises(DomainError) as error:
        adjustments.request_adjustment(community_admin, other_community_user.id, "credit", 5, "x")
    assert error.value.status == 404
    assert (balance(resident), Adjustment.select().count()) == before


def test_transfers_between_two_accounts_in_both_directions_neither_deadlock_nor_lose_points(ctx, app):
    a, b = person(DEMO_PHONES["resident"]), person(DEMO_PHONES["volunteer"])
    acc_a, acc_b = ledger.user_account(a), ledger.user_account(b)

    def work(i):
        debit, credit = (acc_a, acc_b) if i % 2 else (acc_b, acc_a)
        return ledger.post_transfer(debit, credit, 1, "adjust", "swap", f"swap:{i}")

    results = run_at_once(app, 40, work)
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures[:3]
    assert balance(a) + balance(b) == 240
    assert_books_balance()


def test_fifty_racing_spends_of_one_balance_settle_exactly(ctx, app):
    resident = person(DEMO_PHONES["resident"])  # 60 points
    account, escrow = ledger.user_account(resident), ledger.system_account("escrow")

    results = run_at_once(app, 50, lambda i: ledger.post_transfer(account, escrow, 10, "redeem", "race", f"race:{i}"))
    succeeded = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, ledger.NotEnoughPoints)]
    assert len(succeeded) == 6 and len(refused) == 44, [r for r in results if not isinstance(r, (Transfer, DomainError))][:3]
    assert balance(resident) == 0
    report = verify_books()
    assert report.ok, report.faults
