"""The database: one proxy every model binds to.

SQLite (the embedded default) and PostgreSQL (scale-out) are chosen by DATABASE_URL.

Connections: PostgreSQL's come from a pool and go back to it after each request. A SQLite
connection stays open in its thread from one request to the next (opening one and setting its
four PRAGMAs cost 2-3 ms of every request); a request that leaves a transaction open has it
rolled back and its connection closed. A connection is never used across a fork.

Writers on SQLite queue on a lock file (see QueuedSqliteDatabase).
"""

import fcntl
import logging
import os
import threading
import weakref
from urllib.parse import parse_qs, urlparse

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

log = logging.getLogger(__name__)

db = pw.DatabaseProxy()

# SQLite settings for a file that several threads and gunicorn workers share.
# synchronous=FULL because the ledger must survive a power cut (DESIGN.md §5).
SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 5000),
    ("synchronous", "full"),
)
WRITE_LOCK_TYPES = ("IMMEDIATE", "EXCLUSIVE")


class WriteLockFile:
    """One thread's handle on the file every SQLite writer locks (flock) before BEGIN IMMEDIATE.

    Each thread opens the file itself: flock belongs to an open file description, so two threads
    sharing one would both "hold" it. The kernel keeps the waiters blocked and wakes them the
    moment the holder lets go, where SQLite's busy handler polls with sleeps that grow to 100 ms,
    so that an unlucky writer lost race after race for seconds. flock has no timeout: a writer that cannot take
    the lock at once waits for it in a helper thread, and gives up after `timeout` seconds with
    the error the app answers as "busy, try again" (503). The kernel drops the lock when the
    process dies, so a killed worker never leaves it behind.
    """

    def __init__(self, path: str):
        self.path = path
        self.file = None
        self.held = False

    def acquire(self, timeout: float) -> None:
        if self.held:
            return
        if self.file is None:
            # O_CLOEXEC: a program this process starts must not inherit (and so keep) the lock.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.file = os.fdopen(fd, "r+b", buffering=0)
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._wait(timeout)
        self.held = True

    def _wait(self, timeout: float) -> None:
        file, guard, done, outcome = self.file, threading.Lock(), threading.Event(), {}

        def wait():
            try:
                fcntl.flock(file, fcntl.LOCK_EX)
            except OSError as error:
                outcome["error"] = error
            with guard:
                if outcome.get("abandoned"):
                    # Whoever asked gave up: let go at once, and close the file it left us.
                    if "error" not in outcome:
                        fcntl.flock(file, fcntl.LOCK_UN)
                    file.close()
                    return
                outcome["done"] = True
            done.set()

        threading.Thread(target=wait, name="sqlite-write-lock", daemon=True).start()
        done.wait(timeout)
        with guard:
            if not outcome.get("done"):
                outcome["abandoned"] = True
                self.file = None  # the helper thread closes it when the lock finally comes
                raise pw.OperationalError(f"database is locked: no write lock within {timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.file, fcntl.LOCK_UN)

    def close(self) -> None:
        try:
            self.release()
        finally:
            if self.file is not None:
                self.file.close()
                self.file = None


# Every QueuedSqliteDatabase, so that a forked child can drop what it inherited.
_DATABASES: "weakref.WeakSet[QueuedSqliteDatabase]" = weakref.WeakSet()
# What a forked child inherited from its parent's forking thread: kept referenced, never used and
# never closed, because closing a SQLite connection in the child can disturb the parent's.
_INHERITED: list = []


class QueuedSqliteDatabase(pw.SqliteDatabase):
    """SQLite whose write transactions queue on a lock file beside the database.

    Every transaction that begins with the write lock (lock_type IMMEDIATE, the default here,
    or EXCLUSIVE) first takes an exclusive flock on `<database>.write-lock`, and lets it go when
    the transaction ends: when COMMIT or ROLLBACK has left the connection out of its
    transaction, or the connection closes. Nested atomic blocks are savepoints, which begin
    nothing, so the outermost block holds the lock from its BEGIN to its end. Reads, which run
    outside transactions, never touch the lock. SQLite's own lock and busy timeout still guard
    the data; the file lock only makes writers wait in line instead of polling for it.
    """

    def __init__(self, database, *args, **kwargs):
        self._local = threading.local()
        super().__init__(database, *args, **kwargs)
        self.lock_wait = float(self._timeout)  # as long as SQLite's busy timeout
        _DATABASES.add(self)

    @property
    def write_lock_path(self) -> str:
        return f"{self.database}.write-lock"

    def _write_lock(self) -> WriteLockFile:
        lock = getattr(self._local, "lock", None)
        if lock is None or lock.path != self.write_lock_path:
            if lock is not None:
                lock.close()
            lock = self._local.lock = WriteLockFile(self.write_lock_path)
        return lock

    def holds_write_lock(self) -> bool:
        lock = getattr(self._local, "lock", None)
        return lock is not None and lock.held

    def begin(self, lock_type=None):
        takes_lock = (lock_type or self._lock_type or "").upper() in WRITE_LOCK_TYPES
        took = False
        if takes_lock and not self.holds_write_lock():
            self._write_lock().acquire(self.lock_wait)
            took = True
        try:
            super().begin(lock_type)
        except BaseException:
            if took:
                self._release_unless_in_transaction()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self._release_unless_in_transaction()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release_unless_in_transaction()

    def _release_unless_in_transaction(self):
        # A COMMIT that failed (the disk full, say) leaves the transaction open: keep the lock
        # until the ROLLBACK that follows it.
        conn = self._state.conn
        if conn is None or not conn.in_transaction:
            lock = getattr(self._local, "lock", None)
            if lock is not None:
                lock.release()

    def _close(self, conn):
        try:
            super()._close(conn)  # closing ends any transaction it had open
        finally:
            lock = getattr(self._local, "lock", None)
            if lock is not None:
                lock.close()
                self._local.lock = None

    def cursor(self, named_cursor=None):
        cursor = super().cursor(named_cursor)
        cursors = getattr(self._local, "cursors", None)
        if cursors is None:
            cursors = self._local.cursors = weakref.WeakSet()
        cursors.add(cursor)
        return cursor

    def close_cursors(self) -> None:
        """Close this thread's cursors. A query read only in part keeps its statement active, and
        with it the connection's read snapshot: the next request would see old data, and could
        not upgrade that snapshot to write (SQLite refuses a stale one). A closed connection
        used to end both; a kept one needs its cursors closed."""
        cursors = getattr(self._local, "cursors", None)
        if cursors:
            for cursor in list(cursors):
                try:
                    cursor.close()
                except Exception:  # noqa: BLE001 - a cursor of a connection already closed
                    pass
            cursors.clear()

    def _forget_after_fork(self):
        """In a forked child: start with no connection and no lock file, keeping the parent's."""
        lock = getattr(self._local, "lock", None)
        if lock is not None and lock.file is not None:
            # Close our copy without unlocking: an unlock would release the parent's lock.
            lock.file.close()
            lock.file, lock.held = None, False
        _INHERITED.append(self._state)
        self._state = type(self._state)()
        self._local = threading.local()
        self._lock = threading.Lock()  # another thread may have held it at the fork


def _after_fork_in_child():
    for database in list(_DATABASES):
        database._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


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
        return QueuedSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", timeout=5)
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


def end_request(database: pw.Database) -> None:
    """After a request: no transaction may outlive it. A SQLite connection then stays open for
    this thread's next request; any other goes back to its pool."""
    if database is None or database.is_closed():
        return
    conn = database._state.conn
    left_open = database.in_transaction() or bool(getattr(conn, "in_transaction", False))
    if left_open:
        log.error("A request ended with a database transaction still open; rolling it back")
        while database.in_transaction():
            database.pop_transaction()
        try:
            database.rollback()
        except Exception:  # noqa: BLE001 - the connection is closed below either way
            log.exception("Rolling back the transaction left open failed")
    if isinstance(database, QueuedSqliteDatabase):
        database.close_cursors()
    if left_open or not isinstance(database, QueuedSqliteDatabase):
        # Closing discards a SQLite connection (and its write lock) that held a transaction;
        # a pooled PostgreSQL connection goes back to the pool, which rolls back what is left.
        database.close()


def init_app(app) -> None:
    from flask import appcontext_pushed, g

    db.initialize(make_database(app.config["DATABASE_URL"]))

    # Our own hooks rather than playhouse's FlaskDB, which fails when a connection is
    # already open (DESIGN.md §5).
    @app.before_request
    def _open_connection():
        db.connect(reuse_if_open=True)

    # An app context pushed inside a transaction (a job run from within a service, say) must
    # leave that transaction to the code that opened it.
    def _note_enclosing_transaction(sender, **extra):
        g._db_inside_transaction = db.obj is not None and db.obj.in_transaction()

    appcontext_pushed.connect(_note_enclosing_transaction, app, weak=False)

    @app.teardown_appcontext
    def _end_request(exc):
        if not g.get("_db_inside_transaction"):
            end_request(db.obj)


# SQLSTATEs for "try again": lock timeout, deadlock, serialization failure, too many connections.
BUSY_SQLSTATES = {"55P03", "40P01", "40001", "53300"}


def is_busy(error) -> bool:
    """A database that is momentarily busy (SQLite locked, PostgreSQL lock or pool pressure):
    the app answers 503 with Retry-After instead of 500."""
    cause = getattr(error, "orig", None) or error.__cause__ or error
    if getattr(cause, "pgcode", None) in BUSY_SQLSTATES:
        return True
    text = str(error).lower()
    return "database is locked" in text or "database is busy" in text or "too many connections" in text


def lock_head(model, head_id: int = 1, **initial):
    """Lock the one head row of a hash chain (the ledger's, the audit log's) until the enclosing
    transaction ends, creating it on first use, and return it.

    Whoever holds it is the only writer of that chain: entries are numbered without gaps and each
    hash covers the one before. On PostgreSQL that is SELECT ... FOR UPDATE; on SQLite the
    database-wide IMMEDIATE lock of the transaction already does it. Heads are always locked in
    the same order (the ledger's, then the audit log's), so writers queue instead of deadlocking.
    """
    query = model.select().where(model.id == head_id)
    if db.for_update:
        query = query.for_update()
    head = query.first()
    if head is None:
        # Two first writers may race: insert-or-ignore, then read (and lock) the winner's row.
        model.insert(id=head_id, **initial).on_conflict_ignore().execute()
        head = query.get()
    return head


def check_in(column: str, values) -> pw.SQL:
    """A CHECK constraint keeping a text column to a fixed set of values (states, kinds)."""
    return pw.SQL("CHECK ({} IN ({}))".format(column, ", ".join(f"'{v}'" for v in values)))


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False  # ServiceRequest -> service_request


class PreparedQuery:
    """A query of one fixed shape whose SQL peewee writes once per kind of database; each run
    passes its own values.

    Peewee writes a query's SQL anew from its expression tree on every execution, which for the
    hot pages' joins cost more than running them (issue 20: a third of a signed-in page).
    `build(*stand_ins)` returns the query with a stand-in where each changing value goes (ints and
    strings no real value takes: see STAND_INS); `rows(*values)` runs it with the values in their
    places and returns what running the built query would (its models, dicts or tuples)."""

    def __init__(self, build, *stand_ins):
        self._build, self._stand_ins = build, stand_ins
        self._compiled: dict[type, tuple] = {}

    def _compile(self, database) -> tuple:
        prototype = self._build(*self._stand_ins)
        sql, params = prototype.sql()
        slots = [[at for at, param in enumerate(params) if param == stand_in] for stand_in in self._stand_ins]
        if not all(slots):
            raise ValueError(f"{self._build.__qualname__}: a stand-in is not among the query's values")
        compiled = self._compiled[type(database)] = (prototype, sql, tuple(params), slots)
        return compiled

    def rows(self, *values) -> list:
        database = db.obj
        prototype, sql, params, slots = self._compiled.get(type(database)) or self._compile(database)
        filled = list(params)
        for places, value in zip(slots, values, strict=True):
            for at in places:
                filled[at] = value
        return list(prototype._get_cursor_wrapper(database.execute_sql(sql, filled)))


# Stand-ins for PreparedQuery: values no id, count or key on the street takes.
STAND_INS = (-7_391_017, -7_391_018, -7_391_019, -7_391_020)
TEXT_STAND_INS = ("\x00stand-in 1", "\x00stand-in 2")
