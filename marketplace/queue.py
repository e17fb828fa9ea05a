"""The task queue: huey, one instance for the whole application.

Storage comes from the settings when the app is made (`init_app`): huey's SQLite storage in
`instance/huey.db` by default (nothing to start), huey's Redis storage when `TASK_QUEUE_URL` is
`redis://...` (the default with MARKETPLACE_ENV=production), so that consumers on any number of
hosts share one queue. `TASK_QUEUE_NAME` names the queue (its Redis keys / SQLite rows); tests
give each run its own.

Tasks are registered on the module-level `huey` when their modules are imported
(`marketplace.notifications.tasks`, `marketplace.ops.periodic`); every task body runs through
`in_app()`, in an app context with a database connection, as the services expect outside a web
request.

Consumers: `flask --app wsgi worker` (a huey consumer in the app's process), on every host you
like. `QUEUE_IN_PROCESS=1` (what `make run` sets) starts a small consumer inside the web
process instead, so that a development server delivers messages and runs the periodic jobs
without a second command; with gunicorn's several workers run `flask worker` instead.
"""

import functools
import logging
import os
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from marketplace.db import db

log = logging.getLogger(__name__)

# Made with in-memory storage; init_app gives it the configured storage. Results are not kept:
# every task records its outcome in the database (deliveries, the jobs' log lines).
huey = Huey("marketplace", results=False, immediate=False, immediate_use_memory=True, storage_class=MemoryStorage)
_app: Flask | None = None


def from_environment(instance: Path, production: bool) -> dict:
    return {
        "TASK_QUEUE_URL": os.environ.get(
            "TASK_QUEUE_URL", "redis://127.0.0.1:6379/0" if production else f"sqlite:///{instance / 'huey.db'}"
        ),
        "TASK_QUEUE_NAME": os.environ.get("TASK_QUEUE_NAME", "marketplace"),
        # Run every task at once, in the caller (huey's immediate mode): for tests and scripts.
        "TASK_QUEUE_IMMEDIATE": os.environ.get("TASK_QUEUE_IMMEDIATE", "0").strip().lower() in ("1", "true", "yes"),
        "QUEUE_IN_PROCESS": os.environ.get("QUEUE_IN_PROCESS", "0").strip().lower() in ("1", "true", "yes"),
        "WORKER_THREADS": int(os.environ.get("WORKER_THREADS", "2")),
        # How often a consumer's scheduler looks at the periodic jobs (huey's default: a minute).
        "PERIODIC_CHECK_SECONDS": int(os.environ.get("PERIODIC_CHECK_SECONDS", "60")),
        # Every periodic job's period in seconds, instead of its own (for tests and checks).
        "PERIODIC_PERIOD_SECONDS": int(os.environ.get("PERIODIC_PERIOD_SECONDS", "0")),
    }


def storage_for(url: str, name: str):
    """(storage class, its arguments) for a TASK_QUEUE_URL."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage, {"url": url}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStorage, {"filename": str(path)}
    raise ValueError(f"TASK_QUEUE_URL must be redis://... or sqlite:///..., not {url!r}")


def init_app(app: Flask) -> None:
    global _app
    for key, value in from_environment(Path(app.instance_path), os.environ.get("MARKETPLACE_ENV") == "production").items():
        app.config.setdefault(key, value)
    _app = app
    configure(app.config["TASK_QUEUE_URL"], app.config["TASK_QUEUE_NAME"], app.config["TASK_QUEUE_IMMEDIATE"])


def configure(url: str, name: str, immediate: bool = False) -> None:
    """Point the one huey instance at its storage (the registered tasks stay)."""
    storage_class, kwargs = storage_for(url, name)
    if not huey.immediate:
        huey.storage.close()
    huey.name = name
    huey.storage_class = storage_class
    huey.storage_kwargs = kwargs
    huey._immediate = immediate
    # Immediate mode runs tasks in the caller with huey's in-memory storage: no file, no server.
    huey.storage = huey.get_immediate_storage() if immediate else huey.create_storage()


def describe() -> str:
    if huey.immediate:
        return "immediate mode"
    if isinstance(huey.storage, RedisStorage):
        return f"Redis storage, queue {huey.name!r}"
    return f"SQLite storage {huey.storage.filename}, queue {huey.name!r}"


def app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    if _app is None:
        raise RuntimeError("The task queue has no app: create it (marketplace.create_app) first.")
    return _app


def in_app(fn):
    """Run a task body in an app context with a database connection (a consumer has neither)."""

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        if has_app_context() and not db.is_closed():
            return fn(*args, **kwargs)  # immediate mode inside a request or a command
        with app().app_context(), db.connection_context():
            return fn(*args, **kwargs)

    return inner


class InProcessConsumer(Consumer):
    """huey's consumer without the signal handlers (they belong to the web server's process)."""

    def _set_signal_handlers(self):
        pass


def make_consumer(flask_app: Flask, workers: int | None = None, in_process: bool = False) -> Consumer:
    """A consumer of the queue. The caller imports the task modules first (ops.cli's worker and
    the app factory do: notifications.tasks, ops.periodic), so that huey knows every task."""
    from huey.consumer import Scheduler

    Scheduler.periodic_task_seconds = flask_app.config["PERIODIC_CHECK_SECONDS"]
    cls = InProcessConsumer if in_process else Consumer
    # flush_locks: a consumer that was killed may have left a job's lock behind; a starting
    # consumer clears them (a job still running elsewhere is kept from running twice in its
    # period by the period key, see ops.periodic).
    return cls(huey, workers=workers or flask_app.config["WORKER_THREADS"], worker_type="thread",
               periodic=True, flush_locks=True, max_delay=2.0)


def start_in_process(flask_app: Flask) -> Consumer:
    consumer = make_consumer(flask_app, workers=1, in_process=True)
    consumer.start()
    log.info("task queue: consumer started inside the web process (%s)", describe())
    return consumer

