"""Job workers: Huey consumers run as threads inside the server or a worker process."""

from __future__ import annotations

import inspect
import time
from datetime import timedelta

from flask import Flask
from huey.consumer import Consumer
from sqlalchemy import select

from .. import extract, queue
from ..db import db
from ..evidence.indexing import INDEX_REQUESTED, resume_indexing, waiting_for_index
from ..models import Document, Status, utcnow
from . import anchoring

KEPT_FLAGS = {INDEX_REQUESTED, anchoring.LOCK}


class InProcessConsumer(Consumer):
    """A consumer that leaves the host process's signal handling alone."""

    def _set_signal_handlers(self) -> None:
        return None


def start_consumer(app: Flask, workers: int | None = None, *, periodic: bool = True) -> None:
    """Run job workers as threads inside this process (the embedded default), with the
    scheduler that queues periodic tasks (the daily audit anchor) unless `periodic` is off."""
    state = queue.state(app)
    if state.consumer is not None:
        return
    count = workers if workers is not None else app.config["WORKERS_IN_SERVER"]
    if count <= 0 or state.huey.immediate:
        return
    extract.warm_up()  # start the parsers' fork server before threads exist
    prune_results(app)
    resume_indexing(app)
    state.consumer = InProcessConsumer(
        state.huey, workers=count, worker_type="thread", periodic=periodic,
        check_worker_health=False, initial_delay=0.05, backoff=1.2, max_delay=1.0,
        shutdown_timeout=30,
    )
    state.consumer.start()


def prune_results(app: Flask) -> None:
    """Empty Huey's result store of task results: tasks store nothing (queue._logged), but
    an earlier version's results would otherwise stay there for ever. Flags kept in the
    same store on purpose (the index run request) are left alone."""
    huey = queue.huey(app)
    for key in list(huey.storage.result_items()):
        name = key.decode() if isinstance(key, bytes) else str(key)
        if name not in KEPT_FLAGS:
            huey.storage.pop_data(key)


def stop_consumer(app: Flask) -> None:
    state = queue.state(app)
    if state.consumer is not None:
        state.consumer.stop(graceful=True)
        state.consumer = None


def wait_until_idle(app: Flask, poll: float = 0.5, settle: int = 3) -> None:
    """Return once nothing is left to do: no job queued or scheduled, and no document
    being read (recently) or waiting to be indexed, `settle` looks in a row."""
    quiet = 0
    while quiet < settle:
        time.sleep(poll)
        quiet = quiet + 1 if _idle(app) else 0


def _idle(app: Flask) -> bool:
    with app.app_context():
        huey = queue.huey()
        if len(huey) or huey.scheduled_count():
            return False
        since = utcnow() - timedelta(minutes=app.config["STUCK_MINUTES"])
        busy = db.session.execute(select(Document.id).where(
            waiting_for_index()
            | ((Document.status == Status.EXTRACTING) & (Document.updated_at > since))
        ).limit(1)).first()
        db.session.remove()
        return busy is None


def graceful_on_sigterm() -> dict[str, str]:
    """Consumer options that make SIGTERM (what service managers send) a graceful stop,
    where this Huey supports choosing; older ones stop gracefully on SIGINT only."""
    accepts = inspect.signature(Consumer.__init__).parameters
    return {"graceful_signal": "TERM"} if "graceful_signal" in accepts else {}
