"""The public disclosure board: what was handled, how, and how points and funds were used, per
month and per community, for anyone to read without logging in.

The board shows counts and sums only. The one free text on it is what staff write in fund-use
entries, so those are refused when they carry a mobile number or the name of a resident.
"""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import peewee as pw
from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.figures import counting, snapshots
from marketplace.places.models import Community
from marketplace.public.models import FundUse
from marketplace.timeutil import utcnow
from marketplace.users.models import STAFF_ROLES, RoleGrant, User
from marketplace.workdays.calendar import parse_day

# Fewer ratings than this in a month are not averaged in public: one resident's stars would be
# readable by whoever helped them that month.
MIN_PUBLIC_RATINGS = 3
FUND_EDITORS = ("community_admin", "street_officer")
MAX_FEN = 10**12  # ten thousand million yuan: anything above is a typing slip
MOBILE = re.compile(r"1[3-9]\d{9}")


def board(community_id: int | None):
    """The board's figures, from the stored snapshot the staff dashboards share."""
    return snapshots.figures_for(counting.community_area(community_id))


def _too_few(row) -> bool:
    return 0 < row.ratings < MIN_PUBLIC_RATINGS


def public_satisfaction(community_id: int | None, data):
    """The board's rule for showing an average rating: never from fewer than 3 ratings, and
    never where the hidden one could be worked out by subtraction from what is shown.

    - A month (or the 12 months) with 1 or 2 ratings shows no average.
    - The street's month hides its average when any community's same month hid one: the street
      minus the communities shown would give it.
    - The 12 months' average hides when any of their months hid one (the year minus the months
      shown), and the street's also when any community's 12 months hid one.
    Returns the function the board's page, charts and CSV call for each row."""
    hidden_months = {row.key for row in data.months if _too_few(row)}
    year_hidden = bool(hidden_months)
    if community_id is None:
        for community in communities():
            part = board(community.id)
            hidden_months |= {row.key for row in part.months if _too_few(row)}
            year_hidden = year_hidden or _too_few(part.total) or any(_too_few(row) for row in part.months)

    def satisfaction(row) -> float | None:
        if row.ratings < MIN_PUBLIC_RATINGS:
            return None
        if row is data.total:
            return None if year_hidden else row.satisfaction
        return None if row.key in hidden_months else row.satisfaction

    return satisfaction


def communities():
    return list(Community.select().order_by(Community.id))


def community_or_none(raw) -> Community | None:
    try:
        community_id = int(raw)
    except (TypeError, ValueError):
        return None
    if not 0 < community_id < 2**31:  # beyond any id, and beyond what the database takes
        return None
    return Community.get_or_none(Community.id == community_id)


def published_fund_uses(community_id: int | None):
    """Entries on the board: one community's and the street's own, or everyone's."""
    query = (FundUse.select(FundUse, Community).join(Community, pw.JOIN.LEFT_OUTER)
             .where(FundUse.withdrawn_at.is_null()))
    if community_id is not None:
        query = query.where((FundUse.community == community_id) | FundUse.community.is_null())
    return query.order_by(FundUse.spent_on.desc(), FundUse.id.desc())


# ---- staff publish entries ----------------------------------------------------------------------


def _street_wide(staff) -> bool:
    return access.scope_of(staff).street_wide


def fund_communities(staff) -> list[Community]:
    """Where a staff member may publish: their communities; every one for street staff."""
    if _street_wide(staff):
        return communities()
    ids = access.scope_of(staff).administered_community_ids()
    return list(Community.select().where(Community.id.in_(ids or [0])).order_by(Community.id))


def may_publish_for(staff, community_id: int | None) -> bool:
    if community_id is None:
        return _street_wide(staff)
    return _street_wide(staff) or access.scope_of(staff).administers(community_id)


def entries_for_staff(staff):
    """Every entry a staff member may manage, withdrawn ones too."""
    query = FundUse.select(FundUse, Community).join(Community, pw.JOIN.LEFT_OUTER)
    if not _street_wide(staff):
        query = query.where(FundUse.community.in_(access.scope_of(staff).administered_community_ids() or [0]))
    return query.order_by(FundUse.spent_on.desc(), FundUse.id.desc())


