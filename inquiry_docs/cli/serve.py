"""`serve` and `worker`: the web app with its job workers, or job workers alone."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

from .. import extract, queue
from ..evidence.indexing import resume_indexing
from ..operations import workers as job_workers


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Web processes; more than 1 runs gunicorn.")
@click.option("--gunicorn", "use_gunicorn", is_flag=True,
              help="Run gunicorn even with one web process.")
@click.option("--access-log", type=click.Path(dir_okay=False, allow_dash=True),
              help="gunicorn only: write an access log to this file (- for stdout).")
@with_appcontext
def serve(host: str, port: int, workers: int, use_gunicorn: bool,
          access_log: str | None) -> None:
    """Serve the web app, with job workers running inside it.

    One process of WEB_THREADS threads by default; with --workers N (or --gunicorn),
    N gunicorn worker processes of WEB_THREADS threads each.
    """
    app = current_app._get_current_object()
    if workers > 1 or use_gunicorn:
        _serve_gunicorn(app, host, port, workers, access_log)
    elif access_log:
        raise click.UsageError("--access-log is written by gunicorn: add --gunicorn or "
                               "--workers N.")
    else:
        _serve_embedded(app, host, port)


def _serve_embedded(app: Flask, host: str, port: int) -> None:
    from ..web.server import make_server

    job_workers.start_consumer(app)
    server = make_server(host, port, app)
    if threading.current_thread() is threading.main_thread():
        # A service manager stops with SIGTERM: treat it like Ctrl-C so job threads finish.
        signal.signal(signal.SIGTERM, _interrupt)
    click.echo(f"Serving on http://{host}:{port} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        job_workers.stop_consumer(app)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _serve_gunicorn(app: Flask, host: str, port: int, workers: int,
                    access_log: str | None) -> None:
    from ..web import gunicorn_server

    storage = app.config.get("RATELIMIT_STORAGE_URL") or "memory://"
    if workers > 1 and storage.startswith("memory://"):
        # Each process would count failed sign-ins on its own: N times the allowance.
        raise click.UsageError(
            "Several web processes need shared sign-in throttling counts: set "
            "INQUIRY_DOCS_RATELIMIT_STORAGE_URL=redis://host:6379/1 (or serve with "
            "--workers 1).")
    click.echo(f"Serving on http://{host}:{port} with {workers} gunicorn worker(s) of "
               f"{app.config['WEB_THREADS']} threads (SIGTERM or Ctrl-C to stop)")
    gunicorn_server.run(_app_factory(), host, port, workers, app.config["WEB_THREADS"],
                        access_log)


def _app_factory() -> Callable[[], Flask]:
    """Build each worker's app the way this command's app was built (flask --app works)."""
    info = click.get_current_context().find_object(ScriptInfo)
    if info is None:  # called outside a command line: the package's own factory
        info = ScriptInfo(app_import_path="inquiry_docs")
    path, factory = info.app_import_path, info.create_app
    return lambda: ScriptInfo(app_import_path=path, create_app=factory).load_app()


@click.command()
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--until-idle", is_flag=True,
              help="Exit once the queue is empty and no document is being read or indexed.")
@with_appcontext
def worker(workers: int, until_idle: bool) -> None:
    """Run a job consumer in this process (for separate worker machines).

    SIGTERM stops gracefully (running jobs finish), SIGINT at once.
    """
    app = current_app._get_current_object()
    if until_idle:
        job_workers.start_consumer(app, workers=workers, periodic=False)  # a batch run
        try:
            job_workers.wait_until_idle(app)
        finally:
            job_workers.stop_consumer(app)
        return
    extract.warm_up()
    job_workers.prune_results(current_app._get_current_object())
    resume_indexing(current_app._get_current_object())
    consumer = queue.huey().create_consumer(workers=workers, worker_type="thread",
                                          periodic=True, max_delay=1.0,
                                          **job_workers.graceful_on_sigterm())
    consumer.run()
