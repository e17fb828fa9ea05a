"""Rules of care for key groups (issue 16, item 7; DESIGN.md §2 "care for key groups").

- **The register** (who is in which key group) is sensitive personal information (PIPL Art. 28):
  only staff who keep it (building head, grid administrator, community administrator, admin) and
  only for the households in their scope (`access.scope_of`) read it, and every read through
  `register` — pages and API alike — writes an audit entry.
- **Pairs**: staff pair a volunteer with a member for recurring visits; the visits are made ahead
  (HORIZON_DAYS) by the pair's creation and by the periodic job, each one row per pair and day.
- **Confirming** a visit: the volunteer types the resident's one-time code on the visit's day
  (the same rule as a request finished on site: service_requests.onsite), or staff in scope
  record it after a phone call with the resident (who, when, a note; audited). Either way one
  conditional UPDATE (due -> confirmed) inside the ledger's transaction decides, so a double
  confirmation pays once, through ledger.services (transfer kind `earn_care`, one idempotency key
  per visit).
- **A missed visit** (not confirmed by the end of its day) is told to the building head (the grid
  administrator where the building has none) on the next working day, exactly once: a
  conditional UPDATE of `missed_told_at` and the message in one transaction (`tell_missed`).
"""

from datetime import date, datetime, timedelta

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import access, audit, workdays
from marketplace.care.models import (
    FREQUENCIES,
    KEY_GROUPS,
    VISIT_MINUTES,
    VISIT_POINTS,
    CarePair,
    CareVisit,
    KeyGroupMember,
    due_dates,
)
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.notifications.services import notify
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.proxy.services import household_of
from marketplace.service_requests import onsite
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

# Visits are made this far ahead, so a volunteer sees the next ones and a monthly pair at least one.
HORIZON_DAYS = 56
KEEPERS = ("building_head", "grid_admin", "community_admin")  # and admin, who may do everything

REGISTER_VIEWED = "care.register.viewed"

GROUP_LABELS = {
    "elderly_alone": _l("Elderly, living alone"),
    "disability": _l("Person with a disability"),
    "retired_soldier": _l("Retired soldier"),
    "other": _l("Other key group"),
}
FREQUENCY_LABELS = {
    "weekly": _l("Every week"),
    "fortnightly": _l("Every two weeks"),
    "monthly": _l("Every month"),
}
PAIR_STATE_LABELS = {"active": _l("active"), "paused": _l("paused"), "ended": _l("ended")}


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def local_day(now: datetime | None = None) -> date:
    """The community's date at `now` (naive UTC): the day a visit is due on."""
    return workdays.local_date(_now(now))


# ---- who may see what ------------------------------------------------------------------------


def keeps_register(staff) -> bool:
    return staff is not None and access.has_role(staff, *KEEPERS)


def covers(staff, household_id) -> bool:
    return keeps_register(staff) and access.scope_of(staff).covers_household(household_id)


def _not_found(what: str = "member") -> DomainError:
    messages = {"member": _("This person is not on the register you keep."),
                "pair": _("This care pair was not found."), "visit": _("This visit was not found.")}
    return DomainError(messages[what], status=404, code="not_found")


def _members_in_scope(staff):
    query = KeyGroupMember.select(KeyGroupMember, User).join(User, on=(KeyGroupMember.resident == User.id))
    if not keeps_register(staff):
        return query.where(KeyGroupMember.id == 0)
    return query.where(KeyGroupMember.household.in_(access.scope_of(staff).households()))


def register(staff, now: datetime | None = None) -> list[dict]:
    """The key-group register of the households in the staff member's scope, each member with
    their pairs. Refused to anyone who does not keep it; every read is written to the audit log."""
    if not keeps_register(staff):
        raise DomainError(_("Only the staff responsible for these households may see the key-group register."),
                          status=403, code="forbidden")
    members = list(_members_in_scope(staff).order_by(KeyGroupMember.household, KeyGroupMember.id))
    pairs: dict[int, list] = {}
    if members:
        query = (CarePair.select(CarePair, User).join(User, on=(CarePair.volunteer == User.id))
                 .where(CarePair.member.in_([m.id for m in members])).order_by(CarePair.id))
        for pair in query:
            pairs.setdefault(pair.member_id, []).append(pair)
    households = {h.id: h for h in Household.select().where(Household.id.in_({m.household_id for m in members} or {0}))}
    audit.record(staff, REGISTER_VIEWED, None, members=len(members))
    return [{"member": m, "household": households.get(m.household_id), "pairs": pairs.get(m.id, [])}
            for m in members]


