"""联动: the action a passed matter sets going. Tasks handed to the parties that carry it out (a
partner enterprise, the property company, a street department), each with its clock: due in
working days (workdays.add_working_days, as the promises' clocks), closed by the party's
recorded answer, on time or late, never reset. The budget, each spending entry (published as the
board's fund use, so the money shows on the board with the rest), and progress updates with
photos. The action ends when staff say it is done; then the households evaluate it.
"""

from datetime import datetime

from flask_babel import gettext as _

from marketplace import access, audit, workdays
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.partners.models import PartnerEnterprise
from marketplace.proposals.models import PARTY_KINDS, Proposal, ProposalSpending, ProposalTask, ProposalUpdate
from marketplace.proposals.services import _changed, get_covered, get_visible, partner_works_on, staff_covers
from marketplace.public import services as board
from marketplace.service_requests import services as request_services
from marketplace.service_requests.models import Department
from marketplace.timeutil import utcnow

MAX_TASK_DAYS = 250


def start_action(staff, proposal_id: int, budget: str, now: datetime | None = None) -> Proposal:
    """A passed matter goes into action with its budget (yuan; 0 when nothing is spent)."""
    proposal = get_covered(staff, proposal_id)
    fen = board.parse_yuan(budget) if (budget or "").strip() not in ("", "0") else 0
    with db.atomic():
        _changed(proposal.id, "passed", status="in_action", budget_fen=fen)
        audit.record(staff, "proposals.action.started", proposal, budget_fen=fen)
    return Proposal.get_by_id(proposal.id)


def add_task(staff, proposal_id: int, title: str, party_kind: str, days: int, partner_id: int | None = None,
             department_id: int | None = None, party_name: str = "", now: datetime | None = None) -> ProposalTask:
    now = now or utcnow()
    proposal = get_covered(staff, proposal_id)
    if proposal.status != "in_action":
        raise DomainError(_("Tasks are handed out once the matter is in action."), status=409, code="not_allowed")
    title = " ".join((title or "").split())
    if not 4 <= len(title) <= 200:
        raise DomainError(_("Please say what is to be done (4 to 200 characters)."), field="title", code="invalid")
    if party_kind not in PARTY_KINDS:
        raise DomainError(_("Please choose who carries it out."), field="party_kind", code="invalid")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TASK_DAYS:
        raise DomainError(_("Please give 1 to %(most)d working days.", most=MAX_TASK_DAYS), field="days", code="invalid")
    values = {"partner": None, "department": None, "party_name": ""}
    if party_kind == "partner":
        partner = PartnerEnterprise.get_or_none(PartnerEnterprise.id == (partner_id or 0))
        if partner is None or partner.community_id != proposal.community_id:
            raise DomainError(_("Please choose one of the community's partners."), field="partner", code="invalid")
        values["partner"] = partner.id
    elif party_kind == "department":
        department = Department.get_or_none((Department.id == (department_id or 0)) & (Department.active == True))  # noqa: E712
        if department is None:
            raise DomainError(_("Please choose the department from the list."), field="department", code="invalid")
        values["department"] = department.id
    else:
        name = " ".join((party_name or "").split())
        if not 2 <= len(name) <= 100:
            raise DomainError(_("Please name the property company."), field="party_name", code="invalid")
        values["party_name"] = name
    with db.atomic():
        task = ProposalTask.create(proposal=proposal.id, title=title, party_kind=party_kind, days=days, started_at=now,
                                   due_at=workdays.add_working_days(now, days), created_by=staff.id, **values)
        audit.record(staff, "proposals.task.handed", proposal, task=task.id, party=party_kind, days=days)
    return task


def may_close_task(user, task: ProposalTask) -> bool:
    proposal = task.proposal
    if staff_covers(user, proposal):
        return True
    if task.partner_id is not None:
        return task.partner_id in access.scope_of(user).partners
    if task.department_id is not None:
        department = Department.get_by_id(task.department_id)
        return access.scope_of(user).department == department.name_zh
    return False


