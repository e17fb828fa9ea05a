"""An event's clock: when its door is open, how long someone served, and the times people read."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import format_datetime, format_time

from marketplace.events.models import Event
from marketplace.settings import settings
from marketplace.timeutil import utcnow


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def _t(moment: datetime) -> str:
    """A time as people at the door read it: 09:02 in the community's time zone."""
    return format_time(moment, "HH:mm")


def _dt(moment: datetime) -> str:
    return format_datetime(moment, "short")


# ---- times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoorWindow:
    """When an event's door is open: from check-in opening (EVENT_CHECKIN_OPENS_MINUTES before
    the start) to check-out closing (EVENT_CHECKOUT_GRACE_MINUTES after the end), both included.
    Checking in also stops at the end itself: the event is over."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, at: datetime) -> bool:
        return self.opens_at <= at <= self.closes_at


def _checkout_grace() -> timedelta:
    return timedelta(minutes=settings().event_checkout_grace_minutes)


def door_window(event: Event) -> DoorWindow:
    """The one answer to "is the door open?", for the event page, the badge door, the kiosk, the
    scans and the API alike."""
    opens = event.starts_at - timedelta(minutes=settings().event_checkin_opens_minutes)
    return DoorWindow(opens, event.ends_at + _checkout_grace())


def door_closed_before(now: datetime):
    """Events whose door closed before `now`, as a where() condition: door_window in SQL."""
    return Event.ends_at < now - _checkout_grace()


def clipped_minutes(event: Event, checked_in_at: datetime, checked_out_at: datetime) -> int:
    """Hours count only inside the event's window: coming early or staying late adds nothing."""
    start = max(checked_in_at, event.starts_at)
    end = min(checked_out_at, event.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def points_for(event: Event, minutes: int) -> int:
    if minutes <= 0:
        return 0
    if event.points_rule == "fixed":
        return event.points
    return minutes * event.points // 60  # whole points, rounded down
