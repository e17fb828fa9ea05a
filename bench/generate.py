"""Build a benchmark data set at the reference street's scale (or a fraction of it).

    python -m bench.generate --scale 1      # 80,000 residents in 32,799 households, 28 items,
                                            # 100,000 requests, 2,000 events / 60,000 attendances,
                                            # 1,000,000 transfers
    python -m bench.generate --scale 0.01   # the same street at 1/100

DATABASE_URL says where (SQLite file or PostgreSQL database); the database is emptied first.
It starts from the migrated schema and the demo community (so the menu, the demo logins and
the partners are the real ones), then adds everything else with bulk inserts (executemany on
SQLite, COPY on PostgreSQL), writing ids itself so that no row needs to be read back.

The points are real: every transfer is posted in time order, no balance but the issuer's goes
below zero at any point, the cached balances are the sums of the transfers, escrow holds the
unused vouchers, and the hash chain is computed with the ledger's own function, so
`flask ledger verify` passes on the result.
"""

import argparse
import io
import random
import secrets
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import peewee as pw

REFERENCE = {
    "residents": 80_000,
    "households": 32_799,
    "requests": 100_000,
    "events": 2_000,
    "attendances": 60_000,
    "transfers": 1_000_000,
}
BENCH_PASSWORD = "bench-password-2026"
DAYS_OF_HISTORY = 3 * 365
VOLUNTEER_SHARE = 0.06
EXTRA_PARTNERS = 12