def close_task(user, task_id: int, answer: str, now: datetime | None = None) -> ProposalTask:
    """The party (or staff for it) records what was done: the task's clock closes, on time or
    late, with the working days it took."""
    now = now or utcnow()
    task = ProposalTask.get_or_none(ProposalTask.id == task_id)
    if task is None:
        raise DomainError(_("This task was not found."), status=404, code="not_found")
    get_visible(user, task.proposal_id)
    if not may_close_task(user, task):
        raise DomainError(_("Only the party carrying out this task, or the staff in scope, may record it."),
                          status=403, code="forbidden")
    answer = (answer or "").strip()
    if not 4 <= len(answer) <= 2000:
        raise DomainError(_("Please say what was done (4 to 2000 characters)."), field="answer", code="invalid")
    outcome = "on_time" if now <= task.due_at else "late"
    with db.atomic():
        done = ProposalTask.update(closed_at=now, closed_by=user.id, answer=answer, outcome=outcome).where(
            (ProposalTask.id == task.id) & ProposalTask.closed_at.is_null()).execute()
        if not done:
            raise DomainError(_("This task was already recorded as done."), status=409, code="conflict")
        audit.record(user, "proposals.task.closed", task.proposal, task=task.id, outcome=outcome)
    return ProposalTask.get_by_id(task.id)


def tasks_of(proposal: Proposal) -> list[ProposalTask]:
    """The matter's tasks in the order they were handed over (its page and the board's)."""
    return list(ProposalTask.select().where(ProposalTask.proposal == proposal.id).order_by(ProposalTask.id))


def updates_of(proposal: Proposal) -> list[ProposalUpdate]:
    """The progress updates, oldest first."""
    return list(ProposalUpdate.select().where(ProposalUpdate.proposal == proposal.id).order_by(ProposalUpdate.id))


def working_days_used(task: ProposalTask) -> int | None:
    return workdays.working_days_between(task.started_at, task.closed_at) if task.closed_at else None


def add_spending(staff, proposal_id: int, spent_on: str, purpose: str, amount: str) -> ProposalSpending:
    """A spending entry is a fund use on the public board, approved by the households' vote."""
    proposal = get_covered(staff, proposal_id)
    if proposal.status not in ("in_action", "done"):
        raise DomainError(_("Money is spent once the matter is in action."), status=409, code="not_allowed")
    approved = _("Households' vote on proposal %(number)d", number=proposal.id)
    with db.atomic():
        entry = board.publish_fund_use(staff, proposal.community_id, spent_on, purpose, amount, approved)
        return ProposalSpending.create(proposal=proposal.id, fund_use=entry.id)


def spending_of(proposal: Proposal) -> list:
    """The proposal's fund uses still on the board (a withdrawn one leaves it)."""
    return [s.fund_use for s in ProposalSpending.select().where(ProposalSpending.proposal == proposal.id)
            .order_by(ProposalSpending.id) if s.fund_use.withdrawn_at is None]


def spent_fen(proposal: Proposal) -> int:
    return sum(entry.amount_fen for entry in spending_of(proposal))


def add_update(user, proposal_id: int, text: str, photo: bytes | None = None,
               now: datetime | None = None) -> ProposalUpdate:
    """A progress update with a photo, by the staff in scope or a partner doing a task."""
    proposal = get_visible(user, proposal_id)
    if not (staff_covers(user, proposal) or partner_works_on(user, proposal)):
        raise DomainError(_("Only the staff in scope and the parties doing the work post progress."), status=403,
                          code="forbidden")
    if proposal.status != "in_action":
        raise DomainError(_("Progress is posted while the matter is in action."), status=409, code="not_allowed")
    text = (text or "").strip()
    if not 4 <= len(text) <= 2000:
        raise DomainError(_("Please say how the work stands (4 to 2000 characters)."), field="text", code="invalid")
    photo_name = request_services._store_photo(photo) if photo else None
    with db.atomic():
        return ProposalUpdate.create(proposal=proposal.id, text=text, photo=photo_name, created_by=user.id,
                                     created_at=now or utcnow())


def finish(staff, proposal_id: int, now: datetime | None = None) -> Proposal:
    """The action is done: every task recorded. The households may now evaluate it."""
    proposal = get_covered(staff, proposal_id)
    if ProposalTask.select().where((ProposalTask.proposal == proposal.id) & ProposalTask.closed_at.is_null()).exists():
        raise DomainError(_("Some tasks are not recorded as done yet."), status=409, code="not_allowed")
    with db.atomic():
        _changed(proposal.id, "in_action", status="done", done_at=now or utcnow())
        audit.record(staff, "proposals.action.done", proposal)
    return Proposal.get_by_id(proposal.id)
