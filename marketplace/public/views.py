"""The home page."""

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace.access import PUBLIC, allow
from marketplace.menu.models import Category, ServiceItem
from marketplace.users import services as user_services

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
