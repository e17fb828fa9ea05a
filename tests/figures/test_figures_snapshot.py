"""Stored figures (figures.snapshots): the dashboards and the public board read a snapshot while it
is younger than FIGURES_MAX_AGE_SECONDS, count afresh when it is older, the scheduler refreshes
them, and each page says when its figures were counted.

The rest of the suite runs with the snapshots off (max age 0); these tests turn them on.
"""

import re
from datetime import timedelta

import pytest
from flask import template_rendered
from flask_babel import format_datetime

from marketplace.db import db
from marketplace.figures import counting, snapshots
from marketplace.figures.snapshots import FiguresSnapshot
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from tests.conftest import Auth
from tests.ledger_helpers import run_at_once
from tests.staff.test_dashboards import EN, add_request, read_csv, summary

MADE = "Requests made in the last 12 months"


@pytest.fixture
def stored(app):
    """The snapshots on, with the production default's max age."""
    app.config["FIGURES_MAX_AGE_SECONDS"] = 900
    return app


def officer(app):
    client = app.test_client()
    Auth(client).login_as("street_officer")
    return client


def board_made(client) -> int:
    rows = read_csv(client.get("/board.csv", headers=EN))
    return sum(int(row[1]) for row in rows[1:])


def new_request(app):
    with app.app_context(), db.connection_context():
        add_request("bj_b1", 1)


def snapshot(app, key="all") -> FiguresSnapshot:
    with app.app_context(), db.connection_context():
        return FiguresSnapshot.get(FiguresSnapshot.area_key == key)


def age(app, key: str, seconds: int) -> None:
    with app.app_context(), db.connection_context():
        FiguresSnapshot.update(computed_at=utcnow() - timedelta(seconds=seconds)).where(
            FiguresSnapshot.area_key == key).execute()


def test_a_young_snapshot_is_served_and_an_expired_one_is_counted_afresh(stored):
    client = officer(stored)
    page = client.get("/staff/dashboard", headers=EN)
    assert page.status_code == 200
    made = int(summary(client)[MADE])
    board = board_made(client)
    new_request(stored)
    # Younger than the max age: the page, its CSV files and the board keep the stored figures.
    assert int(summary(client)[MADE]) == made
    assert board_made(client) == board
    age(stored, "all", 899)
    assert int(summary(client)[MADE]) == made
    # Older: counted afresh (and stored again, so the next visitor gets it without counting).
    age(stored, "all", 901)
    assert int(summary(client)[MADE]) == made + 1
    assert board_made(client) == board + 1
    assert utcnow() - snapshot(stored).computed_at < timedelta(seconds=60)


def test_the_scheduler_job_refreshes_every_snapshot(stored):
    client = officer(stored)
    grid_admin = stored.test_client()
    Auth(grid_admin).login_as("grid_admin")
    made = int(summary(client)[MADE])
    grid_made = int(summary(grid_admin)[MADE])
    with stored.app_context(), db.connection_context():
        keys = {s.area_key for s in FiguresSnapshot.select()}
        communities = {counting.community_area(c.id).key for c in Community.select()}
    assert "all" in keys and any(k.startswith("g") for k in keys)
    new_request(stored)
    result = stored.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    with stored.app_context(), db.connection_context():
        refreshed = {s.area_key for s in FiguresSnapshot.select()}
    # The street, each community, and the grid someone looked at.
    assert refreshed >= keys | communities
    assert f"figures: {len(refreshed)}" in result.output
    assert int(summary(client)[MADE]) == made + 1
    assert int(summary(grid_admin)[MADE]) == grid_made + 1


def test_the_scheduler_has_no_figures_job_when_snapshots_are_off(app):
    from marketplace.ops.periodic import JOBS, run_in_period

    [job] = [job for job in JOBS if job.name == "figures"]
    assert job.every_seconds(app.config) == 0
    with app.app_context():
        assert run_in_period(job) == "off"
    app.config["FIGURES_MAX_AGE_SECONDS"] = 900
    assert job.every_seconds(app.config) == 300


