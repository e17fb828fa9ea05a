"""The database layer: connections kept or pooled between requests, no transaction outliving its
request, and SQLite writers queued one at a time on the write-lock file, with the "busy, try
again" page for one that waits too long."""

import fcntl
import os
import re
import threading
import time

import peewee as pw
import pytest

from marketplace.access import PUBLIC
from marketplace.db import QueuedSqliteDatabase, WriteLockFile, db
from marketplace.ledger import services as ledger
from marketplace.shop.models import Offer, Voucher
from tests.conftest import DEMO_PHONES, csrf_token, person
from tests.ledger_helpers import balance, run_at_once

EN = {"Accept-Language": "en"}
KEY_PATTERN = re.compile(r'name="key" type="hidden" value="([^"]+)"')


def _lock_is_free(path) -> bool:
    """Whether another holder (a separate open file, as another worker would have) could take it now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


class HeldLock:
    """The write lock held by someone else, as a writer in another worker process would."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def probe(app):
    """A table of one counter, and routes that write to it: one ends normally, two fail."""
    with app.app_context():
        db.execute_sql("CREATE TABLE probe (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        db.execute_sql("INSERT INTO probe (id, value) VALUES (1, 0)")

    def bump():
        db.execute_sql("UPDATE probe SET value = value + 1 WHERE id = 1")

    def write():
        with db.atomic():
            bump()
        return "ok"

    def raise_in_transaction():
        with db.atomic():
            bump()
            raise RuntimeError("failed half-way")

    def leave_transaction_open():
        db.atomic().__enter__()  # a block never exited, as a buggy view or generator might leave it
        bump()
        raise RuntimeError("failed with the transaction open")

    for view in (write, raise_in_transaction, leave_transaction_open):
        view.allowed = frozenset({PUBLIC})
        app.add_url_rule(f"/_probe/{view.__name__}", view.__name__, view)
    return app


def _probe_value(app):
    with app.app_context():
        return db.execute_sql("SELECT value FROM probe WHERE id = 1").fetchone()[0]


# ---- connections between requests -----------------------------------------------------------------


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_sqlite_keeps_one_connection_per_thread_across_requests_with_its_pragmas(app, client, database_url):
    assert client.get("/menu/").status_code == 200
    first = db.obj._state.conn
    assert first is not None and not db.is_closed()
    assert client.get("/menu/").status_code == 200
    assert client.get("/events/").status_code == 200
    assert db.obj._state.conn is first  # reused, not reopened
    pragmas = {name: first.execute(f"PRAGMA {name}").fetchone()[0]
               for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 2}  # 2 = FULL
    assert not first.in_transaction


@pytest.mark.postgres_only  # the pool is PostgreSQL's
def test_postgresql_returns_each_request_s_connection_to_the_pool(app, client, database_url):
    for _ in range(3):
        assert client.get("/menu/").status_code == 200
        assert db.is_closed()  # handed back
        assert len(db.obj._in_use) == 0
    assert len(db.obj._connections) >= 1  # and kept in the pool for the next request


def test_a_request_that_fails_in_a_transaction_leaves_nothing_open_or_written(probe, client, database_url):
    for path in ("/_probe/raise_in_transaction", "/_probe/leave_transaction_open"):
        response = client.get(path, headers=EN)
        assert response.status_code == 500
        assert not db.obj.in_transaction()
        conn = db.obj._state.conn
        assert conn is None or not getattr(conn, "in_transaction", False)
        if database_url.startswith("sqlite"):
            assert _lock_is_free(db.obj.write_lock_path)
    assert _probe_value(probe) == 0  # both rolled back
    # The next request writes as usual.
    assert client.get("/_probe/write").status_code == 200
    assert _probe_value(probe) == 1


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_a_request_that_fails_cleanly_keeps_the_sqlite_connection(probe, client, database_url):
    client.get("/menu/")
    conn = db.obj._state.conn
    assert client.get("/_probe/raise_in_transaction").status_code == 500
    assert db.obj._state.conn is conn  # the atomic block rolled back; nothing to throw away
    assert client.get("/_probe/leave_transaction_open").status_code == 500
    assert db.obj._state.conn is None  # a connection that was left in a transaction is not reused


# ---- writers queue ---------------------------------------------------------------------------------


def test_writers_in_many_threads_all_succeed_one_at_a_time(probe, database_url):
    inside, most_inside, guard = [0], [0], threading.Lock()

    def write(i):
        with ledger.ledger_transaction():  # the lock every posting of points takes
            with guard:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            value = db.execute_sql("SELECT value FROM probe WHERE id = 1").fetchone()[0]
            time.sleep(0.01)  # a racer that was not held back would read the same value
            db.execute_sql(f"UPDATE probe SET value = {db.obj.param} WHERE id = 1", (value + 1,))
            with guard:
                inside[0] -= 1
        return "ok"

    results = run_at_once(probe, 8, write)
    assert results == ["ok"] * 8
    assert most_inside[0] == 1
    assert _probe_value(probe) == 8


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_reads_do_not_wait_for_the_write_lock(probe, client, database_url):
    holder = HeldLock(_lock_path(probe))
    try:
        started = time.perf_counter()
        assert client.get("/menu/").status_code == 200
        assert time.perf_counter() - started < 2
        with probe.app_context():
            db.execute_sql("SELECT value FROM probe").fetchall()
            with db.atomic("DEFERRED"):  # a read transaction does not take it either
                db.execute_sql("SELECT value FROM probe").fetchall()
                assert not db.obj.holds_write_lock()
    finally:
        holder.release()


def _lock_path(app):
    with app.app_context():
        return db.obj.write_lock_path


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_a_writer_that_cannot_get_the_lock_in_time_gets_the_busy_page(app, client, auth, database_url):
    auth.login_as("resident")
    with app.app_context():
        member = person(DEMO_PHONES["resident"])
        before = balance(member)
        offer_id = Offer.get(Offer.title.startswith("免费磨刀")).id
        vouchers = Voucher.select().count()
    page = client.get(f"/shop/offers/{offer_id}", headers=EN).get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, f"/shop/offers/{offer_id}"), "key": KEY_PATTERN.search(page).group(1)}
    db.obj.lock_wait = 0.3
    holder = HeldLock(db.obj.write_lock_path)
    try:
        started = time.perf_counter()
        response = client.post(f"/shop/offers/{offer_id}/redeem", data=data, headers=EN)
        waited = time.perf_counter() - started
    finally:
        holder.release()
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    text = response.get_data(as_text=True)
    assert "Please try again in a moment" in text and "locked" not in text
    assert 0.25 < waited < 3
    with app.app_context():
        assert balance(person(DEMO_PHONES["resident"])) == before and Voucher.select().count() == vouchers
    # Trying again once the lock is free works, once.
    again = client.post(f"/shop/offers/{offer_id}/redeem", data=data, headers=EN)
    assert again.status_code == 302
    with app.app_context():
        assert Voucher.select().count() == vouchers + 1


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_nested_atomic_blocks_keep_the_lock_until_the_outermost_ends(probe, database_url):
    path = _lock_path(probe)
    with probe.app_context():
        assert _lock_is_free(path)
        with db.atomic():
            assert not _lock_is_free(path)
            with db.atomic():
                db.execute_sql("UPDATE probe SET value = 5 WHERE id = 1")
            assert not _lock_is_free(path)  # the savepoint's end is not the transaction's
            with pytest.raises(RuntimeError):
                with db.atomic():
                    raise RuntimeError("inner block rolled back")
            assert not _lock_is_free(path)
            with ledger.ledger_transaction():  # a service called from inside another
                assert not _lock_is_free(path)
            assert not _lock_is_free(path)
        assert _lock_is_free(path)
        assert not db.obj.holds_write_lock()
        # An outer block that fails lets go too.
        with pytest.raises(RuntimeError):
            with db.atomic():
                with db.atomic():
                    raise RuntimeError("whole transaction rolled back")
        assert _lock_is_free(path)
    assert _probe_value(probe) == 5


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_a_transaction_that_cannot_begin_lets_go_of_the_lock(probe, database_url, monkeypatch):
    path = _lock_path(probe)
    with probe.app_context():
        db.connect(reuse_if_open=True)
        db.obj.begin()  # a transaction opened by hand...
        with pytest.raises(pw.OperationalError):
            db.obj.begin()  # ...cannot begin again inside itself, and keeps the lock it has
        assert not _lock_is_free(path)
        db.obj.rollback()
        assert _lock_is_free(path)

        def failing_begin(self, lock_type=None):
            raise pw.OperationalError("disk I/O error")

        monkeypatch.setattr(pw.SqliteDatabase, "begin", failing_begin)
        with pytest.raises(pw.OperationalError):
            with db.atomic():
                pass
        assert _lock_is_free(path) and not db.obj.holds_write_lock()


