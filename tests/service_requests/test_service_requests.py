"""Service requests: booking, the lifecycle table, racing claims, on-site codes, automatic
confirmation, rating, escalation and working-day deadlines."""

import io
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner
from PIL import Image

from marketplace.cli import requests_sweep_command
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.menu.models import ServiceItem
from marketplace.service_requests import jobs as open_jobs
from marketplace.service_requests import services
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.service_requests.transitions import ACTIONS, TRANSITIONS
from marketplace.timeutil import utcnow
from marketplace.workdays import WorkdayOverride, add_working_days
from tests.conftest import DEMO_PHONES, person
from tests.ledger_helpers import assert_books_balance, balance, run_at_once


def item(code):
    return ServiceItem.get(ServiceItem.code == code)


def people():
    return {role: person(phone) for role, phone in DEMO_PHONES.items()}


def new_request(code="plumbing_electrical", who="resident"):
    return services.book(person(DEMO_PHONES[who]), item(code).id, "厨房水龙头一直滴水")


# ---- the lifecycle table, row by row --------------------------------------------------------


def _bring_to(state, p):
    """A fresh plumbing request (partner work) brought to `state` through the services."""
    req = new_request()
    hardware = p["partner_staff"]
    if state == "open":
        return req
    services.claim(hardware, req.id)
    if state == "claimed":
        return ServiceRequest.get_by_id(req.id)
    services.mark_done(hardware, req.id)
    if state == "done":
        return ServiceRequest.get_by_id(req.id)
    if state == "disputed":
        return services.dispute(p["resident"], req.id, "still dripping")
    if state == "confirmed":
        return services.confirm(p["resident"], req.id)
    raise AssertionError(state)


def _perform(action, actor, req):
    calls = {
        "claim": lambda: services.claim(actor, req.id),
        "release": lambda: services.release(actor, req.id, "too far away"),
        "cancel": lambda: services.cancel(actor, req.id),
        "mark_done": lambda: services.mark_done(actor, req.id),
        "finish_on_site": lambda: services.finish_on_site(actor, req.id, req.onsite_code),
        "confirm": lambda: services.confirm(actor, req.id),
        "dispute": lambda: services.dispute(actor, req.id, "not fixed"),
        "resolve_confirm": lambda: services.resolve(actor, req.id, "resolve_confirm", "checked by phone"),
        "resolve_redo": lambda: services.resolve(actor, req.id, "resolve_redo", "will come back"),
        "resolve_cancel": lambda: services.resolve(actor, req.id, "resolve_cancel", "resident moved"),
    }
    return calls[action]()


ACTORS = {"resident": "resident", "provider": "partner_staff", "claimer": "partner_staff", "staff": "building_head"}
WRONG_ACTOR = {"resident": "volunteer", "provider": "resident", "claimer": "volunteer", "staff": "resident"}
HUMAN_ROWS = [row for row in TRANSITIONS if row[3] != "system"]


@pytest.mark.parametrize("from_state,action,to_state,who", HUMAN_ROWS, ids=[f"{r[0]}-{r[1]}" for r in HUMAN_ROWS])
def test_each_transition_is_allowed_only_from_its_state_and_to_its_people(ctx, from_state, action, to_state, who):
    p = people()
    refused = _bring_to(from_state, p)
    with pytest.raises(DomainError):
        _perform(action, p[WRONG_ACTOR[who]], refused)
    assert ServiceRequest.get_by_id(refused.id).state == from_state
    req = _bring_to(from_state, p)
    events_before = RequestEvent.select().where(RequestEvent.request == req.id).count()
    assert _perform(action, p[ACTORS[who]], req).state == to_state
    last = RequestEvent.select().where(RequestEvent.request == req.id).order_by(RequestEvent.id.desc()).first()
    assert (last.action, last.from_state, last.to_state) == (action, from_state, to_state)
    assert RequestEvent.select().where(RequestEvent.request == req.id).count() == events_before + 1


@pytest.mark.parametrize("state", ["open", "claimed", "done", "disputed", "confirmed"])
def test_actions_not_in_the_table_are_refused_and_change_nothing(ctx, state):
    p = people()
    allowed = {action for from_state, action, _to, _who in TRANSITIONS if from_state == state}
    for action in sorted(ACTIONS - allowed - {"auto_confirm"}):
        req = _bring_to(state, p)
        actor = p["building_head"] if action.startswith("resolve") else p["resident"] if action in (
            "cancel", "confirm", "dispute") else p["partner_staff"]
        with pytest.raises(DomainError):
            _perform(action, actor, req)
        assert ServiceRequest.get_by_id(req.id).state == state, action


