"""`flask backup`, `flask restore`, `flask scheduler --once`, `flask worker`."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace.db import db


@click.command("backup")
@with_appcontext
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: BACKUP_DIR or instance/backups, named by the time). "
                   "PostgreSQL: plain SQL, or pg_dump's custom format when the name ends in .dump.")
def backup_command(output):
    """Copy the whole database to a file while the site keeps running."""
    from marketplace.ops import backup

    url = current_app.config["DATABASE_URL"]
    folder = Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")
    output = output or backup.default_name(backup.target(url), folder)
    try:
        written = backup.backup(url, output)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {written} ({written.stat().st_size:,} bytes).")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that already has data (stop the site first).")
@click.option("--checkpoints", "published", metavar="FILE_OR_URL",
              help="Published checkpoints the restored chains must extend (besides LEDGER_CHECKPOINT_LOG and the "
                   "database's own log).")
def restore_command(source, replace, published):
    """Load a backup into the database DATABASE_URL names (a new, empty one unless --replace),
    then verify the ledger and the audit chain against every checkpoint published since: a
    backup older than a published checkpoint is refused by name."""
    from marketplace.ops import backup, restore_check

    url = current_app.config["DATABASE_URL"]
    seals = restore_check.known_checkpoints(published)
    if not db.is_closed():
        db.close()
    try:
        if backup.target(url).kind == "sqlite":
            # Checked in a scratch copy first: a refused backup never replaces the database.
            restore_check.check_sqlite_copy(url, source, seals)
        backup.restore(url, source, replace=replace)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {source}.")
    with db.connection_context():
        restore_check.verify_restored(seals)


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, required=True,
              help="Run every periodic job once, now, in this process, and exit.")
def scheduler_command(once):
    """Run every periodic job once (for cron and for checks). The jobs run by themselves in
    every consumer (`flask worker`): this is not needed beside one."""
    from marketplace.ops import periodic

    failed = []
    for name, result in periodic.run_all_once():
        click.echo(f"{name}: {'FAILED (see the log)' if result is None else result}")
        if result is None:
            failed.append(name)
    if failed:
        raise SystemExit(1)


@click.command("worker")
@with_appcontext
@click.option("--workers", "-w", type=int, default=None, help="Threads running tasks (default WORKER_THREADS, 2).")
def worker_command(workers):
    """A huey consumer: delivers messages and runs the periodic jobs. Start one on every host
    you like: they share the queue (Redis in production) and each periodic job runs once per
    period among them. SIGINT stops it after the tasks in hand, SIGTERM at once."""
    from marketplace import queue
    from marketplace.notifications import tasks  # noqa: F401 - registers the tasks
    from marketplace.ops import periodic  # noqa: F401 - registers the periodic jobs

    app = current_app._get_current_object()
    consumer = queue.make_consumer(app, workers=workers)
    click.echo(f"Worker started ({queue.describe()}); Ctrl-C stops it.")
    consumer.run()


COMMANDS = (backup_command, restore_command, scheduler_command, worker_command)