def log(message: str) -> None:
    print(f"[generate {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- bulk insert -------------------------------------------------------------------------------


def _pg_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def bulk(model, rows: list[dict], chunk: int = 50_000) -> None:
    """Insert rows (dicts keyed by field name; foreign keys as ids). Fields left out get the
    model's Python default, as Model.create would give them."""
    if not rows:
        return
    from marketplace.db import db

    fields = [f for f in model._meta.sorted_fields]
    given = set().union(*(r.keys() for r in rows))
    defaults = {}
    for f in fields:
        if not (f.primary_key and f.name == "id"):
            defaults[f.name] = f.default() if callable(f.default) else f.default
    names = [f.name for f in fields if f.name in given or f.name in defaults]
    columns = [model._meta.fields[n].column_name for n in names]
    table = model._meta.table_name
    conn = db.connection()
    if isinstance(db.obj, pw.SqliteDatabase):
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        cur = conn.cursor()
        for start in range(0, len(rows), chunk):
            cur.executemany(sql, [tuple(r.get(n, defaults.get(n)) for n in names) for r in rows[start:start + chunk]])
    else:
        cur = conn.cursor()
        copy = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        for start in range(0, len(rows), chunk):
            buffer = io.StringIO()
            for r in rows[start:start + chunk]:
                buffer.write("\t".join(_pg_text(r.get(n, defaults.get(n))) for n in names))
                buffer.write("\n")
            buffer.seek(0)
            cur.copy_expert(copy, buffer)


def _next_id(model) -> int:
    return (model.select(pw.fn.MAX(model.id)).scalar() or 0) + 1


# ---- the street ----------------------------------------------------------------------------------


class Street:
    """Ids of what was made, for the steps that follow and for the benchmark runner."""

    def __init__(self, scale: float, seed: int):
        self.scale = scale
        self.rng = random.Random(seed)
        self.n = {k: max(1, round(v * scale)) for k, v in REFERENCE.items()}
        self.now = datetime.utcnow().replace(microsecond=0)
        self.start = self.now - timedelta(days=DAYS_OF_HISTORY)

    def moment(self, lo: datetime | None = None, hi: datetime | None = None) -> datetime:
        lo, hi = lo or self.start, hi or self.now
        span = max(1, int((hi - lo).total_seconds()))
        return lo + timedelta(seconds=self.rng.randrange(span), microseconds=self.rng.randrange(1_000_000))


def build_places(st: Street) -> None:
    from marketplace.places.models import Building, Community, Grid, Household

    communities, grids_per = 6, max(1, round(6 * min(1, st.scale * 10)))
    buildings_total = max(communities * grids_per, round(330 * st.scale))
    cid, gid, bid, hid = _next_id(Community), _next_id(Grid), _next_id(Building), _next_id(Household)
    comm_rows, grid_rows, building_rows = [], [], []
    for c in range(communities):
        comm_rows.append({"id": cid + c, "code": f"bench_c{c}", "name_zh": f"北苑第{c + 1}社区", "name_en": f"Beiyuan {c + 1}"})
        for g in range(grids_per):
            grid = gid + c * grids_per + g
            grid_rows.append({"id": grid, "community": cid + c, "code": f"bench_c{c}_g{g}",
                              "name_zh": f"第{g + 1}网格", "name_en": f"Grid {g + 1}"})
    st.grids = [r["id"] for r in grid_rows]
    for b in range(buildings_total):
        building_rows.append({"id": bid + b, "grid": st.grids[b % len(st.grids)], "code": f"bench_b{b}",
                              "name_zh": f"{b + 1}号楼", "name_en": f"Building {b + 1}"})
    st.buildings = [r["id"] for r in building_rows]
    household_rows = []
    for h in range(st.n["households"]):
        building = st.buildings[h % len(st.buildings)]
        household_rows.append({"id": hid + h, "building": building, "unit": _unit(h // len(st.buildings))})
    st.households = [r["id"] for r in household_rows]
    st.household_building = {r["id"]: r["building"] for r in household_rows}
    st.communities = [r["id"] for r in comm_rows]
    bulk(Community, comm_rows)
    bulk(Grid, grid_rows)
    bulk(Building, building_rows)
    bulk(Household, household_rows)
    log(f"{len(comm_rows)} communities, {len(grid_rows)} grids, {len(building_rows)} buildings, "
        f"{len(household_rows)} households")


def _unit(k: int) -> str:
    """The k-th home of a building: entrance 1, 2, ... of 20 homes, "2-105"."""
    return f"{k // 20 + 1}-{k % 20 // 4 + 1}0{k % 4 + 1}"


def build_people(st: Street) -> None:
    from marketplace.ledger.models import Account
    from marketplace.menu.models import Category
    from marketplace.partners.models import PartnerEnterprise
    from marketplace.users.models import RoleGrant, User, VolunteerSkill
    from marketplace.users.passwords import hash_password

    password_hash = hash_password(BENCH_PASSWORD)
    uid, gid, aid = _next_id(User), _next_id(RoleGrant), _next_id(Account)
    categories = [c.id for c in Category.select(Category.id)]
    users, grants, accounts, skills = [], [], [], []
    st.residents, st.volunteers, st.user_household = [], [], {}
    for i in range(st.n["residents"]):
        user_id = uid + i
        household = st.households[i % len(st.households)] if i < len(st.households) else st.rng.choice(st.households)
        users.append({"id": user_id, "phone": f"15{i:09d}", "display_name": f"居民{i}", "password_hash": password_hash,
                      "created_at": st.moment(hi=st.start + timedelta(days=30))})
        grants.append({"id": gid + len(grants), "user": user_id, "role": "resident", "household": household})
        accounts.append({"id": aid + len(accounts), "code": f"user:{user_id}", "kind": "user", "user": user_id, "balance": 0})
        st.residents.append(user_id)
        st.user_household[user_id] = household
        if st.rng.random() < VOLUNTEER_SHARE:
            st.volunteers.append(user_id)
            grants.append({"id": gid + len(grants), "user": user_id, "role": "volunteer",
                           "community": st.rng.choice(st.communities)})
            for category in st.rng.sample(categories, 3):
                skills.append({"user": user_id, "category": category})
    # Partners: the demo's three and a dozen more, each with two staff members.
    pid = _next_id(PartnerEnterprise)
    partner_rows = [{"id": pid + p, "community": st.rng.choice(st.communities), "name": f"合作商户{p + 1}",
                     "kinds": "services,offers", "approved": True} for p in range(EXTRA_PARTNERS)]
    st.partner_staff = {}
    next_user = uid + len(users)
    for partner in [p.id for p in PartnerEnterprise.select(PartnerEnterprise.id)] + [r["id"] for r in partner_rows]:
        st.partner_staff[partner] = []
        for _ in range(2):
            users.append({"id": next_user, "phone": f"17{next_user:09d}", "display_name": f"店员{next_user}",
                          "password_hash": password_hash})
            grants.append({"id": gid + len(grants), "user": next_user, "role": "partner_staff", "partner": partner})
            accounts.append({"id": aid + len(accounts), "code": f"user:{next_user}", "kind": "user", "user": next_user,
                             "balance": 0})
            st.partner_staff[partner].append(next_user)
            next_user += 1
    _bulk_partners(partner_rows)
    for r in partner_rows:
        accounts.append({"id": aid + len(accounts), "code": f"partner:{r['id']}", "kind": "partner", "partner": r["id"],
                         "balance": 0})
    bulk(User, users)
    bulk(RoleGrant, grants)
    bulk(VolunteerSkill, skills)
    bulk(Account, accounts)
    st.partners = list(st.partner_staff)
    log(f"{len(st.residents)} residents ({len(st.volunteers)} volunteers), {len(st.partners)} partners, "
        f"{len(users)} users")


def _bulk_partners(rows):
    from marketplace.partners.models import PartnerEnterprise

    bulk(PartnerEnterprise, [{"id": r["id"], "community": r["community"], "name": r["name"], "business": "上门维修、保洁",
                              "contact_phone": "010-00000000", "address": "北苑路", "active": True} for r in rows])


# ---- points, requests, events, vouchers ----------------------------------------------------------


class Ledger:
    """Transfers collected in any order, then numbered by time and chained."""

    def __init__(self):
        from marketplace.ledger.models import Account, LedgerHead, Transfer

        self.accounts = {a.code: a.id for a in Account.select(Account.code, Account.id)}
        head = LedgerHead.get_or_none(LedgerHead.id == 1)
        self.seq, self.prev_hash = (head.last_seq, head.last_hash) if head else (0, "")
        self.next_id = _next_id(Transfer)
        self.rows: list[dict] = []

    def add(self, when, debit, credit, amount, kind, ref, key, actor=None, memo="") -> dict:
        row = {"id": self.next_id + len(self.rows), "created_at": when, "debit": debit, "credit": credit,
               "amount": amount, "kind": kind, "ref": ref, "memo": memo, "actor": actor, "idempotency_key": key,
               "reverses": None}
        self.rows.append(row)
        return row

    def seal(self) -> dict[int, int]:
        """Number the transfers by time, chain their hashes; returns each account's net change."""
        from marketplace.ledger.models import Account
        from marketplace.ledger.services import transfer_hash

        codes = dict(Account.select(Account.id, Account.code).tuples())  # under each hash (issue 18)

        # ids were handed out in creation order; renumber so id order = seq order = time order.
        # Other rows hold the transfer dicts themselves, so they see the new ids.
        self.rows.sort(key=lambda r: r["created_at"])
        net: dict[int, int] = {}
        for i, row in enumerate(self.rows):
            row["id"] = self.next_id + i
            self.seq += 1
            row["seq"] = self.seq
            row["prev_hash"] = self.prev_hash
            view = SimpleNamespace(**row, debit_id=row["debit"], credit_id=row["credit"], actor_id=row["actor"],
                                   reverses_id=None)
            row["hash"] = transfer_hash(view, codes[row["debit"]], codes[row["credit"]])
            self.prev_hash = row["hash"]
            net[row["debit"]] = net.get(row["debit"], 0) - row["amount"]
            net[row["credit"]] = net.get(row["credit"], 0) + row["amount"]
        return net


def build_requests(st: Street, led: Ledger) -> None:
    from marketplace.menu.models import ServiceItem
    from marketplace.service_requests.models import RequestEvent, ServiceRequest

    items = list(ServiceItem.select())
    rid, eid = _next_id(ServiceRequest), _next_id(RequestEvent)
    requests, events = [], []
    issuer = led.accounts["issuer"]
    st.payouts = []  # (request row, transfer row) to fix up the payout id after sealing
    volunteers_by_skill = st.volunteers  # any volunteer: skills are not checked for history
    n = st.n["requests"]
    for i in range(n):
        item = st.rng.choice(items)
        resident = st.rng.choice(st.residents)
        roll = st.rng.random()
        # Most of the history is finished; what is still open is recent.
        state = ("open" if roll < 0.015 else "claimed" if roll < 0.035 else "done" if roll < 0.05 else
                 "disputed" if roll < 0.055 else "cancelled" if roll < 0.105 else "confirmed")
        recent = state in ("open", "claimed", "done", "disputed")
        created = st.moment(lo=st.now - timedelta(days=6)) if recent else st.moment(hi=st.now - timedelta(days=10))
        row = {"id": rid + i, "resident": resident, "household": st.user_household[resident], "item": item.id,
               "description": f"需要帮助：{item.name_zh}（第{i}号）", "preferred_period": "any", "state": state,
               "points": item.points, "created_at": created,
               "due_at": created + timedelta(days=item.deadline_days * 7 // 5 + 1),
               "onsite_code": f"{st.rng.randrange(10**6):06d}", "onsite_failures": 0, "auto_confirmed": False,
               "escalated_to": "", "rating_comment": "", "claimer": None, "claimer_partner": None,
               "claimed_at": None, "done_at": None, "confirmed_at": None, "rating": None, "rated_at": None,
               "payout": None}
        events.append({"request": row["id"], "actor": resident, "action": "book", "from_state": "", "to_state": "open",
                       "created_at": created})
        if state != "open" and not (state == "cancelled" and st.rng.random() < 0.5):
            if item.fulfilment == "partner" or (item.fulfilment == "either" and st.rng.random() < 0.4):
                partner = st.rng.choice(st.partners)
                row["claimer"], row["claimer_partner"] = st.rng.choice(st.partner_staff[partner]), partner
                payee = led.accounts[f"partner:{partner}"]
            else:
                row["claimer"] = st.rng.choice(volunteers_by_skill)
                payee = led.accounts[f"user:{row['claimer']}"]
            row["claimed_at"] = created + timedelta(hours=st.rng.randint(1, 30))
            events.append({"request": row["id"], "actor": row["claimer"], "action": "claim", "from_state": "open",
                           "to_state": "claimed", "created_at": row["claimed_at"]})
            if state in ("done", "confirmed", "disputed"):
                row["done_at"] = row["claimed_at"] + timedelta(hours=st.rng.randint(2, 48))
                events.append({"request": row["id"], "actor": row["claimer"], "action": "mark_done",
                               "from_state": "claimed", "to_state": "done", "created_at": row["done_at"]})
            if state == "disputed":
                events.append({"request": row["id"], "actor": resident, "action": "dispute", "from_state": "done",
                               "to_state": "disputed", "created_at": row["done_at"] + timedelta(hours=5),
                               "note": "没有修好"})
            if state == "confirmed":
                row["confirmed_at"] = row["done_at"] + timedelta(hours=st.rng.randint(1, 60))
                events.append({"request": row["id"], "actor": resident, "action": "confirm", "from_state": "done",
                               "to_state": "confirmed", "created_at": row["confirmed_at"]})
                transfer = led.add(row["confirmed_at"], issuer, payee, item.points, "earn_request",
                                   f"request:{row['id']}", f"request:{row['id']}:payout", resident, item.name_zh)
                st.payouts.append((row, transfer))
                if st.rng.random() < 0.7:
                    row["rating"] = st.rng.choice((3, 4, 4, 5, 5, 5))
                    row["rated_at"] = row["confirmed_at"] + timedelta(hours=2)
        if state == "cancelled":
            events.append({"request": row["id"], "actor": resident, "action": "cancel", "from_state": events[-1]["to_state"],
                           "to_state": "cancelled", "created_at": created + timedelta(days=1)})
        requests.append(row)
    for i, e in enumerate(events):
        e["id"] = eid + i
        e.setdefault("note", "")
    st.request_rows, st.request_events = requests, events
    log(f"{len(requests)} requests, {len(events)} history rows, {len(st.payouts)} payouts")


def build_events(st: Street, led: Ledger) -> None:
    from marketplace.events.models import Attendance, Event, Signup

    admin = st.admin
    evid, sid, atid = _next_id(Event), _next_id(Signup), _next_id(Attendance)
    issuer = led.accounts["issuer"]
    per_event = max(1, st.n["attendances"] // st.n["events"])
    events, signups, attendances = [], [], []
    st.attendance_transfers = []
    for e in range(st.n["events"]):
        starts = st.moment(hi=st.now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        hours = st.rng.choice((2, 2, 3, 4))
        row = {"id": evid + e, "community": st.rng.choice(st.communities),
               "kind": st.rng.choice(("patrol", "flea_market", "lecture", "service_day")),
               "title": f"社区活动{e + 1}", "description": "", "place": "社区活动中心", "starts_at": starts,
               "ends_at": starts + timedelta(hours=hours), "capacity": per_event + 10, "taken": per_event,
               "points_rule": "per_hour", "points": 10, "allow_walk_ins": False, "status": "published",
               "poster_version": 1, "created_by": admin, "created_at": starts - timedelta(days=7),
               "published_at": starts - timedelta(days=7), "cancel_reason": "",
               "closed_at": starts + timedelta(hours=hours, minutes=61)}
        events.append(row)
        for user in st.rng.sample(st.volunteers, min(per_event, len(st.volunteers))):
            signup_id = sid + len(signups)
            signups.append({"id": signup_id, "event": row["id"], "user": user, "status": "confirmed",
                            "queued_at": row["created_at"], "created_at": row["created_at"],
                            "updated_at": row["created_at"]})
            checked_in = starts - timedelta(minutes=st.rng.randint(0, 20))
            out = row["ends_at"] + timedelta(minutes=st.rng.randint(0, 20)) - timedelta(minutes=st.rng.choice((0, 0, 30)))
            minutes = int((min(out, row["ends_at"]) - starts).total_seconds() // 60)
            points = minutes * 10 // 60
            att = {"id": atid + len(attendances), "event": row["id"], "user": user, "signup": signup_id, "state": "out",
                   "checked_in_at": checked_in, "in_method": "kiosk", "checked_out_at": out, "out_method": "kiosk",
                   "minutes": minutes, "points": points, "transfer": None, "note": "", "created_at": checked_in}
            attendances.append(att)
            transfer = led.add(out, issuer, led.accounts[f"user:{user}"], points, "earn_event", f"event:{row['id']}",
                               f"attendance:{att['id']}:pay", None, row["title"])
            st.attendance_transfers.append((att, transfer))
    st.event_rows, st.signup_rows, st.attendance_rows = events, signups, attendances
    log(f"{len(events)} events, {len(attendances)} attendances")


def build_shop(st: Street, led: Ledger) -> None:
    """Offers, and vouchers bought with what people earned, in time order per person."""
    from marketplace.shop.models import Offer, Voucher

    oid = _next_id(Offer)
    offers = []
    for partner in st.partners:
        for k in range(4):
            offers.append({"id": oid + len(offers), "community": st.rng.choice(st.communities), "partner": partner,
                           "seller": None, "title": f"商户{partner}优惠{k + 1}", "description": "", "category": "services",
                           "price": st.rng.choice((3, 5, 5, 8, 10)), "stock": 0, "per_person_limit": None,
                           "valid_from": st.start.date(), "valid_until": st.now.date() + timedelta(days=365),
                           "status": "active", "created_by": st.partner_staff[partner][0], "review_note": "",
                           "created_at": st.start})
    for k in range(6):  # the community's flea market
        offers.append({"id": oid + len(offers), "community": st.communities[k % len(st.communities)], "partner": None,
                       "seller": None, "title": f"跳蚤市场物品{k + 1}", "description": "", "category": "daily_goods",
                       "price": st.rng.choice((2, 4, 6)), "stock": 0, "per_person_limit": None,
                       "valid_from": st.start.date(), "valid_until": st.now.date() + timedelta(days=365),
                       "status": "active", "created_by": st.admin, "review_note": "", "created_at": st.start})
    escrow, flea = led.accounts["escrow"], led.accounts["flea_market"]
    # Earnings per person, in time order.
    earned: dict[int, list] = {}
    for row in led.rows:
        if row["kind"] in ("earn_request", "earn_event"):
            earned.setdefault(row["credit"], []).append((row["created_at"], row["amount"]))
    account_user = {v: int(k.split(":")[1]) for k, v in led.accounts.items() if k.startswith("user:")}
    budget = st.n["transfers"] - len(led.rows)
    target_vouchers = int(budget / 1.92)
    # Each earner spends what they earn, in vouchers, shortly after earning it.
    spend_plan = []
    for account, earnings in earned.items():
        if account not in account_user:
            continue  # partners' accounts earn from services, they do not shop here
        earnings.sort()
        balance = 0
        for i, (when, amount) in enumerate(earnings):
            balance += amount
            until = earnings[i + 1][0] if i + 1 < len(earnings) else st.now
            spend_plan.append((account, when, until, balance))
            balance = 0  # spend the balance in the window after this earning (refunds only add)
    st.rng.shuffle(spend_plan)
    vid = _next_id(Voucher)
    vouchers, codes, sold = [], set(), {}
    leftovers = []
    for account, lo, hi, balance in spend_plan:
        while balance > 0 and len(vouchers) < target_vouchers:
            offer = st.rng.choice(offers)
            if offer["price"] > balance:
                break
            balance -= offer["price"]
            when = st.moment(lo=lo + timedelta(seconds=1), hi=max(hi, lo + timedelta(seconds=2)))
            if when >= st.now:
                when = st.now - timedelta(seconds=st.rng.randrange(1, 3600))
                if when <= lo:
                    break
            code = None
            while code is None or code in codes:
                code = "".join(secrets.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(10))
            codes.add(code)
            user = account_user[account]
            voucher = {"id": vid + len(vouchers), "offer": offer["id"], "holder": user, "code": code,
                       "price": offer["price"], "created_at": when, "expires_at": when + timedelta(days=30),
                       "used_at_place": "", "closed_at": None, "used_by": None, "closing_transfer": None}
            redeem = led.add(when, account, escrow, offer["price"], "redeem", f"offer:{offer['id']}",
                             f"redeem:{user}:bench-{voucher['id']}", user, offer["title"])
            voucher["_redeem"] = redeem
            roll = st.rng.random()
            if voucher["expires_at"] > st.now and roll < 0.5:
                voucher["status"] = "issued"
            elif roll < 0.92:
                voucher["status"] = "used"
                closed = when + timedelta(hours=st.rng.randint(1, 24 * 20))
                closed = min(closed, st.now - timedelta(seconds=1))
                payee = led.accounts[f"partner:{offer['partner']}"] if offer["partner"] else flea
                staff = st.partner_staff[offer["partner"]][0] if offer["partner"] else st.admin
                voucher.update(closed_at=closed, used_by=staff, used_at_place=offer["title"][:100])
                voucher["_close"] = led.add(closed, escrow, payee, offer["price"], "settle", f"voucher:{voucher['id']}",
                                            f"voucher:{voucher['id']}:close", staff, offer["title"])
            else:
                voucher["status"] = "expired" if roll < 0.97 else "cancelled"
                closed = voucher["expires_at"] if voucher["status"] == "expired" else when + timedelta(days=1)
                if closed >= st.now:
                    voucher["status"], closed = "cancelled", when + timedelta(seconds=30)
                voucher["closed_at"] = closed
                voucher["_close"] = led.add(closed, escrow, account, offer["price"], "refund", f"voucher:{voucher['id']}",
                                            f"voucher:{voucher['id']}:close", None, voucher["status"])
            sold[offer["id"]] = sold.get(offer["id"], 0) + (voucher["status"] in ("issued", "used"))
            vouchers.append(voucher)
        if balance > 0:
            leftovers.append(account)
    for offer in offers:
        offer["stock"] = 1000 + st.rng.randrange(500)
    st.offer_rows, st.voucher_rows = offers, vouchers
    # Top up to exactly the reference number of transfers with staff adjustments (credits).
    admin = st.admin
    candidates = leftovers or list(account_user)
    while len(led.rows) < st.n["transfers"]:
        account = st.rng.choice(candidates)
        led.add(st.moment(), led.accounts["issuer"], account, st.rng.randint(1, 20), "adjust", "bench",
                f"bench-adjust:{len(led.rows)}", admin, "活动奖励")
    log(f"{len(offers)} offers, {len(vouchers)} vouchers, {len(led.rows)} transfers")


def write_everything(st: Street, led: Ledger) -> None:
    from marketplace.events.models import Attendance, Event, Signup
    from marketplace.ledger.models import Account, LedgerHead, Transfer
    from marketplace.service_requests.models import RequestEvent, ServiceRequest
    from marketplace.shop.models import Offer, Voucher

    started = time.time()
    net = led.seal()
    log(f"hash chain of {len(led.rows)} transfers in {time.time() - started:.0f} s")
    for row, transfer in st.payouts:
        row["payout"] = transfer["id"]
    for att, transfer in st.attendance_transfers:
        att["transfer"] = transfer["id"]
    for v in st.voucher_rows:
        v["redeem_transfer"] = v.pop("_redeem")["id"]
        close = v.pop("_close", None)
        v["closing_transfer"] = close["id"] if close else None
    bulk(Transfer, led.rows)
    log("transfers written")
    bulk(ServiceRequest, st.request_rows)
    bulk(RequestEvent, st.request_events)
    bulk(Event, st.event_rows)
    bulk(Signup, st.signup_rows)
    bulk(Attendance, st.attendance_rows)
    bulk(Offer, st.offer_rows)
    bulk(Voucher, st.voucher_rows)
    log("requests, events, shop written")
    for account_id, delta in net.items():
        Account.update(balance=Account.balance + delta).where(Account.id == account_id).execute()
    LedgerHead.insert(id=1, last_seq=led.seq, last_hash=led.prev_hash).on_conflict(
        conflict_target=[LedgerHead.id], update={LedgerHead.last_seq: led.seq, LedgerHead.last_hash: led.prev_hash}
    ).execute()
    log(f"balances of {len(net)} accounts updated, chain head at {led.seq}")


def reset_sequences() -> None:
    """PostgreSQL: the id sequences must continue after the ids written here."""
    from marketplace.db import db
    from marketplace.schema import ALL_MODELS

    if isinstance(db.obj, pw.SqliteDatabase):
        return
    for model in ALL_MODELS:
        table = model._meta.table_name
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"GREATEST((SELECT MAX(id) FROM \"{table}\"), 1))")


def generate(scale: float, seed: int = 2026) -> dict:
    from marketplace import create_app
    from marketplace.cli import upgrade
    from marketplace.db import db
    from marketplace.demo import load_demo
    from marketplace.users.models import User

    app = create_app({"REQUEST_LOG": False})
    url = app.config["DATABASE_URL"]
    t0 = time.time()
    with app.test_request_context():
        if url.startswith("sqlite"):
            if not db.is_closed():
                db.close()
            path = url.split("sqlite:///", 1)[1]
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        db.connect(reuse_if_open=True)
        if not url.startswith("sqlite"):
            db.execute_sql("DROP SCHEMA public CASCADE")
            db.execute_sql("CREATE SCHEMA public")
        upgrade()
        load_demo()
        log(f"schema and demo community in {time.time() - t0:.0f} s ({url.split('@')[-1]})")
        st = Street(scale, seed)
        st.admin = User.get(User.phone == "13800000001").id
        if isinstance(db.obj, pw.SqliteDatabase):
            # A throwaway build: no fsync, and a page cache big enough for the indexes (random
            # keys like the transfers' hashes would otherwise thrash the default 2 MB).
            db.execute_sql("PRAGMA synchronous=OFF")
            db.execute_sql("PRAGMA cache_size=-2000000")
            db.execute_sql("PRAGMA temp_store=MEMORY")
        with db.atomic():
            build_places(st)
            build_people(st)
            led = Ledger()
            build_requests(st, led)
            build_events(st, led)
            build_shop(st, led)
            write_everything(st, led)
            reset_sequences()
        db.execute_sql("ANALYZE")
        if isinstance(db.obj, pw.SqliteDatabase):
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    log(f"done in {time.time() - t0:.0f} s")
    return {"scale": scale, "seconds": round(time.time() - t0)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    generate(args.scale, args.seed)


if __name__ == "__main__":
    sys.exit(main())