# ---- claims, codes, payouts -----------------------------------------------------------------


def test_of_two_simultaneous_claims_exactly_one_wins(ctx, app):
    req = new_request("smartphone_basics")  # a volunteer job
    # A second volunteer with the same skill.
    from marketplace.users import services as user_services
    from marketplace.users.models import VolunteerSkill
    rival = user_services.sign_up("13911112222", "另一位志愿者", "a kind neighbour 2026")
    user_services.grant_role(None, rival, "volunteer", scope=_volunteer_community())
    VolunteerSkill.create(user=rival, category=item("smartphone_basics").category)
    claimers = [person(DEMO_PHONES["volunteer"]), rival]

    results = run_at_once(app, 2, lambda i: services.claim(claimers[i], req.id))
    winners = [r for r in results if isinstance(r, ServiceRequest)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].message == "Sorry, someone else just took this job."
    final = ServiceRequest.get_by_id(req.id)
    assert final.state == "claimed" and final.claimer_id == winners[0].claimer_id
    assert RequestEvent.select().where(RequestEvent.request == req.id, RequestEvent.action == "claim").count() == 1


def _volunteer_community():
    from marketplace.places.models import Community

    return Community.get(Community.code == "beiyuan_jiayuan")


def test_ten_racing_claims_by_partner_staff_and_volunteers_settle_to_one(ctx, app):
    req = new_request("small_household_fixes")  # either: volunteers with the skill or partners
    hardware, cleaning = person(DEMO_PHONES["partner_staff"]), person("13700000002")
    results = run_at_once(app, 10, lambda i: services.claim((hardware, cleaning)[i % 2], req.id))
    assert sum(isinstance(r, ServiceRequest) for r in results) == 1
    assert all(isinstance(r, ServiceRequest) or "just took" in r.message for r in results)


def test_on_site_code_confirms_and_pays_the_partner_and_wrong_codes_run_out(ctx):
    p = people()
    req = new_request()
    services.claim(p["partner_staff"], req.id)
    wrong = "000000" if req.onsite_code != "000000" else "111111"
    with pytest.raises(DomainError, match="4 tries left"):
        services.finish_on_site(p["partner_staff"], req.id, wrong)
    assert ServiceRequest.get_by_id(req.id).onsite_failures == 1  # counted although refused
    done = services.finish_on_site(p["partner_staff"], req.id, f"{req.onsite_code[:3]} {req.onsite_code[3:]}")
    assert done.state == "confirmed" and done.confirmed_on_site_at is not None
    with pytest.raises(DomainError, match="moved on"):  # the code is used up
        services.finish_on_site(p["partner_staff"], req.id, req.onsite_code)
    from marketplace.partners.models import PartnerEnterprise
    shop = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
    assert balance(shop) == item("plumbing_electrical").points
    assert_books_balance()

    other = new_request()
    services.claim(p["partner_staff"], other.id)
    wrong = "000000" if other.onsite_code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(DomainError):
            services.finish_on_site(p["partner_staff"], other.id, wrong)
    with pytest.raises(DomainError, match="Too many wrong codes") as error:
        services.finish_on_site(p["partner_staff"], other.id, other.onsite_code)  # even the right one now
    assert error.value.status == 429
    assert ServiceRequest.get_by_id(other.id).state == "claimed"


def test_confirming_twice_pays_once(ctx):
    p = people()
    req = _bring_to("done", p)
    services.confirm(p["resident"], req.id)
    with pytest.raises(DomainError):
        services.confirm(p["resident"], req.id)
    from marketplace.ledger.models import Transfer
    assert Transfer.select().where(Transfer.ref == f"request:{req.id}").count() == 1


