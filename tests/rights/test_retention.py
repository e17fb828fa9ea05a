"""Retention (issue 21): the periodic job removes exactly what is past its time — the photo of a
matter closed longer ago than RETENTION_PHOTO_DAYS (file and reference), delivery records that
ended longer ago than RETENTION_DELIVERY_DAYS — and nothing else; a second run changes nothing."""

import io
from datetime import timedelta

from PIL import Image

from marketplace.menu.models import ServiceItem
from marketplace.notifications.models import Delivery, Notification
from marketplace.ops import periodic
from marketplace.rights import retention
from marketplace.service_requests import services as requests
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.timeutil import utcnow
from tests.conftest import in_app, person


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "PNG")
    return out.getvalue()


def _matters(app):
    """Four requests with photos: closed 200 days ago, closed 100 days ago, cancelled 200 days
    ago, and still open since 200 days ago."""
    def make():
        resident = person("resident")
        item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
        made = {}
        for name, state, age in (("old_closed", "confirmed", 200), ("recent_closed", "confirmed", 100),
                                 ("old_cancelled", "cancelled", 200), ("old_open", "open", 200)):
            req = requests.book(resident, item.id, name, photo=_photo())
            ServiceRequest.update(state=state).where(ServiceRequest.id == req.id).execute()
            RequestEvent.update(created_at=utcnow() - timedelta(days=age)).where(RequestEvent.request == req.id).execute()
            made[name] = (req.id, ServiceRequest.get_by_id(req.id).photo)
        return made

    return in_app(app, make)


def _deliveries(app):
    def make():
        note = Notification.create(user=person("resident").id, kind="other", text="通知", created_at=utcnow())
        made = {}
        for name, state, age in (("old_sent", "sent", 100), ("old_failed", "failed", 100), ("recent_sent", "sent", 10),
                                 ("old_queued", "queued", 100)):
            made[name] = Delivery.create(notification=note, user=note.user_id, channel="sms", key=f"retention-{name}",
                                         state=state, updated_at=utcnow() - timedelta(days=age)).id
        return made

    return in_app(app, make)


def test_the_job_removes_exactly_what_is_past_its_time_and_a_second_run_nothing(app):
    matters, deliveries = _matters(app), _deliveries(app)
    folder = app.config["UPLOAD_FOLDER"]
    assert all((folder / photo).exists() for _id, photo in matters.values())

    [job] = [job for job in periodic.JOBS if job.name == "retention"]
    assert periodic.run_job(job) == 2 + 2  # two photos, two delivery records

    def photo_of(name):
        return in_app(app, lambda: ServiceRequest.get_by_id(matters[name][0]).photo)

    for name in ("old_closed", "old_cancelled"):
        assert photo_of(name) is None and not (folder / matters[name][1]).exists()
    for name in ("recent_closed", "old_open"):
        assert photo_of(name) == matters[name][1] and (folder / matters[name][1]).exists()
    left = in_app(app, lambda: {d.id for d in Delivery.select().where(Delivery.id.in_(list(deliveries.values())))})
    assert left == {deliveries["recent_sent"], deliveries["old_queued"]}
    assert in_app(app, lambda: ServiceRequest.get_by_id(matters["old_closed"][0]).description) == "old_closed"

    assert periodic.run_job(job) == 0


def test_zero_days_keeps_everything(app):
    _matters(app)
    deliveries = _deliveries(app)
    removed = in_app(app, lambda: retention.apply(retention.Retention(photo_days=0, delivery_days=0),
                                                  app.config["UPLOAD_FOLDER"]))
    assert removed == retention.Removed(photos=0, deliveries=0)
    assert in_app(app, lambda: Delivery.select().where(Delivery.id.in_(list(deliveries.values()))).count()) == 4
