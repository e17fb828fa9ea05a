"""Event pages for volunteers: the list and sign-ups, the door (kiosk QR, printed poster, the door
code) and volunteers' hours, badge and certificate; the blueprint and the helpers the staff pages
(events/staff_views.py) share."""

from babel.dates import format_skeleton
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import PUBLIC, SIGNED_IN, STAFF, allow
from marketplace.cache import cached_page
from marketplace.errors import DomainError
from marketplace.events import permissions, services, tokens
from marketplace.events.forms import (
    KIND_LABELS,
    METHOD_LABELS,
    POINTS_RULE_LABELS,
    ActionForm,
    BadgeForm,
    CodeForm,
)
from marketplace.events.models import Attendance, Event, Signup
from marketplace.extensions import limiter
from marketplace.forms import EmptyForm, ReasonForm
from marketplace.proxy import services as proxy
from marketplace.qr import qr_svg
from marketplace.timeutil import utcnow
from marketplace.web import act_and_flash, not_found_on_404

bp = Blueprint("events", __name__, url_prefix="/events")


def _hours(minutes) -> str:
    return format_decimal(round((minutes or 0) / 60, 1), "0.#")


def _day(moment, with_year=False) -> str:
    """Sat, Jan 10 / 1月10日周六, in the community's time zone and the page's language."""
    local = to_user_timezone(moment)
    return format_skeleton("yMMMEd" if with_year else "MMMEd", local, locale=get_locale())


def _when(event) -> str:
    """When an event is, as one line: Sat, Jan 10 09:00–12:00 (the end's day too if it differs)."""
    start, end = to_user_timezone(event.starts_at), to_user_timezone(event.ends_at)
    first = f"{_day(event.starts_at)} {start:%H:%M}"
    last = f"{end:%H:%M}" if end.date() == start.date() else f"{_day(event.ends_at)} {end:%H:%M}"
    return f"{first}–{last}"


def _points_text(event) -> str:
    if event.points == 0:
        return _("No points")
    if event.points_rule == "fixed":
        return _("%(points)d points for taking part", points=event.points)
    return _("%(points)d points for each hour", points=event.points)


@bp.app_context_processor
def _event_helpers():
    return {
        "kind_labels": KIND_LABELS,
        "method_labels": METHOD_LABELS,
        "points_rule_labels": POINTS_RULE_LABELS,
        "fmt_hours": _hours,
        "event_day": _day,
        "event_when": _when,
        "event_points": _points_text,
        # The pages show only the buttons the matrix lets this person use: event_may('cancel', event).
        "event_may": lambda action, event=None: permissions.may(_user(), action, event),
    }


def _user():
    return current_user if current_user.is_authenticated else None


def _or_404(call):
    try:
        return call()
    except DomainError as error:
        not_found_on_404(error)
        if error.status == 403:  # their event, not their part of it (permissions.MATRIX)
            abort(403)
        raise


def _act_on_event(event_id, action, message):
    """Run a button's action, flash its refusal or success, and go back to the event's page."""
    return act_and_flash(action, message, url_for("events.show", event_id=event_id))


def _managed(event_id: int, action: str = "view") -> Event:
    return _or_404(lambda: services.get_managed(current_user, event_id, action))


# ---- volunteers: finding events and signing up ---------------------------------------------


@bp.route("/")
@allow(PUBLIC)
@cached_page  # anonymous visitors only: a volunteer's own sign-ups are on their page
def index():
    events = list(services.upcoming_events())
    mine = {}
    if current_user.is_authenticated:
        mine = {s.event_id: s for s in Signup.select().where(
            Signup.user == current_user.id, Signup.event.in_([e.id for e in events] or [0]))}
    return render_template("events/index.html", events=events, mine=mine)


@bp.route("/<int:event_id>")
@allow(PUBLIC)
def show(event_id):
    event = _or_404(lambda: services.get_event(_user(), event_id))
    signup = attendance = position = None
    done_for_me = []
    if current_user.is_authenticated:
        done_for_me = proxy.acts_for_at_event(current_user, event.id)  # "done for you by ..."
        signup = Signup.get_or_none(Signup.event == event.id, Signup.user == current_user.id)
        attendance = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == current_user.id)
        if signup is not None and signup.status == "waitlisted":
            position = services.waitlist_position(signup)
    now, window = utcnow(), services.door_window(event)
    return render_template(
        "events/show.html", event=event, signup=signup, attendance=attendance, position=position,
        done_for_me=done_for_me,
        manager=services.may_manage(_user(), event), now=now,
        checkin_open=window.is_open(now), opens_at=window.opens_at, button_form=EmptyForm(), code_form=CodeForm(formdata=None),
        reason_form=ReasonForm(formdata=None),
    )