def test_done_request_confirms_itself_after_three_working_days(ctx):
    p = people()
    touched, swept = _bring_to("done", p), _bring_to("done", p)
    ServiceRequest.update(done_at=utcnow() - timedelta(days=10)).execute()
    seen = services.get_visible(p["resident"], touched.id)  # looking at it is enough
    assert seen.state == "confirmed" and seen.auto_confirmed
    result = CliRunner().invoke(requests_sweep_command, [], standalone_mode=False)
    assert "Confirmed 1 request" in result.output
    assert ServiceRequest.get_by_id(swept.id).state == "confirmed"
    assert_books_balance()


def test_rating_once_between_one_and_five_and_shown_as_the_providers_average(ctx):
    p = people()
    first, second = _bring_to("confirmed", p), _bring_to("confirmed", p)
    with pytest.raises(DomainError, match="1 to 5"):
        services.rate(p["resident"], first.id, 6)
    services.rate(p["resident"], first.id, 5, "师傅很耐心")
    services.rate(p["resident"], second.id, 4)
    with pytest.raises(DomainError, match="already rated"):
        services.rate(p["resident"], first.id, 1)
    assert open_jobs.provider_rating(partner_id=first.claimer_partner_id) == (4.5, 2)


# ---- booking, the board, deadlines ----------------------------------------------------------


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_booking_refuses_bad_input_and_stores_nothing(ctx, app):
    p = people()
    before = ServiceRequest.select().count()
    cases = [
        (lambda: services.book(p["resident"], item("plumbing_electrical").id, "x"), "a few words"),
        (lambda: services.book(p["resident"], item("plumbing_electrical").id, "水管漏水",
                               preferred_date=date.today() - timedelta(days=2)), "cannot be in the past"),
        (lambda: services.book(p["resident"], item("plumbing_electrical").id, "水管漏水", photo=b"GIF89a not really"),
         "JPEG, PNG or WebP"),
        (lambda: services.book(p["resident"], item("plumbing_electrical").id, "水管漏水",
                               photo=b"\x89PNG" + b"0" * app.config["PHOTO_MAX_BYTES"]), "too large"),
        (lambda: services.book(p["pending_resident"], item("plumbing_electrical").id, "水管漏水"), "verified residents"),
    ]
    for attempt, message in cases:
        with pytest.raises(DomainError, match=message):
            attempt()
    assert ServiceRequest.select().count() == before
    assert not any(app.config["UPLOAD_FOLDER"].glob("*")) if app.config["UPLOAD_FOLDER"].exists() else True
    good = services.book(p["resident"], item("plumbing_electrical").id, "水管漏水", photo=_png())
    kept = Image.open(app.config["UPLOAD_FOLDER"] / good.photo)  # re-encoded from its pixels: the same picture
    assert kept.format == "PNG" and kept.tobytes() == Image.open(io.BytesIO(_png())).convert(kept.mode).tobytes()


def test_job_board_matches_skills_and_fulfilment(ctx):
    p = people()
    phone_help = new_request("smartphone_basics")  # volunteer, digital_help: the volunteer's skill
    tutoring = new_request("homework_tutoring")  # volunteer, but not the volunteer's skill
    plumbing = new_request("plumbing_electrical")  # partner only
    volunteer_board = {r.id for r in open_jobs.job_board(p["volunteer"])}
    partner_board = {r.id for r in open_jobs.job_board(p["partner_staff"])}
    assert phone_help.id in volunteer_board and tutoring.id not in volunteer_board and plumbing.id not in volunteer_board
    assert plumbing.id in partner_board and phone_help.id not in partner_board
    with pytest.raises(DomainError, match="other skills"):
        services.claim(p["volunteer"], tutoring.id)


def test_the_boards_compiled_first_page_reads_what_the_board_query_reads(ctx):
    """jobs.first_page runs SQL compiled once per shape (db.PreparedQuery): for each kind of
    provider and each filter, its jobs are the board query's first jobs, in the same order."""
    p = people()
    requests = [new_request(code) for code in ("smartphone_basics", "plumbing_electrical") for _ in range(3)]
    grid = requests[0].household.building.grid_id
    for who in ("volunteer", "partner_staff"):
        shapes = 0
        for category in (None, *{r.item.category_id for r in requests}):
            for grid_id in (None, grid):
                built = [r.id for r in open_jobs.job_board(p[who], category, grid_id)]
                for rows in (2, 50):
                    assert [r.id for r in open_jobs.first_page(p[who], category, grid_id, rows)] == built[:rows]
                shapes += bool(built)
        assert shapes >= 2  # the provider has jobs to see with and without filters


