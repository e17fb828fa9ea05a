"""My messages: the in-app notifications, newest first; opening one marks it read."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.access import SIGNED_IN, allow
from marketplace.errors import DomainError
from marketplace.forms import EmptyForm
from marketplace.notifications import services
from marketplace.web import page_number

bp = Blueprint("notifications", __name__, url_prefix="/messages")

PAGE_SIZE = 30


@bp.app_context_processor
def _unread_messages():
    # Only the navigation asks, and only when it renders for a signed-in person.
    def unread_messages() -> int:
        if not current_user.is_authenticated:
            return 0
        # A GET never writes (tests/events/test_gets_never_write.py), so the count the session
        # was loaded with is still the count; after a POST it is counted again.
        counted = getattr(current_user, "unread_at_load", None)
        if counted is not None and request.method in ("GET", "HEAD"):
            return counted
        return services.unread_count(current_user)

    return {"unread_messages": unread_messages}


@bp.route("/")
@allow(SIGNED_IN)
def index():
    page = page_number()
    shown = list(services.for_user(current_user).paginate(page, PAGE_SIZE))
    return render_template(
        "notifications/index.html", notes=shown, page=page, has_more=len(shown) == PAGE_SIZE, button_form=EmptyForm()
    )


@bp.route("/<int:notification_id>/open", methods=["POST"])
@allow(SIGNED_IN)
def open_one(notification_id):
    """Mark it read and go to what it is about."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        note = services.mark_read(current_user, notification_id)
    except DomainError:
        abort(404)
    return redirect(note.link or url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@allow(SIGNED_IN)
def read_all():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_all_read(current_user)
    return redirect(url_for("notifications.index"))