def test_with_snapshots_off_pages_store_nothing(app):
    client = officer(app)
    assert client.get("/staff/dashboard").status_code == 200
    assert client.get("/board").status_code == 200
    with app.app_context(), db.connection_context():
        assert FiguresSnapshot.select().count() == 0


def test_workers_counting_the_same_area_at_once_do_not_fail(stored):
    area = counting.Area(communities=frozenset([1]))
    results = run_at_once(stored, 6, lambda _i: snapshots.figures_for(area).total.received)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    with stored.app_context(), db.connection_context():
        assert FiguresSnapshot.select().where(FiguresSnapshot.area_key == area.key).count() == 1


def test_a_late_count_does_not_replace_newer_figures(stored):
    area = counting.community_area(None)
    with stored.test_request_context(), db.connection_context():
        older = counting.compute(area, now=utcnow() - timedelta(minutes=5))
        newer = snapshots.refresh(area)
        snapshots._store(area.key, older)  # a slow worker finishing after a quicker one
        assert FiguresSnapshot.get(FiguresSnapshot.area_key == area.key).computed_at == newer.as_of


def test_pages_say_when_their_figures_were_counted(stored):
    client = officer(stored)
    board = client.get("/board", headers=EN).get_data(as_text=True)
    dashboard = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    counted = snapshot(stored).computed_at
    with stored.test_request_context(headers=EN):
        shown = format_datetime(counted, "short")  # in the community's time zone
        local = format_datetime(counted, "yyyy-MM-dd HH:mm")
    assert f"Figures as of {shown}" in board
    assert f"Figures as of {shown}" in dashboard
    assert summary(client)["Figures as of"] == local


def test_one_snapshot_reads_in_either_language(stored):
    new_request(stored)
    client = officer(stored)
    english = read_csv(client.get("/staff/dashboard/categories.csv", headers=EN))
    chinese = read_csv(client.get("/staff/dashboard/categories.csv", headers={"Accept-Language": "zh-CN"}))
    with stored.app_context(), db.connection_context():
        assert FiguresSnapshot.select().count() == 1
    assert len(english) > 1 and [r[1:] for r in english[1:]] == [r[1:] for r in chinese[1:]]
    assert english[1][0] != chinese[1][0]  # the category's English name, then its Chinese one


def made_on_the_page(page: str) -> int:
    return int(re.search(r'<span class="kpi-value">([\d,]+)</span><span class="kpi-label">Requests made</span>',
                         page).group(1).replace(",", ""))


def test_the_dashboards_charts_are_drawn_once_per_snapshot_and_again_for_a_new_one(stored):
    client = officer(stored)
    drawn = []

    promise_tables = []

    def record(sender, template, context, **extra):
        if template.name == "staff/_dashboard_figures.html":
            drawn.append(context["data"].as_of)
        if template.name == "figures/_promises.html":
            promise_tables.append(template.name)

    with template_rendered.connected_to(record, stored):
        first = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
        again = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
        assert len(drawn) == 1 and made_on_the_page(again) == made_on_the_page(first)
        assert len(promise_tables) == 1 and 'id="promises-title"' in again  # its table too, while its figures hold
        # Another person looking at the same area and snapshot gets the same drawing.
        assert made_on_the_page(officer(stored).get("/staff/dashboard", headers=EN).get_data(as_text=True)) == \
            made_on_the_page(first) and len(drawn) == 1
        new_request(stored)
        age(stored, "all", 901)  # the snapshot is recounted: the page draws the new figures
        fresh = client.get("/staff/dashboard", headers=EN).get_data(as_text=True)
    assert len(drawn) == 2 and drawn[1] > drawn[0]
    assert made_on_the_page(fresh) == made_on_the_page(first) + 1
