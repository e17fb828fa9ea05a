"""The board as open data (issue 21): /board/data.json follows its published schema and carries
a licence line, /board/data.csv holds the same rows, both equal the board's own CSV month by
month and community by community, an average from too few ratings is withheld exactly as on the
page, and no resident's name or phone number is in either."""

import csv
import io
import json

import jsonschema_rs

from marketplace.users.models import User
from tests.conftest import in_app
from tests.public.test_public_board import board_rows, community_id, seeded  # noqa: F401 - the fixture
from tests.staff.test_dashboards import EN

ZH = {"Accept-Language": "zh-CN"}


def data_csv(client) -> list[dict]:
    text = client.get("/board/data.csv", headers=EN).get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_json_follows_its_schema_names_its_licence_and_matches_the_csv(app, client, seeded):  # noqa: F811
    response = client.get("/board/data.json", headers=EN)
    assert response.status_code == 200 and response.is_json
    document = response.get_json()
    schema = client.get("/board/data.schema.json", headers=EN).get_json()
    jsonschema_rs.validate(schema, document)
    assert document["licence"] == "CC BY 4.0" and "CC BY 4.0" in document["licence_line"]
    assert document["schema"].endswith("/board/data.schema.json") and document["csv"].endswith("/board/data.csv")
    described = schema["properties"]["rows"]["items"]["properties"]
    assert all(field["description"] for field in described.values())
    zh_schema = client.get("/board/data.schema.json", headers=ZH).get_json()
    assert "月份" in zh_schema["properties"]["rows"]["items"]["properties"]["month"]["description"]

    rows = document["rows"]
    communities = {row["community"] for row in rows}
    assert "all" in communities and {"beiyuan_jiayuan", "jinxiu_yuan"} <= communities
    as_csv = data_csv(client)
    assert len(as_csv) == len(rows)
    for row, line in zip(rows, as_csv, strict=True):
        assert set(line) == set(row)
        assert all(line[key] == ("" if value is None else str(value)) for key, value in row.items())


def test_the_rows_are_the_boards_figures_per_month_and_community(app, client, seeded):  # noqa: F811
    rows = client.get("/board/data.json", headers=EN).get_json()["rows"]
    for code in ("all", "beiyuan_jiayuan", "jinxiu_yuan"):
        query = "" if code == "all" else f"?community={community_id(app, code)}"
        board = board_rows(client, query)
        mine = {row["month"]: row for row in rows if row["community"] == code}
        assert set(mine) == set(board)
        for month, shown in board.items():
            row = mine[month]
            assert str(row["requests_made"]) == shown["Requests made"]
            assert str(row["handled_on_time"]) == shown["Handled on time"]
            assert str(row["ratings"]) == shown["Ratings"]
            assert ("" if row["average_satisfaction"] is None else str(row["average_satisfaction"])) == shown["Average satisfaction"]
            assert str(row["points_issued"]) == shown["Points issued"]


def test_an_average_from_too_few_ratings_is_withheld_as_on_the_page(app, client, seeded):  # noqa: F811
    rows = client.get("/board/data.json", headers=EN).get_json()["rows"]
    few = [row for row in rows if 0 < row["ratings"] < 3]
    assert few  # the seeded street has one lone rating in 锦绣园
    assert all(row["average_satisfaction"] is None for row in few)
    for line in data_csv(client):
        if 0 < int(line["ratings"]) < 3:
            assert line["average_satisfaction"] == ""


def test_no_name_or_phone_number_of_a_person_is_published(app, client, seeded):  # noqa: F811
    text = json.dumps(client.get("/board/data.json", headers=EN).get_json(), ensure_ascii=False)
    text += client.get("/board/data.csv", headers=EN).get_data(as_text=True)
    for phone, name in in_app(app, lambda: [(u.phone, u.display_name) for u in User.select()]):
        assert phone not in text and name not in text
