"""Secrets at rest: two-factor secrets are kept in the database encrypted (Fernet:
AES-128-CBC with an HMAC-SHA-256, from `cryptography`) under SECRETS_KEY, a key that lives in
the environment or the instance folder, never in the database. A copy of the database alone
(a backup, a dump, a stolen disk) then gives nobody the codes of anyone's authenticator.

SECRETS_KEY holds one or more keys (64 hex characters each, comma- or line-separated): the
first encrypts, any of them decrypts, so a rotation can re-encrypt row by row while the old
key still opens what it has not reached (`rotate`). A key kept in the instance file is read
again whenever the file changes, so a running server follows a rotation.

API tokens are not here: only their SHA-256 is stored (access/tokens.py), which cannot be
turned back into a token at all, so encrypting it would add nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import select, update

from ..db import db, lock_for_writing
from ..models import User
from . import audit

PREFIX = "enc1:"  # what a sealed value starts with; a plain base32 secret never does
KEY_HEX = 64


class SecretsKeyError(RuntimeError):
    """The stored secrets cannot be opened with SECRETS_KEY (or the key is malformed)."""


WRONG_KEY = ("A stored two-factor secret cannot be decrypted with this installation's "
             "secrets key (INQUIRY_DOCS_SECRETS_KEY or <instance>/secrets_key). Restore the "
             "key that was in use (it is in every backup, under keys/secrets_key); "
             "`inquiry-docs secrets check` counts the rows it cannot open.")


def key_list(text: str) -> list[str]:
    """The keys of a SECRETS_KEY value or key file, first (the encrypting one) first."""
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def parse_keys(text: str) -> list[bytes]:
    """The Fernet keys named by a SECRETS_KEY value (64 hex characters each)."""
    parts = key_list(text)
    if not parts:
        raise SecretsKeyError("SECRETS_KEY is empty.")
    keys = []
    for part in parts:
        try:
            raw = bytes.fromhex(part)
        except ValueError:
            raw = b""
        if len(raw) != KEY_HEX // 2:
            raise SecretsKeyError("Each SECRETS_KEY must be 64 hexadecimal characters "
                                  "(make one with `inquiry-docs secrets new-key`).")
        keys.append(base64.urlsafe_b64encode(raw))
    return keys


def new_key() -> str:
    return os.urandom(KEY_HEX // 2).hex()


def fingerprint(key_hex: str) -> str:
    """Names a key in messages and the audit trail without revealing it."""
    return hashlib.sha256(("secrets-key:" + key_hex.strip()).encode()).hexdigest()[:12]


@dataclass
class _Cached:
    stamp: tuple[int, int] | str
    text: str
    fernet: MultiFernet


class Sealer:
    """Encrypts and decrypts with this app's SECRETS_KEY (one per app: app.extensions)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._cached: _Cached | None = None

    @property
    def file(self) -> Path | None:
        """The instance file the key came from; None when it was given as a setting."""
        name = self.app.config.get("SECRETS_KEY_FILE")
        return Path(name) if name else None

    def key_text(self) -> str:
        """The key(s) as they are now: the instance file's content, or the setting."""
        if self.file is not None and self.file.exists():
            return self.file.read_text().strip()
        return str(self.app.config["SECRETS_KEY"]).strip()

    def _fernet(self) -> MultiFernet:
        # The file's size and time, or the setting itself: a rotation or a restore that
        # changes either is followed without a restart.
        stamp: tuple[int, int] | str = str(self.app.config["SECRETS_KEY"])
        if self.file is not None:
            try:
                info = self.file.stat()
                stamp = (info.st_mtime_ns, info.st_size)
            except FileNotFoundError:
                pass
        with self._lock:
            if self._cached is None or self._cached.stamp != stamp:
                text = self.key_text()
                fernet = MultiFernet([Fernet(k) for k in parse_keys(text)])
                self._cached = _Cached(stamp, text, fernet)
            return self._cached.fernet

    def seal(self, plaintext: str) -> str:
        return PREFIX + self._fernet().encrypt(plaintext.encode()).decode("ascii")

    def unseal(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise SecretsKeyError("A two-factor secret is stored unencrypted: run "
                                  "`inquiry-docs secrets rotate` to encrypt it.")
        try:
            return self._fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except (InvalidToken, binascii.Error, ValueError) as error:
            raise SecretsKeyError(WRONG_KEY) from error


def init_app(app: Flask) -> None:
    app.extensions["secrets"] = Sealer(app)


def sealer() -> Sealer:
    return current_app.extensions["secrets"]


def seal(plaintext: str) -> str:
    return sealer().seal(plaintext)


def unseal(stored: str) -> str:
    return sealer().unseal(stored)


# ---- checking and rotating ----


@dataclass
class Census:
    sealed: int = 0  # rows that open with the current key(s)
    plaintext: int = 0  # rows stored before encryption (none after migration 0012)
    unreadable: int = 0  # rows no current key opens


def _sealed_rows() -> list[tuple[int, str]]:
    return list(db.session.execute(
        select(User.id, User.sealed_totp_secret).where(User.sealed_totp_secret.is_not(None))
        .order_by(User.id)).all())


def census(fernet: MultiFernet | None = None) -> Census:
    """How many stored secrets open with the key(s), are plaintext, or open with none."""
    fernet = fernet or sealer()._fernet()
    result = Census()
    for _, stored in _sealed_rows():
        if not stored.startswith(PREFIX):
            result.plaintext += 1
            continue
        try:
            fernet.decrypt(stored.removeprefix(PREFIX).encode())
            result.sealed += 1
        except (InvalidToken, binascii.Error, ValueError):
            result.unreadable += 1
    return result


@dataclass
class Rotation:
    rows: int
    new_fingerprint: str
    wrote_file: Path | None  # None when the keys come from the environment


def _write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file in one step (a crash leaves the old or the new file whole)."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(keys) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def rotate(actor: str = "command line") -> Rotation:
    """Re-encrypt every stored secret under a new key, keeping the old one until done.

    With the instance file: a new key is put first in the file (the old ones stay after it),
    every row is re-encrypted under it in one audited transaction, and only then is the file
    cut to the new key. A crash on the way leaves a file that opens every row. With keys
    from the environment, the first key given is the new one: rows are re-encrypted under
    it, and the operator drops the old keys from the setting afterwards.
    """
    the_sealer = sealer()
    current = key_list(the_sealer.key_text())
    before = census()
    if before.unreadable:
        raise SecretsKeyError(WRONG_KEY.replace("A stored", f"{before.unreadable} stored"))
    path = the_sealer.file
    if path is not None:
        fresh = new_key()
        _write_key_file(path, [fresh, *current])
        keys = [fresh, *current]
    else:
        keys = current
        if len(keys) < 2 and not before.plaintext:
            raise SecretsKeyError(
                "SECRETS_KEY is set in the environment: give the new key first and the old "
                "one after it (INQUIRY_DOCS_SECRETS_KEY=NEW,OLD), run `secrets rotate`, then "
                "set it to the new key alone. `inquiry-docs secrets new-key` makes a key.")
    every = MultiFernet([Fernet(k) for k in parse_keys(",".join(keys))])
    lock_for_writing(db.session)  # no enrolment writes a row between reading and updating
    rows = 0
    for user_id, stored in _sealed_rows():
        if stored.startswith(PREFIX):
            token = every.rotate(stored.removeprefix(PREFIX).encode())
        else:
            token = every.encrypt(stored.encode())
        db.session.execute(update(User).where(User.id == user_id)
                           .values(sealed_totp_secret=PREFIX + token.decode("ascii"))
                           .execution_options(synchronize_session=False))
        rows += 1
    audit.record("secrets_rotated", actor=actor, object_type="secrets_key",
                 object_id=fingerprint(keys[0]), rows=rows,
                 retired=[fingerprint(k) for k in keys[1:]] if path is not None else [],
                 plaintext_sealed=before.plaintext)
    db.session.commit()
    db.session.expire_all()
    if path is not None:
        alone = MultiFernet([Fernet(parse_keys(keys[0])[0])])
        left = census(alone)
        if left.unreadable or left.plaintext:  # a row written under the old key meanwhile
            raise SecretsKeyError("Some secrets changed during the rotation; the old key is "
                                  "kept in the key file. Run `secrets rotate` again.")
        _write_key_file(path, [keys[0]])
    return Rotation(rows, fingerprint(keys[0]), path)
