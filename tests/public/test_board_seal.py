"""The public board publishes the ledger's seals: the newest on the board, all of them in
/board/checkpoints.json (valid against its published schema, no personal data), and a page in
plain words on how to check a saved one."""

import base64
import json

import jsonschema_rs
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from marketplace.ledger import checkpoints, sealing
from marketplace.users.models import User
from tests.conftest import in_app


def test_the_board_shows_the_newest_seal_and_links_the_explanation(app, client):
    page = client.get("/board", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No seal has been made yet." in page
    client.application.config["PAGE_CACHE_SECONDS"] = 0
    seal = in_app(app, sealing.make_checkpoint)
    page = client.get("/board?fresh=1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Seal no. {seal['number']}" in page and seal["ledger_head"] in page
    assert 'href="/board/seal"' in page and 'href="/board/checkpoints.json"' in page
    zh = client.get("/board?fresh=2", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "积分账本的封签" in zh


def test_checkpoints_json_validates_against_its_schema_and_holds_no_personal_data(app, client):
    for _ in range(2):
        in_app(app, sealing.make_checkpoint)
    response = client.get("/board/checkpoints.json")
    assert response.status_code == 200 and response.is_json
    document = response.get_json()
    schema = client.get("/board/checkpoints.schema.json").get_json()
    jsonschema_rs.validate(schema, document)
    assert [c["number"] for c in document["checkpoints"]] == [1, 2]
    text = json.dumps(document, ensure_ascii=False)
    people = in_app(app, lambda: [(u.phone, u.display_name) for u in User.select()])
    for phone, name in people:
        assert phone not in text and name not in text
    # Each published line is the one signed: it checks out with the published key.
    key = load_pem_public_key(document["public_key"].encode())
    for seal in document["checkpoints"]:
        key.verify(base64.b64decode(seal["signature"]), checkpoints.signed_text(seal))


def test_the_seal_page_explains_in_plain_words(client):
    page = client.get("/board/seal", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "How to check the ledger's seal" in text and "ledger verify --checkpoints" in text
    assert "一、保存一份封签" in client.get("/board/seal", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
