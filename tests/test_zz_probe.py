import re

from marketplace import audit
from tests.conftest import csrf_token, in_app, person
from tests.staff.test_dashboards import add_request


def test_probe(app, client, auth):
    def setup():
        req = add_request("bj_b1", 3)
        audit.record(person("admin"), "requests.personal_data.viewed", req)
        audit.record(person("admin"), "ledger.adjustment.approved", None, account="user:8")
    in_app(app, setup)
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    auth.login_as("admin")
    html = client.get("/staff/audit").get_data(as_text=True)
    i = html.find("<tbody>")
    print(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[i:i+3000])))
    print(client.get("/staff/audit.csv").get_data(as_text=True)[:600])
    assert 0
