"""The periodic jobs, as huey periodic tasks: every consumer (`flask --app wsgi worker`, or the
one `make run` starts inside the web process) looks at them each PERIODIC_CHECK_SECONDS.

Jobs:
- `auto_confirm` — requests done 3 working days ago that the resident neither confirmed nor
  disputed are confirmed and paid (service_requests.services.sweep);
- `voucher_expiry` — vouchers past their time are refunded to their holders
  (shop.services.sweep_expired);
- `deadline_reminders` — requests due within one working day: each claimer is told once
  (a notification, delivered on the channels they chose), and every one of them is logged;
- `promises` — the clocks of matters (solve, feedback, explain): the staff holding one due
  within a working day are told once, and each clock that passed unclosed raises its matter one
  level, once (service_requests.promises.keep_promises);
- `close_events` — volunteers still checked in after an event's check-out closed are checked
  out for staff review (events.services.close_finished);
- `close_votes` — residents' votes whose period has ended are counted, frozen and their result
  told to the proposer and the households concerned; meeting attendance is paid its participation
  points where staff turned them on (proposals.participation.sweep);
- `forget_api_replies` — stored API replies past their time are dropped;
- `figures` — the stored figures of the dashboards and the public board are counted afresh,
  three times per FIGURES_MAX_AGE_SECONDS (not at all when that setting is 0);
- `message_fallback` — unacknowledged important messages to residents who chose SMS become a
  "call this resident" task for their building head (notifications.fallback);
- `resend_stuck_messages` — deliveries whose consumer died are taken up again
  (notifications.deliveries.recover);
- `points_expiry` — while expiry is on, points older than POINTS_EXPIRY_MONTHS expire at the end
  of each period, with messages 30 and 7 days before (ledger.policy.run_expiry);
- `retention` — daily: photos of long-closed matters and old message delivery records are
  removed (rights.retention; RETENTION_PHOTO_DAYS, RETENTION_DELIVERY_DAYS);
- `care` — the visits of care pairs are made ahead, and each visit not confirmed by the end of
  its day is told to the building head on the next working day, once (care.services.keep_care);
- `ledger_checkpoint` — looked at hourly, sealing once every LEDGER_CHECKPOINT_HOURS (24): the
  whole ledger and the audit chain are verified and their heads signed (ledger.sealing).

Exactly once per period, across any number of consumers: every consumer's scheduler enqueues
every job at each check, and the first run to write the job's period key (huey's atomic
`put_if_empty`, a Redis HSETNX or an SQLite INSERT OR ABORT in the queue's own storage) does the
work; the others see the key and return. huey's task lock (`lock_task`) keeps a run that
outlasts its period from overlapping the next one. Each job is safe to run twice anyway (the
services settle races in the database): the key keeps the work from being done N times over.

Each job runs in an app context only, as any script would: the services need no web request.
"""

import logging
import time
from dataclasses import dataclass

from huey.exceptions import TaskLockedException

from marketplace import queue
from marketplace.queue import huey

log = logging.getLogger(__name__)


# ---- the jobs ---------------------------------------------------------------------------------


def auto_confirm() -> int:
    from marketplace.service_requests.services import sweep

    return sweep()


def voucher_expiry() -> int:
    from marketplace.shop.services import sweep_expired

    return sweep_expired()


def close_events() -> int:
    from marketplace.events.services import close_finished

    return close_finished()


def close_votes() -> int:
    from marketplace.proposals.participation import sweep

    return sweep()


def forget_api_replies() -> int:
    from marketplace.idempotency import forget_old_replies

    return forget_old_replies()


def refresh_figures() -> int:
    from marketplace.figures.snapshots import refresh_all

    return refresh_all()


def due_soon(now=None):
    """Requests due soon by the request model's rule (waiting for help, not late, due by the end
    of the next working day), soonest first."""
    from marketplace.service_requests import models as requests

    return requests.ServiceRequest.select().where(requests.due_soon(now)).order_by(requests.ServiceRequest.due_at)


class _DueText:
    """A reminder rendered in whatever language is active when it is turned into a string
    (notify() renders it in the recipient's language). Built from catalogue strings only."""

    def __init__(self, req):
        self.req = req

    def __str__(self):
        from flask_babel import format_datetime
        from flask_babel import gettext as _

        return f"{self.req.item.name}: {_('due %(when)s', when=format_datetime(self.req.due_at, 'short'))}"


def notify_claimer(req) -> bool:
    """The default reminder: tell the person who took the job, once per deadline. Returns
    whether a notification was sent. Open (unclaimed) requests have nobody to tell yet; staff
    see them on their deadline queue, and the log line below."""
    if req.claimer_id is None:
        return False
    from marketplace.notifications.models import Notification
    from marketplace.notifications.services import notify

    # Its own link (the page's deadline line): other notices about the job, such as a dispute,
    # must not count as "already reminded".
    link = f"/requests/{req.id}#deadline"
    already = Notification.select().where(
        Notification.user == req.claimer_id, Notification.link == link, Notification.kind == "job",
        Notification.created_at >= req.claimed_at,
    ).exists()
    if already:
        return False
    notify(req.claimer, "job", _DueText(req), link)
    return True


# Called for every request due soon, in order. Replace or extend (an SMS gateway, a WeChat
# template message) without touching the job: REMINDER_HOOKS.append(my_sender).
REMINDER_HOOKS = [notify_claimer]


