"""Event pages: the list and sign-ups (volunteers), organising and the roster (staff), the door
(kiosk QR, printed poster, staff badge scanner) and volunteers' hours, badge and certificate."""

from babel.dates import format_skeleton
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import format_decimal, get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import PUBLIC, SIGNED_IN, STAFF, allow
from marketplace.cache import cached_page
from marketplace.config import PROJECT_ROOT
from marketplace.errors import DomainError
from marketplace.events import permissions, services, tokens
from marketplace.events.forms import (
    KIND_LABELS,
    METHOD_LABELS,
    POINTS_RULE_LABELS,
    ActionForm,
    BadgeForm,
    CodeForm,
    EventForm,
    ManualInForm,
    ManualOutForm,
    local_input,
    utc_from_input,
)
from marketplace.events.models import Attendance, Event, Signup
from marketplace.extensions import limiter
from marketplace.forms import EmptyForm, ReasonForm
from marketplace.qr import qr_svg
from marketplace.timeutil import utcnow
from marketplace.web import act_and_flash, attach_error, csv_response, not_found_on_404

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
    if current_user.is_authenticated:
        signup = Signup.get_or_none(Signup.event == event.id, Signup.user == current_user.id)
        attendance = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == current_user.id)
        if signup is not None and signup.status == "waitlisted":
            position = services.waitlist_position(signup)
    now, window = utcnow(), services.door_window(event)
    return render_template(
        "events/show.html", event=event, signup=signup, attendance=attendance, position=position,
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
    return _staff_action(event_id, lambda: services.cancel_signup(current_user, event_id),
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
        attendance=attendance, form=ActionForm(formdata=None, action=action),
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
        event, action = services.open_kiosk_link(current_user, token)
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
        event = services.open_poster_link(current_user, token)
    except DomainError as error:
        return _door_page("poster", token, None, None, error.message, error.status)
    attendance = Attendance.get_or_none(Attendance.event == event.id, Attendance.user == current_user.id)
    action = "out" if attendance is not None and attendance.state == "in" else "in"
    return _door_page("poster", token, event, action)


# ---- staff: organising -----------------------------------------------------------------------


@bp.route("/manage")
@allow(STAFF)
def manage():
    return render_template("events/manage.html", events=list(services.managed_events(current_user)), now=utcnow())


def _event_form(form, event=None):
    communities = services.communities_for(current_user)
    form.community_id.choices = [(c.id, c.name) for c in communities]
    return communities


@bp.route("/new", methods=["GET", "POST"])
@allow(STAFF)
def new():
    if not permissions.may(current_user, "create"):
        abort(403)  # building heads and grid administrators help at the door; they do not organise
    form = EventForm()
    _event_form(form)
    if form.validate_on_submit():
        try:
            event = services.create_event(current_user, form.values())
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("The event is saved as a draft. Check it, then publish it so volunteers can sign up."), "success")
            return redirect(url_for("events.show", event_id=event.id))
    return render_template("events/form.html", form=form, event=None), 422 if form.errors else 200


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@allow(STAFF)
def edit(event_id):
    event = _managed(event_id, "edit")
    if request.method == "GET":
        form = EventForm(obj=event, community_id=event.community_id, starts_at=local_input(event.starts_at),
                         ends_at=local_input(event.ends_at))
    else:
        form = EventForm()
    _event_form(form, event)
    if form.validate_on_submit():
        try:
            services.update_event(current_user, event_id, form.values())
        except DomainError as error:
            not_found_on_404(error)
            attach_error(form, error)
        else:
            flash(_("The event is updated."), "success")
            return redirect(url_for("events.show", event_id=event_id))
    return render_template("events/form.html", form=form, event=event), 422 if form.errors else 200


def _staff_action(event_id, action, message):
    return act_and_flash(action, message, url_for("events.show", event_id=event_id))


def _organiser_action(event_id, action, message):
    """A button only organisers see: anyone else pressing it hears 404 or 403, not a flash."""
    return _staff_action(event_id, lambda: _or_404(action), message)


@bp.route("/<int:event_id>/publish", methods=["POST"])
@allow(STAFF)
def publish(event_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _organiser_action(event_id, lambda: services.publish_event(current_user, event_id),
                         _("The event is published. Volunteers can sign up now."))


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@allow(STAFF)
def cancel(event_id):
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    return _organiser_action(event_id, lambda: services.cancel_event(current_user, event_id, form.reason.data),
                         _("The event is cancelled."))


# ---- staff: at the door ----------------------------------------------------------------------


def _kiosk_payload(event_id, mode):
    info = services.kiosk_code(current_user, event_id, mode)
    data = {"mode": info.mode, "open": info.open, "message": info.message, "checked_in": info.checked_in,
            "checked_out": info.checked_out}
    if info.open:
        url = url_for("events.kiosk_door", token=info.token, _external=True)
        data.update(url=url, code=f"{info.code[:3]} {info.code[3:]}", seconds_left=info.seconds_left,
                    svg=str(qr_svg(url, _("Check-in QR code"))))
    return data


@bp.route("/<int:event_id>/kiosk")
@allow(STAFF)
def kiosk(event_id):
    """The screen at the door: a QR that changes every 30 seconds (kiosk.js asks for the next)."""
    event = _managed(event_id, "run_door")
    data = _kiosk_payload(event.id, request.args.get("mode"))
    return render_template("events/kiosk.html", event=event, code=data)


@bp.route("/<int:event_id>/kiosk/code")
@allow(STAFF)
def kiosk_code(event_id):
    data = _or_404(lambda: _kiosk_payload(event_id, request.args.get("mode")))
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:event_id>/poster")
@allow(STAFF)
def poster(event_id):
    event = _managed(event_id, "run_door")
    url = url_for("events.poster_door", token=tokens.poster_token(event.id, event.poster_version), _external=True)
    return render_template("events/poster.html", event=event, qr=qr_svg(url, _("Check-in QR code")),
                           button_form=EmptyForm())


@bp.route("/<int:event_id>/poster/reissue", methods=["POST"])
@allow(STAFF)
def reissue_poster(event_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _or_404(lambda: services.reissue_poster(current_user, event_id))
    flash(_("A new poster is ready. Earlier printouts no longer work: please replace them."), "success")
    return redirect(url_for("events.poster", event_id=event_id))


@bp.route("/<int:event_id>/scanner", methods=["GET", "POST"])
@allow(STAFF)
def scanner(event_id):
    """Staff scan volunteers' badges. With JavaScript, badge-scan.js queues scans on the device
    and sends them when it can; without it, this form records one typed code at a time."""
    event = _managed(event_id, "run_door")
    form = BadgeForm()
    if not form.is_submitted():
        form.action.data = request.args.get("action") or (
            "out" if utcnow() >= event.ends_at - services.KIOSK_SWITCH_TO_OUT else "in")
    result, status = None, 200
    if form.validate_on_submit():
        try:
            result = services.check_with_badge(current_user, event.id, form.code.data, form.action.data)
        except DomainError as error:
            not_found_on_404(error)
            attach_error(form, error)
            status = error.status
        else:
            form = BadgeForm(formdata=None, action=form.action.data)
    elif form.errors:
        status = 422
    return render_template("events/scanner.html", event=event, form=form, result=result), status


@bp.route("/<int:event_id>/scans", methods=["POST"])
@allow(STAFF)
def scans(event_id):
    """Queued scans from the staff scanner, as JSON: {"sent_at": ms, "scans": [{nonce, code,
    action, scanned_at}]}. Answers each scan by its nonce."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error=_("The request was not understood.")), 400
    try:
        results = services.record_scans(current_user, event_id, payload.get("scans"), payload.get("sent_at"))
    except DomainError as error:
        not_found_on_404(error)
        return jsonify(error=error.message), error.status
    return jsonify(results=results)


@bp.route("/sw.js")
@allow(PUBLIC)
def service_worker():
    """The scanner's service worker, served from /events/ so that it may keep the scanner page
    for when the network is gone (a worker controls only pages below its own address)."""
    response = make_response(send_from_directory(PROJECT_ROOT / "static" / "js", "events-sw.js", max_age=0))
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


# ---- staff: the roster -------------------------------------------------------------------------


@bp.route("/<int:event_id>/roster")
@allow(STAFF)
def roster(event_id):
    event, data = _or_404(lambda: services.roster_for(current_user, event_id))
    return render_template(
        "events/roster.html", event=event, data=data, shown=data["phones_shown"], in_form=ManualInForm(formdata=None),
        out_form=ManualOutForm(formdata=None), local_input=local_input, now=utcnow(),
    )


@bp.route("/<int:event_id>/roster.csv")
@allow(STAFF)
def roster_csv(event_id):
    event, data = _or_404(lambda: services.roster_for(current_user, event_id, download=True))
    shown = data["phones_shown"]
    signup_labels = {"confirmed": _("has a place"), "waitlisted": _("waiting list"), "cancelled": _("cancelled")}
    state_labels = {"in": _("checked in"), "out": _("checked out"), "review": _("to review")}

    def when(moment):
        return local_input(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    rows = []
    for row in data["rows"]:
        signup, attendance = row["signup"], row["attendance"]
        rows.append([
            row["user"].display_name, row["user"].phone if row["user"].id in shown else row["user"].masked_phone(),
            signup_labels[signup.status] if signup else _("walk-in"),
            when(attendance.checked_in_at) if attendance else "",
            str(METHOD_LABELS[attendance.in_method]) if attendance else "",
            when(attendance.checked_out_at) if attendance else "",
            str(METHOD_LABELS[attendance.out_method]) if attendance and attendance.out_method else "",
            state_labels[attendance.state] if attendance else "",
            _hours(attendance.minutes) if attendance and attendance.minutes is not None else "",
            attendance.points if attendance and attendance.points is not None else "",
            attendance.note if attendance else "",
        ])
    header = [_("Name"), _("Mobile number"), _("Sign-up"), _("Checked in"), _("How"), _("Checked out"), _("How"),
              _("State"), _("Hours"), _("Points"), _("Note")]
    return csv_response(f"event-{event.id}-roster.csv", header, rows)


def _form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _roster_redirect(event_id):
    return redirect(url_for("events.roster", event_id=event_id) + "#attendance")


@bp.route("/<int:event_id>/attendance", methods=["POST"])
@allow(STAFF)
def check_in_by_hand(event_id):
    event = _managed(event_id, "run_door")
    form = ManualInForm()
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return _roster_redirect(event.id)
    try:
        result = services.check_in_by_hand(current_user, event.id, form.phone.data, utc_from_input(form.at.data),
                                           form.reason.data)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(result.message, "success" if result.outcome == "checked_in" else "info")
    return _roster_redirect(event.id)


@bp.route("/attendance/<int:attendance_id>/out", methods=["POST"])
@allow(STAFF)
def check_out_by_hand(attendance_id):
    attendance = Attendance.get_or_none(Attendance.id == attendance_id)
    if attendance is None:
        abort(404)
    event = _managed(attendance.event_id, "run_door")
    form = ManualOutForm()
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return _roster_redirect(event.id)
    try:
        result = services.check_out_by_hand(current_user, attendance_id, utc_from_input(form.at.data), form.reason.data)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
    else:
        flash(result.message, "success")
    return _roster_redirect(event.id)


# ---- volunteers' records, badges and certificates --------------------------------------------


@bp.route("/hours")
@allow(SIGNED_IN)
def hours():
    record = services.volunteer_record(current_user)
    return render_template("events/hours.html", record=record, own=True, button_form=EmptyForm())


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
                           may_replace=services.may_replace_badge(current_user, person), button_form=EmptyForm())


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
