"""Structured logs: one JSON object per line, for every request and every application message.

A request line carries method, path, endpoint, status, duration, response size, the user's id
and a request id (taken from the proxy's X-Request-ID when it is a UUID, else made here, and
sent back). What it never carries: the query string or form data (passwords, codes), the values
of path parts that are secrets (`/events/k/<token>`, `/join/<token>` are logged with `<token>`),
or anything shaped like a mainland mobile number.

Secret path parts are found by pattern, not by the route that answered: a mistyped link
(`/join/<token>/`, with a trailing slash, matches no route and answers 404) still carries a valid
token, so each route with a secret argument becomes a prefix pattern matched against every path.
A client's request id is free text in a header: a phone number or a token would go into every
line, so anything but a UUID is replaced.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import current_app, g, request

REQUEST_LOGGER = "marketplace.requests"
# Path arguments whose values are never written down, whatever the route.
SECRET_ARGUMENTS = re.compile(r"token|code|key|secret|nonce|sig|password", re.I)
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
REQUEST_ID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
# A path part that looks like a token (long, of a token's letters, with a digit) is hidden even on a
# path no route knows: a link from another version of the app, or a mistyped one.
TOKEN_LIKE = re.compile(r"(?<=/)(?=[^/]*\d)[A-Za-z0-9_.=~-]{24,}(?=/|$)")
_RULE_PART = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
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


def secret_path_patterns(url_map) -> list[tuple[re.Pattern, list[str]]]:
    """For each route with a secret argument, a pattern of its path's beginning whose groups are
    the secret parts, and their names, e.g. ^/events/k/([^/]*) and ["token"]."""
    patterns = []
    for rule in url_map.iter_rules():
        if not any(SECRET_ARGUMENTS.search(name) for name in rule.arguments):
            continue
        regex, names, at = "^", [], 0
        for part in _RULE_PART.finditer(rule.rule):
            regex += re.escape(rule.rule[at:part.start()])
            name = part.group(2)
            if SECRET_ARGUMENTS.search(name):
                regex += "([^/]*)"
                names.append(name)
            else:
                regex += "[^/]*"
            at = part.end()
        patterns.append((re.compile(regex + re.escape(rule.rule[at:]).rstrip("/")), names))
    return patterns


def redact_path(path: str, patterns) -> str:
    """The path with every secret part shown as its name (`/join/<token>/`), and no phone numbers."""
    for pattern, names in patterns:
        found = pattern.match(path)
        if found:
            for index in range(len(names), 0, -1):  # from the right, so earlier offsets hold
                path = path[:found.start(index)] + f"<{names[index - 1]}>" + path[found.end(index):]
            break
    return scrub(TOKEN_LIKE.sub("<redacted>", path))


def logged_path() -> str:
    """The request's path with secret arguments shown as their names, whether or not a route matched."""
    patterns = current_app.extensions.get("secret_path_patterns")
    if patterns is None:  # the URL map is complete once the first request arrives
        patterns = current_app.extensions["secret_path_patterns"] = secret_path_patterns(current_app.url_map)
    return redact_path(request.path, patterns)


def _start():
    g._log_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) and not PHONE.search(incoming) else uuid.uuid4().hex


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
