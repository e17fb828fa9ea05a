"""The public service menu, and its editing by community staff."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import PUBLIC, allow
from marketplace.cache import cached_page
from marketplace.errors import DomainError
from marketplace.forms import EmptyForm, choices_of
from marketplace.menu import services
from marketplace.menu.forms import ServiceItemForm
from marketplace.menu.models import Category, ServiceItem

bp = Blueprint("menu", __name__, url_prefix="/menu")

EDITORS = ("community_admin",)


@bp.route("/")
@allow(PUBLIC)
@cached_page
def index():
    return render_template("menu/index.html", menu=services.menu_by_category())


@bp.route("/manage")
@allow(EDITORS)
def manage():
    return render_template("menu/manage.html", menu=services.menu_by_category(include_retired=True), button_form=EmptyForm())


def _item_form(item=None):
    form = ServiceItemForm(obj=item)
    if item is not None and not form.is_submitted():
        form.category.data = item.category_id
    form.category.choices = choices_of([(c.id, c.name) for c in Category.select().order_by(Category.position)])
    return form


def _save(form, item=None):
    try:
        if item is None:
            services.create_item(current_user, form.values())
        else:
            services.update_item(current_user, item.id, form.values())
    except DomainError as error:
        field = getattr(form, error.field or "", None)
        (field.errors if field is not None else form.form_errors).append(error.message)
        return None
    flash(_("The menu has been saved."), "success")
    return redirect(url_for("menu.manage"))


@bp.route("/items/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_item():
    form = _item_form()
    if form.validate_on_submit() and (response := _save(form)):
        return response
    return render_template("menu/edit.html", form=form, item=None), 422 if form.errors else 200


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_item(item_id):
    item = ServiceItem.get_or_none(ServiceItem.id == item_id) or abort(404)
    form = _item_form(item)
    if form.validate_on_submit() and (response := _save(form, item)):
        return response
    return render_template("menu/edit.html", form=form, item=item), 422 if form.errors else 200


@bp.route("/items/<int:item_id>/retire", methods=["POST"])
@allow(EDITORS)
def retire_item(item_id):
    return _set_active(item_id, False)


@bp.route("/items/<int:item_id>/restore", methods=["POST"])
@allow(EDITORS)
def restore_item(item_id):
    return _set_active(item_id, True)


def _set_active(item_id, active):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        item = services.set_item_active(current_user, item_id, active)
    except DomainError as error:
        abort(error.status)
    flash(_("“%(name)s” is back on the menu.", name=item.name) if active else _("“%(name)s” has been retired.", name=item.name), "success")
    return redirect(url_for("menu.manage"))
