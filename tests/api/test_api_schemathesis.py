"""schemathesis against the live API: every operation in /api/v1/openapi.json, called with a
valid token and data generated from the document, must answer without a 5xx, with a status the
document lists for it, and with a body that matches the document.

The app is served over HTTP on a local port (werkzeug's server, in a thread), on a database
migrated and loaded with the demo community once for the whole module. The number
of examples per operation is bounded (API_SCHEMATHESIS_EXAMPLES, default 25) so the run takes
a couple of minutes.
"""

import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.timeutil import utcnow
from tests.api.test_api_helpers import make_token
from tests.conftest import database_url_for, demo_app, in_app, served

EXAMPLES = int(os.environ.get("API_SCHEMATHESIS_EXAMPLES", "25"))
KNOWN_EXAMPLES = max(1, EXAMPLES // 3)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live_app(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemathesis")
    # The checks are about answers, not about the limits: let every generated request through.
    unlimited = "100000 per minute"
    with demo_app(database_url_for(request.config, folder), folder, API_RATE_LIMIT=unlimited,
                  ONSITE_CODE_RATE_LIMIT=unlimited, VOUCHER_SCAN_RATE_LIMIT=unlimited,
                  EVENT_CODE_RATE_LIMIT=unlimited) as app:
        yield app


@pytest.fixture(scope="module")
def live_url(live_app):
    """The API over HTTP, as a phone would reach it."""
    with served(live_app) as url:
        yield url


def _family_link(person) -> int:
    """A family link this person asked for (to act for 张阿姨), for the family operations."""
    from marketplace.proxy.models import FamilyLink
    from marketplace.users.models import User
    from tests.conftest import DEMO_PHONES

    resident = User.get(User.phone == DEMO_PHONES["resident"])
    return FamilyLink.create(resident=resident.id, family=person.id, asked_at=utcnow()).id


def _care_visit() -> tuple[int, int]:
    """A care visit of 王小明's to 张阿姨, due today, and its pair, for the care operations."""
    from marketplace.care import services as care
    from marketplace.care.models import CareVisit, KeyGroupMember
    from marketplace.users.models import User
    from tests.conftest import DEMO_PHONES

    head, resident, volunteer = (User.get(User.phone == DEMO_PHONES[who]) for who in
                                 ("building_head", "resident", "volunteer"))
    member = (KeyGroupMember.get_or_none(KeyGroupMember.resident == resident.id)
              or care.add_member(head, resident.id, "elderly_alone"))
    pair = care.create_pair(head, member.id, volunteer.id, "weekly", care.local_day())
    return CareVisit.get(CareVisit.pair == pair.id, CareVisit.due_on == care.local_day()).id, pair.id


def known_ids(app, who) -> dict:
    """Ids of things this person may see (their request or job, a voucher, a notification, the
    demo events and offers), so the generated calls reach the services, not only the 404s."""
    from datetime import timedelta

    from marketplace.events.models import Attendance, Event, HourCorrection
    from marketplace.menu.models import ServiceItem
    from marketplace.notifications.services import notify
    from marketplace.service_requests import services as requests
    from marketplace.shop import services as shop
    from marketplace.shop.models import Offer
    from marketplace.users.models import User
    from tests.conftest import DEMO_PHONES

    def make():
        person = User.get(User.phone == DEMO_PHONES[who])
        resident = User.get(User.phone == DEMO_PHONES["resident"])
        item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
        own = requests.book(resident if who == "partner_staff" else person, item.id, "水管漏水，请帮忙看看")
        if who == "partner_staff":
            requests.claim(person, own.id)
        offer = Offer.select().where(Offer.status == "active", Offer.valid_until >= shop.today_local() + timedelta(
            days=1), Offer.partner.is_null(False)).order_by(Offer.price).first()
        voucher = shop.redeem(resident if who == "partner_staff" else person, offer.id, f"schemathesis-{who}")
        event = Event.select().where(Event.status == "published").order_by(Event.id).first()
        # The caller's hours at that event, and a correction of them already declined (issue 24).
        start = event.starts_at
        attendance = Attendance.create(event=event, user=person, state="out", checked_in_at=start, in_method="kiosk",
                                       checked_out_at=start + timedelta(minutes=30), out_method="kiosk", minutes=30,
                                       points=0)
        correction = HourCorrection.create(
            attendance=attendance, user=person, checked_in_at=start, checked_out_at=start + timedelta(hours=1),
            reason="schemathesis", status="declined", old_checked_in_at=start,
            old_checked_out_at=start + timedelta(minutes=30), old_minutes=30, old_points=0)
        return {"request_id": own.id, "offer_id": offer.id, "voucher_id": voucher.id, "event_id": event.id,
                "notification_id": notify(person, "other", "schemathesis").id, "attendance_id": attendance.id,
                "correction_id": correction.id, "link_id": _family_link(person),
                **dict(zip(("visit_id", "pair_id"), _care_visit(), strict=True)),
                "user_id": resident.id,  # someone to act for at events (not theirs: the documented refusals)
                **_proposal_ids()}

    return in_app(app, make)


def _proposal_ids() -> dict:
    """The demo's finished matter and its task (marketplace/proposals/demo.py)."""
    from marketplace.proposals.demo import DONE_TITLE
    from marketplace.proposals.models import Proposal, ProposalTask

    done = Proposal.get(Proposal.title.in_(DONE_TITLE))
    return {"proposal_id": done.id, "task_id": ProposalTask.get(ProposalTask.proposal == done.id).id,
            "household_id": done.household_id}  # a real household, for its floor area


@pytest.mark.parametrize("who", ["volunteer", "partner_staff"])
def test_every_operation_answers_as_the_document_says(live_app, live_url, who):
    token = make_token(live_app, who, name=f"schemathesis {who}")
    headers = {"Authorization": f"Bearer {token}"}
    ids = known_ids(live_app, who)
    schema = schemathesis.openapi.from_url(f"{live_url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures = []
    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        strategies = [(EXAMPLES, operation.as_strategy(), False)]
        if names:  # and once more on things that exist, each call with a fresh Idempotency-Key
            fixed = {name: ids[name] for name in names}
            strategies.append((KNOWN_EXAMPLES, operation.as_strategy(path_parameters=fixed), True))
        for examples, strategy, fresh_key in strategies:
            try:
                _checker(strategy, examples, headers, fresh_key and operation.method.upper() == "POST")()
            except Exception as error:  # noqa: BLE001 - gather every operation's failure, then report them all
                failures.append(f"{operation.method.upper()} {operation.path}:\n{error}")
    assert not failures, "\n\n".join(failures)


def _checker(strategy, examples, headers, fresh_key):
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        sent = dict(headers)
        if fresh_key:
            sent["Idempotency-Key"] = uuid.uuid4().hex
        case.call_and_validate(headers=sent, checks=CHECKS)

    return check
