"""Signed checkpoints: seals of the ledger's and the audit chain's heads that anyone can keep.

A checkpoint says: "after transfer <ledger_seq>, whose hash is <ledger_head>, and audit entry
<audit_seq>, whose hash is <audit_head>, the accounts of each kind held <balances>", with its
number, its time and the hash of the checkpoint before it, signed with the community's Ed25519
key. The key lives outside the database (a file under instance/, which backups do not copy, or
a path or PEM value in LEDGER_SIGNING_KEY), so someone who can rewrite the database cannot make a
new seal for a rewritten history. Each hash covers the one before it (as in Certificate
Transparency's signed tree heads), so a kept seal pins every transfer and audit entry up to it.

Each checkpoint is one JSON line, its keys sorted, no spaces; the signature (base64) is over that
line without its "signature" key. Lines are kept in the database (`ledger_checkpoint`), appended
to a log file outside it (LEDGER_CHECKPOINT_LOG, default instance/ledger_checkpoints.jsonl) and
published on the board (/board/checkpoints.json). `flask ledger verify --checkpoints FILE_OR_URL`
checks every one against today's chains.
"""

import base64
import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from marketplace.ledger.models import LedgerCheckpoint
from marketplace.settings import settings

VERSION = 1
FIELDS = ("version", "number", "time", "ledger_seq", "ledger_head", "audit_seq", "audit_head", "balances",
          "previous", "key_id", "signature")


