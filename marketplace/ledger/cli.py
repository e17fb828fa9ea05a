"""`flask ledger verify`, `flask ledger checkpoint` and `flask ledger sweep`."""

import click
from flask.cli import AppGroup

ledger_cli = AppGroup("ledger", help="Check the points ledger, seal it, and refund expired vouchers.")


def run_verify(published_source: str | None = None, prefix: str = "LEDGER FAULT"):
    """Every check of the ledger and the audit chain, against the database's checkpoints and
    the published ones in `published_source` (a file or URL). Prints the report; exits 1 on a fault."""
    from marketplace.ledger import checkpoints
    from marketplace.ledger.verify import verify_ledger
    from marketplace.shop.services import escrow_faults

    published = []
    if published_source:
        try:
            published = checkpoints.read_published(published_source)
        except Exception as error:  # noqa: BLE001 - a missing file or an unreachable URL
            raise click.ClickException(f"cannot read checkpoints from {published_source}: {error}") from None
    report = verify_ledger(extra_checks=[escrow_faults], published=published)
    click.echo(f"{report.transfers} transfers, {report.accounts} accounts, {report.points_issued} points in "
               f"circulation; {report.audit_entries} audit entries; {report.checkpoints} checkpoint(s) checked.")
    if report.ok:
        click.echo("Ledger OK: every row agrees, balances sum to zero, both hash chains are intact"
                   + (" and extend every checkpoint." if report.checkpoints else "."))
        return report
    click.echo(f"{prefix}: {report.faults[0]}", err=True)
    for fault in report.faults[1:]:
        click.echo(f"  also: {fault}", err=True)
    raise SystemExit(1)


@ledger_cli.command("verify")
@click.option("--checkpoints", "published", metavar="FILE_OR_URL",
              help="Published checkpoints (JSON lines, or the board's /board/checkpoints.json) that today's "
                   "chains must extend.")
def verify_command(published):
    """Check every account, transfer, voucher, adjustment and payout, both hash chains and the
    signed checkpoints; exit 1 naming the first fault."""
    run_verify(published)


@ledger_cli.command("checkpoint")
def checkpoint_command():
    """Verify, then seal the ledger's and the audit chain's heads with the signing key; print the
    checkpoint as one JSON line."""
    from marketplace.ledger import checkpoints, sealing

    try:
        checkpoint = sealing.make_checkpoint()
    except sealing.CheckpointRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(checkpoints.canonical(checkpoint))


@ledger_cli.command("public-key")
def public_key_command():
    """Print the public half of the signing key (PEM), to publish beside the checkpoints."""
    from marketplace.ledger import checkpoints

    click.echo(checkpoints.public_key_pem(checkpoints.public_key(create=True)), nl=False)


@ledger_cli.command("sweep")
def sweep_command():
    """Refund every voucher past its time to its holder."""
    from marketplace.shop.services import sweep_expired

    count = sweep_expired()
    click.echo(f"Refunded {count} expired voucher(s).")
