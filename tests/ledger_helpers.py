"""Helpers shared by the ledger and shop tests: run code as a user, in threads, and check the books."""

import threading

from marketplace.db import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account
from marketplace.ledger.verify import verify_books
from marketplace.shop.services import escrow_faults


def balance(owner) -> int:
    account = ledger.partner_account(owner) if hasattr(owner, "business") else ledger.user_account(owner)
    return Account.get_by_id(account.id).balance


def assert_books_balance():
    report = verify_books(extra_checks=[escrow_faults])
    assert report.ok, report.faults


def run_at_once(app, count: int, work):
    """Run work(i) in `count` threads, each on its own database connection, released together.
    Returns the list of results (the return value, or the exception raised)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i):
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                barrier.wait(timeout=60)
                # Connect after the start signal: more threads than the pool holds wait their turn.
                db.connect(reuse_if_open=True)
                results[i] = work(i)
            except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
                results[i] = error
            finally:
                if not db.is_closed():
                    db.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results
