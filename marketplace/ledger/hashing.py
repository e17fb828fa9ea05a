"""The hash that chains the transfers (DESIGN.md §3 Ledger; issue 18).

Written by `post_transfer`, recomputed by `flask ledger verify`, by migration 013 (which rehashed
older chains with it) and by the benchmark's generator.
"""

import hashlib


def transfer_hash(transfer, debit_code: str, credit_code: str) -> str:
    """The hash of one transfer: its row id and chain number, its content, the codes of the two
    accounts it names (so re-pointing or renumbering an account row breaks it) and the hash of
    the transfer before it. Migration 013 rehashed older chains with this formula."""
    parts = (
        transfer.id,
        transfer.seq,
        transfer.created_at.isoformat(sep=" ", timespec="microseconds"),
        transfer.debit_id,
        debit_code,
        transfer.credit_id,
        credit_code,
        transfer.amount,
        transfer.kind,
        transfer.ref,
        transfer.memo,
        transfer.actor_id or "",
        transfer.idempotency_key,
        transfer.reverses_id or "",
        transfer.prev_hash,
    )
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
