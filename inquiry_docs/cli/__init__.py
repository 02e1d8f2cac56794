"""The `inquiry-docs` command group (also `flask --app inquiry_docs ...`)."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import select

from .. import create_app
from .. import queue as jobs
from ..access import signin as auth
from ..db import db, upgrade_database
from ..evidence import ingest
from ..models import ROLES, Document, Inquiry, Status, User


def main() -> None:
    cli = FlaskGroup(create_app=create_app, add_default_commands=False,
                     add_version_option=False, help="Inquiry Docs: evidence management.")
    cli.main(prog_name="inquiry-docs")


def register_cli(app: Flask) -> None:
    for command in (init, create_user, create_inquiry_cmd, serve, worker, ingest_cmd,
                    search_cmd, reindex, check):
        app.cli.add_command(command)
    from .audit import audit
    from .backup import backup_cmd, restore_cmd, verify_cmd
    from .ocr import ocr_cmd
    from .tokens import create_token
    from .transfer import migrate_to_cmd

    for command in (backup_cmd, restore_cmd, verify_cmd, migrate_to_cmd):
        app.cli.add_command(command)

    app.cli.add_command(audit)
    app.cli.add_command(create_token)
    app.cli.add_command(ocr_cmd)


def _inquiry(code: str) -> Inquiry:
    inquiry = db.session.execute(select(Inquiry).where(Inquiry.code == code.upper())).scalar()
    if inquiry is None:
        raise click.UsageError(f"No inquiry with code {code!r}. Create it with create-inquiry.")
    return inquiry


@click.command()
@click.option("--admin-email", default="admin@inquiry.local", show_default=True)
@with_appcontext
def init(admin_email: str) -> None:
    """Create or upgrade the database, load the IICSA recommendations, make the first admin."""
    from ..recommendations import ensure_default_set

    upgrade_database()
    ensure_default_set()
    if db.session.execute(select(User).where(User.is_admin)).first():
        click.echo("Database ready; an admin already exists.")
        return
    _, password = auth.create_user(admin_email, role="admin")
    click.echo("Database ready. First admin created:")
    click.echo(f"  email:    {admin_email}")
    click.echo(f"  password: {password}")
    click.echo("Keep this password safe; it is shown only once.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", *ROLES]))
@click.option("--inquiry", "code", help="Inquiry code for a member role.")
@click.option("--clearance", default="OFFICIAL", type=click.Choice(["OFFICIAL",
                                                                    "OFFICIAL-SENSITIVE"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(email: str, role: str, code: str | None, clearance: str,
                password_stdin: bool) -> None:
    """Add a user; prints a one-time password unless one is given on stdin."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    inquiry = _inquiry(code) if code else None
    try:
        _, generated = auth.create_user(email, role=role, inquiry=inquiry, password=password,
                                        clearance=clearance)
    except (ValueError, auth.PasswordTooShort) as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"User {email} created with role {role}.")
    if generated:
        click.echo(f"One-time password: {generated}")


@click.command("create-inquiry")
@click.argument("code")
@click.argument("name")
@with_appcontext
def create_inquiry_cmd(code: str, name: str) -> None:
    """Add an inquiry with a 3-letter URN code."""
    from ..web.inquiries import create_inquiry, validate

    code = code.strip().upper()
    errors = validate(code, name.strip())
    if errors:
        raise click.UsageError("; ".join(errors.values()))
    inquiry = create_inquiry(code, name.strip())
    click.echo(f"Inquiry {inquiry.code} ({inquiry.name}) created.")


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

    jobs.start_consumer(app)
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
        jobs.stop_consumer(app)


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
    path = info.app_import_path if info else None
    factory = info.create_app if info else create_app
    return lambda: ScriptInfo(app_import_path=path, create_app=factory).load_app()


@click.command()
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def worker(workers: int) -> None:
    """Run a job consumer in this process (for separate worker machines).

    SIGTERM stops gracefully (running jobs finish), SIGINT at once.
    """
    from .. import extract

    extract.warm_up()
    jobs.resume_indexing(current_app._get_current_object())
    state = current_app.extensions["jobs"]
    consumer = state.huey.create_consumer(workers=workers, worker_type="thread",
                                          periodic=False, max_delay=1.0,
                                          **jobs.graceful_on_sigterm())
    consumer.run()


DONE = (Status.INDEXED, Status.NO_TEXT, Status.FAILED)


def bar(**kwargs):
    """A progress bar on a terminal, silence otherwise (logs and pipes stay clean)."""
    from tqdm import tqdm

    return tqdm(disable=not sys.stderr.isatty(), **kwargs)


