"""The proposals' pages: the list, proposing, a matter's page with every act its reader may do,
the floor areas staff enter, and the public board's pages (no names, counts only). Thin: each
POST calls one service and goes back to the matter's page."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import PUBLIC, SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.events.forms import utc_from_input
from marketplace.forms import EmptyForm, choices_of
from marketplace.partners.models import PartnerEnterprise
from marketplace.proposals import action, evaluation, participation, services, votes
from marketplace.proposals.forms import (
    CHOICE_LABELS,
    MATTER_LABELS,
    PARTY_LABELS,
    SCOPE_LABELS,
    ActionForm,
    AreaForm,
    CloseTaskForm,
    DecideForm,
    EvaluateForm,
    InPersonVoteForm,
    MeetingForm,
    MinutesForm,
    OnBehalfForm,
    OpenVoteForm,
    PointsForm,
    ProposalForm,
    SpendingForm,
    TaskForm,
    UpdateForm,
    VoteForm,
)
from marketplace.proposals.models import Proposal, ProposalUpdate
from marketplace.proxy import services as proxy
from marketplace.service_requests.models import Department
from marketplace.timeutil import utcnow
from marketplace.web import attach_error, not_found_on_404

bp = Blueprint("proposals", __name__)

def _labels():
    # Built per request: the language is the reader's.
    return {"proposed": _("Proposed: waiting for the staff"), "declined": _("Declined"),
            "discussion": _("Under discussion"), "voting": _("Being voted on"), "passed": _("Passed"),
            "rejected": _("Not passed"), "in_action": _("Being carried out"), "done": _("The work is done")}


@bp.app_context_processor
def _helpers():
    return {"proposal_state": lambda state: _labels().get(state, state), "area_text": services.area_text,
            "yuan": lambda fen: f"{(fen or 0) // 100:,}.{(fen or 0) % 100:02d}"}


def _visible(proposal_id: int) -> Proposal:
    try:
        return services.get_visible(current_user, proposal_id)
    except DomainError:
        abort(404)


def _back(proposal_id: int, anchor: str = ""):
    return redirect(url_for("proposals.show", proposal_id=proposal_id) + (f"#{anchor}" if anchor else ""))


def _act(proposal_id: int, call, message: str, anchor: str = ""):
    """Run one service call; its refusal is flashed (a 404 for what the person may not see)."""
    try:
        call()
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
    else:
        flash(message, "success")
    return _back(proposal_id, anchor)


@bp.route("/proposals")
@allow(SIGNED_IN)
def index():
    household = services.household_of(current_user)
    return render_template("proposals/index.html", proposals=list(services.visible_proposals(current_user)),
                           verified=household is not None)


@bp.route("/proposals/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
def new():
    if services.household_of(current_user) is None:
        flash(_("Only verified residents can propose a matter. Please tell us where you live first."), "info")
        return redirect(url_for("users.household"))
    form = ProposalForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            proposal = services.create_proposal(current_user, form.scope_kind.data, form.title.data, form.body.data,
                                                photo)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("Your proposal is in. The households it concerns can support it; the staff will answer you."),
                  "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    return render_template("proposals/new.html", form=form), 422 if form.errors else 200


@bp.route("/proposals/new/for/<int:user_id>", methods=["GET", "POST"])
@allow(SIGNED_IN)  # staff in scope, and family the resident consented to (404 to others)
def new_for(user_id):
    """A resident without a phone tells the building head, who writes the proposal down for them:
    an act on their behalf (the proxy's record, message and receipt)."""
    try:
        person = proxy.person_to_act_for(current_user, user_id)
    except DomainError:
        abort(404)
    form = OnBehalfForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            proposal = services.create_proposal(current_user, form.scope_kind.data, form.title.data, form.body.data,
                                                photo, for_user_id=person.id)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("The proposal is in, in %(name)s's name; they are told and can print the receipt.",
                    name=person.display_name), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    return render_template("proposals/new.html", form=form, for_person=person), 422 if form.errors else 200


def _in_person_form(proposal):
    form = InPersonVoteForm(formdata=None)
    form.household.choices = choices_of([(str(h.id), f"{h.building.name} {h.unit}")
                                         for h in services.verified_households_in(proposal).order_by(services.Household.id)])
    return form


def _task_form(proposal):
    form = TaskForm(formdata=None)
    form.partner.choices = choices_of([("", "—")] + [(str(p.id), p.name) for p in PartnerEnterprise.select().where(
        PartnerEnterprise.community == proposal.community_id).order_by(PartnerEnterprise.id)])
    form.department.choices = choices_of([("", "—")] + [(str(d.id), d.name) for d in Department.select().where(
        Department.active == True).order_by(Department.id)])  # noqa: E712
    return form


@bp.route("/proposals/<int:proposal_id>")
@allow(SIGNED_IN)
def show(proposal_id):
    proposal = _visible(proposal_id)
    staff = services.staff_covers(current_user, proposal)
    household = services.household_of(current_user)
    tasks = action.tasks_of(proposal)
    return render_template(
        "proposals/show.html", proposal=proposal, staff=staff, concerned=services.concerns(proposal, household),
        supports=proposal.supports.count(), supported=services.supported_by(current_user, proposal),
        figures=votes.figures_of(proposal), my_vote=votes.household_vote(current_user, proposal),
        tasks=tasks, closable={t.id for t in tasks if action.may_close_task(current_user, t)},
        days_used={t.id: action.working_days_used(t) for t in tasks},
        spending=action.spending_of(proposal), spent=action.spent_fen(proposal),
        updates=action.updates_of(proposal),
        may_update=staff or services.partner_works_on(current_user, proposal),
        evaluations=evaluation.summary(proposal), my_evaluation=evaluation.household_evaluation(current_user, proposal),
        button=EmptyForm(), decide_form=DecideForm(formdata=None), meeting_form=MeetingForm(formdata=None),
        minutes_form=MinutesForm(formdata=None, minutes=proposal.minutes), vote_open_form=OpenVoteForm(formdata=None),
        vote_form=VoteForm(formdata=None), person_form=_in_person_form(proposal) if staff else None,
        action_form=ActionForm(formdata=None), task_form=_task_form(proposal) if staff else None,
        close_forms={t.id: CloseTaskForm(formdata=None, prefix=f"task{t.id}") for t in tasks},
        spending_form=SpendingForm(formdata=None), update_form=UpdateForm(formdata=None),
        evaluate_form=EvaluateForm(formdata=None),
        now_utc=utcnow(),
        points_form=PointsForm(formdata=None, vote_points=proposal.vote_points, meeting_points=proposal.meeting_points),
        choice_labels=CHOICE_LABELS, matter_labels=MATTER_LABELS,
        party_labels=PARTY_LABELS, scope_labels=SCOPE_LABELS,
        photo_url=lambda update: url_for("proposals.update_photo", update_id=update.id),
    )


@bp.route("/proposals/<int:proposal_id>/photo")
@allow(SIGNED_IN)
def photo(proposal_id):
    proposal = _visible(proposal_id)
    if not proposal.photo:
        abort(404)
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], proposal.photo, max_age=0)


