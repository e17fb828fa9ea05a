"""Hour corrections on the pages: a volunteer asks from their hours page; the event's staff answer
from one list. They add their routes to the events blueprint (views.bp); the rules are in
events/corrections.py."""

from flask import abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.events import services
from marketplace.events.forms import CorrectionForm, DecisionForm, local_input, utc_from_input
from marketplace.events.models import Attendance, Event, HourCorrection
from marketplace.events.views import _or_404, bp
from marketplace.forms import EmptyForm
from marketplace.web import act_and_flash, attach_error, not_found_on_404


def _own_attendance(attendance_id: int) -> Attendance:
    attendance = (Attendance.select(Attendance, Event).join(Event)
                  .where(Attendance.id == attendance_id, Attendance.user == current_user.id).first())
    if attendance is None:
        abort(404)
    return attendance


@bp.route("/hours/<int:attendance_id>/correction", methods=["GET", "POST"])
@allow(SIGNED_IN)
def ask_correction(attendance_id):
    attendance = _own_attendance(attendance_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            services.request_hour_correction(current_user, attendance.id, utc_from_input(form.checked_in_at.data),
                                             utc_from_input(form.checked_out_at.data), form.reason.data,
                                             photo=photo)
        except DomainError as error:
            not_found_on_404(error)
            attach_error(form, error)
        else:
            flash(_("Your request was sent to the event's staff. You will get a message with their answer."), "success")
            return redirect(url_for("events.hours") + "#corrections")
    history = list(HourCorrection.select().where(HourCorrection.attendance == attendance.id)
                   .order_by(HourCorrection.created_at.desc()))
    return render_template("events/correction.html", attendance=attendance, event=attendance.event, form=form,
                           history=history, local_input=local_input)


@bp.route("/corrections/<int:correction_id>/photo")
@allow(SIGNED_IN)
def correction_photo(correction_id):
    name = _or_404(lambda: services.correction_photo(current_user, correction_id))
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], name, max_age=0)


@bp.route("/corrections")
@allow(STAFF)
def corrections():
    pending = list(services.corrections_for_staff(current_user))
    decided = list(services.corrections_for_staff(current_user, "approved").limit(20)) + \
        list(services.corrections_for_staff(current_user, "declined").limit(20))
    decided.sort(key=lambda c: c.decided_at or c.created_at, reverse=True)
    return render_template("events/corrections.html", pending=pending, decided=decided[:20],
                           form=DecisionForm(formdata=None), honour=list(services.honour_hours_waiting(current_user)))


def _decide(correction_id, decide, message):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return act_and_flash(lambda: decide(current_user, correction_id, form.note.data), message,
                         url_for("events.corrections"))


@bp.route("/corrections/<int:correction_id>/approve", methods=["POST"])
@allow(STAFF)
def approve_correction(correction_id):
    return _decide(correction_id, services.approve_hour_correction,
                   _("Approved: the hours are changed and the difference in points is paid or taken back."))


@bp.route("/corrections/<int:correction_id>/decline", methods=["POST"])
@allow(STAFF)
def decline_correction(correction_id):
    return _decide(correction_id, services.decline_hour_correction,
                   _("Declined: the volunteer reads your reason."))


@bp.route("/attendance/<int:attendance_id>/honour/approve", methods=["POST"])
@allow(STAFF)
def approve_honour(attendance_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act_and_flash(lambda: services.approve_honour_hours(current_user, attendance_id),
                         _("Approved: the honour hours are counted and paid."), url_for("events.corrections") + "#honour")
