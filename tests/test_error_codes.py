"""Errors carry a stable code beside the translated message: the API returns it, the OpenAPI
document lists each operation's codes, and every raise site names one from the one list."""

import ast
from pathlib import Path

from marketplace.errors import CODES
from marketplace.menu.models import ServiceItem
from marketplace.shop.models import Offer
from marketplace.users.models import User, VolunteerSkill
from tests.api.test_api_helpers import ApiClient, error_of, make_token
from tests.conftest import DEMO_PHONES, in_app

PACKAGE = Path(__file__).resolve().parent.parent / "marketplace"


def _as(app, who):
    return ApiClient(app.test_client(), make_token(app, who))


def _error_calls():
    """Every DomainError(...) and ApiError(...) in the package, and super().__init__ of their
    subclasses, with where it is."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None)
            is_super = getattr(node.func, "attr", None) == "__init__" and "super" in ast.unparse(node.func)
            if name in ("DomainError", "ApiError") or (is_super and path.name != "errors.py"):
                yield f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", name, node


def test_every_refusal_names_a_known_code():
    without, unknown = [], []
    for where, name, call in _error_calls():
        code = next((k.value for k in call.keywords if k.arg == "code"), None)
        if code is None:
            if name == "DomainError":  # an ApiError may take its status's code
                without.append(where)
            continue
        if isinstance(code, ast.Attribute) and code.attr == "code":
            continue  # handed on from another error
        if not isinstance(code, ast.Constant) or code.value not in CODES:
            unknown.append(f"{where}: {ast.unparse(code)}")
    assert without == [], "every DomainError(...) needs code=...: " + ", ".join(without)
    assert unknown == [], "codes missing from marketplace.errors.CODES: " + ", ".join(unknown)


def test_the_api_error_body_carries_the_code_of_each_refusal(app):
    resident, partner, volunteer = _as(app, "resident"), _as(app, "partner_staff"), _as(app, "volunteer")

    # Two helpers take the same job: the second hears "job_taken".
    def either_item():
        item = ServiceItem.select().where(ServiceItem.fulfilment == "either", ServiceItem.active).first()
        VolunteerSkill.insert(user=User.get(User.phone == DEMO_PHONES["volunteer"]).id,
                              category=item.category_id).on_conflict_ignore().execute()
        return item.id

    booked = resident.post("/requests", {"item_id": in_app(app, either_item), "description": "楼道灯坏了"}).get_json()
    assert partner.post(f"/jobs/{booked['id']}/claim").status_code == 200
    late = volunteer.post(f"/jobs/{booked['id']}/claim")
    assert late.status_code == 409 and error_of(late)["code"] == "job_taken"
    # Another 409 of the same operation, told apart by its code: the job is done, not taken.
    assert partner.post(f"/jobs/{booked['id']}/done").status_code == 200
    moved_on = volunteer.post(f"/jobs/{booked['id']}/claim")
    assert moved_on.status_code == 409 and error_of(moved_on)["code"] == "state_changed"

    # A voucher taken twice at the counter.
    offer = in_app(app, lambda: Offer.get(Offer.title.startswith("免费磨刀")))
    voucher = resident.post(f"/offers/{offer.id}/redeem", key="codes-1").get_json()
    assert partner.post("/vouchers/scan", {"code": voucher["code"]}).status_code == 200
    again = partner.post("/vouchers/scan", {"code": voucher["code"]})
    assert again.status_code == 409 and error_of(again)["code"] == "voucher_already_used"
    assert "already used" in error_of(again)["message"]

    # An offer dearer than the balance.
    in_app(app, lambda: Offer.update(price=10**9).where(Offer.id == offer.id).execute())
    poor = resident.post(f"/offers/{offer.id}/redeem", key="codes-2")
    assert poor.status_code == 409 and error_of(poor)["code"] == "not_enough_points"

    # Input refused by a service: 422 "invalid" with the field; an edited cursor: "invalid_cursor".
    rated = resident.post(f"/requests/{booked['id']}/rate", {"rating": 9})
    assert rated.status_code == 422 and error_of(rated)["code"] == "invalid"
    cursor = resident.get("/requests", {"cursor": "not-ours"})
    assert cursor.status_code == 422 and error_of(cursor)["code"] == "invalid_cursor"


def test_the_openapi_document_lists_the_codes_of_each_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    def codes(path, method="post"):
        operation = spec["paths"][f"/api/v1{path}"][method]
        listed = {(entry["status"], entry["code"]) for entry in operation["x-error-codes"]}
        for status, code in listed:  # each answer's description names its codes too
            assert f"`{code}`" in operation["responses"][str(status)]["description"]
        return listed

    claim = codes("/jobs/{request_id}/claim")
    assert {(409, "job_taken"), (409, "own_request"), (403, "skills_needed"), (404, "not_found"),
            (403, "insufficient_scope"), (401, "invalid_token")} <= claim
    scan = codes("/vouchers/scan")
    assert {(409, "voucher_already_used"), (409, "voucher_expired"), (403, "voucher_other_shop"),
            (404, "voucher_not_found")} <= scan
    assert {(409, "not_enough_points"), (409, "sold_out"), (409, "limit_reached")} <= codes("/offers/{offer_id}/redeem")
    assert (422, "invalid_cursor") in codes("/jobs", "get")
    # A read that refuses nothing of its own lists only what any request may meet.
    assert {code for _status, code in codes("/menu", "get")} <= {"unauthorized", "invalid_token", "rate_limited",
                                                               "unavailable"}
    for item in spec["paths"].values():
        for operation in item.values():
            assert {entry["code"] for entry in operation["x-error-codes"]} <= set(CODES)