@bp.route("/proposals/updates/<int:update_id>/photo")
@allow(SIGNED_IN)
def update_photo(update_id):
    update = ProposalUpdate.get_or_none(ProposalUpdate.id == update_id)
    if update is None or not update.photo:
        abort(404)
    _visible(update.proposal_id)
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], update.photo, max_age=0)


@bp.route("/proposals/<int:proposal_id>/support", methods=["POST"])
@allow(SIGNED_IN)
def support(proposal_id):
    if not EmptyForm().validate_on_submit():
        return _back(proposal_id)
    return _act(proposal_id, lambda: services.support(current_user, proposal_id), _("Your household supports this matter."))


@bp.route("/proposals/<int:proposal_id>/decide/<any(accept, decline):decision>", methods=["POST"])
@allow(STAFF)
def decide(proposal_id, decision):
    form = DecideForm()
    if not form.validate_on_submit():
        return _back(proposal_id)
    message = _("Accepted for the grid's discussion.") if decision == "accept" else _("Declined; the proposer reads your reason.")
    return _act(proposal_id, lambda: services.decide(current_user, proposal_id, decision, form.reason.data), message)


@bp.route("/proposals/<int:proposal_id>/meeting", methods=["POST"])
@allow(STAFF)
def meeting(proposal_id):
    form = MeetingForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return _back(proposal_id, "meeting")
    return _act(proposal_id, lambda: services.schedule_meeting(
        current_user, proposal_id, utc_from_input(form.starts_at.data), utc_from_input(form.ends_at.data),
        form.place.data), _("The meeting is on the events list; the households can sign up and check in."), "meeting")


