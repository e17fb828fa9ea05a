"""The audit log page and its CSV: community administrators (their communities) and admins."""

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import allow
from marketplace.audit import labels as audit_labels
from marketplace.audit import search as audit_search
from marketplace.audit.chain import AuditLog
from marketplace.audit.forms import AuditSearchForm
from marketplace.forms import choices_of
from marketplace.web import csv_response, page_number
from marketplace.workdays.calendar import parse_day

bp = Blueprint("audit", __name__, url_prefix="/staff")  # the back office's address, as before


def _filters() -> tuple[AuditSearchForm, audit_search.Filters]:
    form = AuditSearchForm(request.args)
    form.object_type.choices = choices_of([("", _("Anything"))] + [
        (key, str(label)) for key, label in audit_search.OBJECT_LABELS.items()
    ])
    form.area.choices = choices_of([("", _("All areas"))] + [(key, str(label)) for key, label in audit_search.AREA_LABELS.items()])
    form.validate()
    filters = audit_search.Filters(actor=(form.actor.data or "")[:50])
    if form.object_type.data in audit_search.OBJECT_LABELS:
        filters.object_type = form.object_type.data
    if form.area.data in audit_search.AREA_LABELS:
        filters.area = form.area.data
    raw_id = (form.object_id.data or "").strip().lstrip("#")
    if raw_id:
        if raw_id.isdigit() and len(raw_id) < 10:
            filters.object_id = int(raw_id)
        else:
            form.object_id.errors = [_("Please enter a number, such as 42.")]
    for name in ("since", "until"):
        text = (getattr(form, name).data or "").strip()
        if text:
            day = parse_day(text)
            if day is None:
                getattr(form, name).errors = [_("Please write the date like 2026-11-01.")]
            setattr(filters, name, day)
    if filters.since and filters.until and filters.until < filters.since:
        form.until.errors = [_("This is before the first day.")]
    return form, filters


def _has_errors(form) -> bool:
    return any(field.errors for field in form)


@bp.route("/audit")
@allow(audit_search.READERS)
def audit_log():
    form, filters = _filters()
    page = page_number()
    if _has_errors(form):
        entries, has_more = [], False
    else:
        entries = list(audit_search.search(current_user, filters).paginate(page, audit_search.PAGE_SIZE + 1))
        has_more = len(entries) > audit_search.PAGE_SIZE
        entries = entries[: audit_search.PAGE_SIZE]
    return render_template(
        "audit/log.html", form=form, filters=filters, entries=entries, page=page, has_more=has_more,
        actors=audit_search.actor_names(entries), details=audit_labels.readable_details(entries, audit_search.details),
        object_label=audit_search.object_label, object_link=audit_search.object_link, area_labels=audit_search.AREA_LABELS,
        action_label=audit_labels.action_label, local_time=audit_labels.local_time,
    ), 422 if _has_errors(form) else 200


@bp.route("/audit.csv")
@allow(audit_search.READERS)
def audit_csv():
    form, filters = _filters()
    entries: list[AuditLog] = [] if _has_errors(form) else list(
        audit_search.search(current_user, filters).limit(audit_search.CSV_LIMIT))
    actors = audit_search.actor_names(entries)
    details = audit_labels.readable_details(entries, audit_search.details)
    return csv_response(
        "audit-log.csv",
        [_("Time"), _("Who"), _("Action"), _("Code"), _("About"), _("Details")],
        ([audit_labels.local_time(e.created_at, "yyyy-MM-dd HH:mm:ss"), actors.get(e.actor_id, _("the system")),
          audit_labels.action_label(e.action), e.action, audit_search.object_label(e),
          "; ".join(f"{k}: {v}" for k, v in details[e.id])] for e in entries),
    )
