"""The audit log is a hash chain: edits and deletions made behind the app's back are found."""

from click.testing import CliRunner

from marketplace.audit import AuditLog, record, verify
from marketplace.cli import audit_verify_command
from marketplace.db import db
from marketplace.users.models import User
from tests.conftest import DEMO_PHONES


def _log_some(app):
    with app.test_request_context():
        db.connect(reuse_if_open=True)
        staff = User.get(User.phone == DEMO_PHONES["community_admin"])
        resident = User.get(User.phone == DEMO_PHONES["resident"])
        return [record(staff, "users.account.deactivated", resident, reason=f"test {i}") for i in range(3)]


def test_an_intact_log_verifies(app):
    _log_some(app)
    with app.app_context():
        result = CliRunner().invoke(audit_verify_command, [], standalone_mode=False)
    assert result.exit_code == 0 and "Audit log OK" in result.output


def test_an_entry_edited_outside_the_app_is_named(app):
    entries = _log_some(app)
    with app.app_context():
        AuditLog.update(details='{"reason": "nothing happened"}').where(AuditLog.id == entries[1].id).execute()
        result = CliRunner().invoke(audit_verify_command, [], standalone_mode=False)
    assert result.exit_code == 1
    assert f"AUDIT LOG FAULT: audit entry {entries[1].id}: content does not match its hash" in result.output


def test_removed_entries_are_found_in_the_middle_and_at_the_end(app):
    entries = _log_some(app)
    with app.app_context():
        AuditLog.delete().where(AuditLog.id == entries[1].id).execute()
        assert f"audit entry {entries[2].id}: the entry before it was changed or removed" in verify().faults[0]
    entries = _log_some(app)
    with app.app_context():
        AuditLog.delete().where(AuditLog.id == entries[-1].id).execute()
        assert any("head does not match" in fault for fault in verify().faults)
