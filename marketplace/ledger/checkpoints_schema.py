"""The documented schema of /board/checkpoints.json (JSON Schema, draft 2020-12).

Everything in it is a number, a hash, a time or a sum per account kind: no name, phone number,
account code or anything else about a person.
"""

HEX64 = {"type": "string", "pattern": "^([0-9a-f]{64})?$"}

CHECKPOINT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "number", "time", "ledger_seq", "ledger_head", "audit_seq", "audit_head", "balances",
                 "previous", "key_id", "signature"],
    "properties": {
        "version": {"const": 1},
        "number": {"type": "integer", "minimum": 1, "description": "1, 2, 3, ... in the order they were made"},
        "time": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$",
                 "description": "when it was made (UTC)"},
        "ledger_seq": {"type": "integer", "minimum": 0, "description": "the last transfer it seals"},
        "ledger_head": {**HEX64, "description": "that transfer's hash (SHA-256), which covers every one before"},
        "audit_seq": {"type": "integer", "minimum": 0, "description": "the last staff-action log entry it seals"},
        "audit_head": {**HEX64, "description": "that entry's hash, which covers every one before"},
        "balances": {
            "type": "object",
            "description": "the sum of the balances of each kind of account (issuer, user, partner, escrow, "
                           "flea_market); they add up to zero",
            "propertyNames": {"enum": ["issuer", "user", "partner", "escrow", "flea_market"]},
            "additionalProperties": {"type": "integer"},
        },
        "previous": {**HEX64, "description": "SHA-256 of the previous checkpoint's JSON line; empty for the first"},
        "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$",
                   "description": "the first 16 hex digits of SHA-256 of the raw Ed25519 public key"},
        "signature": {"type": "string", "pattern": "^[A-Za-z0-9+/]{86}==$",
                      "description": "Ed25519 signature (base64) of the checkpoint's JSON without this field, "
                                     "keys sorted, no spaces, non-ASCII escaped"},
    },
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Signed checkpoints of the community points ledger",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "key_id", "public_key", "checkpoints"],
    "properties": {
        "schema": {"type": "string", "description": "where this schema is published"},
        "key_id": {"type": ["string", "null"], "pattern": "^[0-9a-f]{16}$"},
        "public_key": {"type": ["string", "null"], "description": "the Ed25519 public key (PEM) that checks them"},
        "checkpoints": {"type": "array", "items": CHECKPOINT},
    },
}
