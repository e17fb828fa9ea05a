"""Messages in figures for the staff dashboard: per month and channel, how many were sent,
delivered and failed, and their cost units (SMS parts), for the people in the viewer's scope."""

from datetime import timedelta

import peewee as pw

from marketplace import access
from marketplace.db import is_sqlite
from marketplace.notifications.models import Delivery
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant

COUNTED_CHANNELS = ("sms", "wechat")


def _month(column):
    return pw.fn.strftime("%Y-%m", column) if is_sqlite() else pw.fn.to_char(column, "YYYY-MM")


def message_months(staff, months: int = 6) -> list[dict]:
    """Newest month first: {"month", "channel", "sent", "delivered", "failed", "cost_units"}."""
    scope = access.scope_of(staff)
    since = (utcnow() - timedelta(days=31 * months)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month = _month(Delivery.created_at)
    state = Delivery.state
    query = (Delivery.select(
        month.alias("month"), Delivery.channel,
        pw.fn.SUM(pw.Case(None, [(state.in_(("sent", "delivered")), 1)], 0)).alias("sent"),
        pw.fn.SUM(pw.Case(None, [(state == "delivered", 1)], 0)).alias("delivered"),
        pw.fn.SUM(pw.Case(None, [(state == "failed", 1)], 0)).alias("failed"),
        pw.fn.SUM(Delivery.cost_units).alias("cost_units"))
        .where(Delivery.created_at >= since, Delivery.channel.in_(COUNTED_CHANNELS))
        .group_by(month, Delivery.channel).order_by(month.desc(), Delivery.channel))
    if not scope.street_wide:
        residents = RoleGrant.select(RoleGrant.user).where(RoleGrant.role == "resident",
                                                           RoleGrant.household.in_(scope.households()))
        query = query.where(Delivery.user.in_(residents))
    return [{"month": row.month, "channel": row.channel, "sent": int(row.sent or 0),
             "delivered": int(row.delivered or 0), "failed": int(row.failed or 0),
             "cost_units": int(row.cost_units or 0)} for row in query.objects()]