def test_deadlines_count_official_working_days_and_staff_corrections(ctx):
    # Booked Tue 29 Sep 2026, 10:00 in Beijing: National Day week is off, Sat 10 Oct is a make-up day.
    booked = datetime(2026, 9, 29, 2, 0)
    assert add_working_days(booked, 5) == datetime(2026, 10, 12, 16, 0)  # end of Mon 12 Oct, Beijing
    # Across a weekend: asked Friday 4 Dec 2026 at 18:00, five working days end Friday 11 Dec.
    assert add_working_days(datetime(2026, 12, 4, 10, 0), 5) == datetime(2026, 12, 11, 16, 0)
    # 2027 is beyond the calendar package: Monday to Friday, until staff enter the holidays.
    new_year_eve = datetime(2026, 12, 31, 2, 0)
    assert add_working_days(new_year_eve, 1) == datetime(2027, 1, 1, 16, 0)
    WorkdayOverride.create(day=date(2027, 1, 1), is_workday=False, note="元旦")
    assert add_working_days(new_year_eve, 1) == datetime(2027, 1, 4, 16, 0)


def test_escalation_sets_feedback_and_explanation_deadlines(ctx):
    p = people()
    req = new_request()
    from marketplace.service_requests import promises
    from marketplace.service_requests.models import Department

    urban = Department.get(Department.name_zh == "城管科").id
    with pytest.raises(DomainError, match="cannot do this"):
        promises.escalate(p["resident"], req.id, urban, False, "")
    promises.escalate(p["building_head"], req.id, urban, True, "涉及公共管道")
    escalated = ServiceRequest.get_by_id(req.id)
    assert escalated.escalated_to == "城管科"
    assert escalated.feedback_due_at == add_working_days(escalated.escalated_at, 5)
    assert escalated.explanation_due_at == add_working_days(escalated.escalated_at, 10)


def test_payout_goes_to_the_volunteer_for_volunteer_work(ctx):
    p = people()
    req = new_request("smartphone_basics")
    services.claim(p["volunteer"], req.id)
    before = ledger.user_account(p["volunteer"]).balance
    services.finish_on_site(p["volunteer"], req.id, req.onsite_code)
    assert ledger.user_account(p["volunteer"]).balance == before + item("smartphone_basics").points


def test_each_side_hears_what_the_other_did_in_their_own_language(app):
    from marketplace.notifications.models import Notification
    from marketplace.users.models import User as Person

    # The volunteer acts from an English page; the resident, who never chose a language, reads
    # the site's default (Chinese), not the language of whoever acted.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        resident, volunteer = Person.get(Person.phone == "13900000001"), Person.get(Person.phone == "13900000003")
        Person.update(locale="en").where(Person.id == volunteer.id).execute()  # reads the site in English
        item = ServiceItem.get(ServiceItem.code == "smartphone_basics")
        req = services.book(resident, item.id, "想学用手机挂号")
        services.claim(Person.get_by_id(volunteer.id), req.id)
        services.mark_done(volunteer, req.id)
        services.confirm(resident, req.id)

        def told(person):
            return [n.text for n in Notification.select().where(Notification.user == person.id).order_by(Notification.id)]

        to_resident, to_volunteer = told(resident), told(volunteer)
    assert len(to_resident) == 2 and "王小明" in to_resident[0] and item.name_zh in to_resident[1]
    assert "请" in to_resident[1]  # in Chinese, the resident's language
    assert to_volunteer == [f"{item.name_en} is confirmed: {req.points} points were paid."]


def test_the_helper_hears_when_staff_send_a_disputed_job_back_to_them(ctx):
    from marketplace.notifications.models import Notification

    p = people()
    req = _bring_to("disputed", p)
    services.resolve(p["community_admin"], req.id, "resolve_redo", "请再修一次")
    told = [n.text for n in Notification.select().where(Notification.user == p["partner_staff"].id)
            .order_by(Notification.id)]
    assert "社区办公室请您重新处理一次" in told[-1]  # in the helper's language: the site's default


def test_an_on_site_code_typed_in_full_width_digits_is_accepted(ctx):
    p = people()
    req = _bring_to("claimed", p)
    full_width = req.onsite_code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert services.finish_on_site(p["partner_staff"], req.id, full_width).state == "confirmed"