@bp.route("/<int:event_id>/signup", methods=["POST"])
@allow(SIGNED_IN)
def sign_up(event_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        signup = services.sign_up(current_user, event_id)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
    else:
        if signup.status == "confirmed":
            flash(_("You have a place. See you there!"), "success")
        else:
            flash(_("All places are taken, so you are on the waiting list (number %(n)d). If someone cancels, you move up automatically.",
                    n=services.waitlist_position(signup)), "info")
    return redirect(url_for("events.show", event_id=event_id))


@bp.route("/<int:event_id>/signup/cancel", methods=["POST"])
@allow(SIGNED_IN)
def cancel_signup(event_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _act_on_event(event_id, lambda: services.cancel_signup(current_user, event_id),
                         _("Your sign-up is cancelled. Thank you for letting us know."))


# ---- volunteers at the door ------------------------------------------------------------------


def _code_limit_key() -> str:
    return f"event-code:{current_user.id}" if current_user.is_authenticated else "event-code:anonymous"


def _after_check(event_id, result):
    """To the event's page, whose first box shows the volunteer's state in large type. A repeat
    scan also says so, so nobody wonders whether the second tap did something."""
    if result.outcome == "already":
        flash(result.message, "info")
    return redirect(url_for("events.show", event_id=event_id))


@bp.route("/<int:event_id>/code", methods=["POST"])
@allow(SIGNED_IN)
@limiter.limit(lambda: current_app.config["EVENT_CODE_RATE_LIMIT"], methods=["POST"], key_func=_code_limit_key)
def type_code(event_id):
    """The six digits under the kiosk QR, for phones whose camera will not read it."""
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Please type the 6 digits shown on the screen at the door."), "error")
        return redirect(url_for("events.show", event_id=event_id))
    try:
        result = services.check_with_code(current_user, event_id, form.code.data)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
        return redirect(url_for("events.show", event_id=event_id))
    return _after_check(event_id, result)


def _door_page(kind, token, event, action, error=None, status=200):
    attendance = None
    if event is not None:
        attendance = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == current_user.id)
    return render_template(
        "events/checkin.html", kind=kind, token=token, event=event, action=action, error=error,
        attendance=attendance,
    ), status


@bp.route("/k/<token>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def kiosk_door(token):
    """Where the kiosk QR leads: the volunteer confirms with one tap (a POST, never a GET)."""
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            result = services.check_with_kiosk(current_user, token)
        except DomainError as error:
            event = _event_of_kiosk_token(token)
            return _door_page("kiosk", token, event, None, error.message, error.status)
        return _after_check(result.event.id, result)
    try:
        event, action = services.open_kiosk_link(current_user, token, store=False)
    except DomainError as error:
        return _door_page("kiosk", token, _event_of_kiosk_token(token), None, error.message, error.status)
    return _door_page("kiosk", token, event, action)


def _event_of_kiosk_token(token):
    try:
        return Event.get_or_none(Event.id == tokens.read_kiosk_token(token).event_id)
    except tokens.BadToken:
        return None


@bp.route("/p/<token>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def poster_door(token):
    """Where the printed poster's QR leads: one code for both directions, so the page asks."""
    if request.method == "POST":
        form = ActionForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            result = services.check_with_poster(current_user, token, form.action.data)
        except DomainError as error:
            event = None
            try:
                event = services.read_poster(token)
            except DomainError:
                pass
            return _door_page("poster", token, event, None, error.message, error.status)
        return _after_check(result.event.id, result)
    try:
        event = services.open_poster_link(current_user, token, store=False)
    except DomainError as error:
        return _door_page("poster", token, None, None, error.message, error.status)
    attendance = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == current_user.id)
    action = "out" if attendance is not None and attendance.state == "in" else "in"
    return _door_page("poster", token, event, action)


# ---- volunteers' records, badges and certificates --------------------------------------------


@bp.route("/hours")
@allow(SIGNED_IN)
def hours():
    record = services.volunteer_record(current_user)
    return render_template("events/hours.html", record=record, own=True, button_form=EmptyForm(),
                           history=list(services.my_hour_corrections(current_user)))


@bp.route("/certificate")
@allow(SIGNED_IN)
def certificate():
    record = services.volunteer_record(current_user)
    return render_template("events/certificate.html", record=record, issued=utcnow())


@bp.route("/badge")
@allow(SIGNED_IN)
def badge():
    if not services.is_volunteer(current_user):
        return render_template("events/badge.html", token=None, qr=None)
    token = services.badge_token_of(current_user)
    url = url_for("events.badge_door", token=token, _external=True)
    return render_template("events/badge.html", token=token, code=tokens.format_badge(token),
                           qr=qr_svg(url, _("My volunteer badge")), button_form=EmptyForm())


@bp.route("/badge/replace", methods=["POST"])
@allow(SIGNED_IN)
def replace_badge():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.replace_badge(current_user, current_user.id)
    flash(_("Here is your new badge. The old one no longer works, wherever it was copied."), "success")
    return redirect(url_for("events.badge"))


@bp.route("/b/<token>")
@allow(SIGNED_IN)
def badge_door(token):
    """Where a badge's QR leads when staff read it with the phone's own camera app: the events
    they run today, with a check-in and check-out button for each."""
    try:
        person = services.badge_holder(token)
    except DomainError as error:
        return render_template("errors/error.html", code=error.status, message=error.message), error.status
    now = utcnow()
    events = []
    for event in services.managed_events(current_user).where(Event.status == "published"):
        if services.door_window(event).is_open(now):
            events.append(event)
    return render_template("events/badge_door.html", person=person, events=events,
                           staff=access.is_staff(current_user),
                           code=tokens.normalize_badge(token), form=BadgeForm(formdata=None))


@bp.route("/volunteers/<int:user_id>")
@allow(STAFF)
def volunteer(user_id):
    person = _or_404(lambda: services.volunteer_for_staff(current_user, user_id))
    return render_template("events/hours.html", record=services.volunteer_record(person), own=False,
                           may_replace=services.may_replace_badge(current_user, person), button_form=EmptyForm(),
                           history=list(services.my_hour_corrections(person)))


@bp.route("/volunteers/<int:user_id>/certificate")
@allow(STAFF)
def volunteer_certificate(user_id):
    person = _or_404(lambda: services.volunteer_for_staff(current_user, user_id))
    return render_template("events/certificate.html", record=services.volunteer_record(person), issued=utcnow())


@bp.route("/volunteers/<int:user_id>/badge/replace", methods=["POST"])
@allow(STAFF)
def revoke_badge(user_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _or_404(lambda: services.replace_badge(current_user, user_id))
    flash(_("The badge is revoked: copies of it no longer work. The volunteer's badge page shows a new one."), "success")
    return redirect(url_for("events.volunteer", user_id=user_id))
