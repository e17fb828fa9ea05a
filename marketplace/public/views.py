"""The home page and the public disclosure board."""

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import PUBLIC, allow
from marketplace.cache import cached_page
from marketplace.ledger import checkpoints, checkpoints_schema
from marketplace.menu.models import Category, ServiceItem
from marketplace.public import services as board_services
from marketplace.users import services as user_services
from marketplace.web import csv_response

bp = Blueprint("public", __name__)


@bp.route("/")
@allow(PUBLIC)
def home():
    residency = user_services.current_residency(current_user) if current_user.is_authenticated else None
    return render_template(
        "public/home.html",
        residency=residency,
        categories=Category.select().order_by(Category.position),
        item_count=ServiceItem.select().where(ServiceItem.active == True).count(),  # noqa: E712
    )


# ---- the public disclosure board -------------------------------------------------------------


def _community():
    """The community asked for (?community=3), None for the whole street; 404 for no such one."""
    raw = request.args.get("community", "")
    if raw in ("", "all"):
        return None
    community = board_services.community_or_none(raw)
    if community is None:
        abort(404)
    return community


@bp.route("/board")
@allow(PUBLIC)
@cached_page(query=("community",))
def board():
    """How requests were handled, volunteer hours, events, points and funds, per month and per
    community. Counts and sums only: never a resident's name, phone number or address."""
    from marketplace.figures import charts
    from marketplace.figures.counting import community_area
    from marketplace.figures.promises import promise_figures
    from marketplace.figures.reports import chart_columns, trend_charts

    community = _community()
    data = board_services.board(community.id if community else None)
    satisfaction = board_services.public_satisfaction(community.id if community else None, data)
    seal = checkpoints.latest()
    return render_template(
        "public/board.html", seal=seal, seal_time=_seal_time(seal), data=data, community=community, communities=board_services.communities(),
        charts=trend_charts(data, "board", satisfaction),
        columns=chart_columns(satisfaction), funds=list(board_services.published_fund_uses(community.id if community else None)),
        satisfaction=satisfaction, min_ratings=board_services.MIN_PUBLIC_RATINGS,
        promises=promise_figures(community_area(community.id if community else None)),
        percent=charts.percent, stars=charts.stars, number=charts.plain_number, month_title=charts.month_title,
    )


def _file_name(community, what: str) -> str:
    return f"board-{community.code if community else 'all'}-{what}.csv"


@bp.route("/board.csv")
@allow(PUBLIC)
def board_csv():
    from marketplace.figures.reports import months_csv

    community = _community()
    data = board_services.board(community.id if community else None)
    satisfaction = board_services.public_satisfaction(community.id if community else None, data)
    return months_csv(data, _file_name(community, "months"), satisfaction=satisfaction)


@bp.route("/board/funds.csv")
@allow(PUBLIC)
def board_funds_csv():
    community = _community()
    entries = board_services.published_fund_uses(community.id if community else None)
    return csv_response(
        _file_name(community, "funds"),
        [_("Date"), _("Community"), _("What it was used for"), _("Amount (yuan)"), _("Approved by")],
        ([e.spent_on.isoformat(), e.community.name if e.community_id else _("The whole street"), e.purpose,
          e.yuan.replace(",", ""), e.approved_by] for e in entries),
    )


# ---- the ledger's seals (issue 18) --------------------------------------------------------------


def _seal_time(seal):
    from datetime import datetime

    return datetime.strptime(seal["time"], "%Y-%m-%dT%H:%M:%S.%fZ") if seal else None


@bp.route("/board/checkpoints.json")
@allow(PUBLIC)
def board_checkpoints():
    """Every signed checkpoint, oldest first, with the public key that checks them. Hashes,
    sequence numbers and sums per account kind only: no name, phone number or account."""
    key = checkpoints.public_key(create=False)
    document = {
        "schema": url_for("public.board_checkpoints_schema", _external=True),
        "key_id": checkpoints.key_id(key) if key else None,
        "public_key": checkpoints.public_key_pem(key) if key else None,
        "checkpoints": checkpoints.published_list(),
    }
    response = jsonify(document)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/board/checkpoints.schema.json")
@allow(PUBLIC)
def board_checkpoints_schema():
    return jsonify(checkpoints_schema.SCHEMA)


@bp.route("/board/seal")
@allow(PUBLIC)
def board_seal():
    """In plain words: what a seal is and how anyone can check the one they saved."""
    key = checkpoints.public_key(create=False)
    seal = checkpoints.latest()
    return render_template("public/seal.html", seal=seal, seal_time=_seal_time(seal),
                           key_id=checkpoints.key_id(key) if key else None,
                           public_key=checkpoints.public_key_pem(key) if key else None,
                           example=checkpoints.canonical(seal) if seal else None)
