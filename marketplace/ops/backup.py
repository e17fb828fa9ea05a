"""Backups and restores of the whole database, consistent while the site keeps serving.

SQLite: the online backup API copies the database page by page under its own read
transaction, so the copy is a consistent snapshot even with gunicorn workers writing (a plain
`cp` of a WAL database can catch half a commit). PostgreSQL: pg_dump, which reads one
snapshot; the file is plain SQL (restored with psql in one transaction) unless its name ends
in .dump, when it is pg_dump's custom format (restored with pg_restore).

After a restore, the ledger is verified (`flask ledger verify`'s checks), so a restore that
lost or damaged points says so at once.
"""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse


class BackupError(Exception):
    pass


@dataclass
class Target:
    """Where DATABASE_URL points: a SQLite file, or a PostgreSQL database."""

    kind: str  # "sqlite" or "postgres"
    path: Path | None = None
    dbname: str = ""
    env: dict | None = None  # PG* variables for pg_dump/psql (password never on the command line)


def target(url: str) -> Target:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = parsed.path[1:] if parsed.path.startswith("//") else parsed.path
        return Target("sqlite", path=Path(path))
    if parsed.scheme in ("postgres", "postgresql"):
        env = {"PGHOST": parsed.hostname or "localhost", "PGPORT": str(parsed.port or 5432)}
        if parsed.username:
            env["PGUSER"] = unquote(parsed.username)
        if parsed.password:
            env["PGPASSWORD"] = unquote(parsed.password)
        return Target("postgres", dbname=(parsed.path or "/postgres")[1:], env=env)
    raise BackupError(f"cannot back up a {parsed.scheme!r} database")


def default_name(t: Target, folder: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return folder / f"marketplace-{stamp}.{'sqlite3' if t.kind == 'sqlite' else 'sql'}"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(args: list[str], t: Target) -> None:
    done = subprocess.run(args, env={**os.environ, **(t.env or {})}, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


PARTIAL_SUFFIX = ".partial"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_interrupted(folder: Path) -> list[Path]:
    """Half-written backups of runs that were killed (SIGKILL, a power cut) before they could
    clean up: each names the process that wrote it, and one whose process is gone is removed.
    A backup still being written by a live process is left alone."""
    removed = []
    for partial in folder.glob(f".*{PARTIAL_SUFFIX}"):
        pid = partial.name.removesuffix(PARTIAL_SUFFIX).rsplit(".", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            partial.unlink(missing_ok=True)
            removed.append(partial)
    return removed


def backup(url: str, output: Path) -> Path:
    t = target(url)
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_interrupted(output.parent)
    # Never a half-written backup under the real name: a hidden file naming this process, moved
    # into place when complete; the next backup removes it if this process dies before that.
    partial = output.with_name(f".{output.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    # It holds everyone's phone number and password hash: private from its first byte (the
    # umask covers what pg_dump creates), and not left behind when the backup fails.
    previous_umask = os.umask(0o077)
    try:
        _write_backup(t, output, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        os.umask(previous_umask)
    partial.replace(output)
    return output


def _write_backup(t: Target, output: Path, partial: Path) -> None:
    if t.kind == "sqlite":
        if not t.path.exists():
            raise BackupError(f"no database at {t.path}")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(t.path, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=1024)
            if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("the copy failed SQLite's integrity check")
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
            source.close()
    else:
        fmt = "custom" if output.suffix == ".dump" else "plain"
        _run([_tool("pg_dump"), f"--format={fmt}", "--no-owner", "--no-privileges", "--file", str(partial), t.dbname], t)
    os.chmod(partial, 0o600)  # in case the file existed before with wider rights


def _postgres_is_empty(t: Target) -> bool:
    done = subprocess.run(
        [_tool("psql"), "-X", "-A", "-t", "-d", t.dbname, "-c",
         "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"],
        env={**os.environ, **t.env}, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"psql failed: {done.stderr.strip()[-2000:]}")
    return done.stdout.strip() == "0"


def restore(url: str, source: Path, replace: bool = False) -> None:
    """Load `source` into the database DATABASE_URL names. It must be empty unless `replace`."""
    t = target(url)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    if t.kind == "sqlite":
        with source.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not a SQLite backup")
        if t.path.exists() and t.path.stat().st_size > 0 and not replace:
            raise BackupError(f"{t.path} already exists; restore into a new path, or pass --replace")
        t.path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(t.path, timeout=30)
        try:
            # Through the backup API, not a file copy: a running app's connections see the
            # whole new database at once, and its WAL stays consistent.
            backup_db.backup(live)
            live.execute("PRAGMA journal_mode=WAL")
        finally:
            live.close()
            backup_db.close()
        return
    with source.open("rb") as fh:
        custom = fh.read(5) == b"PGDMP"
    clearing = not _postgres_is_empty(t)
    if clearing and not replace:
        raise BackupError(f"database {t.dbname} is not empty; restore into a new database, or pass --replace")
    # Clearing the old data and loading the backup are one transaction: a backup that fails to
    # load leaves the database as it was, never empty.
    if custom:
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
              *(["--clean", "--if-exists"] if clearing else []), "-d", t.dbname, str(source)], t)
    else:
        clear = ["-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"] if clearing else []
        _run([_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", t.dbname,
              *clear, "-f", str(source)], t)
