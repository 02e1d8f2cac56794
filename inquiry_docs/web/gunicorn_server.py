"""`serve --workers N`: the app under gunicorn, several processes of request threads.

Nothing is preloaded in the master: each worker process builds its own app after the
fork, so no database connection, index searcher or queue handle is shared between
processes. What the processes must agree on lives outside them: sessions in the database
(signing out ends a session for every worker at once), sign-in throttling counts in
RATELIMIT_STORAGE_URL, jobs in QUEUE_URL, originals in UPLOAD_DIR.

SIGTERM stops gracefully (requests in flight are answered, job threads finish their task);
SIGINT and SIGQUIT stop at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

# The path without its query string: search words stay out of access logs. The worker's
# process id shows how requests spread over the workers.
ACCESS_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms worker=%(p)s'
GRACEFUL_SECONDS = 30


class GunicornServer(BaseApplication):
    """gunicorn configured from a dict, with an app factory called in each worker."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__(prog="inquiry-docs serve")

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # older gunicorns lack some settings
                self.cfg.set(name, value)

    def load(self) -> Flask:
        from .server import settle_heap

        app = self.factory()
        settle_heap()  # as the embedded server does: see server.settle_heap
        return app


def _start_jobs(worker: Any) -> None:
    """Job consumer threads in each worker process (WORKERS_IN_SERVER of them, maybe 0)."""
    from ..operations.workers import start_consumer

    start_consumer(worker.wsgi)


def _stop_jobs(_arbiter: Any, worker: Any) -> None:
    from ..operations.workers import stop_consumer

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        stop_consumer(app)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def options(host: str, port: int, workers: int, threads: int,
            access_log: str | None = None) -> dict[str, Any]:
    return {
        "bind": [bind_address(host, port)],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "proc_name": "inquiry-docs",
        "preload_app": False,
        "graceful_timeout": GRACEFUL_SECONDS,
        # Proxy headers are trusted by the app alone (TRUSTED_PROXIES), in one place.
        "forwarded_allow_ips": "",
        # A control socket at a fixed path in $HOME would clash between installations.
        "control_socket_disable": True,
        "accesslog": access_log,
        "access_log_format": ACCESS_FORMAT,
        "post_worker_init": _start_jobs,
        "worker_exit": _stop_jobs,
    }


def run(factory: Callable[[], Flask], host: str, port: int, workers: int, threads: int,
        access_log: str | None = None) -> None:
    """Serve until stopped by a signal."""
    GunicornServer(factory, options(host, port, workers, threads, access_log)).run()
