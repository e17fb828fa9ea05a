"""Structured logs: one JSON object per line, for every request and every application message.

A request line carries method, path, endpoint, status, duration, response size, the user's id
and a request id (taken from the proxy's X-Request-ID or made here, and sent back). What it
never carries: the query string or form data (passwords, codes), the values of path parts that
are secrets (`/events/k/<token>`, `/join/<token>` are logged with `<token>`), or anything
shaped like a mainland mobile number.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import g, request

REQUEST_LOGGER = "marketplace.requests"
# Path arguments whose values are never written down, whatever the route.
SECRET_ARGUMENTS = re.compile(r"token|code|key|secret|nonce|sig|password", re.I)
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Attributes every LogRecord has; anything else passed as `extra=` goes into the JSON.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def scrub(text: str) -> str:
    return PHONE.sub("1**********", text)


class JsonFormatter(logging.Formatter):
    """`{"ts": ..., "level": ..., "logger": ..., "message": ..., <extra fields>}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a terminal (LOG_FORMAT=text): readable, and just as scrubbed as the JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest and gunicorn both swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """One stderr handler on the root logger (once per process, however many apps), so our
    messages and the libraries' warnings alike come out as JSON lines; our own loggers at `level`."""
    logging.getLogger("marketplace").setLevel(level)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))


def logged_path() -> str:
    """The request's path with secret arguments shown as their names, e.g. /events/k/<token>."""
    rule, args = request.url_rule, request.view_args or {}
    if rule is not None and any(SECRET_ARGUMENTS.search(name) for name in args):
        path = rule.rule
        for name, value in args.items():
            if not SECRET_ARGUMENTS.search(name):
                path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(value), path)
        return scrub(path)
    return scrub(request.path)


def _start():
    g._log_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _finish(response):
    started = g.pop("_log_started", None)
    if started is None:
        return response
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
    user = g.get("_login_user")  # only if this request already loaded it: logging adds no query
    status = response.status_code
    logging.getLogger(REQUEST_LOGGER).log(
        logging.WARNING if status >= 500 else logging.INFO,
        "%s %s %s %.1fms", request.method, logged_path(), status, duration_ms,
        extra={
            "method": request.method,
            "path": logged_path(),
            "endpoint": request.endpoint,
            "status": status,
            "duration_ms": duration_ms,
            "bytes": response.calculate_content_length(),
            "user_id": getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None,
            "remote_addr": request.remote_addr,
            "request_id": g.get("request_id"),
        },
    )
    return response


def init_app(app) -> None:
    configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    if app.config["REQUEST_LOG"]:
        # First of the before-request hooks, so the time covers the others (opening the
        # database, loading the session); after_request hooks run last-registered first, so
        # registering it now makes it the last to see the response.
        app.before_request_funcs.setdefault(None, []).insert(0, _start)
        app.after_request_funcs.setdefault(None, []).insert(0, _finish)
