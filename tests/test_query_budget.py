"""SQL statements per request on the benchmarked pages and writes (issue 20), each under a budget,
so a page that starts querying per row or per template call fails here before it slows the street.

A signed-in page's budget is 4: one query for the session, the person, their role grants and
their unread count together (users.accounts.load_session), and the page's own (at most three,
named at each budget). Writes have the budget of the fewest statements their rules need. Counted
as the database sees them: the database's execute_sql is wrapped while one request runs, after a
first request has warmed what is kept between requests.
"""

import re
from datetime import timedelta

import pytest

from tests.conftest import csrf_token, demo_app, in_app, person, sql_sent

EN = {"Accept-Language": "en"}


@pytest.fixture
def app(database_url, tmp_path):
    """As deployed: figures from their snapshots, message deliveries queued for the workers."""
    with demo_app(database_url, tmp_path, FIGURES_MAX_AGE_SECONDS=900, TASK_QUEUE_IMMEDIATE=False) as app:
        yield app


def within(statements, budget):
    assert len(statements) <= budget, f"{len(statements)} statements, budget {budget}:\n" + "\n".join(
        s[:200] for s in statements)


def get_counted(client, path):
    client.get(path, headers=EN)  # warm: the session touched, snapshots stored
    with sql_sent() as statements:
        response = client.get(path, headers=EN)
    return response, statements


def post_counted(client, path, data):
    with sql_sent() as statements:
        response = client.post(path, data=data, headers=EN)
    return response, statements


def without_tokens(page: str) -> str:
    """A page without its CSRF tokens (signed with the second they were made)."""
    return re.sub(r'name="csrf_token"[^>]*>', "", page)


# ---- pages -------------------------------------------------------------------------------------


