"""`inquiry-docs ocr`: read scanned documents left without text, e.g. once Tesseract is
installed or OCR turned on."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import db
from ..evidence import ingest, ocr
from ..operations import workers as job_workers
from .ingest import wait_for


@click.command("ocr")
@click.argument("urns", nargs=-1)
@click.option("--all-no-text", is_flag=True, help="Every scan or PDF still without text.")
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def ocr_cmd(urns: tuple[str, ...], all_no_text: bool, workers: int) -> None:
    """Read scanned documents (by URN, or --all-no-text) with OCR and wait for them."""
    if not urns and not all_no_text:
        raise click.UsageError("Name documents by URN or use --all-no-text.")
    if not ocr.enabled():
        raise click.ClickException("OCR is turned off: set INQUIRY_DOCS_OCR=auto.")
    if not ocr.available():
        raise click.ClickException("OCR not available: install Tesseract (Debian: "
                                   "apt-get install tesseract-ocr tesseract-ocr-eng).")
    documents = ingest.waiting_for_ocr()
    if urns:
        wanted = {u.strip().upper() for u in urns}
        documents = [d for d in documents if d.urn in wanted]
        unknown = wanted - {d.urn for d in documents}
        if unknown:
            raise click.UsageError(f"Not waiting for OCR: {', '.join(sorted(unknown))}.")
    if not documents:
        click.echo("No documents are waiting for OCR.")
        return
    app = current_app._get_current_object()
    job_workers.start_consumer(app, workers=workers)
    try:
        ingest.queue_ocr(documents)
        wait_for([d.id for d in documents])
    finally:
        job_workers.stop_consumer(app)
    counts: dict[str, int] = {}
    for document in documents:
        db.session.refresh(document)
        counts[document.status] = counts.get(document.status, 0) + 1
    click.echo(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())))

