"""A gunicorn worker killed with SIGKILL in the middle of a burst leaves nothing half done.

Two workers (deploy/gunicorn.conf.py) serve the test database. Members redeem vouchers, partner
staff race to claim jobs, and volunteers check in and out at the kiosk, all at once from
threads; a quarter of the way in, one worker is killed outright, as the kernel's OOM killer or a
power cut to one process would. The transactions it had open must vanish whole: afterwards every
voucher has its redeem transfer and every redeem transfer its voucher, stock + vouchers = the
stock at the start, every paid check-out has its transfer, no job has two claimers, and
`flask ledger verify` passes. Clients that lost their answer retry with the same key and get
the first result, never a second charge.
"""

import http.cookiejar
import os
import random
import re
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

from marketplace.db import db
from marketplace.demo import DEMO_PASSWORD
from marketplace.events import services as events
from marketplace.events import tokens
from marketplace.events.models import Attendance, Event, Signup
from marketplace.ledger import adjustments
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, Transfer
from marketplace.menu.models import ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Community
from marketplace.service_requests import services as requests
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer, Voucher
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User
from tests.conftest import DEMO_PHONES
from tests.servers import gunicorn_serving

SECRET = "test-secret"  # the app fixture's, so kiosk tokens made here are valid there
MEMBERS, REDEMPTIONS_EACH, STOCK, PRICE = 10, 6, 40, 10
CLAIMERS, JOBS = 4, 24
CHECKING_IN, CHECKING_OUT = 10, 10


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


# ---- the people and things of the burst ---------------------------------------------------------


def _person(phone, name, password_hash):
    person = User.create(phone=phone, display_name=name, password_hash=password_hash)
    ledger.user_account(person)
    return person


def _set_up(app):
    """Members with points, an offer, open jobs, partner staff, and an event under way."""
    with app.test_request_context():
        db.connect(reuse_if_open=True)
        password_hash = User.get(User.phone == DEMO_PHONES["resident"]).password_hash  # the demo password
        resident, admin = User.get(User.phone == DEMO_PHONES["resident"]), User.get(User.phone == DEMO_PHONES["admin"])
        hardware = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
        community = Community.select().order_by(Community.id).first()
        members = []
        for i in range(MEMBERS):
            member = _person(f"1510000{i:04d}", f"会员{i}", password_hash)
            # Through a staff adjustment, as the app makes points: `ledger verify` checks what made each one.
            adjustments.request_adjustment(admin, ledger.user_account(member).id, "credit", PRICE * REDEMPTIONS_EACH,
                                           "crash test")
            members.append(member.phone)
        offer = shop.create_partner_offer(admin, hardware.id, {
            "title": "崩溃测试", "category": "services", "price": PRICE, "stock": STOCK, "per_person_limit": None,
            "valid_from": date.today() - timedelta(days=1), "valid_until": date.today() + timedelta(days=30)})
        claimers = []
        for i in range(CLAIMERS):
            staff = _person(f"1520000{i:04d}", f"师傅{i}", password_hash)
            RoleGrant.create(user=staff, role="partner_staff", partner=hardware)
            claimers.append(staff.phone)
        item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
        jobs = [requests.book(resident, item.id, f"第{i}号维修").id for i in range(JOBS)]
        now = utcnow()
        event = events.create_event(admin, {
            "title": "巡逻", "kind": "patrol", "place": "小区门口", "community_id": community.id,
            "starts_at": now + timedelta(minutes=1), "ends_at": now + timedelta(hours=3), "capacity": 100,
            "points_rule": "per_hour", "points": 10, "allow_walk_ins": True})
        events.publish_event(admin, event.id)
        # Started two hours ago (set directly: the organiser's form refuses a past start), so
        # those who checked in then have hours, and points, to be paid at check-out.
        Event.update(starts_at=now - timedelta(hours=2)).where(Event.id == event.id).execute()
        volunteers = {"in": [], "out": []}
        for i in range(CHECKING_IN + CHECKING_OUT):
            volunteer = _person(f"1530000{i:04d}", f"志愿者{i}", password_hash)
            RoleGrant.create(user=volunteer, role="volunteer", community=community)
            events.sign_up(volunteer, event.id)
            action = "in" if i < CHECKING_IN else "out"
            if action == "out":
                signup = Signup.get(Signup.event == event.id, Signup.user == volunteer.id)
                Attendance.create(event=event.id, user=volunteer.id, signup=signup.id, state="in",
                                  checked_in_at=now - timedelta(hours=1), in_method="kiosk")
            volunteers[action].append(volunteer.phone)
        return {"members": members, "offer": offer.id, "claimers": claimers, "jobs": jobs, "event": event.id,
                "volunteers": volunteers}


# ---- a browser per person ---------------------------------------------------------------------------


