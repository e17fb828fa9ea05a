"""The OpenAPI document is the code's: every API route is in it and nothing else, each
operation's input is the page form's rules, and the reference page is served locally."""

import re

from marketplace.api.registry import OPERATIONS

NOT_OPERATIONS = {"api.not_found", "api.docs", "api.openapi_json"}


def test_every_api_route_is_in_the_document_and_nothing_else(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in NOT_OPERATIONS:
            path = re.sub(r"<int:(\w+)>", r"{\1}", rule.rule)
            routed |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    assert len(OPERATIONS) == len(documented)


def test_operations_carry_scopes_statuses_and_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    book = spec["paths"]["/api/v1/requests"]["post"]
    assert book["security"][0] == {"bearerToken": ["requests"]}
    assert {"201", "401", "403", "404", "409", "413", "415", "422", "429"} <= set(book["responses"])
    body = book["requestBody"]["content"]["application/json"]["schema"]
    # Read off BookingForm: InputRequired -> required, Length(max=1000) -> maxLength.
    assert {"item_id", "description"} <= set(body["required"])
    assert body["properties"]["description"]["maxLength"] == 1000
    assert body["properties"]["preferred_period"]["enum"] == ["any", "morning", "afternoon", "evening"]
    redeem = spec["paths"]["/api/v1/offers/{offer_id}/redeem"]["post"]
    key = next(p for p in redeem["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is True
    assert spec["paths"]["/api/v1/menu"]["get"]["security"][0] == {}  # public
    error = spec["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "fields"]


def test_the_reference_page_is_served_locally_without_scripts(app, client):
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for op in OPERATIONS:
        assert f'id="op-{op.endpoint}"' in html
    assert "<script>" not in html and "style=" not in html and "http://" not in html.replace("http://localhost", "")
    assert "/static/api-docs/api-docs.css" in html
    assert client.get("/static/api-docs/api-docs.css").status_code == 200