@bp.route("/proposals/<int:proposal_id>/points", methods=["POST"])
@allow(STAFF)
def points(proposal_id):
    form = PointsForm()
    if not form.validate_on_submit():
        flash(_("Points for taking part are a whole number from 0 (off) to %(most)d.", most=participation.MAX_POINTS),
              "error")
        return _back(proposal_id, "points")
    return _act(proposal_id, lambda: participation.set_points(current_user, proposal_id, form.vote_points.data,
                                                              form.meeting_points.data),
                _("The points for taking part are saved."), "points")


@bp.route("/proposals/<int:proposal_id>/minutes", methods=["POST"])
@allow(STAFF)
def minutes(proposal_id):
    form = MinutesForm()
    if not form.validate_on_submit():
        return _back(proposal_id, "meeting")
    return _act(proposal_id, lambda: services.record_minutes(current_user, proposal_id, form.minutes.data),
                _("The minutes are recorded."), "meeting")


@bp.route("/proposals/<int:proposal_id>/vote/open", methods=["POST"])
@allow(STAFF)
def open_vote(proposal_id):
    form = OpenVoteForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return _back(proposal_id, "vote")
    return _act(proposal_id, lambda: votes.open_vote(
        current_user, proposal_id, form.motion.data, form.matter.data, form.vote_days.data,
        form.participation.data, form.majority.data), _("The vote is open."), "vote")


@bp.route("/proposals/<int:proposal_id>/vote", methods=["POST"])
@allow(SIGNED_IN)
def vote(proposal_id):
    form = VoteForm()
    if not form.validate_on_submit():
        flash(_("Please choose for, against or abstain."), "error")
        return _back(proposal_id, "vote")
    return _act(proposal_id, lambda: votes.cast_vote(current_user, proposal_id, form.choice.data),
                _("Your household's vote is counted."), "vote")


@bp.route("/proposals/<int:proposal_id>/vote/in-person", methods=["POST"])
@allow(STAFF)
def vote_in_person(proposal_id):
    form = InPersonVoteForm()
    form.household.choices = None  # any id: the service checks it is a household concerned
    household = request.form.get("household", "")
    if not household.isdigit() or form.person_choice.data not in CHOICE_LABELS:
        flash(_("Please choose a household and its vote."), "error")
        return _back(proposal_id, "vote")
    if not EmptyForm().validate_on_submit():
        return _back(proposal_id, "vote")
    return _act(proposal_id, lambda: votes.record_in_person(current_user, proposal_id, int(household[:12]),
                                                            form.person_choice.data),
                _("The household's vote is recorded on its behalf."), "vote")


@bp.route("/proposals/<int:proposal_id>/vote/close", methods=["POST"])
@allow(STAFF)
def close_vote(proposal_id):
    if not EmptyForm().validate_on_submit():
        return _back(proposal_id, "vote")
    return _act(proposal_id, lambda: votes.close_vote(current_user, proposal_id),
                _("The vote is counted; its result is final."), "vote")


@bp.route("/proposals/<int:proposal_id>/action", methods=["POST"])
@allow(STAFF)
def start_action(proposal_id):
    form = ActionForm()
    if not form.validate_on_submit():
        return _back(proposal_id, "action")
    return _act(proposal_id, lambda: action.start_action(current_user, proposal_id, form.budget.data),
                _("The matter is in action."), "action")


@bp.route("/proposals/<int:proposal_id>/tasks", methods=["POST"])
@allow(STAFF)
def add_task(proposal_id):
    form = TaskForm()
    form.partner.choices = form.department.choices = None
    if not EmptyForm().validate_on_submit():
        return _back(proposal_id, "action")
    partner, department = request.form.get("partner", ""), request.form.get("department", "")
    return _act(proposal_id, lambda: action.add_task(
        current_user, proposal_id, form.task_title.data, form.party_kind.data, form.task_days.data,
        int(partner[:12]) if partner.isdigit() else None, int(department[:12]) if department.isdigit() else None,
        form.party_name.data), _("The task is handed over; its clock runs."), "action")


@bp.route("/proposals/tasks/<int:task_id>/done", methods=["POST"])
@allow(SIGNED_IN)
def close_task(task_id):
    from marketplace.proposals.models import ProposalTask

    task = ProposalTask.get_or_none(ProposalTask.id == task_id)
    if task is None:
        abort(404)
    _visible(task.proposal_id)
    form = CloseTaskForm(prefix=f"task{task.id}")
    if not form.validate_on_submit():
        return _back(task.proposal_id, "action")
    return _act(task.proposal_id, lambda: action.close_task(current_user, task.id, form.answer.data),
                _("The task is recorded as done."), "action")


