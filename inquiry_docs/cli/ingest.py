"""`ingest`: store files and folders, then wait until each is read."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ..db import db
from ..evidence import ingest
from ..models import Document, Status
from ..operations import workers as job_workers
from .setup import inquiry_by_code

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
    inquiry = inquiry_by_code(code)
    files = _files(paths)
    app = current_app._get_current_object()
    job_workers.start_consumer(app, workers=workers)
    outcomes: list[tuple[Path, ingest.Outcome]] = []
    try:
        with bar(total=len(files), desc="Storing", unit="file") as progress:
            for group in _groups(files):
                outcomes.extend(zip(group, _receive_group(group, inquiry, doc_type, source),
                                    strict=True))
                progress.update(len(group))
        _wait(outcomes)
    finally:
        job_workers.stop_consumer(app)
    rows = [_report_row(path, outcome) for path, outcome in outcomes]
    _summary(rows)
    if report:
        Path(report).write_text(json.dumps(rows, indent=2))


def _groups(files: list[Path]) -> Iterator[list[Path]]:
    """The files a batch at a time: stored and registered together, then read together."""
    group: list[Path] = []
    size = 0
    for path in files:
        group.append(path)
        size += path.stat().st_size
        if len(group) >= ingest.BATCH_FILES or size >= ingest.BATCH_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _receive_group(group: list[Path], inquiry, doc_type: str, source: str
                   ) -> list[ingest.Outcome]:
    with contextlib.ExitStack() as files:
        return ingest.receive_many([
            ingest.Incoming(stream=files.enter_context(open(path, "rb")), filename=path.name,
                            inquiry=inquiry, channel="cli", doc_type=doc_type, source=source)
            for path in group])


def _wait(outcomes: list[tuple[Path, ingest.Outcome]]) -> None:
    wait_for([o.document_id for _, o in outcomes
              if o.outcome == ingest.RECEIVED and o.document_id is not None])


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
