"""Close my account (issue 21, PIPL Art. 47): open matters are settled first, the remaining
points go back to the community by a ledger transfer, personal data is anonymised, and the
ledger stays exactly as it was — `ledger verify` clean, the sum of every account kind unchanged —
while no page, CSV or API answer shows the closed account's name or phone afterwards."""

import pytest

from marketplace.errors import DomainError
from marketplace.ledger import verify
from marketplace.ledger.models import Account
from marketplace.menu.models import ServiceItem
from marketplace.rights import closing
from marketplace.service_requests import services as requests
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.models import Offer
from marketplace.users.models import User
from tests.conftest import DEMO_PASSWORD, DEMO_PHONES, in_app, person


def kind_sums():
    import peewee as pw

    return dict(Account.select(Account.kind, pw.fn.SUM(Account.balance)).group_by(Account.kind).tuples())


def _prepare(app):
    def make():
        resident = person("resident")
        item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
        req = requests.book(resident, item.id, "我家住3号楼2单元，水管漏水")
        voucher = shop.redeem(resident, Offer.get(Offer.title.startswith("免费磨刀")).id, "closing-test")
        return req.id, voucher.price if hasattr(voucher, "price") else Offer.get_by_id(voucher.offer_id).price

    return in_app(app, make)


def test_closing_settles_open_matters_moves_the_balance_and_leaves_the_ledger_clean(app):
    request_id, price = _prepare(app)
    before = in_app(app, kind_sums)
    preview = in_app(app, lambda: closing.preview(person("resident"), person("resident").id))
    assert preview["to_cancel"] == 1 and preview["vouchers"] == 1 and preview["blocking"] == []
    resident_id = in_app(app, lambda: person("resident").id)

    closed = in_app(app, lambda: closing.close_account(person(DEMO_PHONES["resident"]), resident_id))
    assert closed.phone == closing.closed_phone(resident_id) and closed.display_name == closing.CLOSED_NAME
    assert not closed.active

    req = in_app(app, lambda: ServiceRequest.get_by_id(request_id))
    assert req.state == "cancelled" and req.description == ""
    account = in_app(app, lambda: Account.get(Account.user == resident_id))
    assert account.balance == 0  # the voucher's points came back first, then everything went to the fund
    # Points moved, none made or lost: the voucher's price left escrow for her, and all she had
    # went to the community's issuer account.
    after = in_app(app, kind_sums)
    assert sum(after.values()) == 0
    assert after["escrow"] == before["escrow"] - price
    returned = preview["balance"] + price
    assert after["user"] == before["user"] - preview["balance"]
    assert after["issuer"] == before["issuer"] + returned
    report = in_app(app, verify.verify_ledger)
    assert not report.faults, report.faults

    # A second click changes nothing.
    again = in_app(app, lambda: closing.close_account(User.get_by_id(resident_id), resident_id))
    assert again.phone == closed.phone


def test_nothing_shows_the_closed_persons_name_or_phone_afterwards(app, client, auth):
    _prepare(app)
    resident_id = in_app(app, lambda: person("resident").id)
    in_app(app, lambda: closing.close_account(person("community_admin"), resident_id))
    auth.login_as("community_admin")
    for path in ("/staff/people", f"/staff/people/{resident_id}", "/staff/exports/people.csv", "/points/accounts",
                 "/requests/overview", "/staff/", "/staff/audit", "/board", "/board/data.json", "/api/v1/requests"):
        text = client.get(path).get_data(as_text=True)
        assert DEMO_PHONES["resident"] not in text and "张阿姨" not in text, path
    from tests.conftest import Auth

    assert Auth(app.test_client()).login(DEMO_PHONES["resident"]).status_code != 302  # cannot log in any more


def test_a_matter_waiting_for_an_answer_blocks_closing_and_nothing_changes(app):
    request_id, _price = _prepare(app)
    in_app(app, lambda: ServiceRequest.update(state="done").where(ServiceRequest.id == request_id).execute())
    resident_id = in_app(app, lambda: person("resident").id)
    with pytest.raises(DomainError) as refused:
        in_app(app, lambda: closing.close_account(person("resident"), resident_id))
    assert refused.value.code == "matters_open" and str(request_id) in refused.value.message
    assert in_app(app, lambda: User.get_by_id(resident_id).phone) == DEMO_PHONES["resident"]