@bp.route("/proposals/<int:proposal_id>/spending", methods=["POST"])
@allow(STAFF)
def add_spending(proposal_id):
    form = SpendingForm()
    if not form.validate_on_submit():
        return _back(proposal_id, "money")
    return _act(proposal_id, lambda: action.add_spending(current_user, proposal_id, form.spent_on.data,
                                                         form.purpose.data, form.amount.data),
                _("The spending is published on the public board."), "money")


@bp.route("/proposals/<int:proposal_id>/updates", methods=["POST"])
@allow(SIGNED_IN)
def add_update(proposal_id):
    form = UpdateForm()
    if not form.validate_on_submit():
        return _back(proposal_id, "progress")
    upload = form.photo.data
    photo = upload.read() if upload and getattr(upload, "filename", "") else None
    return _act(proposal_id, lambda: action.add_update(current_user, proposal_id, form.text.data, photo),
                _("The progress is posted."), "progress")


@bp.route("/proposals/<int:proposal_id>/finish", methods=["POST"])
@allow(STAFF)
def finish(proposal_id):
    if not EmptyForm().validate_on_submit():
        return _back(proposal_id, "action")
    return _act(proposal_id, lambda: action.finish(current_user, proposal_id),
                _("The work is done; the households can now evaluate it."), "evaluation")


@bp.route("/proposals/<int:proposal_id>/evaluate", methods=["POST"])
@allow(SIGNED_IN)
def evaluate(proposal_id):
    form = EvaluateForm()
    if not form.validate_on_submit():
        flash(_("Please choose 1 to 5 stars."), "error")
        return _back(proposal_id, "evaluation")
    return _act(proposal_id, lambda: evaluation.evaluate(current_user, proposal_id, int(form.rating.data),
                                                         form.comment.data),
                _("Thank you: your household's evaluation is recorded."), "evaluation")


@bp.route("/proposals/<int:proposal_id>/areas", methods=["GET", "POST"])
@allow(STAFF)
def areas(proposal_id):
    proposal = _visible(proposal_id)
    if not services.staff_covers(current_user, proposal):
        abort(403)
    form = AreaForm()
    if request.method == "POST":
        household = request.form.get("household", "")
        if form.validate_on_submit() and household.isdigit():
            try:
                services.set_floor_area(current_user, int(household[:12]), form.floor_area.data)
            except DomainError as error:
                not_found_on_404(error)
                flash(error.message, "error")
            else:
                flash(_("The floor area is saved."), "success")
        return redirect(url_for("proposals.areas", proposal_id=proposal.id))
    households = list(services.households_in(proposal).order_by(services.Building.id, services.Household.unit))
    return render_template("proposals/areas.html", proposal=proposal, households=households,
                           form=AreaForm(formdata=None))


@bp.route("/households/<int:household_id>/floor-area", methods=["POST"])
@allow(STAFF)
def household_area(household_id):
    """The floor area from a person's page (staff/people): the same rule and audit entry as on a
    matter's list of areas."""
    person = request.form.get("person", "")
    back = url_for("staff.person", user_id=int(person[:12])) + "#floor-area" if person.isdigit() else \
        url_for("proposals.index")
    form = AreaForm()
    if not form.validate_on_submit():
        flash(_("Please enter the floor area in square metres, like 89.5."), "error")
        return redirect(back)
    try:
        services.set_floor_area(current_user, household_id, form.floor_area.data)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
    else:
        flash(_("The floor area is saved."), "success")
    return redirect(back)


# ---- the public board ---------------------------------------------------------------------------


@bp.route("/board/proposals")
@allow(PUBLIC)
def board():
    return render_template("proposals/board.html", proposals=list(services.public_proposals()))


@bp.route("/board/proposals/<int:proposal_id>")
@allow(PUBLIC)
def board_show(proposal_id):
    try:
        proposal = services.public_proposal(proposal_id)
    except DomainError:
        abort(404)
    tasks = action.tasks_of(proposal)
    return render_template(
        "proposals/public.html", proposal=proposal, figures=votes.figures_of(proposal),
        supports=proposal.supports.count(), tasks=tasks,
        days_used={t.id: action.working_days_used(t) for t in tasks}, spending=action.spending_of(proposal),
        spent=action.spent_fen(proposal), evaluations=evaluation.summary(proposal), party_labels=PARTY_LABELS,
        updates=action.updates_of(proposal),
        scope_labels=SCOPE_LABELS, matter_labels=MATTER_LABELS,
    )

