"""Event pages for staff: organising events, running the door (kiosk, poster, badge scanner) and
the roster with check-in by hand. They add their routes to the events blueprint (views.bp)."""

from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import PUBLIC, STAFF, allow
from marketplace.config import PROJECT_ROOT
from marketplace.errors import DomainError
from marketplace.events import permissions, services, tokens
from marketplace.events.forms import (
    METHOD_LABELS,
    BadgeForm,
    EventForm,
    ManualInForm,
    ManualOutForm,
    local_input,
    utc_from_input,
)
from marketplace.events.models import Attendance
from marketplace.events.views import _act_on_event, _hours, _managed, _or_404, bp
from marketplace.forms import EmptyForm, ReasonForm, choices_of
from marketplace.qr import qr_svg
from marketplace.timeutil import utcnow
from marketplace.web import attach_error, csv_response, not_found_on_404

# ---- staff: organising -----------------------------------------------------------------------


@bp.route("/manage")
@allow(STAFF)
def manage():
    return render_template("events/manage.html", events=list(services.managed_events(current_user)), now=utcnow())


def _event_form(form, event=None):
    communities = services.communities_for(current_user)
    form.community_id.choices = choices_of([(c.id, c.name) for c in communities])
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


def _organiser_action(event_id, action, message):
    """A button only organisers see: anyone else pressing it hears 404 or 403, not a flash."""
    return _act_on_event(event_id, lambda: _or_404(action), message)


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


# The hour corrections' pages join the blueprint with these (imported here, so the app's list of
# page modules stays as it is).
from marketplace.events import correction_views  # noqa: E402, F401
