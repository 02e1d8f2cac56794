"""Signed anchors of the audit trail: its head written down somewhere the database's owner
cannot rewrite.

The hash chain (audit.py) shows any edit made by someone without AUDIT_KEY. Someone who has
the key, or who simply cuts the newest events off, leaves a chain that checks out. An anchor
records the head at a moment (the newest event's id and hash, its time, and how many events
lead up to it), signed with an Ed25519 key (ANCHOR_KEY, kept outside the database), and is
sent to sinks off the box (operations/anchoring.py). `verify_folder` later proves the trail
against every anchor: each one's signature, that its event is still there with that hash, and
that as many events lead up to it; the first anchor contradicted is named.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from ..db import db
from ..models import AuditEvent
from . import audit

FORMAT = "inquiry-docs-anchor/1"
MAX_FILE_BYTES = 64 * 1024  # an anchor is a few hundred bytes; anything bigger is not one


class AnchorError(ValueError):
    """An anchor cannot be made or read; the message says why."""


@dataclass(frozen=True)
class Head:
    event_id: int
    hash: str
    count: int
    event_at: datetime


def private_key() -> Ed25519PrivateKey:
    """This installation's signing key, from ANCHOR_KEY (64 hex characters)."""
    raw = str(current_app.config.get("ANCHOR_KEY") or "").strip()
    try:
        seed = bytes.fromhex(raw)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise AnchorError("ANCHOR_KEY must be 64 hexadecimal characters (an Ed25519 private "
                          "key); unset, one is made in the instance folder.")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_pem(key: Ed25519PublicKey | None = None) -> str:
    key = key or private_key().public_key()
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as `audit anchor --public-key` prints it (PEM), or 64 hex characters."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise AnchorError("The public key is not an Ed25519 key.")
            return key
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except (ValueError, TypeError) as error:
        raise AnchorError("The public key is neither PEM (as `inquiry-docs audit anchor "
                          "--public-key` prints it) nor 64 hexadecimal characters.") from error


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def current_head() -> Head:
    """The newest event, after walking the whole chain: a broken trail is not anchored."""
    verdict = audit.verify()
    if not verdict.ok:
        raise AnchorError(f"the audit trail is broken at event #{verdict.broken_at} "
                          f"({verdict.problem}): it was not anchored")
    if verdict.head is None:
        raise AnchorError("the audit trail is empty: there is nothing to anchor")
    event_at = db.session.execute(
        select(AuditEvent.at).where(AuditEvent.id == verdict.head[0])).scalar_one()
    return Head(verdict.head[0], verdict.head[1], verdict.checked, event_at)


def make(head: Head, now: datetime | None = None) -> dict[str, Any]:
    """The signed anchor document for `head` (the same bytes go to every sink)."""
    key = private_key()
    now = now or datetime.now(UTC)
    payload = {
        "format": FORMAT,
        "event_id": head.event_id,
        "hash": head.hash,
        "count": head.count,
        "event_at": head.event_at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z",
        "anchored_at": now.astimezone(UTC).replace(tzinfo=None)
        .isoformat(timespec="microseconds") + "Z",
        "key_id": key_id(key.public_key()),
    }
    signature = base64.b64encode(key.sign(_canonical(payload))).decode("ascii")
    return {"anchor": payload, "signature": signature}


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def file_name(document: dict[str, Any]) -> str:
    """anchor-<time>-<event>.json: sorts by time; each anchor gets its own file."""
    payload = document["anchor"]
    stamp = payload["anchored_at"].replace("-", "").replace(":", "").replace(".", "")
    return f"anchor-{stamp}-e{payload['event_id']}.json"


def read(data: bytes, public: Ed25519PublicKey, name: str) -> audit.Checkpoint:
    """The checkpoint an anchor vouches for, once its signature has been checked."""
    try:
        document = json.loads(data)
        payload = document["anchor"]
        signature = base64.b64decode(document["signature"], validate=True)
        if payload.get("format") != FORMAT:
            raise AnchorError(f"{name} is not an anchor of this format ({FORMAT})")
        event_id, digest, count = payload["event_id"], payload["hash"], payload["count"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise AnchorError(f"{name} cannot be read as an anchor") from error
    try:
        public.verify(signature, _canonical(payload))
    except InvalidSignature as error:
        raise AnchorError(f"{name}: the signature does not match the public key (the anchor "
                          "was altered, or signed by another key)") from error
    if not (isinstance(event_id, int) and isinstance(count, int) and isinstance(digest, str)):
        raise AnchorError(f"{name} cannot be read as an anchor")
    return audit.Checkpoint(event_id, digest, count, name)


@dataclass
class FolderVerdict:
    ok: bool
    message: str
    anchors: int = 0
    verdict: audit.Verdict | None = None
    bad_anchor: str = ""


def verify_folder(folder: Path, public: Ed25519PublicKey) -> FolderVerdict:
    """Prove the trail against every anchor (`*.json`) in `folder`; the first problem wins:
    an anchor that cannot be trusted, then the first anchor (in the trail's order) that the
    trail contradicts."""
    if not folder.is_dir():
        return FolderVerdict(False, f"{folder} is not a folder of anchors.")
    points = []
    for path in sorted(folder.glob("*.json")):
        if path.stat().st_size > MAX_FILE_BYTES:
            return FolderVerdict(False, f"Anchor {path.name} cannot be read as an anchor.",
                                 bad_anchor=path.name)
        try:
            points.append(read(path.read_bytes(), public, path.name))
        except AnchorError as error:
            return FolderVerdict(False, f"Anchor {error}.", bad_anchor=path.name)
    if not points:
        return FolderVerdict(False, f"No anchors (*.json) in {folder}: nothing to prove "
                             "the trail against.")
    verdict = audit.verify(anchors=points)
    if verdict.ok:
        newest = max(points, key=lambda p: p.event_id)
        return FolderVerdict(True, f"Audit trail intact: {verdict.checked} events checked, "
                             f"consistent with {len(points)} anchor(s) (the newest names event "
                             f"#{newest.event_id}).", len(points), verdict)
    if verdict.anchor:
        message = (f"Audit trail contradicts anchor {verdict.anchor} at event "
                   f"#{verdict.broken_at}: {verdict.problem}.")
    else:
        message = f"Audit trail broken at event #{verdict.broken_at}: {verdict.problem}."
    return FolderVerdict(False, message, len(points), verdict, verdict.anchor)