def canonical(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def signed_text(checkpoint: dict) -> bytes:
    return canonical({k: v for k, v in checkpoint.items() if k != "signature"}).encode()


def line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


# ---- the key ---------------------------------------------------------------------------------


def key_path() -> Path | None:
    """The key file, or None when LEDGER_SIGNING_KEY holds the PEM itself."""
    value = settings().ledger_signing_key
    if value.lstrip().startswith("-----BEGIN"):
        return None
    return Path(value) if value else settings().instance_path / "ledger_signing_key.pem"


def signing_key(create: bool = True) -> Ed25519PrivateKey | None:
    value = settings().ledger_signing_key
    if value.lstrip().startswith("-----BEGIN"):
        return serialization.load_pem_private_key(value.encode(), password=None)
    path = key_path()
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:  # 0600 from the first byte; a racing first writer wins and both read its key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        except FileExistsError:
            pass
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key(create: bool = False) -> Ed25519PublicKey | None:
    key = signing_key(create=create)
    return key.public_key() if key is not None else None


def published_list() -> list[dict]:
    """Every checkpoint, oldest first, as published on the board."""
    return [json.loads(c.line) for c in LedgerCheckpoint.select().order_by(LedgerCheckpoint.number)]


def latest() -> dict | None:
    last = LedgerCheckpoint.select().order_by(LedgerCheckpoint.number.desc()).first()
    return json.loads(last.line) if last else None


# ---- reading published ones ----------------------------------------------------------------


def read_published(source: str) -> list[str]:
    """Checkpoint lines from a file or URL: JSON lines, or the board's checkpoints.json."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 - an operator's own URL
            text = response.read().decode("utf-8")
    else:
        text = Path(source).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("checkpoints"), list):
        return [canonical(c) if isinstance(c, dict) else str(c) for c in document["checkpoints"]]
    if isinstance(document, dict):
        return [text.strip()]
    return [line for line in text.splitlines() if line.strip()]


@dataclass
class Sealed:
    number: int
    ledger_seq: int
    ledger_head: str
    audit_seq: int
    audit_head: str
    balances: dict
    previous: str
    key_id: str
    fields: dict
    line: str
    where: str  # "the database's log" or "the published list"


def _parse(line: str, where: str) -> Sealed:
    fields = json.loads(line)
    if not isinstance(fields, dict) or sorted(fields) != sorted(FIELDS):
        raise ValueError("not a checkpoint (its fields are not the documented ones)")
    ints = ("number", "ledger_seq", "audit_seq")
    if any(not isinstance(fields[k], int) or isinstance(fields[k], bool) or fields[k] < 0 for k in ints):
        raise ValueError("its numbers are not whole numbers")
    if not isinstance(fields["balances"], dict) or not all(isinstance(v, int) for v in fields["balances"].values()):
        raise ValueError("its balances are not whole numbers")
    return Sealed(fields["number"], fields["ledger_seq"], str(fields["ledger_head"]), fields["audit_seq"],
                  str(fields["audit_head"]), fields["balances"], str(fields["previous"]), str(fields["key_id"]),
                  fields, canonical(fields), where)


def load_all(report, published: list[str]) -> list[Sealed]:
    """The database's checkpoints and the published ones, one per number. A published one the
    database lost, or holds differently, is a fault: the log was rewritten."""
    found: dict[int, Sealed] = {}
    for number, line in LedgerCheckpoint.select(LedgerCheckpoint.number, LedgerCheckpoint.line).tuples():
        try:
            found[number] = _parse(line, "the database's log")
        except Exception as error:  # noqa: BLE001
            report.faults.append(f"checkpoint {number} in the database's log is unreadable: {error}")
    for index, line in enumerate(published, 1):
        try:
            sealed = _parse(line, "the published list")
        except Exception as error:  # noqa: BLE001
            report.faults.append(f"published checkpoint line {index} is unreadable: {error}")
            continue
        mine = found.get(sealed.number)
        if mine is None:
            report.faults.append(f"checkpoint {sealed.number} (published) is missing from the database's log")
            found[sealed.number] = sealed
        elif mine.line != sealed.line:
            report.faults.append(f"checkpoint {sealed.number} in the database's log differs from the published one")
            found[sealed.number] = sealed  # the published one is the one people kept
    return [found[n] for n in sorted(found)]


def _signature_fault(c: Sealed, trusted: Ed25519PublicKey | None) -> str | None:
    if trusted is None:
        return "there is no signing key here to check its signature against"
    if c.key_id != key_id(trusted):
        return f"it was signed with key {c.key_id}, not this site's key {key_id(trusted)}"
    try:
        trusted.verify(base64.b64decode(c.fields["signature"], validate=True), signed_text(c.fields))
    except (InvalidSignature, ValueError):
        return "its signature does not match its content (a forged or altered seal)"
    return None


def check_against(report, chain, audit_report, sealed: list[Sealed], trusted=None) -> None:
    """Every checkpoint must be a prefix of today's chains: its transfer and audit entry still
    there, with the hashes it sealed, and the balances per kind replayed up to it the same."""
    report.checkpoints = len(sealed)
    if not sealed:
        return
    trusted = trusted or public_key(create=False)
    previous: Sealed | None = None
    for c in sealed:
        label = f"checkpoint {c.number} ({c.where}, ledger seq {c.ledger_seq}, audit entry {c.audit_seq})"
        fault = _signature_fault(c, trusted)
        if fault:
            report.faults.append(f"{label}: {fault}")
            if trusted is not None:
                continue  # a seal that is not ours says nothing about our history
            # Without the key (a restore on a new host) the seal's hashes are still compared.
        if previous is not None and previous.number == c.number - 1 and c.previous != line_hash(previous.line):
            report.faults.append(f"{label}: does not follow checkpoint {previous.number}: the log was rewritten")
        previous = c
        if c.ledger_seq > chain.last_seq:
            report.faults.append(f"{label}: the ledger now ends at seq {chain.last_seq}: transfers after it were "
                                 "removed (the ledger was truncated)")
        elif c.ledger_seq > 0:
            at = chain.sealed.get(c.ledger_seq)
            if at is None or at[0] != c.ledger_head:
                report.faults.append(f"{label}: transfer seq {c.ledger_seq} no longer has the sealed hash: the "
                                     "ledger up to it was rewritten")
            elif at[1] != c.balances:
                report.faults.append(f"{label}: balances per account kind were {c.balances}, today's accounts replay "
                                     f"to {at[1]}: an account's kind was changed")
        if c.audit_seq > audit_report.last_id and c.audit_seq > 0:
            report.faults.append(f"{label}: the audit chain now ends at entry {audit_report.last_id}: entries were "
                                 "removed (the audit log was truncated or deleted)")
        elif c.audit_seq > 0 and audit_report.sealed.get(c.audit_seq) != c.audit_head:
            report.faults.append(f"{label}: audit entry {c.audit_seq} no longer has the sealed hash: the audit log "
                                 "up to it was rewritten")
