"""Real huey consumers (`flask --app wsgi worker` processes): a consumer killed with SIGKILL in
the middle of a send, and the periodic jobs with two consumers sharing a queue on Redis and on
SQLite. Every wait polls with a generous limit (tests.servers.PATIENCE): no test depends on the
machine's speed."""

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from marketplace.db import db
from marketplace.notifications import preferences
from marketplace.notifications.models import Delivery
from marketplace.notifications.services import notify
from tests.conftest import demo_app, person
from tests.notifications.standins import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SmsStandIn, serving, wait_for
from tests.servers import PATIENCE, PROJECT_ROOT

REDIS_URL = "redis://127.0.0.1:6379/0"


def _worker_env(database_url, folder, queue_url, queue_name, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_INSTANCE_PATH": str(folder),
            "SECRET_KEY": "test-secret", "RATELIMIT_STORAGE_URI": "memory://", "TASK_QUEUE_URL": queue_url,
            "TASK_QUEUE_NAME": queue_name, "TASK_QUEUE_IMMEDIATE": "0", "PERIODIC_CHECK_SECONDS": "1",
            "FIGURES_MAX_AGE_SECONDS": "0", "MESSAGE_LOG_CHANNEL": "0", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
            **{key: str(value) for key, value in extra.items()}}


def _start_worker(env, log_path: Path) -> subprocess.Popen:
    flask = str(Path(sys.executable).with_name("flask"))
    return subprocess.Popen([flask, "--app", "wsgi", "worker", "--workers", "1"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log_path.open("w"))


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _job_runs(*logs: Path) -> list[tuple[str, str]]:
    runs = []
    for path in logs:
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("job") and entry.get("period"):
                    runs.append((entry["job"], entry["period"]))
    return runs


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")


def test_a_consumer_killed_mid_send_and_restarted_sends_each_message_exactly_once(database_url, tmp_path):
    sms = SmsStandIn()
    queue_url, name = f"sqlite:///{tmp_path / 'huey.db'}", f"kill-{uuid.uuid4().hex[:8]}"
    with serving(sms) as url:
        sms_settings = {"SMS_PROVIDER": "aliyun", "SMS_API_URL": url, "SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                        "SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET, "MESSAGE_TIMEOUT_SECONDS": PATIENCE}
        with demo_app(database_url, tmp_path, TASK_QUEUE_IMMEDIATE=False, TASK_QUEUE_URL=queue_url,
                      TASK_QUEUE_NAME=name, MESSAGE_LOG_CHANNEL=False, **sms_settings) as app:
            with app.test_request_context():
                db.connect(reuse_if_open=True)
                resident = person("resident")
                preferences.set_own(resident, ["sms"])
                notes = [notify(resident, "job", f"message {i}") for i in range(3)]
                keys = [f"{note.id}:sms" for note in notes]
            db.close()
            sms.hold()  # the first send gets no answer: the consumer is killed while it waits
            env = _worker_env(database_url, tmp_path, queue_url, name, MESSAGE_STUCK_SECONDS=3,
                              PERIODIC_PERIOD_SECONDS=2, **sms_settings)
            first = _start_worker(env, tmp_path / "first.log")
            try:
                assert sms.held.wait(PATIENCE), (tmp_path / "first.log").read_text()[-3000:]
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=PATIENCE)
            finally:
                _stop(first)
            with app.app_context(), db.connection_context():
                assert Delivery.get(Delivery.key == keys[0]).state == "sending"  # the trace a dead consumer leaves
            second = _start_worker(env, tmp_path / "second.log")
            try:
                def all_sent():
                    with app.app_context(), db.connection_context():
                        states = [Delivery.get(Delivery.key == key).state for key in keys]
                    return all(state in ("sent", "delivered") for state in states)

                wait_for(all_sent, PATIENCE)
            finally:
                _stop(second)
            assert [sms.sends_of(key) for key in keys] == [1, 1, 1], sms.sent
            assert len(sms.sent) == 3 and sms.queries >= 1  # the provider was asked about the first


@pytest.mark.parametrize("storage", ["redis", "sqlite"])
def test_periodic_jobs_run_once_per_period_with_two_consumers(storage, app, database_url, tmp_path):
    if storage == "redis":
        _redis_or_skip()
        queue_url = REDIS_URL
    else:
        queue_url = f"sqlite:///{tmp_path / 'huey.db'}"
    name = f"periodic-{uuid.uuid4().hex[:10]}"  # its own keys / rows
    with app.app_context():
        db.close()
    env = _worker_env(database_url, tmp_path, queue_url, name, PERIODIC_PERIOD_SECONDS=3)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [_start_worker(env, log) for log in logs]
    try:
        def enough_periods():
            periods = {period for job, period in _job_runs(*logs) if job == "close_events"}
            return len(periods) >= 4

        wait_for(enough_periods, PATIENCE * 2)
    finally:
        for worker in workers:
            _stop(worker)
        if storage == "redis":
            from huey.storage import RedisStorage

            RedisStorage(name, url=REDIS_URL).flush_all()
    runs = _job_runs(*logs)
    twice = [run for run, count in Counter(runs).items() if count > 1]
    assert twice == [], twice
    jobs = {job for job, _ in runs}
    assert {"auto_confirm", "voucher_expiry", "deadline_reminders", "close_events", "message_fallback"} <= jobs


def test_make_run_delivers_a_claim_message_through_the_log_channel(database_url, tmp_path, caplog):
    """`make run` sets QUEUE_IN_PROCESS=1: the development server's own consumer thread sends
    what a claim tells the resident, on the `log` channel, with no other command."""
    from marketplace.menu.models import ServiceItem
    from marketplace.service_requests import services as requests

    queue_url = f"sqlite:///{tmp_path / 'huey.db'}"
    with demo_app(database_url, tmp_path, TASK_QUEUE_IMMEDIATE=False, TASK_QUEUE_URL=queue_url,
                  TASK_QUEUE_NAME=f"run-{uuid.uuid4().hex[:8]}", QUEUE_IN_PROCESS=True, MESSAGE_LOG_CHANNEL=True) as app:
        consumer = app.extensions["queue_consumer"]
        try:
            with app.test_request_context():
                db.connect(reuse_if_open=True)
                item = ServiceItem.get(ServiceItem.code == "plumbing_electrical")
                booked = requests.book(person("resident"), item.id, "水管漏水了")
                requests.claim(person("partner_staff"), booked.id)
                resident_id = person("resident").id
            db.close()

            def logged():
                with app.app_context(), db.connection_context():
                    return Delivery.select().where(Delivery.user == resident_id, Delivery.channel == "log",
                                                   Delivery.state == "delivered").count()

            wait_for(logged, PATIENCE)
        finally:
            consumer.stop(graceful=True)
    assert any(getattr(r, "channel", None) == "log" for r in caplog.records)
