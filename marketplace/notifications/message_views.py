"""The messages pages beyond the inbox: one's channels and quiet hours; staff's call queue and a
resident's messages (channels set for them, delivery history); the providers' receipt
callbacks (signed, no session, no CSRF: the provider is the caller)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import PUBLIC, SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.extensions import csrf
from marketplace.notifications import fallback, preferences, receipts
from marketplace.notifications.forms import CallForm, PreferencesForm
from marketplace.notifications.views import bp


def _fill(form: PreferencesForm, user_id: int) -> None:
    current = preferences.describe(user_id)
    form.sms.data, form.wechat.data = "sms" in current["channels"], "wechat" in current["channels"]
    form.quiet_start.data, form.quiet_end.data = current["quiet_start"], current["quiet_end"]


@bp.route("/preferences", methods=["GET", "POST"])
@allow(SIGNED_IN)
def own_preferences():
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            preferences.set_own(current_user, form.channels(), form.quiet_start.data, form.quiet_end.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Saved: this is how we will reach you."), "success")
            return redirect(url_for("notifications.own_preferences"))
    elif request.method == "GET":
        _fill(form, current_user.id)
    return render_template("notifications/preferences.html", form=form, resident=None)


@bp.route("/people/<int:resident_id>", methods=["GET", "POST"])
@allow(*STAFF)
def resident_messages(resident_id):
    """A resident's channels (staff may set them, audited) and delivery history, in scope."""
    try:
        resident, deliveries = preferences.delivery_history(current_user, resident_id)
    except DomainError:
        abort(404)
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            preferences.set_for_resident(current_user, resident_id, form.channels(), form.quiet_start.data,
                                         form.quiet_end.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Saved: this is how we will reach %(name)s.", name=resident.display_name), "success")
            return redirect(url_for("notifications.resident_messages", resident_id=resident_id))
    elif request.method == "GET":
        _fill(form, resident_id)
    return render_template("notifications/preferences.html", form=form, resident=resident, deliveries=deliveries)


@bp.route("/calls")
@allow(*STAFF)
def calls():
    return render_template("notifications/calls.html", open_calls=list(fallback.calls_for(current_user)),
                           done_calls=list(fallback.calls_for(current_user, done=True).limit(50)), form=CallForm())


@bp.route("/calls/<int:task_id>", methods=["POST"])
@allow(*STAFF)
def record_call(task_id):
    form = CallForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        fallback.record_call(current_user, task_id, form.outcome.data, form.note.data or "")
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("The call is recorded."), "success")
    return redirect(url_for("notifications.calls"))


@bp.route("/receipts/sms/<token>", methods=["POST"])
@allow(PUBLIC)
@csrf.exempt
def sms_receipts(token):
    if not receipts.sms_token_ok(token):
        abort(403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, list):
        return {"code": 1, "msg": "a JSON list was expected"}, 400
    receipts.apply_sms_reports(payload)
    return {"code": 0, "msg": "成功"}  # the answer Alibaba's push expects


@bp.route("/receipts/wechat", methods=["GET", "POST"])
@allow(PUBLIC)
@csrf.exempt
def wechat_events():
    args = request.args
    if not receipts.wechat_signature_ok(args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")):
        abort(403)
    if request.method == "GET":  # WeChat's check of the server URL
        return args.get("echostr", "")
    receipts.apply_wechat_event(request.get_data(cache=False)[:16_385])
    return "success"
