"""The board as open data: /board/data.json, /board/data.csv and the schema they follow."""

from flask import current_app, jsonify, url_for

from marketplace.access import PUBLIC, allow
from marketplace.public import open_data
from marketplace.public.views import bp
from marketplace.web import csv_response


def _street() -> str:
    return current_app.config["COMMUNITY_NAME"]


@bp.route("/board/data.json")
@allow(PUBLIC)
def board_data_json():
    """Every month of the board per community and for the whole street, with its licence."""
    return jsonify(open_data.document(
        _street(), url_for("public.board_data_schema", _external=True), url_for("public.board_data_csv", _external=True)))


@bp.route("/board/data.csv")
@allow(PUBLIC)
def board_data_csv():
    """The same rows as /board/data.json, the fields as its schema names them (empty = withheld or none)."""
    names = [name for name, _kind, _text in open_data.fields()]
    rows = open_data.rows(_street())
    return csv_response("board-data.csv", names, ([("" if row[n] is None else row[n]) for n in names] for row in rows))


@bp.route("/board/data.schema.json")
@allow(PUBLIC)
def board_data_schema():
    return jsonify(open_data.schema())
