"""One scheduler across every host: a lock that a second scheduler cannot take while the first lives.

- Redis (SCHEDULER_LOCK_URL, or the rate limiter's redis:// storage): a key with a time-to-live
  that the holder renews every tick. A holder that dies stops renewing, and the key expires.
- PostgreSQL: a session-level advisory lock on its own connection. The server drops it when
  that connection ends — a crash, a kill -9, a lost network — so it is never left behind.
- SQLite: flock on a file beside the database. SQLite lives on one host, so one host's lock is
  enough; the kernel releases it when the process dies.

Each lock offers acquire() -> bool, still_held() -> bool (called every tick), release().
"""

import fcntl
import logging
import os
import uuid
import zlib
from pathlib import Path

log = logging.getLogger(__name__)
LOCK_NAME = "marketplace:scheduler"


class RedisLock:
    def __init__(self, url: str, ttl_seconds: int):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.ttl_ms = ttl_seconds * 1000
        self.token = uuid.uuid4().hex
        self.held = False

    def describe(self) -> str:
        return "redis"

    def acquire(self) -> bool:
        self.held = bool(self.client.set(LOCK_NAME, self.token, nx=True, px=self.ttl_ms))
        return self.held

    # Renew or release only if the key still carries our token (another scheduler may hold it now).
    _RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def still_held(self) -> bool:
        if not self.held:
            return False
        try:
            self.held = bool(self.client.eval(self._RENEW, 1, LOCK_NAME, self.token, self.ttl_ms))
        except Exception as error:  # noqa: BLE001 - Redis unreachable: we can no longer be sure
            log.warning("scheduler lock: cannot reach Redis (%s)", error)
            self.held = False
        return self.held

    def release(self) -> None:
        if self.held:
            try:
                self.client.eval(self._RELEASE, 1, LOCK_NAME, self.token)
            except Exception:  # noqa: BLE001 - it expires by itself
                pass
        self.held = False


class PostgresLock:
    KEY = zlib.crc32(LOCK_NAME.encode())  # a fixed 32-bit number for pg_try_advisory_lock

    def __init__(self, database):
        self.database = database  # a peewee PostgresqlDatabase; we open our own connection from its settings
        self.conn = None

    def describe(self) -> str:
        return "postgres advisory lock"

    def _connect(self):
        import psycopg2

        params = dict(self.database.connect_params)
        for pool_only in ("max_connections", "stale_timeout", "timeout"):
            params.pop(pool_only, None)
        conn = psycopg2.connect(dbname=self.database.database, **params)
        conn.autocommit = True
        return conn

    def acquire(self) -> bool:
        self.release()
        self.conn = self._connect()
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (self.KEY,))
            if cur.fetchone()[0]:
                return True
        self.release()
        return False

    def still_held(self) -> bool:
        if self.conn is None:
            return False
        try:
            with self.conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                            "AND pid = pg_backend_pid() AND granted", (self.KEY & 0xFFFFFFFF,))
                return cur.fetchone()[0] > 0
        except Exception as error:  # noqa: BLE001 - the connection is gone, and the lock with it
            log.warning("scheduler lock: lost the PostgreSQL connection (%s)", error)
            self.release()
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()  # ends the session: the server releases the advisory lock
            except Exception:  # noqa: BLE001
                pass
        self.conn = None


class FileLock:
    def __init__(self, path: Path):
        self.path = path
        self.fd = None

    def describe(self) -> str:
        return f"file lock {self.path}"

    def acquire(self) -> bool:
        self.release()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
        self.fd = None


def lock_for(app, database, ttl_seconds: int):
    """The right lock for this deployment (see the module's docstring)."""
    import peewee as pw

    url = app.config.get("SCHEDULER_LOCK_URL") or ""
    limiter_storage = app.config.get("RATELIMIT_STORAGE_URI", "")
    if not url and limiter_storage.startswith(("redis://", "rediss://")):
        url = limiter_storage
    if url.startswith(("redis://", "rediss://")):
        return RedisLock(url, ttl_seconds)
    if isinstance(database, pw.PostgresqlDatabase):
        return PostgresLock(database)
    return FileLock(Path(app.instance_path) / "scheduler.lock")