def test_staff_close_only_in_scope_and_a_staff_account_not_by_itself(app):
    resident_id = in_app(app, lambda: person("resident").id)
    with pytest.raises(DomainError) as refused:
        in_app(app, lambda: closing.close_account(person("volunteer"), resident_id))
    assert refused.value.status in (403, 404)
    admin_id = in_app(app, lambda: person("community_admin").id)
    with pytest.raises(DomainError) as own:
        in_app(app, lambda: closing.close_account(person("community_admin"), admin_id))
    assert own.value.code == "staff_account"


def test_the_pages_and_the_api_close_an_account(app, client, auth):
    from marketplace.users.tokens import create_token
    from tests.conftest import csrf_token

    volunteer_id = in_app(app, lambda: person("volunteer").id)
    auth.login_as("community_admin")
    page = client.get(f"/staff/people/{volunteer_id}/close", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "go back to the community fund" in page
    refused = client.post(f"/staff/people/{volunteer_id}/close", data={"csrf_token": csrf_token(client, "/")},
                          headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "Please confirm that you understand." in refused.get_data(as_text=True)
    assert in_app(app, lambda: User.get_by_id(volunteer_id).phone) == DEMO_PHONES["volunteer"]
    done = client.post(f"/staff/people/{volunteer_id}/close",
                       data={"csrf_token": csrf_token(client, "/"), "understood": "y"})
    assert done.status_code == 302 and in_app(app, lambda: closing.is_closed(User.get_by_id(volunteer_id)))

    resident_id = in_app(app, lambda: person("resident").id)
    _token, secret = in_app(app, lambda: create_token(person("resident"), "app", ["read"]))
    bearer = {"Authorization": f"Bearer {secret}"}
    api = app.test_client()
    assert api.post("/api/v1/me/close", json={}, headers=bearer).status_code == 422
    wrong = api.post("/api/v1/me/close", json={"understood": True, "password": "not-hers"}, headers=bearer)
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "wrong_password"
    assert in_app(app, lambda: User.get_by_id(resident_id).phone) == DEMO_PHONES["resident"]
    answer = api.post("/api/v1/me/close", json={"understood": True, "password": DEMO_PASSWORD}, headers=bearer)
    assert answer.status_code == 200 and answer.get_json() == {"id": resident_id, "closed": True}
    assert api.get("/api/v1/me", headers=bearer).status_code == 401  # the token went with the account


def test_a_resident_closes_her_own_account_and_is_signed_out(app, client, auth):
    from tests.conftest import csrf_token

    auth.login_as("resident")
    assert "积分退回社区基金" in client.get("/account/close", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    done = client.post("/account/close", data={"csrf_token": csrf_token(client, "/account/close"), "understood": "y"})
    assert done.status_code == 302 and done.location.endswith("/")
    assert client.get("/account").status_code == 302  # signed out
    assert in_app(app, lambda: User.select().where(User.phone == DEMO_PHONES["resident"]).count()) == 0


def test_the_person_and_staff_closing_at_once_close_it_once(app):
    from marketplace.audit import AuditLog
    from marketplace.ledger.models import Adjustment
    from tests.ledger_helpers import assert_books_balance, run_at_once

    _prepare(app)
    resident_id = in_app(app, lambda: person("resident").id)
    actors = ["resident", "community_admin"] * 3
    results = run_at_once(app, len(actors), lambda i: closing.close_account(
        User.get(User.phone == DEMO_PHONES[actors[i]]) if actors[i] != "resident" else User.get_by_id(resident_id),
        resident_id))
    # Whoever came first closed it; the person's later clicks see it closed, and staff coming after
    # no longer find her among their people (404), as for anyone gone.
    for who, result in zip(actors, results, strict=True):
        if isinstance(result, User):
            assert result.phone == closing.closed_phone(resident_id)
        else:
            assert who == "community_admin" and isinstance(result, DomainError) and result.status == 404, result
    account_id = in_app(app, lambda: Account.get(Account.user == resident_id).id)
    assert in_app(app, lambda: Adjustment.select().where(Adjustment.account == account_id).count()) == 1
    assert in_app(app, lambda: AuditLog.select().where(AuditLog.action == "users.account.closed").count()) == 1
    in_app(app, assert_books_balance)
    assert not in_app(app, verify.verify_ledger).faults


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 90, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_closing_deletes_the_photos_of_the_person_s_proposals_and_updates(app):
    """Issue 23: a proposal's photo and a progress update's photo are the person's; none is on the
    public board, so the files go. The matter's text stays, under the closed account's name."""
    from marketplace.proposals import services as proposals
    from marketplace.proposals.models import Proposal, ProposalUpdate
    from marketplace.service_requests.services import _store_photo

    folder = app.config["UPLOAD_FOLDER"]

    def make():
        resident = person("resident")
        proposal = proposals.create_proposal(resident, "building", "电动车车棚", "楼下没有电动车车棚，建议建一个。", _jpeg())
        mine = ProposalUpdate.create(proposal=proposal.id, text="她拍的进展", photo=_store_photo(_jpeg()),
                                     created_by=resident.id)
        staffs = ProposalUpdate.create(proposal=proposal.id, text="楼长拍的进展", photo=_store_photo(_jpeg()),
                                       created_by=person("building_head").id)
        return proposal.id, proposal.photo, mine.id, mine.photo, staffs.id, staffs.photo

    proposal_id, photo, mine_id, mine_photo, staffs_id, staffs_photo = in_app(app, make)
    assert all((folder / name).exists() for name in (photo, mine_photo, staffs_photo))
    resident_id = in_app(app, lambda: person("resident").id)
    in_app(app, lambda: closing.close_account(person(DEMO_PHONES["resident"]), resident_id))

    assert not (folder / photo).exists() and not (folder / mine_photo).exists()
    assert (folder / staffs_photo).exists()  # the building head's own photo is not hers
    proposal = in_app(app, lambda: Proposal.get_by_id(proposal_id))
    assert proposal.photo is None and proposal.title == "电动车车棚"  # the matter stays, without her photo
    assert in_app(app, lambda: ProposalUpdate.get_by_id(mine_id).photo) is None
    assert in_app(app, lambda: ProposalUpdate.get_by_id(staffs_id).photo) == staffs_photo
    assert in_app(app, lambda: User.get_by_id(resident_id).display_name) == closing.CLOSED_NAME


def test_closing_ends_care_pairs_and_leaves_no_sensitive_fact_in_the_register(app):
    """A key-group resident with a volunteer who already made one visit: after closing, the pair
    has ended, the visits still to come are gone, the register says nothing of her group or
    notes, the volunteer's confirmed visit (and its pay) stays, and the ledger verifies clean."""
    from marketplace.care import services as care
    from marketplace.care.models import CarePair, CareVisit, KeyGroupMember

    def prepare():
        staff, resident, volunteer = person("building_head"), person("resident"), person("volunteer")
        member = care.add_member(staff, resident.id, "disability", "hard of hearing")
        care.add_member(staff, resident.id, "elderly_alone", "lives on the sixth floor")
        pair = care.create_pair(staff, member.id, volunteer.id, "weekly", care.local_day(), None, 60, 10)
        today = CareVisit.get(CareVisit.pair == pair.id, CareVisit.due_on == care.local_day())
        care.confirm_with_code(volunteer, today.id, today.onsite_code)
        assert CareVisit.select().where(CareVisit.pair == pair.id, CareVisit.state == "due").count() > 0
        closing.close_account(person("community_admin"), resident.id)
        return pair.id, resident.id

    pair_id, resident_id = in_app(app, prepare)

    def after():
        rows = list(KeyGroupMember.select().where(KeyGroupMember.resident == resident_id))
        assert [(m.key_group, m.note) for m in rows] == [("other", "")]
        assert CarePair.get_by_id(pair_id).state == "ended"
        assert [v.state for v in CareVisit.select().where(CareVisit.pair == pair_id)] == ["confirmed"]
        assert not verify.verify_ledger().faults

    in_app(app, after)


def test_a_volunteer_closing_their_account_ends_their_pairs_and_the_resident_keeps_her_place(app):
    from marketplace.care import services as care
    from marketplace.care.models import CarePair, CareVisit, KeyGroupMember

    def run():
        staff, resident, volunteer = person("building_head"), person("resident"), person("volunteer")
        member = care.add_member(staff, resident.id, "elderly_alone", "lives on the sixth floor")
        pair = care.create_pair(staff, member.id, volunteer.id, "weekly", care.local_day(), None, 60, 10)
        closing.close_account(person("community_admin"), volunteer.id)
        assert CarePair.get_by_id(pair.id).state == "ended"
        assert CareVisit.select().where(CareVisit.pair == pair.id).count() == 0
        kept = KeyGroupMember.get_by_id(member.id)
        assert (kept.key_group, kept.note) == ("elderly_alone", "lives on the sixth floor")

    in_app(app, run)
