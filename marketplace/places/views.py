"""The community map, edited by community administrators."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import allow
from marketplace.places import services
from marketplace.places.forms import HouseholdsForm, PlaceNameForm
from marketplace.places.models import Building, Grid
from marketplace.web import act_and_flash

bp = Blueprint("places", __name__, url_prefix="/places")

EDITORS = ("community_admin",)


@bp.route("/")
@allow(EDITORS)
def index():
    communities, grids, buildings, counts = services.communities_tree(access.scope_of(current_user).administered_community_ids())
    return render_template(
        "places/index.html",
        communities=communities,
        grids=grids,
        buildings=buildings,
        counts=counts,
        name_form=PlaceNameForm(formdata=None),
        households_form=HouseholdsForm(formdata=None),
    )


def _run(action):
    return act_and_flash(action, _("The community map has been saved."), url_for("places.index"))


@bp.route("/grids", methods=["POST"])
@allow(EDITORS)
def add_grid():
    form = PlaceNameForm()
    if not form.validate_on_submit():
        flash(_("Please give a Chinese name."), "error")
        return redirect(url_for("places.index"))
    return _run(lambda: services.add_grid(current_user, _int(form.parent.data), form.name_zh.data, form.name_en.data))


@bp.route("/buildings", methods=["POST"])
@allow(EDITORS)
def add_building():
    form = PlaceNameForm()
    if not form.validate_on_submit():
        flash(_("Please give a Chinese name."), "error")
        return redirect(url_for("places.index"))
    return _run(lambda: services.add_building(current_user, _int(form.parent.data), form.name_zh.data, form.name_en.data))


@bp.route("/households", methods=["POST"])
@allow(EDITORS)
def add_households():
    form = HouseholdsForm()
    if not form.validate_on_submit():
        flash(_("Please list at least one unit, such as 1-101."), "error")
        return redirect(url_for("places.index"))
    return _run(lambda: services.add_households(current_user, _int(form.parent.data), form.units.data))


@bp.route("/<kind>/<int:object_id>/rename", methods=["POST"])
@allow(EDITORS)
def rename(kind, object_id):
    model = {"grid": Grid, "building": Building}.get(kind) or abort(404)
    form = PlaceNameForm()
    if not form.validate_on_submit():
        flash(_("Please give a Chinese name."), "error")
        return redirect(url_for("places.index"))
    return _run(lambda: services.rename(current_user, model, object_id, form.name_zh.data, form.name_en.data))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(404)