def _files(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise click.UsageError(f"No such file or folder: {raw}")
    return found


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--inquiry", "code", required=True, help="Inquiry code, e.g. OLD.")
@click.option("--type", "doc_type", default="other", show_default=True)
@click.option("--source", default="", help="Who provided the files.")
@click.option("--report", type=click.Path(dir_okay=False, writable=True),
              help="Write a JSON list with one object per input file.")
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def ingest_cmd(paths, code, doc_type, source, report, workers) -> None:
    """Ingest files and folders (recursively) and wait until each is read."""
    inquiry = _inquiry(code)
    files = _files(paths)
    app = current_app._get_current_object()
    jobs.start_consumer(app, workers=workers)
    outcomes: list[tuple[Path, ingest.Outcome]] = []
    try:
        with bar(total=len(files), desc="Storing", unit="file") as progress:
            for path in files:
                with open(path, "rb") as fh:
                    outcomes.append((path, ingest.receive(ingest.Incoming(
                        stream=fh, filename=path.name, inquiry=inquiry, channel="cli",
                        doc_type=doc_type, source=source))))
                progress.update()
        _wait(outcomes)
    finally:
        jobs.stop_consumer(app)
    rows = [_report_row(path, outcome) for path, outcome in outcomes]
    _summary(rows)
    if report:
        Path(report).write_text(json.dumps(rows, indent=2))


def _wait(outcomes: list[tuple[Path, ingest.Outcome]]) -> None:
    wait_for([o.document.id for _, o in outcomes
              if o.outcome == ingest.RECEIVED and o.document])


def wait_for(ids: list[int]) -> None:
    """Until each of these documents is read (or failed), with a bar on a terminal."""
    with bar(total=len(ids), desc="Reading", unit="file") as progress:
        done = 0
        while done < len(ids):
            db.session.expire_all()
            done = db.session.execute(
                select(db.func.count()).select_from(Document)
                .where(Document.id.in_(ids), Document.status.in_(DONE))
            ).scalar_one()
            progress.n = done
            progress.refresh()
            if done < len(ids):
                time.sleep(0.2)


def _report_row(path: Path, outcome: ingest.Outcome) -> dict:
    document = outcome.document
    if document is not None:
        db.session.refresh(document)
    final = outcome.outcome
    reason = outcome.reason
    if outcome.outcome == ingest.RECEIVED and document is not None:
        final, reason = str(document.status), document.reason
    return {"path": str(path), "outcome": final, "reason": reason, "sha256": outcome.sha256,
            "urn": document.urn if document else None}


def _summary(rows: list[dict]) -> None:
    counts = dict.fromkeys(("indexed", "duplicate", "no_text", "failed", "rejected"), 0)
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    click.echo(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
    for row in rows:
        if row["outcome"] in ("failed", "rejected", "no_text"):
            click.echo(f"  {row['outcome']}: {row['path']}: {row['reason']}")


@click.command("search")
@click.argument("query")
@click.option("--inquiry", "code")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def search_cmd(query: str, code: str | None, as_json: bool, limit: int) -> None:
    """Search from the command line (sees every inquiry, as an administrator would)."""
    from ..web.search import run_search

    inquiry_id = _inquiry(code).id if code else None
    from ..search.query import QueryTooBroad

    admin = User(is_admin=True, active=True)
    try:
        results, rows = run_search(admin, query, inquiry_id, 0, limit)
    except QueryTooBroad as error:
        raise click.ClickException(f"{error.message} {error.advice}") from None
    hits = [
        {"urn": d.urn, "page": p.number, "score": round(p.score, 3), "snippet": str(p.snippet),
         "title": rows[d.document_id].title}
        for d in results.documents for p in d.pages
    ]
    if as_json:
        click.echo(json.dumps({"query": query, "documents": results.total_documents,
                               "pages": results.total_pages, "notice": results.notice,
                               "hits": hits}, indent=2))
        return
    if results.notice:
        click.echo(results.notice)
    click.echo(f"{results.total_documents} documents, {results.total_pages} pages")
    for hit in hits:
        click.echo(f"{hit['urn']}  p.{hit['page']}  {hit['score']:.3f}  {hit['snippet']}")


@click.command()
@with_appcontext
def reindex() -> None:
    """Rebuild the search index from the database, a batch at a time."""
    from ..operations.check import rebuild_index

    count = rebuild_index(progress=True)
    click.echo(f"Reindexed {count} documents.")


@click.command()
@click.option("--repair", is_flag=True, help="Index what is missing and drop orphans.")
@with_appcontext
def check(repair: bool) -> None:
    """Re-hash originals and compare database and index; non-zero exit while wrong."""
    from ..operations.check import run_check

    problems = run_check(repair=repair, echo=click.echo)
    if problems:
        click.echo(f"{problems} problem(s) remain.")
        sys.exit(1)
    click.echo("All originals, database rows and index entries agree.")



if __name__ == "__main__":
    main()