class Browser:
    def __init__(self, base, phone):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self._open("/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        self._open("/login", {"phone": phone, "password": DEMO_PASSWORD, "csrf_token": token})
        page = self._open("/shop/scan").read().decode()  # any signed-in page with a form: the session's token
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def _open(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        return self.opener.open(self.base + path, data=body, timeout=30)

    def post(self, path, **fields):
        """The final status (after redirects), or the name of the error that lost the answer."""
        try:
            return self._open(path, {**fields, "csrf_token": self.csrf}).status
        except urllib.error.HTTPError as error:
            return error.code
        except (ConnectionError, urllib.error.URLError, http.client.HTTPException, TimeoutError) as error:
            return type(error).__name__


@pytest.fixture
def server(app, database_url, tmp_path):
    settings = {
        "DATABASE_URL": database_url, "MARKETPLACE_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": SECRET,
        "RATELIMIT_STORAGE_URI": "memory://", "LOGIN_RATE_LIMIT": "1000 per minute", "REQUEST_LOG": "0",
    }
    with gunicorn_serving(settings, workers=2) as served:
        yield served


def test_killing_a_worker_mid_burst_leaves_no_half_done_state(app, server):
    base, gunicorn = server
    setup = _set_up(app)
    with app.app_context():
        kiosk = {action: tokens.kiosk_token(setup["event"], action) for action in ("in", "out")}
    event_id = setup["event"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        phones = setup["members"] + setup["claimers"] + setup["volunteers"]["in"] + setup["volunteers"]["out"]
        browsers = dict(zip(phones, pool.map(lambda phone: Browser(base, phone), phones), strict=True))

    tasks = []  # (browser, path, fields)
    for phone in setup["members"]:
        for n in range(REDEMPTIONS_EACH):
            tasks.append((browsers[phone], f"/shop/offers/{setup['offer']}/redeem", {"key": f"{phone}-{n}"}))
    for job in setup["jobs"]:
        for phone in random.sample(setup["claimers"], 2):  # two claimers race for each job
            tasks.append((browsers[phone], f"/jobs/{job}/claim", {}))
    for action in ("in", "out"):
        for phone in setup["volunteers"][action]:
            tasks.append((browsers[phone], f"/events/k/{kiosk[action]}", {"action": action}))
    random.shuffle(tasks)

    finished, killed = [0], {}
    lock = threading.Lock()

    def run(task):
        browser, path, fields = task
        outcome = browser.post(path, **fields)
        with lock:
            finished[0] += 1
            if finished[0] == len(tasks) // 4 and not killed:
                workers = _children(gunicorn.pid)
                victim = random.choice(workers)
                os.kill(victim, signal.SIGKILL)
                killed.update(pid=victim, at=finished[0])
        return outcome

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(run, tasks))
    assert killed and killed["at"] < len(tasks), "the worker was not killed during the burst"
    lost = [(task[1], outcome) for task, outcome in zip(tasks, outcomes, strict=True) if isinstance(outcome, str)]
    assert all(isinstance(o, str) or o in (200, 400, 403, 404, 409, 410) for o in outcomes), outcomes

    # The master replaces the dead worker; clients that lost their answer try again, same key.
    deadline = time.monotonic() + 30
    while len([p for p in _children(gunicorn.pid) if p != killed["pid"]]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    for (browser, path, fields), outcome in zip(tasks, outcomes, strict=True):
        if isinstance(outcome, str) and "/redeem" in path:
            assert browser.post(path, **fields) in (200, 409), path

    with app.test_request_context():
        db.connect(reuse_if_open=True)
        offer = Offer.get_by_id(setup["offer"])
        vouchers = list(Voucher.select().where(Voucher.offer == offer.id))
        redeems = list(Transfer.select().where(Transfer.kind == "redeem", Transfer.ref == f"offer:{offer.id}"))
        # Every voucher has its redeem transfer, and every redeem transfer its voucher.
        assert sorted(v.redeem_transfer_id for v in vouchers) == sorted(t.id for t in redeems)
        for voucher in vouchers:
            transfer = Transfer.get_by_id(voucher.redeem_transfer_id)
            assert transfer.amount == voucher.price == PRICE
            assert transfer.debit_id == Account.get(Account.user == voucher.holder_id).id
        assert offer.stock + len(vouchers) == STOCK
        assert len({t.idempotency_key for t in redeems}) == len(redeems)  # a retry never charged twice
        for phone in setup["members"]:
            member = User.get(User.phone == phone)
            held = Voucher.select().where(Voucher.holder == member.id).count()
            assert ledger.balance_of(ledger.user_account(member)) == PRICE * (REDEMPTIONS_EACH - held)

        # Each job has at most one claimer, and its history says so exactly once.
        for job in ServiceRequest.select().where(ServiceRequest.id.in_(setup["jobs"])):
            claims = RequestEvent.select().where(RequestEvent.request == job.id, RequestEvent.action == "claim").count()
            if job.state == "claimed":
                assert job.claimer_id is not None and claims == 1, job.id
            else:
                assert job.state == "open" and job.claimer_id is None and claims == 0, job.id

        # Every check-out that earned points has its transfer; every earn_event transfer its check-out.
        attendances = list(Attendance.select().where(Attendance.event == event_id))
        for attendance in attendances:
            if attendance.state == "out":
                assert attendance.points > 0 and attendance.transfer_id is not None, attendance.id
                assert Transfer.get_by_id(attendance.transfer_id).amount == attendance.points
            else:
                assert attendance.transfer_id is None
        paid = Transfer.select().where(Transfer.kind == "earn_event", Transfer.ref == f"event:{event_id}").count()
        assert paid == sum(1 for a in attendances if a.transfer_id is not None)

    for command in (("ledger", "verify"), ("audit", "verify")):
        result = app.test_cli_runner().invoke(args=list(command))
        assert result.exit_code == 0, result.output
    # The burst did happen: most requests were answered, some vouchers sold and some jobs taken.
    assert len(vouchers) > 0 and any(j for j in ServiceRequest.select().where(ServiceRequest.state == "claimed"))
    print(f"killed worker {killed['pid']} after {killed['at']} of {len(tasks)} requests; answers lost: {len(lost)}")
