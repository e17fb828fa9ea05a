"""Demo events: a patrol tomorrow evening, a flea market on Saturday, and a service day under
way now (so the kiosk and the scanner can be tried at once). Idempotent: found by title."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from marketplace.db import db
from marketplace.events.models import Event, Signup
from marketplace.places.models import Community
from marketplace.timeutil import utcnow
from marketplace.users.models import User

# title, kind, place, (days from today, local start hour, hours) or None for "now", capacity,
# points rule, points, walk-ins, description
DEMO_EVENTS = [
    (("夜间安全巡逻", "Evening safety patrol"), "patrol", ("北苑家园东门", "East gate, Beiyuan Jiayuan"), (1, 19, 2), 8,
     "per_hour", 10, False, ("沿小区主干道巡逻，检查消防通道", "Walk the main paths and check the fire lanes.")),
    (("亲子跳蚤市场", "Parent-child flea market"), "flea_market", ("社区广场", "Community square"), ("saturday", 9, 3), 20,
     "fixed", 30, True, ("帮忙摆摊、引导和收尾", "Help set up, guide visitors and tidy up.")),
    (("社区服务日", "Community service day"), "service_day", ("社区服务中心", "Community service centre"), None, 30,
     "per_hour", 10, True, ("为老人测血压、修小家电", "Blood pressure checks and small repairs for elderly neighbours.")),
]


def _local_start(when, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if when is None:  # under way: began an hour ago, ends in three
        start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        return start, start + timedelta(hours=4)
    days, hour, hours = when
    today = datetime.now(zone).date()
    if days == "saturday":
        days = (5 - today.weekday()) % 7 or 7
    local = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)
    start = local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return start, start + timedelta(hours=hours)


def load_demo_events(language: str = "zh_Hans") -> None:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    community = Community.get(Community.code == "beiyuan_jiayuan")
    organiser = User.get(User.phone == "13800000002")
    volunteer = User.get(User.phone == "13900000003")
    with db.atomic():
        for title, kind, place, when, capacity, rule, points, walk_ins, description in DEMO_EVENTS:
            # in the demo's one language, as real data would be
            title, place, description = (words[1] if language == "en" else words[0] for words in (title, place, description))
            if Event.select().where(Event.title == title).exists():
                continue
            starts_at, ends_at = _local_start(when, zone)
            event = Event.create(
                community=community, kind=kind, title=title, place=place, description=description,
                starts_at=starts_at, ends_at=ends_at, capacity=capacity, points_rule=rule, points=points,
                allow_walk_ins=walk_ins, status="published", published_at=utcnow(), created_by=organiser,
            )
            now = utcnow()
            Signup.create(event=event, user=volunteer, status="confirmed", queued_at=now, created_at=now, updated_at=now)
            Event.update(taken=1).where(Event.id == event.id).execute()