def deadline_reminders() -> int:
    sent = 0
    for req in due_soon().iterator():
        log.info("deadline soon: request %s (%s) due %s", req.id, req.state, req.due_at.isoformat(timespec="minutes"),
                 extra={"service_request": req.id, "state": req.state, "due_at": req.due_at.isoformat()})
        for hook in REMINDER_HOOKS:
            sent += bool(hook(req))
    return sent


def keep_promises() -> int:
    from marketplace.service_requests.promises import keep_promises as keep

    return keep()


def keep_care() -> int:
    from marketplace.care.services import keep_care as keep

    return keep()


def points_expiry() -> int:
    from marketplace.ledger.policy import run_expiry

    return run_expiry()


def message_fallback() -> int:
    from marketplace.notifications.fallback import open_call_tasks

    return open_call_tasks()


def resend_stuck_messages() -> int:
    from marketplace.notifications.tasks import recover

    return recover()


def retention() -> int:
    from marketplace.rights import retention as rules

    app = queue.app()
    removed = rules.apply(rules.Retention.from_config(app.config), app.config["UPLOAD_FOLDER"])
    return removed.photos + removed.deliveries


@dataclass(frozen=True)
class Job:
    name: str
    run: callable
    every_seconds: callable  # config -> seconds; 0 = not run


def ledger_checkpoint(hours: int | None = None) -> int:
    """A new signed checkpoint when the last is `hours` old (LEDGER_CHECKPOINT_HOURS); returns the
    newest checkpoint's number."""
    from marketplace.ledger.sealing import checkpoint_if_due

    return checkpoint_if_due(hours or queue.app().config["LEDGER_CHECKPOINT_HOURS"])


def _minutes(key):
    return lambda config: config[key] * 60


def _figures_period(config) -> int:
    # Three runs per max age: a page finds its snapshot expired only when a run failed or took
    # longer than two thirds of the max age.
    max_age = config["FIGURES_MAX_AGE_SECONDS"]
    return max(1, max_age // 3) if max_age > 0 else 0


JOBS = [
    Job("auto_confirm", auto_confirm, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("voucher_expiry", voucher_expiry, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("deadline_reminders", deadline_reminders, _minutes("SCHEDULER_REMINDER_MINUTES")),
    Job("promises", keep_promises, _minutes("SCHEDULER_REMINDER_MINUTES")),
    Job("close_events", close_events, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("close_votes", close_votes, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("forget_api_replies", forget_api_replies, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("figures", refresh_figures, _figures_period),
    Job("message_fallback", message_fallback, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("resend_stuck_messages", resend_stuck_messages, _minutes("SCHEDULER_SWEEP_MINUTES")),
    Job("care", keep_care, _minutes("SCHEDULER_REMINDER_MINUTES")),
    Job("ledger_checkpoint", ledger_checkpoint, lambda config: 3600),
    # Looked at hourly while POINTS_EXPIRY_MONTHS is on: each notice and expiry happens once.
    Job("points_expiry", points_expiry, lambda config: 3600 if config.get("POINTS_EXPIRY_MONTHS") else 0),
    Job("retention", retention, lambda config: 86400),
]


def run_job(job: Job, period: str = ""):
    """Run one job now (in an app context); returns its result (a count), or None when it
    failed (logged, with the period it ran for)."""
    started, result = time.perf_counter(), None
    try:
        result = queue.in_app(job.run)()
    except Exception:
        log.exception("job %s failed", job.name, extra={"job": job.name, "period": period})
    else:
        log.info("job %s: %s", job.name, result,
                 extra={"job": job.name, "result": result, "period": period,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return result


def period_of(job: Job, config) -> int:
    # PERIODIC_PERIOD_SECONDS (tests, checks): every job's period in seconds, whatever its own.
    override = config.get("PERIODIC_PERIOD_SECONDS") or 0
    return override if override > 0 and job.every_seconds(config) > 0 else job.every_seconds(config)


def period_key(job: Job, period: int, now: float) -> tuple[str, str]:
    """The key that this period's run writes, and the one of two periods ago (deleted, so the
    storage keeps a handful of keys per job)."""
    number = int(now // period)
    return f"period:{job.name}:{period}:{number}", f"period:{job.name}:{period}:{number - 2}"


def run_in_period(job: Job) -> object:
    """What a consumer runs for a periodic job: the job, unless another run already did it in
    this period (on any consumer)."""
    period = period_of(job, queue.app().config)
    if period <= 0:
        return "off"
    key, old = period_key(job, period, time.time())
    if not huey.put_if_empty(key, "1"):
        return "done in this period"
    huey.delete(old)
    try:
        with huey.lock_task(job.name):
            return run_job(job, period=key)
    except TaskLockedException:
        log.info("job %s still running from its last period; skipped", job.name, extra={"job": job.name})
        return "still running"


def _always(_when) -> bool:
    return True  # every check enqueues; the period key decides (see the module's docstring)


def _register(job: Job):
    def task():
        return run_in_period(job)

    task.__name__ = f"periodic_{job.name}"
    return huey.periodic_task(_always, name=f"periodic.{job.name}")(task)


PERIODIC_TASKS = {job.name: _register(job) for job in JOBS}


def run_all_once() -> list[tuple[str, object]]:
    """`flask scheduler --once`: every job, now, in this process (for cron and for checks)."""
    return [(job.name, run_job(job)) for job in JOBS]
