"""`inquiry-docs ocr`: read scanned documents left without text, e.g. once Tesseract is
installed or OCR turned on."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import extract
from .. import queue as jobs
from ..access import audit
from ..db import db
from ..evidence import ocr
from ..models import Document, Status


def waiting_for_ocr() -> list[Document]:
    """Documents that OCR could still read: scans and PDFs that ended without text."""
    return list(db.session.execute(
        select(Document).where(Document.status == Status.NO_TEXT,
                               Document.mime.in_(sorted(extract.PAGED)))
        .order_by(Document.id)
    ).scalars())


def queue_ocr(documents: list[Document]) -> int:
    """Send documents through reading again (text layer, then OCR); audited."""
    for document in documents:
        document.status = Status.RECEIVED
        document.reason = ""
        audit.record("ocr_requested", object_type="document", object_id=document.id,
                     inquiry_id=document.inquiry_id, urn=document.urn)
    db.session.commit()
    for document in documents:
        jobs.enqueue_process(document.id)
    return len(documents)


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
    documents = waiting_for_ocr()
    if urns:
        wanted = {u.strip().upper() for u in urns}
        documents = [d for d in documents if d.urn in wanted]
        unknown = wanted - {d.urn for d in documents}
        if unknown:
            raise click.UsageError(f"Not waiting for OCR: {', '.join(sorted(unknown))}.")
    if not documents:
        click.echo("No documents are waiting for OCR.")
        return
    from . import wait_for

    app = current_app._get_current_object()
    jobs.start_consumer(app, workers=workers)
    try:
        queue_ocr(documents)
        wait_for([d.id for d in documents])
    finally:
        jobs.stop_consumer(app)
    counts: dict[str, int] = {}
    for document in documents:
        db.session.refresh(document)
        counts[document.status] = counts.get(document.status, 0) + 1
    click.echo(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())))

