"""Backups: a consistent copy of the database, originals and keys, with a SHA-256 manifest.

Layout of a backup folder:

    manifest.json        written last: a backup without one is incomplete
    database.sqlite      SQLite online-backup snapshot (or database.dump from pg_dump,
                         see backup_pg.py)
    keys/secret_key      signs sessions; keys/audit_key keys the audit hash chain;
                         keys/anchor_key signs audit anchors; keys/secrets_key decrypts the
                         two-factor secrets (also keep a copy of each apart from backups)
    uploads/ab/cd/<sha>  every original, as stored
    index/...            only with `--with-index` and an embedded index (Whoosh's or tantivy's
                         files; the index can be rebuilt from the database; PostgreSQL search
                         keeps its rows in the database dump); the manifest's
                         `search_backend` says whose files they are

The database is copied first, then the originals: an original is written (and fsynced)
before its Document row commits, so every row in the snapshot finds its file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import make_url

from ..access import audit, vault
from ..db import db
from ..evidence.storage import CHUNK, Store
from ..models import utcnow
from . import backup_pg

FORMAT = 2  # 2: the anchor and secrets keys are kept too
MANIFEST = "manifest.json"
DB_FILE = "database.sqlite"
PG_FILE = "database.dump"
KEYS = ("secret_key", "audit_key", "anchor_key", "secrets_key")
# What a backup without a key loses; format 1 backups held only the first two.
KEY_LOSS = {
    "secret_key": "sessions cannot be signed",
    "audit_key": "the audit trail cannot be verified",
    "anchor_key": "new audit anchors would be signed with a different key",
    "secrets_key": "two-factor secrets cannot be decrypted: nobody with two-factor could sign in",
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Report:
    """What a backup, restore or verify did, for the command line to print."""

    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_path() -> Path | None:
    url = make_url(current_app.config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    return Path(url.database)


# --- backup -------------------------------------------------------------------------------

def _copy_database(dest: Path) -> tuple[str, list[Any] | None]:
    """Copy a consistent snapshot of the database; its name and newest audit event."""
    source = _sqlite_path()
    if source is None:
        with _pg_errors("pg_dump"):
            head = backup_pg.dump(current_app.config["DATABASE_URL"], dest / PG_FILE)
        return PG_FILE, head
    target = dest / DB_FILE
    # The online backup API copies a consistent snapshot while others keep writing (WAL).
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    out = sqlite3.connect(target)
    try:
        src.backup(out)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        out.close()
        src.close()
    return DB_FILE, _audit_head(target)


@contextmanager
def _pg_errors(program: str) -> Iterator[None]:
    """A missing or failing PostgreSQL tool becomes a BackupError that says why."""
    try:
        yield
    except backup_pg.ToolMissing as missing:
        raise BackupError(str(missing)) from None
    except subprocess.CalledProcessError as failed:
        detail = (failed.stderr or b"").decode(errors="replace").strip()[-500:]
        raise BackupError(f"{program} failed: {detail}") from None


def _audit_head(db_file: Path) -> list[Any] | None:
    """The newest audit event in the snapshot, so a restore can prove nothing was cut off."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return list(row) if row else None


def _copy_tree(source: Path, dest: Path, skip: tuple[str, ...] = ()) -> None:
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if not path.is_file() or rel.parts[0] in skip or path.name.endswith(".lock"):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)


