"""Job workers: Huey consumers run as threads inside the server or a worker process."""

from __future__ import annotations

import inspect

from flask import Flask
from huey.consumer import Consumer

from .. import extract, queue
from ..evidence.indexing import resume_indexing


class InProcessConsumer(Consumer):
    """A consumer that leaves the host process's signal handling alone."""

    def _set_signal_handlers(self) -> None:
        return None


def start_consumer(app: Flask, workers: int | None = None) -> None:
    """Run job workers as threads inside this process (the embedded default)."""
    state = queue.state(app)
    if state.consumer is not None:
        return
    count = workers if workers is not None else app.config["WORKERS_IN_SERVER"]
    if count <= 0 or state.huey.immediate:
        return
    extract.warm_up()  # start the parsers' fork server before threads exist
    resume_indexing(app)
    state.consumer = InProcessConsumer(
        state.huey, workers=count, worker_type="thread", periodic=False,
        check_worker_health=False, initial_delay=0.05, backoff=1.2, max_delay=1.0,
        shutdown_timeout=30,
    )
    state.consumer.start()


def stop_consumer(app: Flask) -> None:
    state = queue.state(app)
    if state.consumer is not None:
        state.consumer.stop(graceful=True)
        state.consumer = None


def graceful_on_sigterm() -> dict[str, str]:
    """Consumer options that make SIGTERM (what service managers send) a graceful stop,
    where this Huey supports choosing; older ones stop gracefully on SIGINT only."""
    accepts = inspect.signature(Consumer.__init__).parameters
    return {"graceful_signal": "TERM"} if "graceful_signal" in accepts else {}
