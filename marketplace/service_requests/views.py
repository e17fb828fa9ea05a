"""Service request pages: booking and following a request (residents), the job board and
on-site finishing (volunteers and partners), and the staff's overview in their scope."""

from collections.abc import Mapping

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace import access, workdays
from marketplace.access import SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.extensions import limiter
from marketplace.forms import EmptyForm, ReasonForm, choices_of
from marketplace.menu.models import ServiceItem
from marketplace.pagination import InvalidCursor, paginate, split_page
from marketplace.qr import qr_svg
from marketplace.service_requests import clocks, promises, services
from marketplace.service_requests import jobs as open_jobs
from marketplace.service_requests.forms import (
    PERIOD_LABELS,
    AnswerForm,
    BookingForm,
    CodeForm,
    DecideReopenForm,
    EscalateForm,
    JobFilterForm,
    NoteForm,
    RatingForm,
    ReopenForm,
    ResolveForm,
)
from marketplace.service_requests.models import REQUEST_LISTS, Reopening, RequestEvent, ServiceRequest, in_list
from marketplace.web import act_and_flash, attach_error, not_found_on_404

bp = Blueprint("service_requests", __name__)

PROVIDERS = ("volunteer", "partner_staff")


class _TranslatedOnLookup(Mapping):
    """Labels translated when a page shows one, not each time any page renders (the context
    processor runs for every template). Plain text, so Jinja escapes it like any other string
    (a lazy string would pass as markup)."""

    def __init__(self, messages: dict):
        self._messages = messages

    def __getitem__(self, key):
        return str(self._messages[key])

    def __iter__(self):
        return iter(self._messages)

    def __len__(self):
        return len(self._messages)


ACTION_LABELS = _TranslatedOnLookup({
    "book": _l("Asked for help"), "claim": _l("Taken"), "release": _l("Given back"), "cancel": _l("Cancelled"),
    "finish_on_site": _l("Confirmed on site with the resident's code"), "mark_done": _l("Marked as done"),
    "confirm": _l("Confirmed by the resident"), "dispute": _l("Problem reported"),
    "auto_confirm": _l("Confirmed automatically after 3 working days"),
    "resolve_confirm": _l("Dispute settled: done"), "resolve_redo": _l("Dispute settled: the helper comes back"),
    "resolve_cancel": _l("Dispute settled: cancelled"), "rate": _l("Rated"), "escalate": _l("Handed to a street department"),
    "solve": _l("Solved"), "give_feedback": _l("Feedback given"), "explain_reasons": _l("Reasons explained"),
    "rise": _l("Late, so passed one level up"), "request_reopen": _l("Reopening asked for"),
    "reopen": _l("Reopened, one level higher"), "decline_reopen": _l("Reopening declined"),
})
JOBS_PER_PAGE = 20  # the job board's cards per page


@bp.app_template_filter("deadline")
def deadline(moment):
    """Deadlines are stored as the end of their last working day (next midnight, local); people
    read them as that day. Many rows share a deadline, so each one is formatted once a request."""
    if moment is None:
        return ""
    formatted = g.setdefault("_deadlines", {})
    if moment not in formatted:
        formatted[moment] = format_date(workdays.due_day(moment), "medium")
    return formatted[moment]


@bp.app_context_processor
def _request_helpers():
    return {"state_label": services.state_label, "period_labels": PERIOD_LABELS,
            "action_labels": ACTION_LABELS, "clock_labels": _TranslatedOnLookup(clocks.CLOCK_LABELS),
            "outcome_labels": _TranslatedOnLookup(clocks.OUTCOME_LABELS)}


# ---- residents -------------------------------------------------------------------------------


@bp.route("/requests/")
@allow(SIGNED_IN)
def mine():
    own = [
        services.auto_confirm_if_due(r)
        for r in ServiceRequest.select().where(ServiceRequest.resident == current_user.id).order_by(ServiceRequest.id.desc())
    ]
    return render_template("service_requests/mine.html", requests=own,
                           verified=services.resident_household_id(current_user) is not None)


@bp.route("/requests/new/<item_code>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def book(item_code):
    item = ServiceItem.get_or_none((ServiceItem.code == item_code) & ServiceItem.active)
    if item is None:
        abort(404)
    if services.resident_household_id(current_user) is None:
        return redirect(url_for("users.household"))  # which says whether verification is pending
    form = BookingForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            req = services.book(current_user, item.id, form.description.data, form.preferred_date.data,
                                form.preferred_period.data, photo)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("Your request is in. We will find a helper; you can follow it here."), "success")
            return redirect(url_for("service_requests.show", request_id=req.id))
    return render_template("service_requests/book.html", form=form, item=item), 422 if form.errors else 200


def _visible(request_id: int) -> ServiceRequest:
    try:
        return services.get_visible(current_user, request_id)
    except DomainError:
        abort(404)


