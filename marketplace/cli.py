"""Command-line tools: `flask db upgrade`, `flask create-admin`, `flask seed-demo`."""

import click
from flask import current_app
from flask.cli import AppGroup
from peewee_migrate import Router

from marketplace.config import PROJECT_ROOT
from marketplace.db import db

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

db_cli = AppGroup("db", help="Database schema migrations.")


def migration_router() -> Router:
    return Router(db.obj, migrate_dir=str(MIGRATIONS_DIR), ignore=["basemodel"])


def upgrade() -> list[str]:
    router = migration_router()
    pending = router.diff
    router.run()
    return pending


@db_cli.command("upgrade")
def upgrade_command():
    """Apply every migration not yet applied."""
    applied = upgrade()
    click.echo(f"Applied {len(applied)} migration(s)." if applied else "The database is up to date.")


@db_cli.command("create")
@click.argument("name")
def create_command(name):
    """Write a new migration for the difference between the models and the migrations."""
    from marketplace.schema import ALL_MODELS

    router = migration_router()
    created = router.create(name, auto=ALL_MODELS)
    click.echo(f"Created {created}. Add CHECK constraints by hand: peewee-migrate leaves them out.")


@click.command("reset-password")
@click.argument("phone")
def reset_password_command(phone):
    """A one-time code (30 minutes) for the account of PHONE to set a new password with, on the
    page "Forgot your password?" > "I already have a code"; audited. For when no building head
    or grid administrator can."""
    from marketplace.errors import DomainError
    from marketplace.users import services
    from marketplace.users.models import User

    try:
        user = User.get_or_none(User.phone == services.normalize_phone(phone))
        if user is None:
            raise click.ClickException("No account uses this mobile number.")
        person, code, expires = services.issue_reset_code(None, user.id)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"One-time code for {person.display_name} ({person.masked_phone()}): {code}")
    click.echo(f"Valid until {expires:%Y-%m-%d %H:%M} UTC, once. Every session and API token ends when it is used.")


@click.command("create-admin")
@click.option("--phone", prompt=True, help="Mainland mobile number used to log in.")
@click.option("--name", prompt=True, help="Display name.")
@click.password_option()
def create_admin_command(phone, name, password):
    """Make an administrator (the first account of a new deployment)."""
    from marketplace.errors import DomainError
    from marketplace.users import services
    from marketplace.users.models import User

    try:
        user = services.sign_up(phone, name, password)
    except DomainError as error:
        existing = User.get_or_none(User.phone == phone.strip())
        if existing is None:
            raise click.ClickException(error.message) from None
        user = existing
    services.grant_role(None, user, "admin")
    click.echo(f"{user.phone} is an administrator.")


@click.command("api-token")
@click.argument("phone")
def api_token_command(phone):
    """Print a new personal API token (every scope) for the account with this phone number;
    recorded in the audit log. The token is shown once: keep it like a password."""
    from marketplace.errors import DomainError
    from marketplace.users.tokens import issue_operator_token

    try:
        _row, token = issue_operator_token(phone)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(token)


@click.command("seed-demo")
@click.option("--language", type=click.Choice(["zh_Hans", "en"]), default=None,
              help="The language of the demo's events, offers and notes (default: DEFAULT_LANGUAGE).")
def seed_demo_command(language):
    """Load the demo community (idempotent): map, menu, partners and one account per role."""
    from marketplace.demo import DEMO_PASSWORD, load_demo

    logins = load_demo(language)
    click.echo(f"Demo community loaded for {current_app.config['COMMUNITY_NAME']}. Logins (password {DEMO_PASSWORD}):")
    for phone, name, role in logins:
        click.echo(f"  {phone}  {role:<17} {name}")


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify_command():
    """Check that no audit entry was edited or removed behind the app's back."""
    from marketplace.audit import verify

    report = verify()
    click.echo(f"{report.entries} audit entries.")
    if report.faults:
        click.echo(f"AUDIT LOG FAULT: {report.faults[0]}", err=True)
        raise SystemExit(1)
    click.echo("Audit log OK: the chain is intact.")


requests_cli = AppGroup("requests", help="Service requests.")


@requests_cli.command("sweep")
def requests_sweep_command():
    """Confirm requests done 3 working days ago that the resident neither confirmed nor disputed."""
    from marketplace.service_requests.services import sweep

    click.echo(f"Confirmed {sweep()} request(s) automatically.")


def init_app(app) -> None:
    from marketplace.events.cli import events_cli
    from marketplace.ledger.cli import ledger_cli
    from marketplace.ops.cli import COMMANDS as ops_commands

    app.cli.add_command(db_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(requests_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(reset_password_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(api_token_command)
    for command in ops_commands:  # backup, restore, scheduler --once, worker
        app.cli.add_command(command)

