"""`flask scheduler`: the periodic jobs, in one long-running process beside the web server.

Jobs:
- `auto_confirm` — requests done 3 working days ago that the resident neither confirmed nor
  disputed are confirmed and paid (service_requests.services.sweep);
- `voucher_expiry` — vouchers past their time are refunded to their holders
  (shop.services.sweep_expired);
- `deadline_reminders` — requests due within one working day: each claimer is told once
  (an in-app notification), and every one of them is logged for staff's monitoring;
- `close_events` — volunteers still checked in after an event's check-out closed are checked
  out for staff review (events.services.close_finished).
- `ledger_checkpoint` — once every LEDGER_CHECKPOINT_HOURS (24): the whole ledger and the audit
  chain are verified and their heads sealed with the signing key (ledger.checkpoints); a ledger
  with a fault is not sealed, and the job fails loudly in the log.
- `figures` — the stored figures of the dashboards and the public board are counted afresh
  (figures.snapshots.refresh_all), a few times per FIGURES_MAX_AGE_SECONDS, so that pages read
  them instead of counting on the request path. Not run when that setting is 0 (no snapshots).

Only one scheduler may run jobs at a time, across every host (see ops.locks): start one on each
host if you like; the others wait as hot standbys and take over when the holder dies. Each job
is safe to run twice anyway (the services settle races in the database), the lock just keeps
the work from being done N times over.

Each job runs inside an app context only, as any script would: the services need no web
request (they read marketplace.settings, and outside a request their messages are in the
community's default language unless a notice is rendered in its recipient's).
"""

import logging
import signal
import threading
import time
from dataclasses import dataclass, field

from marketplace.db import db

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


def forget_api_replies() -> int:
    from marketplace.idempotency import forget_old_replies

    return forget_old_replies()


def ledger_checkpoint(hours: int) -> int:
    from marketplace.ledger.sealing import checkpoint_if_due

    return checkpoint_if_due(hours)


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
# template message) without touching the scheduler: REMINDER_HOOKS.append(my_sender).
REMINDER_HOOKS = [notify_claimer]


def deadline_reminders() -> int:
    sent = 0
    for req in due_soon().iterator():
        log.info("deadline soon: request %s (%s) due %s", req.id, req.state, req.due_at.isoformat(timespec="minutes"),
                 extra={"service_request": req.id, "state": req.state, "due_at": req.due_at.isoformat()})
        for hook in REMINDER_HOOKS:
            sent += bool(hook(req))
    return sent


@dataclass
class Job:
    name: str
    run: callable
    every_seconds: int
    next_at: float = 0.0  # monotonic time of the next run; 0 = at once


@dataclass
class Scheduler:
    app: object
    jobs: list[Job]
    tick_seconds: int
    stop: threading.Event = field(default_factory=threading.Event)

    def run_job(self, job: Job):
        """Run one job; returns its result (a count), or None when it failed (logged)."""
        started, result = time.perf_counter(), None
        try:
            with self.app.app_context(), db.connection_context():
                result = job.run()
        except Exception:
            log.exception("job %s failed", job.name, extra={"job": job.name})
        else:
            log.info("job %s: %s", job.name, result,
                     extra={"job": job.name, "result": result,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        job.next_at = time.monotonic() + job.every_seconds
        return result

    def run_due(self, lock=None) -> bool:
        """Run the jobs that are due. With a lock, it is renewed (and checked) before each job,
        so a long run never outlasts the lock while another scheduler takes over; returns False
        when the lock was lost."""
        now = time.monotonic()
        for job in self.jobs:
            if job.next_at <= now and not self.stop.is_set():
                if lock is not None and not lock.still_held():
                    return False
                self.run_job(job)
        return True

    def run_forever(self, lock) -> None:
        holding = False
        while not self.stop.is_set():
            if holding and not lock.still_held():
                log.warning("scheduler lock lost (%s); waiting to take it again", lock.describe())
                holding = False
            if not holding:
                try:
                    holding = lock.acquire()
                except Exception as error:  # noqa: BLE001 - Redis or the database is away: try again next tick
                    log.warning("scheduler lock: cannot take it (%s: %s)", type(error).__name__, error)
                    holding = False
                if holding:
                    log.info("scheduler lock taken (%s): running the jobs", lock.describe())
                    for job in self.jobs:
                        job.next_at = 0.0
            if holding and not self.run_due(lock):
                log.warning("scheduler lock lost during a run (%s); waiting to take it again", lock.describe())
                holding = False
            self.stop.wait(self.tick_seconds)
        lock.release()
        log.info("scheduler stopped")


def make_scheduler(app) -> Scheduler:
    sweep = app.config["SCHEDULER_SWEEP_MINUTES"] * 60
    return Scheduler(
        app=app,
        jobs=[
            Job("auto_confirm", auto_confirm, sweep),
            Job("voucher_expiry", voucher_expiry, sweep),
            Job("deadline_reminders", deadline_reminders, app.config["SCHEDULER_REMINDER_MINUTES"] * 60),
            Job("close_events", close_events, sweep),
            Job("forget_api_replies", forget_api_replies, sweep),
            # Looked at hourly, sealed when the newest seal is a day old: a restart seals nothing new.
            Job("ledger_checkpoint", lambda: ledger_checkpoint(app.config["LEDGER_CHECKPOINT_HOURS"]), 3600),
            *figures_jobs(app),
        ],
        tick_seconds=app.config["SCHEDULER_TICK_SECONDS"],
    )


def figures_jobs(app) -> list[Job]:
    max_age = app.config["FIGURES_MAX_AGE_SECONDS"]
    if max_age <= 0:
        return []
    # Three runs per max age: a page finds its snapshot expired only when a run failed or took
    # longer than two thirds of the max age.
    return [Job("figures", refresh_figures, max(1, max_age // 3))]


def lock_ttl(app) -> int:
    # Long enough to outlive a slow job between two renewals, short enough for a quick takeover.
    return max(60, app.config["SCHEDULER_TICK_SECONDS"] * 4)


def stop_on_signals(scheduler: Scheduler) -> None:
    def _stop(signum, _frame):
        log.info("scheduler: signal %s, stopping after the current job", signum)
        scheduler.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
