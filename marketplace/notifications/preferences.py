"""A person's channels and quiet hours: chosen by themselves, or set for a resident by staff
who look after the resident's household (audited, as every staff act on a person)."""

import re

from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications.deliveries import history
from marketplace.notifications.models import MessagePreference
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

CHOOSABLE = ("sms", "wechat")
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def minutes(text: str | None) -> int | None:
    if text in (None, ""):
        return None
    match = HHMM.match(text.strip())
    if not match:
        raise DomainError(_("Quiet hours are times of day such as 22:00."), code="bad_quiet_hours")
    return int(match.group(1)) * 60 + int(match.group(2))


def as_text(value: int | None) -> str:
    return "" if value is None else f"{value // 60:02d}:{value % 60:02d}"


def describe(user_id: int) -> dict:
    pref = MessagePreference.get_or_none(MessagePreference.user == user_id)
    return {
        "channels": ["in_app", *(pref.chosen() if pref else [])],
        "quiet_start": as_text(pref.quiet_start) if pref else "",
        "quiet_end": as_text(pref.quiet_end) if pref else "",
        "wechat_linked": bool(pref and pref.wechat_openid),
    }


def _save(target_id: int, actor_id: int, channels: list[str], quiet_start: str | None, quiet_end: str | None,
          wechat_openid: str | None) -> MessagePreference:
    chosen = [c for c in channels if c != "in_app"]
    if any(c not in CHOOSABLE for c in chosen):
        raise DomainError(_("Choose among SMS and WeChat."), code="bad_channel")
    start, end = minutes(quiet_start), minutes(quiet_end)
    if (start is None) != (end is None):
        raise DomainError(_("Give both ends of the quiet hours, or neither."), code="bad_quiet_hours")
    values = {"channels": ",".join(dict.fromkeys(chosen)), "quiet_start": start, "quiet_end": end,
              "updated_at": utcnow(), "updated_by": actor_id}
    if wechat_openid is not None:
        values["wechat_openid"] = wechat_openid.strip()[:64]
    MessagePreference.insert(user=target_id, **values).on_conflict(
        conflict_target=[MessagePreference.user], update=values).execute()
    return MessagePreference.get(MessagePreference.user == target_id)


def set_own(user, channels: list[str], quiet_start: str | None = None, quiet_end: str | None = None,
            wechat_openid: str | None = None) -> dict:
    with db.atomic():
        _save(user.id, user.id, channels, quiet_start, quiet_end, wechat_openid)
    return describe(user.id)


def resident_in_scope(staff, resident_id: int) -> User:
    scope = access.scope_of(staff)
    grant = RoleGrant.get_or_none(RoleGrant.user == resident_id, RoleGrant.role == "resident")
    if not scope.is_staff or grant is None or not scope.covers_household(grant.household_id):
        raise DomainError(_("This resident is not in the places you look after."), status=404, code="not_found")
    return User.get_by_id(resident_id)


def set_for_resident(staff, resident_id: int, channels: list[str], quiet_start: str | None = None,
                     quiet_end: str | None = None) -> dict:
    """Staff choose for a resident (an elderly neighbour without a smartphone: SMS)."""
    with db.atomic():
        resident = resident_in_scope(staff, resident_id)
        pref = _save(resident.id, staff.id, channels, quiet_start, quiet_end, None)
        audit.record(staff, "messages.preferences.set", resident, channels=pref.channels,
                     quiet_start=as_text(pref.quiet_start), quiet_end=as_text(pref.quiet_end))
    return describe(resident.id)


def delivery_history(staff, resident_id: int, limit: int = 100):
    """A resident's deliveries, for staff in scope (who hears what, on which channel, whether it
    arrived): reading it is not audited, it holds no contact details."""
    resident = resident_in_scope(staff, resident_id)
    return resident, list(history(resident.id, limit))
