"""The database: one proxy every model binds to, opened per request and closed after it.

SQLite (the embedded default) and PostgreSQL (scale-out) are chosen by DATABASE_URL.
"""

from urllib.parse import parse_qs, urlparse

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

db = pw.DatabaseProxy()

# SQLite settings for a file that several threads and gunicorn workers share.
# synchronous=FULL because the ledger must survive a power cut (DESIGN.md §5).
SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 5000),
    ("synchronous", "full"),
)


def make_database(url: str) -> pw.Database:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = parsed.path[1:] if parsed.path.startswith("//") else parsed.path
        if not path or path == "/:memory:":
            # Each connection to :memory: is its own empty database; refuse it rather than
            # hand a multi-threaded app a database that silently forgets.
            raise ValueError("Use a SQLite file, not :memory:")
        # lock_type=IMMEDIATE: every transaction takes the write lock when it begins, so a
        # transaction that reads and then writes never fails half-way with "database is locked".
        return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", timeout=5)
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        max_connections = int(options.pop("max_connections", 20))
        return PooledPostgresqlDatabase(
            (parsed.path or "/postgres")[1:],
            user=parsed.username,
            password=parsed.password,
            host=parsed.hostname,
            port=parsed.port or 5432,
            max_connections=max_connections,
            stale_timeout=300,
            timeout=10,
            **options,
        )
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def is_sqlite() -> bool:
    return isinstance(db.obj, pw.SqliteDatabase)


def init_app(app) -> None:
    db.initialize(make_database(app.config["DATABASE_URL"]))

    # Our own hooks rather than playhouse's FlaskDB, which fails when a connection is
    # already open (DESIGN.md §5).
    @app.before_request
    def _open_connection():
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close_connection(exc):
        if not db.is_closed():
            db.close()


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False  # ServiceRequest -> service_request
