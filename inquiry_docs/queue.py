"""The job queue: each app's Huey instance, built from QUEUE_URL, and the tasks bound to it.

A task is declared beside the work it runs, with `@queue.task(...)`; `init_app` binds every
declared task to this app's Huey, each run inside an app context. This module imports none
of the work, so any module may import it to enqueue, and nothing connects at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from sqlalchemy.exc import OperationalError

from .db import db

log = logging.getLogger(__name__)

RETRY_DELAY = 2  # seconds between attempts of a task that failed


@dataclass(frozen=True)
class Task:
    """A declared task. Calling it runs the work here and now; `enqueue` queues it."""

    fn: Callable[..., Any]
    name: str
    retries: int
    transient: tuple[type[BaseException], ...]
    # When set, consumers started with periodic tasks on queue a run whenever it returns
    # True for the current minute (a naive UTC datetime); see operations/workers.py.
    periodic: Callable[[datetime], bool] | None = None

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def enqueue(self, *args: Any) -> Any:
        """Queue a run in the current app's queue (or run it at once in immediate mode)."""
        return bound(self.name)(*args)

    def schedule(self, *args: Any, delay: float) -> Any:
        return bound(self.name).schedule(args, delay=delay)


DECLARED: dict[str, Task] = {}


def task(name: str | None = None, *, retries: int = 3,
         transient: tuple[type[BaseException], ...] = (OperationalError,),
         periodic: Callable[[datetime], bool] | None = None,
         ) -> Callable[[Callable[..., Any]], Task]:
    """Declare `fn` as a task; Huey retries it `retries` times on any exception, and
    `transient` errors are logged as "will be retried" rather than as failures. A
    `periodic` task takes no arguments and is queued by every consumer's scheduler in each
    minute for which `periodic(now)` is true: the work must tolerate several consumers
    queueing the same minute's run."""
    def declare(fn: Callable[..., Any]) -> Task:
        declared = Task(fn, name or fn.__name__, retries, transient, periodic)
        DECLARED[declared.name] = declared
        return declared
    return declare


@dataclass
class Queue:
    huey: Huey
    tasks: dict[str, TaskWrapper] = field(default_factory=dict)
    consumer: Any = None  # the in-process consumer, when one runs (operations.workers)
    thread: Any = None


def make_huey(url: str, *, immediate: bool = False) -> Huey:
    if immediate or url == "memory://":
        return MemoryHuey("inquiry-docs", immediate=immediate)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return SqliteHuey("inquiry-docs", filename=url.removeprefix("sqlite:///"))
    if parsed.scheme in ("redis", "rediss"):
        return RedisHuey("inquiry-docs", url=url)
    raise ValueError(f"Unsupported QUEUE_URL {url!r}: use sqlite:///path or redis://host")


def init_app(app: Flask) -> None:
    """Build this app's Huey and bind every task declared so far to it."""
    huey = make_huey(app.config["QUEUE_URL"], immediate=app.config.get("QUEUE_IMMEDIATE", False))
    state = Queue(huey)
    for declared in DECLARED.values():
        run = _in_app(app, _logged(declared))
        if declared.periodic is not None:
            state.tasks[declared.name] = huey.periodic_task(
                declared.periodic, retries=declared.retries, retry_delay=RETRY_DELAY,
                name=declared.name)(run)
            continue
        state.tasks[declared.name] = huey.task(
            retries=declared.retries, retry_delay=RETRY_DELAY, name=declared.name)(run)
    app.extensions["queue"] = state


def _in_app(app: Flask, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        with app.app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()
    run.__name__ = fn.__name__
    return run


def _logged(declared: Task) -> Callable[..., Any]:
    """Log transient errors (Huey retries any exception) so a retry says why. Nothing is
    returned to Huey: the work's outcome is in the database, and a result nobody reads
    would stay in Huey's result store for ever."""
    def run(*args: Any) -> None:
        try:
            declared.fn(*args)
        except declared.transient as error:
            log.warning("%s will be retried: %s", declared.name, error)
            db.session.rollback()
            raise
    run.__name__ = declared.name
    return run


def state(app: Flask | None = None) -> Queue:
    return (app or current_app).extensions["queue"]


def huey(app: Flask | None = None) -> Huey:
    return state(app).huey


def bound(name: str) -> TaskWrapper:
    return state().tasks[name]


def depth(app: Flask) -> int:
    """Jobs waiting (reads the queue's storage: SQLite or Redis)."""
    return len(state(app).huey)