def test_job_board_in_four_queries(client, auth):
    auth.login_as("partner_staff")
    response, statements = get_counted(client, "/jobs/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "All categories" in page and "All grids" in page
    # Session, grants and unread count (1); the filter's categories and grids (1); the page of jobs
    # (1); the helper's own stars (1).
    within(statements, 4)


def test_statement_page_queries(client, auth):
    auth.login_as("volunteer")
    response, statements = get_counted(client, "/points/")
    assert response.status_code == 200 and "How points are earned and kept" in response.get_data(as_text=True)
    # Session, grants and unread count (1); the member's account (1); the page of transfers with
    # running balances (1); the names of the other side of each transfer (1). Two more than the
    # budget for the points policy's own part of the page (DESIGN: points held back by caps are
    # shown, not lost without a trace): this member's totals (1) and the capped earnings (1).
    within(statements, 6)


def test_staff_dashboard_in_five_queries_and_the_same_from_its_snapshots(client, auth):
    auth.login_as("street_officer")
    counted_now = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    response, statements = get_counted(client, "/staff/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Promises kept" in page
    assert without_tokens(page) == without_tokens(counted_now)  # the stored figures show what was counted
    # Session, grants and unread count (1); the areas to choose from (1); the area's figures, its
    # promises kept and the messages sent, from their snapshots (1); the working-day calendar's
    # staff additions, for those who may add the next year (1); the acts on behalf of this month,
    # the staff member's own and, for a community administrator, everyone's (1, issue 16): one over
    # the four, as the statement's policy totals are.
    within(statements, 5)


def test_door_page_in_four_queries(app, client, auth):
    event_id, token = in_app(app, _event_under_way)
    auth.login_as("volunteer")
    response, statements = get_counted(client, f"/events/k/{token}")
    assert response.status_code == 200
    # Session, grants and unread count (1); the event (1); the volunteer's attendance (1).
    within(statements, 4)


def test_counter_page_in_four_queries(client, auth):
    auth.login_as("partner_staff")
    response, statements = get_counted(client, "/shop/scan")
    assert response.status_code == 200
    # Session, grants and unread count (1); the counter is a form, nothing more to read.
    within(statements, 4)


# ---- writes ------------------------------------------------------------------------------------


def _event_under_way():
    from marketplace.events import tokens
    from marketplace.events.models import Event
    from marketplace.timeutil import utcnow
    from tests.events.test_events import make_event

    event = make_event(walk_ins=True)
    now = utcnow()
    Event.update(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2)).where(Event.id == event.id).execute()
    return event.id, tokens.kiosk_token(event.id, "in")


def _voucher_for_the_hardware_shop():
    """A member's voucher at the demo partner's shop, and the offer it came from."""
    from marketplace.shop import services as shop
    from tests.shop.test_shop import fund, make_offer

    offer, member = make_offer(price=5), person("resident")
    fund(member, 50)
    return offer.id, shop.redeem(member, offer.id, "budget-test").code


def _open_request():
    from marketplace.menu.models import ServiceItem
    from marketplace.service_requests import services

    item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
    return services.book(person("resident"), item.id, "卫生间水管漏水，地上都是水").id


def test_claiming_within_budget(app, client, auth):
    request_id = in_app(app, _open_request)
    auth.login_as("partner_staff")
    token = csrf_token(client, "/jobs/")
    response, statements = post_counted(client, f"/jobs/{request_id}/claim", {"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith(f"/requests/{request_id}")
    # Session (1); the ledger's lock, the request and its item, checked (3); the claim and its
    # history row (2); the request, item, shop and resident re-read to tell the resident (4); the
    # message, the resident's channels and its deliveries queued (5).
    within(statements, 15)


def test_kiosk_check_in_within_budget(app, client, auth):
    event_id, token = in_app(app, _event_under_way)
    auth.login_as("volunteer")
    response, statements = post_counted(client, f"/events/k/{token}",
                                        {"csrf_token": csrf_token(client, "/jobs/"), "action": "in"})
    assert response.status_code == 302 and f"/events/{event_id}" in response.location
    # Session (1); the event and whether the volunteer may walk in (3); the attendance written
    # once and read back (2); the scan recorded (1).
    within(statements, 7)


def test_redeeming_within_budget(app, client, auth):
    offer_id, _code = in_app(app, _voucher_for_the_hardware_shop)
    auth.login_as("resident")
    response, statements = post_counted(client, f"/shop/offers/{offer_id}/redeem",
                                        {"csrf_token": csrf_token(client, "/"), "key": "budget-second"})
    assert response.status_code == 302 and "/shop/vouchers/" in response.location
    # Session (1); the ledger's lock and the key's earlier use (2); the offer and its stock (2); the
    # two accounts (2); the posting: two balances, the transfer and its hash, the chain's head (5);
    # the voucher (1). The posting inside the service's own lock takes no savepoint and no second
    # read of the head (ledger.services.ledger_transaction).
    within(statements, 14)


def test_scanning_within_budget(app, client, auth):
    _offer_id, code = in_app(app, _voucher_for_the_hardware_shop)
    auth.login_as("partner_staff")
    response, statements = post_counted(client, "/shop/scan", {"csrf_token": csrf_token(client, "/shop/scan"),
                                                               "code": code})
    assert response.status_code == 200 and "5" in response.get_data(as_text=True)
    # Session (1); the voucher, the lock, the voucher again under it, its offer and shop (5); the two
    # accounts (2); the posting (5); the voucher closed (1); the member told: who, the message,
    # their channels, the deliveries queued (6); the page: the voucher, the unread count after a
    # POST, the offer (3).
    within(statements, 24)


def test_registering_a_member_lists_the_households_with_their_addresses_in_one_query(client, auth):
    auth.login_as("community_admin")
    response, statements = get_counted(client, "/on-behalf/members/new")
    assert response.status_code == 200 and "<option" in response.get_data(as_text=True)
    # Session, grants and unread count (1); the households in scope with building, grid and
    # community joined (1; one query per household's address before); the scope's own reads.
    within(statements, 4)