def parse_yuan(text: str) -> int:
    """'1,234.5', '¥1234.50' or '1234.50元' -> 123450 fen."""
    cleaned = re.sub(r"[\s,，¥￥元]", "", text or "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise DomainError(_("Please enter the amount in yuan, like 1280.50."), field="amount", code="invalid")
    if amount <= 0:
        raise DomainError(_("The amount must be above zero."), field="amount", code="invalid")
    if amount * 100 >= MAX_FEN:  # before quantize, which fails on numbers like 1e30
        raise DomainError(_("This amount is too large. Please check it."), field="amount", code="invalid")
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(_("Please give the amount to the fen at most (two decimal places)."), field="amount",
                          code="invalid")
    fen = int(amount * 100)
    if fen >= MAX_FEN:
        raise DomainError(_("This amount is too large. Please check it."), field="amount", code="invalid")
    return fen


def _resident_named_in(text: str) -> bool:
    """Whether the text holds the display name of a resident who is not staff."""
    staff = RoleGrant.select(RoleGrant.user).where(RoleGrant.role.in_(STAFF_ROLES))
    residents = RoleGrant.select(RoleGrant.user).where(RoleGrant.role == "resident")
    # A name is matched as text: its % and _ must not act as wildcards (a resident named "%%"
    # would otherwise match every entry and block all publishing).
    name = pw.fn.REPLACE(pw.fn.REPLACE(pw.fn.REPLACE(User.display_name, "\\", "\\\\"), "%", "\\%"), "_", "\\_")
    pattern = pw.NodeList((pw.Value("%"), pw.SQL("||"), name, pw.SQL("||"), pw.Value("%")), parens=True)
    matches = pw.NodeList((pw.Value(text), pw.SQL("LIKE"), pattern, pw.SQL("ESCAPE"), pw.Value("\\")))
    return (
        User.select(User.id)
        .where(User.id.in_(residents), User.id.not_in(staff), pw.fn.LENGTH(User.display_name) >= 2, matches)
        .exists()
    )


def _no_personal_data(text: str, field: str) -> None:
    if MOBILE.search(re.sub(r"[\s\-]", "", text)):
        raise DomainError(_("The public board must not show phone numbers. Please take the number out."), field=field,
                          code="personal_data")
    if _resident_named_in(text):
        raise DomainError(
            _("This names a resident. The public board must not show residents' names; please describe the use instead."),
            field=field,
            code="personal_data",
        )


def publish_fund_use(staff, community_id: int | None, spent_on_text: str, purpose: str, amount: str,
                     approved_by: str) -> FundUse:
    if not may_publish_for(staff, community_id):
        raise DomainError(_("Please choose one of your communities."), field="community", status=403, code="invalid")
    today = counting.local_today()
    spent_on = parse_day(spent_on_text)
    if spent_on is None:
        raise DomainError(_("Please enter the date, like 2026-11-20."), field="spent_on", code="invalid")
    if spent_on > today:
        raise DomainError(_("The date cannot be in the future."), field="spent_on", code="invalid")
    if spent_on < today - timedelta(days=3650):
        raise DomainError(_("The date is more than ten years ago. Please check it."), field="spent_on", code="invalid")
    purpose = " ".join((purpose or "").split())
    approved_by = " ".join((approved_by or "").split())
    if len(purpose) < 2:
        raise DomainError(_("Please say what the money was used for."), field="purpose", code="invalid")
    if len(purpose) > 200:
        raise DomainError(_("Please keep the purpose under 200 characters."), field="purpose", code="invalid")
    if not approved_by:
        raise DomainError(_("Please say who approved it, such as the residents' committee meeting."), field="approved_by",
                          code="invalid")
    if len(approved_by) > 100:
        raise DomainError(_("Please keep this under 100 characters."), field="approved_by", code="invalid")
    fen = parse_yuan(amount)
    _no_personal_data(purpose, "purpose")
    _no_personal_data(approved_by, "approved_by")
    with db.atomic():
        entry = FundUse.create(community=community_id, spent_on=spent_on, purpose=purpose, amount_fen=fen,
                               approved_by=approved_by, created_by=staff)
        audit.record(staff, "public.fund_use.published", entry, community=community_id, spent_on=spent_on,
                     purpose=purpose, amount_fen=fen, approved_by=approved_by)
    return entry


def withdraw_fund_use(staff, entry_id: int, reason: str) -> FundUse:
    reason = " ".join((reason or "").split())
    with db.atomic():
        entry = FundUse.get_or_none(FundUse.id == entry_id)
        if entry is None or not may_publish_for(staff, entry.community_id):
            raise DomainError(_("This entry was not found."), status=404, code="not_found")
        if not reason:
            raise DomainError(_("Please say why it is withdrawn (for example: wrong amount, corrected below)."),
                              field="reason", code="invalid")
        withdrawn = (FundUse.update(withdrawn_at=utcnow(), withdrawn_by=staff.id, withdraw_reason=reason[:200])
                     .where(FundUse.id == entry.id, FundUse.withdrawn_at.is_null()).execute())
        if withdrawn != 1:
            raise DomainError(_("This entry was already withdrawn."), status=409, code="already_withdrawn")
        audit.record(staff, "public.fund_use.withdrawn", entry, reason=reason)
    return FundUse.get_by_id(entry.id)
