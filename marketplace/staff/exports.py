"""CSV for every list a staff member can see, limited to their scope, opening in Excel with the
Chinese intact (web.csv_response). The exports page gathers them in one place; the dashboards,
the calendar, the audit log and the fund-use page carry their own CSV links as well.

Exports that carry residents' addresses are written to the audit log, like viewing a request."""

from flask import abort, render_template
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access, audit, workdays
from marketplace.access import STAFF, allow
from marketplace.audit import search as audit_search
from marketplace.ledger import scope as ledger_scope
from marketplace.ledger import statements
from marketplace.ledger.models import Account
from marketplace.service_requests.models import REQUEST_LISTS, ServiceRequest, in_list
from marketplace.service_requests.services import state_label
from marketplace.service_requests.transitions import HANDLED
from marketplace.staff import queues
from marketplace.staff.views import bp
from marketplace.users import services as user_services
from marketplace.users.models import User
from marketplace.web import csv_response
from marketplace.workdays import calendar as workday_calendar

EXPORT_LIMIT = 50_000


def _when(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else ""


def _due(deadline) -> str:
    """A deadline as the working day the pages show (not the midnight after it)."""
    return workdays.due_day(deadline).isoformat() if deadline else ""


@bp.route("/exports")
@allow(STAFF)
def exports():
    return render_template(
        "staff/exports.html", queues=queues.queues_for(current_user), request_lists=REQUEST_LISTS,
        audit_reader=access.has_role(current_user, *audit_search.READERS),
        fund_editor=access.has_role(current_user, "community_admin", "street_officer"),
        calendar_year=workday_calendar.workdays_today().year,
    )


def _request_rows(show: str):
    query = queues.requests_in_scope(current_user)
    if in_list(show) is not None:
        query = query.where(in_list(show))
    return list(query.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()).limit(EXPORT_LIMIT))


def request_csv(rows, filename: str):
    """Requests as staff see them in the overview: the address, never the resident's name or phone."""
    header = [_("Number"), _("Service"), _("Category"), _("Community"), _("Grid"), _("Building"), _("Address"),
              _("State"), _("Made"), _("Due"), _("Done"), _("On time"), _("Rating"), _("Escalated to"),
              _("Feedback due"), _("Reasons due")]

    def on_time(r):
        if r.state in HANDLED and r.done_at:
            return _("yes") if r.was_on_time else _("no")
        return _("late") if r.is_late else ""

    return csv_response(filename, header, (
        [r.id, r.item.name, r.item.category.name, r.household.building.grid.community.name,
         r.household.building.grid.name, r.household.building.name, r.household.unit, state_label(r.state, False),
         _when(r.created_at), _due(r.due_at), _when(r.done_at), on_time(r), r.rating or "", r.escalated_to,
         _due(r.feedback_due_at), _due(r.explanation_due_at)]
        for r in rows
    ))


@bp.route("/exports/requests-<any(open, overdue, disputed, escalated, all):show>.csv")
@allow(STAFF)
def export_requests(show):
    rows = _request_rows(show)
    audit.record(current_user, "requests.exported", None, list=show, rows=len(rows))
    return request_csv(rows, f"requests-{show}.csv")


@bp.route("/exports/people.csv")
@allow(STAFF)
def export_people():
    """The people in the staff member's scope, as the people page shows them (phones masked)."""
    people = list(user_services.people_in_scope(current_user).order_by(User.display_name, User.id).limit(EXPORT_LIMIT))
    roles = user_services.roles_by_person(p.id for p in people)
    audit.record(current_user, "users.people.exported", None, rows=len(people))
    return csv_response(
        "people.csv", [_("Name"), _("Phone"), _("Roles"), _("Account")],
        ([p.display_name, p.masked_phone(), "、".join(user_services.role_label(r) for r in roles.get(p.id, [])),
          _("on") if p.active else _("switched off")] for p in people),
    )


@bp.route("/exports/accounts.csv")
@allow(STAFF)
def export_accounts():
    accounts = list(
        ledger_scope.accounts_in_staff_scope(current_user).where(Account.kind.in_(("user", "partner")))
        .order_by(Account.balance.desc(), Account.id).limit(EXPORT_LIMIT)
    )
    labels = statements.account_labels([a.id for a in accounts])
    return csv_response(
        "points-accounts.csv", [_("Account"), _("Kind"), _("Balance")],
        ([labels[a.id], _("partner") if a.kind == "partner" else _("member"), a.balance] for a in accounts),
    )


@bp.route("/queue/<any(risen, reopens, residents, volunteers, invitations, listings, adjustments, deadlines, disputes):name>.csv")
@allow(STAFF)
def queue_csv(name):
    if name not in queues.queues_for(current_user):
        abort(404)
    items = list(queues.items(current_user, name))
    if name in ("risen", "reopens", "deadlines", "disputes"):
        return request_csv(items, f"queue-{name}.csv")
    if name == "residents":
        header = [_("Name"), _("Phone"), _("Home"), _("Asked on")]
        rows = ([a.user.display_name, a.user.masked_phone(), a.household.address(), _when(a.created_at)] for a in items)
    elif name == "volunteers":
        header = [_("Name"), _("Phone"), _("When free"), _("Asked on")]
        rows = ([a.user.display_name, a.user.masked_phone(), a.availability, _when(a.created_at)] for a in items)
    elif name == "invitations":
        header = [_("Partner"), _("For whom"), _("Made on"), _("Valid until")]
        rows = ([i.partner.name, i.note, _when(i.created_at), _when(i.expires_at)] for i in items)
    elif name == "listings":
        header = [_("Item"), _("Seller"), _("Price (points)"), _("Stock"), _("Listed on")]
        rows = ([o.title, o.seller.display_name, o.price, o.stock, _when(o.created_at)] for o in items)
    else:
        labels = statements.account_labels([a.account_id for a in items])
        header = [_("Account"), _("Change"), _("Reason"), _("Asked by"), _("Asked on")]
        rows = ([labels.get(a.account_id, ""), (a.amount if a.direction == "credit" else -a.amount), a.reason,
                 a.requested_by.display_name, _when(a.created_at)] for a in items)
    return csv_response(f"queue-{name}.csv", header, rows)

