"""`flask events close`: check out whoever is still checked in after an event, for staff review."""

import click
from flask.cli import AppGroup

events_cli = AppGroup("events", help="Events and volunteer hours.")


@events_cli.command("close")
def close_command():
    """Check out, at the event's end, everyone still checked in once check-out has closed.
    Their hours wait for staff to confirm them. Run it from cron, e.g. every 15 minutes."""
    from marketplace.events.services import close_finished

    click.echo(f"Checked out {close_finished()} volunteer(s) automatically; their hours wait for staff review.")