@bp.route("/requests/<int:request_id>")
@allow(SIGNED_IN)
def show(request_id):
    req = _visible(request_id)
    events = RequestEvent.select().where(RequestEvent.request == req.id).order_by(RequestEvent.id)
    finish_url = url_for("service_requests.finish", request_id=req.id, code=req.onsite_code, _external=True)
    return render_template(
        "service_requests/show.html", req=req, events=events,
        contact=services.reveal_contact(current_user, req) if services.may_see_contact(current_user, req) else None,
        actions=promises.available_actions(current_user, req),
        code_qr=qr_svg(finish_url, _("On-site confirmation code")) if services.shows_onsite_code(current_user, req)
        else None,
        rating=open_jobs.provider_rating(req.claimer, req.claimer_partner_id) if req.claimer_id else (None, 0),
        button_form=EmptyForm(), reason_form=ReasonForm(formdata=None), rating_form=RatingForm(formdata=None),
        note_form=NoteForm(formdata=None), code_form=CodeForm(formdata=None),
        escalate_form=_escalate_form(formdata=None), resolve_form=ResolveForm(formdata=None),
        holder=clocks.holder(req), clocks=clocks.clocks_of(req.id), answer_form=AnswerForm(formdata=None),
        reopen_form=ReopenForm(formdata=None), decide_form=DecideReopenForm(formdata=None),
        reopening=Reopening.select().where(Reopening.request == req.id).order_by(Reopening.id.desc()).first(),
    )


def _escalate_form(**kwargs) -> EscalateForm:
    form = EscalateForm(**kwargs)
    form.department.choices = choices_of([(str(d.id), d.name) for d in promises.departments()])
    return form


@bp.route("/requests/<int:request_id>/photo")
@allow(SIGNED_IN)
def photo(request_id):
    req = _visible(request_id)
    if not req.photo or not services.may_see_contact(current_user, req):
        abort(404)
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], req.photo, max_age=0)


def _do(request_id, action, success_message):
    """Run one state change from a button; the request page shows the outcome."""
    return act_and_flash(action, success_message, url_for("service_requests.show", request_id=request_id))


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@allow(SIGNED_IN)
def cancel(request_id):
    reason = ReasonForm().reason.data
    return _do(request_id, lambda: services.cancel(current_user, request_id, reason), _("The request is cancelled."))


@bp.route("/requests/<int:request_id>/confirm", methods=["POST"])
@allow(SIGNED_IN)
def confirm(request_id):
    return _do(request_id, lambda: services.confirm(current_user, request_id),
               _("Thank you for confirming. Please rate the service below."))


@bp.route("/requests/<int:request_id>/dispute", methods=["POST"])
@allow(SIGNED_IN)
def dispute(request_id):
    reason = ReasonForm().reason.data
    return _do(request_id, lambda: services.dispute(current_user, request_id, reason),
               _("We are sorry. The community staff will look into it."))


@bp.route("/requests/<int:request_id>/rate", methods=["POST"])
@allow(SIGNED_IN)
def rate(request_id):
    form = RatingForm()
    stars = int(form.rating.data) if (form.rating.data or "").isdigit() else 0
    return _do(request_id, lambda: services.rate(current_user, request_id, stars, form.comment.data),
               _("Thank you for your rating."))


# ---- volunteers and partners -------------------------------------------------------------------


@bp.route("/jobs/")
@allow(PROVIDERS)
def board():
    form = JobFilterForm(request.args)
    categories, grids = open_jobs.board_filters()
    form.category.choices = choices_of([(0, _("All categories"))] + categories)
    form.grid.choices = choices_of([(0, _("All grids"))] + grids)
    form.validate()
    category, grid = form.category.data or None, form.grid.data or None
    # One page at a time, after the last job of the page before (the same cursor as the API's).
    after, status = request.args.get("after") or None, 200
    if after:
        try:
            jobs, next_cursor = paginate(open_jobs.job_board(current_user, category, grid), open_jobs.JOB_BOARD_ORDER,
                                         after, JOBS_PER_PAGE)
        except InvalidCursor as error:  # an edited link: say so, and show the first page
            flash(error.message, "error")
            after, status = None, 400
    if not after:
        jobs, next_cursor = split_page(open_jobs.first_page(current_user, category, grid, JOBS_PER_PAGE + 1),
                                       open_jobs.JOB_BOARD_ORDER, JOBS_PER_PAGE)
    partners = access.scope_of(current_user).partners
    stars = open_jobs.provider_rating(current_user, partners[0] if partners else None)
    return render_template("service_requests/board.html", jobs=jobs, form=form, stars=stars,
                           filters={"category": category, "grid": grid}, next_cursor=next_cursor,
                           first_page=after is None), status


@bp.route("/jobs/mine")
@allow(PROVIDERS)
def my_jobs():
    return render_template("service_requests/my_jobs.html", jobs=open_jobs.my_jobs(current_user))


