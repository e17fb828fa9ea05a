"""`flask restore`'s checks: the restored ledger and audit chain must verify, and extend every
checkpoint published before the restore (the checkpoint log under instance/, the live database's
own log, and any file or URL given). A backup taken before a published checkpoint fails that
check and is refused by name; on SQLite it is checked in a scratch copy first, so the database
it would have replaced is left as it was.
"""

from pathlib import Path

import click

from marketplace.db import db, make_database


def known_checkpoints(published: str | None) -> list[str]:
    """Every checkpoint line known before the restore."""
    from marketplace.ledger import checkpoints
    from marketplace.ledger.models import LedgerCheckpoint
    from marketplace.settings import settings

    lines: list[str] = []
    if published:
        try:
            lines += checkpoints.read_published(published)
        except Exception as error:  # noqa: BLE001 - a missing file or an unreachable URL
            raise click.ClickException(f"cannot read checkpoints from {published}: {error}") from None
    log = settings().ledger_checkpoint_log
    if log.exists():
        lines += [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    from flask import current_app

    from marketplace.ops import backup

    live = backup.target(current_app.config["DATABASE_URL"])
    if live.kind == "sqlite" and not live.path.exists():
        return list(dict.fromkeys(lines))  # nothing to read (and opening it would create it)
    try:  # the database about to be replaced may hold checkpoints too
        with db.connection_context():
            lines += [c.line for c in LedgerCheckpoint.select(LedgerCheckpoint.line)]
    except Exception:  # noqa: BLE001 - an empty or missing database has none
        pass
    return list(dict.fromkeys(lines))


def _deduplicated(lines: list[str]) -> list[str]:
    """One line per checkpoint number; two different lines for one number stay, to be named."""
    return list(dict.fromkeys(lines))


def verify_restored(seals: list[str], prefix: str = "RESTORE REFUSED") -> None:
    click.echo(f"Checking the ledger and the audit chain against {len(seals)} known checkpoint line(s).")
    _run(seals, prefix)


def _run(seals, prefix):
    from marketplace.ledger.verify import verify_ledger
    from marketplace.shop.services import escrow_faults

    report = verify_ledger(extra_checks=[escrow_faults], published=_deduplicated(seals))
    click.echo(f"{report.transfers} transfers, {report.accounts} accounts, {report.audit_entries} audit entries, "
               f"{report.checkpoints} checkpoint(s).")
    if not report.ok:
        click.echo(f"{prefix}: {report.faults[0]}", err=True)
        for fault in report.faults[1:]:
            click.echo(f"  also: {fault}", err=True)
        raise SystemExit(1)
    click.echo("Ledger OK: the restored ledger and audit chain verify and extend every known checkpoint.")


def check_sqlite_copy(url: str, source: Path, seals: list[str]) -> None:
    from marketplace.ops import backup

    live = backup.target(url).path
    scratch = live.with_name(live.name + ".restore-check")
    for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
        leftover.unlink(missing_ok=True)
    backup.restore(f"sqlite:///{scratch}", source)
    previous = db.obj
    db.initialize(make_database(f"sqlite:///{scratch}"))
    try:
        with db.connection_context():
            _run(seals, f"RESTORE REFUSED ({source} was not restored)")
    finally:
        if not db.is_closed():
            db.close()
        db.initialize(previous)
        for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm"), Path(f"{scratch}.write-lock")):
            leftover.unlink(missing_ok=True)
