"""`flask backup`, `flask restore`, `flask scheduler`."""

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
@click.option("--once", is_flag=True, help="Run every job once (if this process gets the lock) and exit.")
def scheduler_command(once):
    """Run the periodic jobs (auto-confirmation, voucher expiry, deadline reminders, closing
    finished events), one scheduler at a time across all hosts."""
    from marketplace.ops import scheduler
    from marketplace.ops.locks import lock_for

    app = current_app._get_current_object()
    runner = scheduler.make_scheduler(app)
    lock = lock_for(app, db.obj, scheduler.lock_ttl(app))
    if once:
        if not lock.acquire():
            click.echo(f"Another scheduler holds the lock ({lock.describe()}); nothing done.")
            return
        failed = []
        try:
            for job in runner.jobs:
                result = runner.run_job(job)
                click.echo(f"{job.name}: {'FAILED (see the log)' if result is None else result}")
                if result is None:
                    failed.append(job.name)
        finally:
            lock.release()
        if failed:
            raise SystemExit(1)
        return
    scheduler.stop_on_signals(runner)
    click.echo(f"Scheduler started ({lock.describe()}); Ctrl-C or SIGTERM stops it.")
    runner.run_forever(lock)


COMMANDS = (backup_command, restore_command, scheduler_command)