def create_backup(dest: Path, *, with_index: bool = False, actor: str = "command line"
                  ) -> Report:
    """Copy everything an installation needs into `dest` (which must be new or empty)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: choose a new folder for each backup.")
    dest.mkdir(parents=True, exist_ok=True)
    report = Report()
    db_name, head = _copy_database(dest)
    keys = dest / "keys"
    keys.mkdir()
    for name in KEYS:
        (keys / name).write_text(_key_value(name))
    store = Store(current_app.config["UPLOAD_DIR"])
    for sha256 in store.all_hashes():
        target = dest / "uploads" / store.path_for(sha256).relative_to(store.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store.path_for(sha256), target)
    from ..search import backend

    if with_index and not backend().transactional:  # else the rows are in the dump already
        # Holding the writer's lock keeps a commit from landing half-way through the copy.
        with backend().locked():
            _copy_tree(_index_folder(backend()), dest / "index")
    files = {}
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        _fsync(path)
        files[path.relative_to(dest).as_posix()] = {"sha256": sha256_of(path),
                                                     "size": path.stat().st_size}
    for path in files:
        if path.startswith("uploads/") and files[path]["sha256"] != path.rsplit("/", 1)[1]:
            report.notes.append(f"warning: original {path} does not match its name; "
                                "run `inquiry-docs check`")
    report.manifest = {
        "format": FORMAT, "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "database": db_name, "with_index": with_index, "search_backend": _search_backend(),
        "audit_head": head, "files": files,
    }
    _write_manifest(dest, report.manifest)
    report.files = len(files)
    report.bytes = sum(f["size"] for f in files.values())
    audit.record("backup_made", actor=actor, object_type="backup", object_id=dest.name,
                 destination=str(dest), files=report.files, bytes=report.bytes,
                 with_index=with_index)
    db.session.commit()
    return report


def _index_folder(search) -> Path:
    """Where the embedded index keeps its files: INDEX_DIR (Whoosh), a subfolder (tantivy)."""
    return Path(getattr(search, "directory", None) or current_app.config["INDEX_DIR"])


def _key_value(name: str) -> str:
    if name == "secrets_key":  # as it is now: a rotation may have changed the file since start
        return vault.sealer().key_text()
    return str(current_app.config[name.upper()])


def _search_backend() -> str:
    from ..search import backend_name

    return backend_name(current_app)


def _write_manifest(dest: Path, manifest: dict[str, Any]) -> None:
    tmp = dest / (MANIFEST + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dest / MANIFEST)
    _fsync(dest)


# --- verify -------------------------------------------------------------------------------

def verify_backup(src: Path) -> Report:
    """Re-hash every file against the manifest; no app or database needed."""
    src = Path(src)
    report = Report()
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        report.problems.append(f"{src} has no {MANIFEST}: the backup is incomplete or not one.")
        return report
    except ValueError:
        report.problems.append(f"{MANIFEST} is damaged (not valid JSON).")
        return report
    report.manifest = manifest
    files: dict[str, dict[str, Any]] = manifest.get("files", {})
    for rel, expected in sorted(files.items()):
        path = src / rel
        if not path.is_file():
            report.problems.append(f"MISSING {rel}")
            continue
        if sha256_of(path) != expected["sha256"]:
            report.problems.append(f"ALTERED {rel}: its SHA-256 differs from the manifest")
            continue
        report.files += 1
        report.bytes += expected["size"]
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        rel = path.relative_to(src).as_posix()
        if rel != MANIFEST and rel not in files:
            report.notes.append(f"note: {rel} is not in the manifest and will be ignored")
    required = KEYS if manifest.get("format", 1) >= 2 else KEYS[:2]
    for name in required:
        if f"keys/{name}" not in files:
            report.problems.append(f"MISSING keys/{name}: without it {KEY_LOSS[name]}")
    db_name = manifest.get("database")
    if db_name == PG_FILE and (src / PG_FILE).is_file() and not report.problems:
        try:
            unreadable = backup_pg.check_dump(src / PG_FILE)
        except backup_pg.ToolMissing:
            report.notes.append("note: pg_restore is not installed, so the database dump was "
                                "checked against its SHA-256 only")
        else:
            if unreadable:
                report.problems.append(unreadable)
    if db_name == DB_FILE and (src / DB_FILE).is_file() and not report.problems:
        con = sqlite3.connect(f"file:{src / DB_FILE}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()
        if result != "ok":
            report.problems.append(f"database integrity check failed: {result}")
    return report


# --- restore ------------------------------------------------------------------------------

def existing_data() -> list[str]:
    """What a restore would overwrite here: database rows and stored originals."""
    found = []
    path = _sqlite_path()
    if path is None and backup_pg.holds_data():
        found.append("documents or audit events in the PostgreSQL database")
    if path is not None and path.exists() and path.stat().st_size > 0:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if "documents" in tables and con.execute(
                    "SELECT 1 FROM documents LIMIT 1").fetchone():
                found.append(f"documents in the database {path}")
            elif "audit_events" in tables and con.execute(
                    "SELECT 1 FROM audit_events LIMIT 1").fetchone():
                found.append(f"audit events in the database {path}")
        finally:
            con.close()
    if next(Store(current_app.config["UPLOAD_DIR"]).all_hashes(), None):
        found.append(f"originals in {current_app.config['UPLOAD_DIR']}")
    return found


def restore_backup(src: Path, *, force: bool = False, actor: str = "command line") -> Report:
    """Bring a verified backup back into this installation's configured folders."""
    src = Path(src)
    report = verify_backup(src)
    if not report.ok:
        raise BackupError("The backup failed verification; nothing was restored:\n  "
                          + "\n  ".join(report.problems))
    manifest = report.manifest
    target_db = _sqlite_path()
    if (manifest["database"] == PG_FILE) != (target_db is None):
        raise BackupError("This backup's database is "
                          + ("PostgreSQL" if manifest["database"] == PG_FILE else "SQLite")
                          + " and this installation's is not: restore it into an installation "
                          "that uses the same kind of database (to move an embedded "
                          "installation to PostgreSQL, use `inquiry-docs migrate-to`).")
    found = existing_data()
    if found and not force:
        raise BackupError("This installation already holds data (" + "; ".join(found) +
                          "). Restore into a fresh installation, or pass --force to replace it.")
    db.session.remove()
    db.engine.dispose()  # no pooled connection may keep the old file (or tables) open
    if target_db is None:
        with _pg_errors("pg_restore"):
            backup_pg.restore(current_app.config["DATABASE_URL"], src / PG_FILE)
    else:
        _replace_sqlite(src / DB_FILE, target_db)
    from ..db import upgrade_database

    # The keys first: an older backup's migrations seal its secrets with the key in use.
    _restore_keys(src, report)
    upgrade_database()  # a backup made by an older version gains the newer tables
    uploads = Path(current_app.config["UPLOAD_DIR"])
    for rel in manifest["files"]:
        if rel.startswith("uploads/"):
            target = uploads / rel.removeprefix("uploads/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                os.chmod(target, 0o644)
            shutil.copyfile(src / rel, target)
            os.chmod(target, 0o444)
    _restore_index(src, manifest, report)
    audit.record("backup_restored", actor=actor, object_type="backup", object_id=src.name,
                 source=str(src), backup_created_at=manifest.get("created_at"),
                 files=report.files)
    db.session.commit()
    _read_unfinished(report)
    return report


def _read_unfinished(report: Report) -> None:
    """Queue the documents that were still being read when the backup was made: their
    jobs stayed in the old installation's queue, which a backup does not hold."""
    from ..evidence import ingest
    from ..models import Document, Status

    unfinished = list(db.session.execute(select(Document).where(
        Document.status.in_((Status.RECEIVED, Status.EXTRACTING))).order_by(Document.id)
    ).scalars())
    if unfinished:
        ingest.read_again(unfinished)
        report.notes.append(f"{len(unfinished)} document(s) were still being read when the "
                            "backup was made: they are queued to be read again.")


def _replace_sqlite(source: Path, target_db: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(target_db) + suffix).unlink(missing_ok=True)
    target_db.parent.mkdir(parents=True, exist_ok=True)
    tmp = target_db.with_name(target_db.name + ".restoring")
    shutil.copyfile(source, tmp)
    _fsync(tmp)
    os.replace(tmp, target_db)


def _restore_keys(src: Path, report: Report) -> None:
    instance = Path(current_app.config["INSTANCE_DIR"])
    instance.mkdir(parents=True, exist_ok=True)
    env_prefix = "INQUIRY_DOCS_"
    for name in KEYS:
        if not (src / "keys" / name).is_file():  # an older backup: this installation's stays
            continue
        value = (src / "keys" / name).read_text().strip()
        path = instance / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
            fh.flush()
            os.fsync(fh.fileno())
        if os.environ.get(env_prefix + name.upper()) and \
                os.environ[env_prefix + name.upper()] != value:
            report.notes.append(f"warning: {env_prefix}{name.upper()} is set and overrides the "
                                f"restored {path}; set it to the backed-up key.")
        # This process goes on with the restored keys (the audit event below needs them).
        current_app.config[name.upper()] = value


def _restore_index(src: Path, manifest: dict[str, Any], report: Report) -> None:
    from ..search import backend
    from .check import rebuild_index

    search = backend()
    index_dir = _index_folder(search)
    # An index kept by another search backend (older backups: Whoosh) is no use here.
    if manifest.get("with_index") and \
            manifest.get("search_backend", "whoosh") == _search_backend():
        if not search.transactional:  # PostgreSQL's rows came back with the database
            with search.locked():
                index_dir.mkdir(parents=True, exist_ok=True)
                for path in index_dir.iterdir():
                    if path.is_file() and not path.name.endswith(".lock"):
                        path.unlink()
                _copy_tree(src / "index", index_dir)
        search.reopen()
        report.notes.append("The search index was restored from the backup.")
        return
    count = rebuild_index()
    report.notes.append(f"The search index was rebuilt from the database ({count} documents).")
