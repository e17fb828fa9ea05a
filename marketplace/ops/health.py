"""GET /healthz: is this web process able to serve? For load balancers, systemd and monitoring.

It answers 200 when the database answers a query on the application's schema, and 503
otherwise — including when the connection cannot even be opened in the request's first hook,
which is why the blueprint has its own error handler. It says nothing about the cause beyond
a word: the details go to the log, not to whoever can reach the URL.
"""

import logging

from flask import Blueprint, jsonify

from marketplace.access import PUBLIC, allow
from marketplace.db import db

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


def _answer(status: str, code: int, **details):
    response = jsonify(status=status, **details)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    from marketplace.ledger.models import LedgerHead

    db.connect(reuse_if_open=True)
    db.execute_sql("SELECT 1")
    LedgerHead.select(LedgerHead.id).limit(1).execute()  # the schema is there, not just the server
    # No timings: how long the database took is for the operator's monitoring (the request log
    # has every request's duration), not for whoever can reach the URL.
    return _answer("ok", 200, database="ok")


@bp.errorhandler(Exception)
def _unhealthy(error):
    log.error("health check failed: %s: %s", type(error).__name__, str(error).splitlines()[0] if str(error) else "")
    try:
        if not db.is_closed():
            db.close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close; the answer stands
        pass
    return _answer("error", 503, database="unavailable")