def test_the_lock_wait_times_out_and_a_later_writer_still_gets_it(tmp_path):
    path = str(tmp_path / "x.write-lock")
    holder = HeldLock(path)
    mine = WriteLockFile(path)
    started = time.perf_counter()
    with pytest.raises(pw.OperationalError, match="database is locked"):
        mine.acquire(0.2)
    assert 0.15 < time.perf_counter() - started < 2
    assert not mine.held
    holder.release()
    # The abandoned wait ends by letting go; the next writer gets the lock.
    deadline = time.monotonic() + 5
    while not _lock_is_free(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    mine.acquire(1)
    assert mine.held and not _lock_is_free(path)
    mine.close()
    assert _lock_is_free(path)


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_a_forked_child_never_uses_its_parent_s_connection(probe, database_url):
    with probe.app_context():
        db.connect(reuse_if_open=True)
        parent_conn = db.obj._state.conn
        pid = os.fork()
        if pid == 0:  # the child: report by exit code, and leave without running any cleanup
            code = 1
            try:
                code = 2
                assert db.is_closed() and not db.obj.holds_write_lock()
                code = 3
                with db.atomic():
                    db.execute_sql("UPDATE probe SET value = value + 10 WHERE id = 1")
                code = 4
                assert db.obj._state.conn is not parent_conn
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's connection is still its own and still works.
        assert db.obj._state.conn is parent_conn
        assert db.execute_sql("SELECT value FROM probe WHERE id = 1").fetchone()[0] == 10


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_the_sqlite_database_is_the_queued_kind(app, database_url):
    assert isinstance(db.obj, QueuedSqliteDatabase)
    assert db.obj.lock_wait == 5  # as long as SQLite's busy timeout


@pytest.mark.sqlite_only  # SQLite's connections and its write lock
def test_a_query_left_unread_does_not_carry_its_snapshot_into_the_next_request(probe, client, database_url):
    kept = []

    def peek():
        cursor = db.execute_sql("SELECT value FROM probe UNION ALL SELECT value FROM probe")
        kept.append(cursor)  # held past the request, half read, as a cache might hold a query
        return str(cursor.fetchone()[0])

    peek.allowed = frozenset({PUBLIC})
    probe.add_url_rule("/_probe/peek", "peek", peek)
    assert client.get("/_probe/peek").get_data(as_text=True) == "0"

    def write_elsewhere(i):
        with db.atomic():
            db.execute_sql("UPDATE probe SET value = 7 WHERE id = 1")
        return "ok"

    assert run_at_once(probe, 1, write_elsewhere) == ["ok"]  # another thread, another connection
    assert client.get("/_probe/peek").get_data(as_text=True) == "7"  # not the old snapshot's 0
    assert client.get("/_probe/write").status_code == 200  # and the write lock upgrade is not refused
    assert _probe_value(probe) == 8


def test_an_app_context_opened_inside_a_transaction_leaves_it_to_its_owner(probe):
    with probe.app_context():
        with db.atomic():
            db.execute_sql("UPDATE probe SET value = 3 WHERE id = 1")
            with probe.test_request_context("/"):
                pass
            assert db.obj.in_transaction()  # neither rolled back nor closed
            db.execute_sql("UPDATE probe SET value = value + 1 WHERE id = 1")
        assert not db.obj.in_transaction()
    assert _probe_value(probe) == 4