def visits_to_check(staff, now: datetime | None = None) -> list[CareVisit]:
    """Visits in the staff member's scope due today or earlier and not confirmed: what a
    building head may record after a phone call (part of the register, read after `register`)."""
    if not keeps_register(staff):
        return []
    members = _members_in_scope(staff).select(KeyGroupMember.id)
    return list(CareVisit.select(CareVisit, CarePair).join(CarePair)
                .where(CarePair.member.in_(members), CareVisit.state == "due", CareVisit.due_on <= local_day(now))
                .order_by(CareVisit.due_on, CareVisit.id).limit(100))


def residents_to_register(staff) -> list[User]:
    from marketplace.proxy.services import residents_in_scope

    return residents_in_scope(staff, limit=500) if keeps_register(staff) else []


def volunteers_for(staff) -> list[User]:
    """Volunteers of the communities the staff member works in (all of them for an admin)."""
    if not keeps_register(staff):
        return []
    scope = access.scope_of(staff)
    query = (User.select().join(RoleGrant, on=(RoleGrant.user == User.id))
             .where(RoleGrant.role == "volunteer", User.active))
    if not scope.everything:
        communities = sorted(scope.communities | scope.door_communities) or [0]
        query = query.where(RoleGrant.community.in_(communities))
    return list(query.order_by(User.display_name, User.id).distinct())


# ---- the register --------------------------------------------------------------------------


def add_member(staff, resident_id, group: str, note: str = "") -> KeyGroupMember:
    note = (note or "").strip()
    if group not in KEY_GROUPS:
        raise DomainError(_("Please choose a key group."), field="group", code="invalid")
    if len(note) > 300:
        raise DomainError(_("Please keep the note under 300 characters."), field="note", code="invalid")
    household_id = household_of(resident_id) if isinstance(resident_id, int) else None
    if household_id is None or not covers(staff, household_id):
        raise DomainError(_("Please choose a resident of a household you are responsible for."), field="resident",
                          code="invalid")
    with db.atomic():
        try:
            with db.atomic():  # a savepoint: a duplicate leaves the transaction usable on PostgreSQL
                member = KeyGroupMember.create(resident=resident_id, household=household_id, key_group=group, note=note,
                                               added_by=staff.id, created_at=utcnow())
        except pw.IntegrityError:
            raise DomainError(_("This resident is already on the register in this group."), field="group",
                              status=409, code="already_registered") from None
        audit.record(staff, "care.member.added", member, group=group)
    return member


# ---- pairs -----------------------------------------------------------------------------------


def _visit_rows(pair: CarePair, first: date, last: date) -> int:
    days = due_dates(pair.frequency, pair.starts_on, pair.weekday, max(first, pair.starts_on), last)
    if not days:
        return 0
    rows = [{"pair": pair.id, "due_on": day, "state": "due", "onsite_code": onsite.new_code(), "code_failures": 0}
            for day in days]
    # Made by the pair's creation and by every run of the job, on any host: one row per day.
    return CareVisit.insert_many(rows).on_conflict_ignore().execute() or 0


def make_visits(pair: CarePair, now: datetime | None = None) -> None:
    today = local_day(now)
    _visit_rows(pair, today, today + timedelta(days=HORIZON_DAYS))


