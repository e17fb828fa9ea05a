"""Running the marketplace for real: health check, request logs, backups, the periodic jobs.

`init_app(app)` is the one call create_app makes: it registers /healthz and the JSON request
log. The command-line tools (`flask backup`, `flask restore`, `flask scheduler --once`, `flask worker`) are added by
`marketplace.cli`.
"""

from marketplace.ops import settings


def init_app(app) -> None:
    from marketplace.ops import health, logs

    settings.apply_defaults(app)
    logs.init_app(app)
    app.register_blueprint(health.bp)
