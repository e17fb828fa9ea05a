"""Operator settings of the ops package, from environment variables with safe defaults.

Kept here rather than in marketplace/config.py so this package stays self-contained; like the
rest, they land in `app.config`, and a test_config passed to create_app wins.
"""

import os


def from_environment() -> dict:
    return {
        # JSON lines on stderr (gunicorn and systemd's journal keep them); "text" for a terminal.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "REQUEST_LOG": os.environ.get("REQUEST_LOG", "1").strip().lower() in ("1", "true", "yes", "on"),
        # The periodic jobs' periods (see ops.periodic; huey runs them).
        "SCHEDULER_SWEEP_MINUTES": int(os.environ.get("SCHEDULER_SWEEP_MINUTES", "10")),
        "SCHEDULER_REMINDER_MINUTES": int(os.environ.get("SCHEDULER_REMINDER_MINUTES", "60")),
        "BACKUP_DIR": os.environ.get("BACKUP_DIR", ""),  # default: instance/backups
        # The scheduler seals the ledger when its newest checkpoint is this old.
        "LEDGER_CHECKPOINT_HOURS": int(os.environ.get("LEDGER_CHECKPOINT_HOURS", "24")),
    }


def apply_defaults(app) -> None:
    for key, value in from_environment().items():
        app.config.setdefault(key, value)