def _int(value, low: int, high: int, field: str, message: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(message, field=field, code="invalid") from None
    if not low <= number <= high:
        raise DomainError(message, field=field, code="invalid")
    return number


def create_pair(staff, member_id, volunteer_id, frequency: str, starts_on: date | None, weekday=None,
                minutes=VISIT_MINUTES, points=VISIT_POINTS, now: datetime | None = None) -> CarePair:
    """Pair a volunteer with a member of the register; the first visits are made at once."""
    member = KeyGroupMember.get_or_none(KeyGroupMember.id == member_id) if isinstance(member_id, int) else None
    if member is None or not covers(staff, member.household_id):
        raise _not_found("member")
    if frequency not in FREQUENCIES:
        raise DomainError(_("Please choose how often the visits are."), field="frequency", code="invalid")
    if not isinstance(starts_on, date) or starts_on < local_day(now) or starts_on.year > local_day(now).year + 1:
        raise DomainError(_("Please choose a start day from today on, within a year."), field="starts_on",
                          code="invalid")
    if weekday in ("", None):
        weekday = None
    else:
        weekday = _int(weekday, 0, 6, "weekday", _("Please choose a day of the week."))
    minutes = _int(minutes, 15, 480, "minutes", _("A visit lasts 15 to 480 minutes."))
    points = _int(points, 0, 100, "points", _("A visit earns 0 to 100 points."))
    volunteer = User.get_or_none(User.id == volunteer_id) if isinstance(volunteer_id, int) else None
    if volunteer is None or volunteer not in volunteers_for(staff):
        raise DomainError(_("Please choose a volunteer of your community."), field="volunteer", code="invalid")
    if volunteer.id == member.resident_id:
        raise DomainError(_("A resident cannot be paired with themselves."), field="volunteer", code="invalid")
    with db.atomic():
        pair = CarePair.create(member=member.id, volunteer=volunteer.id, frequency=frequency, weekday=weekday,
                               starts_on=starts_on, minutes=minutes, points=points, created_by=staff.id,
                               created_at=utcnow())
        make_visits(pair, now)
        audit.record(staff, "care.pair.created", pair, volunteer=volunteer.id, frequency=frequency,
                     starts_on=starts_on.isoformat())
        notify(volunteer, "job", _l("You are paired with %(resident)s for visits (%(frequency)s) from %(day)s. "
                                    "Your visits are on your care page.", resident=member.resident.display_name,
                                    frequency=FREQUENCY_LABELS[frequency], day=starts_on.isoformat()), "/care/mine")
        notify(member.resident, "other", _l("%(volunteer)s will visit you (%(frequency)s) from %(day)s.",
                                            volunteer=volunteer.display_name, frequency=FREQUENCY_LABELS[frequency],
                                            day=starts_on.isoformat()), "/care/mine")
    return pair


PAIR_MOVES = {"pause": ("active", "paused"), "resume": ("paused", "active"), "end": (("active", "paused"), "ended")}


def change_pair(staff, pair_id, action: str, now: datetime | None = None) -> CarePair:
    """Pause, resume or end a pair. Pausing or ending removes its visits from today on that are
    not confirmed (a visit already missed stays, and is told); resuming makes them again."""
    if action not in PAIR_MOVES:
        raise DomainError(_("Please choose what to do with the pair."), field="action", code="invalid")
    pair = CarePair.get_or_none(CarePair.id == pair_id) if isinstance(pair_id, int) else None
    if pair is None or not covers(staff, pair.member.household_id):
        raise _not_found("pair")
    before, after = PAIR_MOVES[action]
    before = before if isinstance(before, tuple) else (before,)
    with db.atomic():
        moved = (CarePair.update(state=after, changed_at=utcnow())
                 .where(CarePair.id == pair.id, CarePair.state.in_(before)).execute())
        if moved != 1:
            raise DomainError(_("This pair is %(state)s: it cannot be changed that way.",
                                state=PAIR_STATE_LABELS[CarePair.get_by_id(pair.id).state]),
                              status=409, code="pair_state_changed")
        pair = CarePair.get_by_id(pair.id)
        if after == "active":
            make_visits(pair, now)
        else:
            CareVisit.delete().where(CareVisit.pair == pair.id, CareVisit.state == "due",
                                     CareVisit.due_on >= local_day(now)).execute()
        audit.record(staff, f"care.pair.{action}d" if action != "end" else "care.pair.ended", pair)
    return pair


# ---- the volunteer's and the resident's view ----------------------------------------------------


def _with_resident_and_address(query):
    """A pairs query joined to the member, the resident and the address, so a page listing pairs
    reads each name and address from its row instead of one query per pair."""
    return (query.switch(CarePair).join(KeyGroupMember)
            .join(User, on=(KeyGroupMember.resident == User.id), attr="resident")
            .switch(KeyGroupMember).join(Household).join(Building).join(Grid).join(Community))


def pairs_of_volunteer(volunteer) -> list[CarePair]:
    query = CarePair.select(CarePair, KeyGroupMember, User, Household, Building, Grid, Community)
    return list(_with_resident_and_address(query)
                .where(CarePair.volunteer == volunteer.id, CarePair.state != "ended").order_by(CarePair.id))


def visits_of_volunteer(volunteer, now: datetime | None = None, days_back: int = 14,
                        days_ahead: int = HORIZON_DAYS) -> list[CareVisit]:
    """The volunteer's visits from two weeks ago to `days_ahead` (the horizon), soonest first."""
    today = local_day(now)
    query = CareVisit.select(CareVisit, CarePair, KeyGroupMember, User, Household, Building, Grid, Community)
    return list(_with_resident_and_address(query.join(CarePair))
                .where(CarePair.volunteer == volunteer.id, CareVisit.due_on >= today - timedelta(days=days_back),
                       CareVisit.due_on <= today + timedelta(days=days_ahead))
                .order_by(CareVisit.due_on, CareVisit.id))


def visitors_of(resident, now: datetime | None = None) -> list[dict]:
    """Who visits the resident: each active pair's volunteer, the next visit, and the code the
    resident shows the volunteer at the door on the visit's day."""
    today = local_day(now)
    pairs = list(CarePair.select(CarePair, User).join(User, on=(CarePair.volunteer == User.id), attr="volunteer")
                 .switch(CarePair).join(KeyGroupMember)
                 .where(KeyGroupMember.resident == resident.id, CarePair.state == "active").order_by(CarePair.id))
    upcoming: dict[int, CareVisit] = {}
    if pairs:
        for visit in (CareVisit.select().where(CareVisit.pair.in_([p.id for p in pairs]), CareVisit.due_on >= today,
                                               CareVisit.state == "due").order_by(CareVisit.due_on, CareVisit.id)):
            upcoming.setdefault(visit.pair_id, visit)  # the soonest of each pair
    return [{"pair": pair, "volunteer": pair.volunteer, "next": upcoming.get(pair.id),
             "code": upcoming[pair.id].onsite_code if pair.id in upcoming and upcoming[pair.id].due_on == today
             else None} for pair in pairs]


def address_for_volunteer(pair: CarePair) -> str:
    """The address the volunteer needs for their visits (not the register's group or note)."""
    return pair.member.household.address()


# ---- confirming a visit ------------------------------------------------------------------------


def _already(visit: CareVisit) -> DomainError:
    return DomainError(_("This visit was already confirmed."), status=409, code="visit_already_confirmed")


def _confirm(visit: CareVisit, pair: CarePair, actor, method: str, note: str, now: datetime) -> CareVisit:
    """due -> confirmed, then the pay, in the caller's ledger transaction: of two confirmations
    at once the one UPDATE that finds the visit still due wins; the other changes nothing."""
    moved = (CareVisit.update(state="confirmed", method=method, confirmed_at=now, confirmed_by=actor.id, note=note,
                              minutes=pair.minutes, points=pair.points)
             .where(CareVisit.id == visit.id, CareVisit.state == "due").execute())
    if moved != 1:
        raise _already(visit)
    resident = pair.member.resident
    if pair.points > 0:
        transfer = ledger.award(actor, pair.volunteer, pair.points, "earn_care", f"care_visit:{visit.id}",
                                f"care_visit:{visit.id}:pay", memo=resident.display_name[:50])
        CareVisit.update(transfer=transfer.id).where(CareVisit.id == visit.id).execute()
    if method == "phone":
        audit.record(actor, "care.visit.confirmed_by_phone", visit, note=note, volunteer=pair.volunteer_id,
                     due_on=visit.due_on.isoformat())
    notify(pair.volunteer, "points", _l("Your visit to %(resident)s on %(day)s is confirmed: %(minutes)d minutes, "
                                        "%(points)d points.", resident=resident.display_name,
                                        day=visit.due_on.isoformat(), minutes=pair.minutes, points=pair.points),
           "/care/mine")
    return CareVisit.get_by_id(visit.id)


def _visit_for_update(visit_id) -> tuple[CareVisit, CarePair] | tuple[None, None]:
    visit = CareVisit.get_or_none(CareVisit.id == visit_id) if isinstance(visit_id, int) else None
    return (visit, visit.pair) if visit is not None else (None, None)


def confirm_with_code(volunteer, visit_id, code: str, now: datetime | None = None) -> CareVisit:
    """The volunteer, at the door on the visit's day, types the code the resident shows them."""
    now = _now(now)
    with ledger.ledger_transaction():
        visit, pair = _visit_for_update(visit_id)
        if visit is None or pair.volunteer_id != volunteer.id:
            raise _not_found("visit")
        if visit.state == "confirmed":
            raise _already(visit)
        today = local_day(now)
        if visit.due_on > today:
            raise DomainError(_("This visit is due on %(day)s: confirm it on that day, at the door.",
                                day=visit.due_on.isoformat()), status=409, code="visit_not_due")
        if visit.due_on < today:
            raise DomainError(_("This visit's day has passed. The building head can record it after a phone call "
                                "with the resident."), status=409, code="visit_day_passed")
        if onsite.used_up(visit.code_failures):
            raise DomainError(_("Too many wrong codes. The building head can record the visit after a phone call "
                                "with the resident."), field="code", status=429, code="too_many_wrong_codes")
        if not onsite.matches(code, visit.onsite_code):
            CareVisit.update(code_failures=CareVisit.code_failures + 1).where(CareVisit.id == visit.id).execute()
            wrong = onsite.wrong_code(visit.code_failures)
        else:
            return _confirm(visit, pair, volunteer, "code", "", now)
    raise wrong  # after the transaction commits, so the failed try is counted


def confirm_by_phone(staff, visit_id, note: str, now: datetime | None = None) -> CareVisit:
    """Staff in scope (the building head, usually) called the resident, who says the visit took
    place: recorded with who, when and what was said, and audited."""
    now = _now(now)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Please write down what the resident said on the phone."), field="note", code="invalid")
    if len(note) > 300:
        raise DomainError(_("Please keep the note under 300 characters."), field="note", code="invalid")
    with ledger.ledger_transaction():
        visit, pair = _visit_for_update(visit_id)
        if visit is None or not covers(staff, pair.member.household_id):
            raise _not_found("visit")
        if visit.state == "confirmed":
            raise _already(visit)
        if visit.due_on > local_day(now):
            raise DomainError(_("This visit is due on %(day)s: it cannot be recorded before then.",
                                day=visit.due_on.isoformat()), status=409, code="visit_not_due")
        return _confirm(visit, pair, staff, "phone", note, now)


# ---- the periodic job: visits ahead, missed visits told --------------------------------------------


class _MissedText:
    """The building head's message, rendered in their language when notify() renders it."""

    def __init__(self, visit: CareVisit, pair: CarePair):
        self.resident = pair.member.resident.display_name
        self.volunteer = pair.volunteer.display_name
        self.day = visit.due_on.isoformat()

    def __str__(self):
        return _("%(volunteer)s's visit to %(resident)s on %(day)s was not confirmed. Please call %(resident)s to "
                 "check on them, and record the visit if it took place.", volunteer=self.volunteer,
                 resident=self.resident, day=self.day)


def _told_to(household_id: int) -> list[User]:
    """The building head(s) of the household's building; its grid's administrators if none."""
    household = Household.get_by_id(household_id)
    heads = list(User.select().join(RoleGrant, on=(RoleGrant.user == User.id))
                 .where(RoleGrant.role == "building_head", RoleGrant.building == household.building_id, User.active))
    if heads:
        return heads
    grid = Building.get_by_id(household.building_id).grid_id
    return list(User.select().join(RoleGrant, on=(RoleGrant.user == User.id))
                .where(RoleGrant.role == "grid_admin", RoleGrant.grid == grid, User.active))


def tell_missed(now: datetime | None = None) -> int:
    """Each visit not confirmed by the end of its day is told to the building head on the next
    working day (or the first run after it), once: the conditional UPDATE of `missed_told_at`
    and the message are one transaction, so of two runs at once (two hosts) exactly one tells."""
    now = _now(now)
    # Told on the first working day after the visit's day: a visit is missed-and-told once a
    # working day has begun since it, i.e. when it was due before the latest working day so far.
    told_before = workdays.last_working_day(local_day(now))
    told = 0
    candidates = (CareVisit.select(CareVisit.id)
                  .where(CareVisit.state == "due", CareVisit.missed_told_at.is_null(), CareVisit.due_on < told_before)
                  .order_by(CareVisit.due_on, CareVisit.id).tuples())
    for (visit_id,) in list(candidates):
        with db.atomic():
            moved = (CareVisit.update(missed_told_at=now)
                     .where(CareVisit.id == visit_id, CareVisit.state == "due", CareVisit.missed_told_at.is_null())
                     .execute())
            if moved != 1:
                continue  # another run told it, or the visit was just confirmed
            visit = CareVisit.get_by_id(visit_id)
            pair = visit.pair
            for head in _told_to(pair.member.household_id):
                notify(head, "other", _MissedText(visit, pair), f"/care/register#visit-{visit.id}", important=True)
            told += 1
    return told


def extend_visits(now: datetime | None = None) -> int:
    made = 0
    for pair in CarePair.select().where(CarePair.state == "active").iterator():
        with db.atomic():
            today = local_day(now)
            made += _visit_rows(pair, today, today + timedelta(days=HORIZON_DAYS))
    return made


def keep_care(now: datetime | None = None) -> int:
    """The periodic job: make the visits ahead, then tell the missed ones. Returns how many were told."""
    extend_visits(now)
    return tell_missed(now)


