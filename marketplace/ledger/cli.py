"""`flask ledger verify` and `flask ledger sweep`."""

import click
from flask.cli import AppGroup

ledger_cli = AppGroup("ledger", help="Check the points ledger and refund expired vouchers.")


@ledger_cli.command("verify")
def verify_command():
    """Recompute every balance, check they sum to zero and the hash chain is intact."""
    from marketplace.ledger.services import verify
    from marketplace.shop.services import escrow_faults

    report = verify(extra_checks=[escrow_faults])
    click.echo(f"{report.transfers} transfers, {report.accounts} accounts, {report.points_issued} points in circulation.")
    if report.ok:
        click.echo("Ledger OK: balances match their transfers, sum to zero, and the hash chain is intact.")
        return
    click.echo(f"LEDGER FAULT: {report.faults[0]}", err=True)
    for fault in report.faults[1:]:
        click.echo(f"  also: {fault}", err=True)
    raise SystemExit(1)


@ledger_cli.command("sweep")
def sweep_command():
    """Refund every voucher past its time to its holder."""
    from marketplace.shop.services import sweep_expired

    count = sweep_expired()
    click.echo(f"Refunded {count} expired voucher(s).")