@bp.route("/jobs/<int:request_id>/claim", methods=["POST"])
@allow(PROVIDERS)
def claim(request_id):
    try:
        services.claim(current_user, request_id)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
        return redirect(url_for("service_requests.board"))
    flash(_("The job is yours. The resident's address and phone are below."), "success")
    return redirect(url_for("service_requests.show", request_id=request_id))


@bp.route("/jobs/<int:request_id>/release", methods=["POST"])
@allow(PROVIDERS)
def release(request_id):
    reason = ReasonForm().reason.data
    return _do(request_id, lambda: services.release(current_user, request_id, reason),
               _("The job is back on the board for someone else."))


@bp.route("/jobs/<int:request_id>/done", methods=["POST"])
@allow(PROVIDERS)
def mark_done(request_id):
    note = NoteForm().note.data
    return _do(request_id, lambda: services.mark_done(current_user, request_id, note),
               _("Marked as done. The resident will be asked to confirm."))


@bp.route("/jobs/<int:request_id>/finish", methods=["GET", "POST"])
@allow(PROVIDERS)
@limiter.limit(lambda: current_app.config["ONSITE_CODE_RATE_LIMIT"], methods=["POST"])
def finish(request_id):
    """At the door: type the resident's code, or scan its QR with the phone's camera, which opens
    this page with the code filled in. It shows the address: only to the helper the job is for."""
    req = _visible(request_id)
    if not services.may_see_contact(current_user, req):
        abort(404)
    form = CodeForm()
    if not form.is_submitted() and request.args.get("code"):
        form.code.data = request.args["code"][:20]
    if form.validate_on_submit():
        try:
            services.finish_on_site(current_user, request_id, form.code.data)
        except DomainError as error:
            not_found_on_404(error)
            attach_error(form, error)
        else:
            flash(_("Confirmed on site. Thank you! The points are on their way."), "success")
            return redirect(url_for("service_requests.show", request_id=request_id))
    status = 200 if not form.errors else 422
    return render_template("service_requests/finish.html", req=req, form=form), status


# ---- staff ---------------------------------------------------------------------------------------


@bp.route("/requests/overview")
@allow(STAFF)
def overview():
    show_only = request.args.get("show", "open")
    query = ServiceRequest.select().where(ServiceRequest.household.in_(access.scope_of(current_user).households()))
    if show_only not in REQUEST_LISTS:
        show_only = "open"
    if in_list(show_only) is not None:
        query = query.where(in_list(show_only))
    return render_template("service_requests/overview.html", requests=query.order_by(ServiceRequest.due_at).limit(200),
                           show=show_only)


@bp.route("/requests/<int:request_id>/escalate", methods=["POST"])
@allow(STAFF)
def escalate(request_id):
    form = _escalate_form()
    if not form.validate():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("service_requests.show", request_id=request_id))
    return _do(request_id, lambda: promises.escalate(current_user, request_id, form.department.data, form.major.data,
                                                     form.note.data),
               _("Handed to the department. The new deadlines are shown below."))


# ---- answers that close clocks, reopening, the department's queue --------------------------------


ANSWERED = {
    "solve": (promises.solve, _l("Recorded as solved. The resident is told.")),
    "feedback": (promises.give_feedback, _l("Feedback recorded. The resident is told.")),
    "explain": (promises.explain_reasons, _l("Reasons recorded. The resident is told.")),
}


@bp.route("/requests/<int:request_id>/<any(solve, feedback, explain):kind>", methods=["POST"])
@allow(STAFF)
def answer(request_id, kind):
    act, message = ANSWERED[kind]
    text = AnswerForm().text.data
    return _do(request_id, lambda: act(current_user, request_id, text), str(message))


@bp.route("/requests/<int:request_id>/reopen", methods=["POST"])
@allow(SIGNED_IN)
def request_reopen(request_id):
    reason = ReopenForm().reason.data
    return _do(request_id, lambda: promises.request_reopen(current_user, request_id, reason),
               _("Thank you. The staff will look at it again and answer you."))


@bp.route("/requests/<int:request_id>/reopen/decide", methods=["POST"])
@allow(STAFF)
def decide_reopen(request_id):
    form = DecideReopenForm()
    return _do(request_id, lambda: promises.decide_reopen(current_user, request_id, form.decision.data,
                                                          form.reason.data), _("Decision recorded. The resident is told."))


@bp.route("/requests/department")
@allow("street_officer")
def department_queue():
    department = promises.officer_department(current_user)
    show_all = request.args.get("show") == "all"
    rows = list(promises.department_queue(current_user, include_closed=show_all).limit(200))
    return render_template("service_requests/department.html", department=department, requests=rows,
                           holders={r.id: clocks.holder(r) for r in rows}, show_all=show_all)


@bp.route("/requests/<int:request_id>/resolve", methods=["POST"])
@allow(STAFF)
def resolve(request_id):
    form = ResolveForm()
    return _do(request_id, lambda: services.resolve(current_user, request_id, form.outcome.data, form.note.data or ""),
               _("The dispute is settled."))


