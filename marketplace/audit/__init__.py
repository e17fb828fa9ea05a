"""The audit log: the hash chain every staff action is written to (`chain`), finding entries in it
(`search`) and its pages (`views`).

Services all over the code record with `audit.record(...)`, so the chain's names are offered here.
"""

from marketplace.audit.chain import HEAD_ID, AuditHead, AuditLog, AuditReport, entry_hash, record, verify

__all__ = ["HEAD_ID", "AuditHead", "AuditLog", "AuditReport", "entry_hash", "record", "verify"]
