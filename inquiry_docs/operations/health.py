"""Is the service healthy, and what state is it in? For /healthz and the admin status page.

`checks()` answers only ok/down per component, never counts, names or paths, because
/healthz is open to anyone who can reach the server. `status()` is for administrators.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from .. import queue
from ..access import permissions
from ..db import db
from ..models import AuditEvent, Document, Status, User

MB = 1024 * 1024
PROBLEMS_SHOWN = 50


def _database() -> None:
    db.session.execute(text("SELECT 1")).scalar_one()


def _queue() -> None:
    queue.depth(current_app)  # reads the queue's storage (SQLite or Redis)


def _index() -> None:
    from ..search import backend

    backend().ping()


def data_dirs() -> dict[str, Path]:
    """The folders whose filesystems must not fill up."""
    dirs = {"originals": Path(current_app.config["UPLOAD_DIR"]),
            "index": Path(current_app.config["INDEX_DIR"]),
            "instance": Path(current_app.config["INSTANCE_DIR"])}
    url = make_url(current_app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite" and url.database:
        dirs["database"] = Path(url.database).parent
    return dirs


def _disk() -> None:
    low = current_app.config["MIN_FREE_DISK_MB"] * MB
    for path in data_dirs().values():
        if shutil.disk_usage(path).free < low:
            raise OSError("free space is below MIN_FREE_DISK_MB")


CHECKS = {"database": _database, "queue": _queue, "index": _index, "disk": _disk}


def checks() -> dict[str, str]:
    """'ok' or 'down' for each component; a failing check never stops the others."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            current_app.logger.warning("health check %s failed", name, exc_info=True)
            if name == "database":
                db.session.rollback()
            results[name] = "down"
    return results


@dataclass
class Disk:
    name: str
    path: str
    total_mb: int
    used_mb: int
    free_mb: int

    @property
    def percent_used(self) -> int:
        return round(100 * self.used_mb / self.total_mb) if self.total_mb else 0


def disks() -> list[Disk]:
    out = []
    for name, path in data_dirs().items():
        usage = shutil.disk_usage(path)
        out.append(Disk(name, str(path), usage.total // MB, usage.used // MB, usage.free // MB))
    return out


def last_backup() -> dict[str, Any] | None:
    """The newest `backup_made` audit event: when, by whom, where to and how big."""
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "backup_made")
        .order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    if event is None:
        return None
    details = json.loads(event.details or "{}")
    return {"at": event.at, "actor": event.actor, "destination": details.get("destination", ""),
            "files": details.get("files", 0), "bytes": details.get("bytes", 0)}


def reading_problems(user: User | None) -> list[Document]:
    """The latest documents, of those `user` may see, whose reading failed or left pages
    out, with the technical detail users are not shown (exception, library message)."""
    return list(db.session.execute(
        permissions.visible_documents(user).where(Document.reason_detail != "")
        .order_by(Document.id.desc()).limit(PROBLEMS_SHOWN)
    ).scalars())


def status(user: User | None = None) -> dict[str, Any]:
    """Everything the admin status page shows (reading problems: of what `user` sees)."""
    counts = dict(db.session.execute(
        select(Document.status, func.count()).group_by(Document.status)).all())
    waiting = sum(counts.get(s, 0) for s in (Status.RECEIVED, Status.EXTRACTING,
                                             Status.INDEXING))
    try:
        depth: int | None = queue.depth(current_app)
    except Exception:
        depth = None
    return {"checks": checks(), "queue_depth": depth, "waiting": waiting,
            "failed": counts.get(Status.FAILED, 0), "no_text": counts.get(Status.NO_TEXT, 0),
            "indexed": counts.get(Status.INDEXED, 0), "disks": disks(),
            "last_backup": last_backup(), "problems": reading_problems(user)}
