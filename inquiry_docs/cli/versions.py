"""`inquiry-docs near-duplicates`: sign documents' texts and find their versions here and
now (after an upgrade, or for documents read before near-duplicates were looked for)."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..db import db
from ..evidence import near_duplicates
from ..models import Document, NearDuplicate, TextSignature


@click.command("near-duplicates")
@click.option("--all", "everything", is_flag=True,
              help="Every searchable document again, not only those without a signature.")
@with_appcontext
def near_duplicates_cmd(everything: bool) -> None:
    """Find near-duplicates (versions) of the documents that have not been compared yet."""
    if everything:
        ids = list(db.session.execute(select(Document.id).where(
            Document.status.in_(near_duplicates.WITH_TEXT))
            .order_by(Document.id)).scalars())
    else:
        ids = near_duplicates.unsigned_documents()
    db.session.commit()
    started = time.monotonic()
    with click.progressbar(length=len(ids), label="Comparing") as bar:
        for start in range(0, len(ids), near_duplicates.CHUNK):
            chunk = ids[start:start + near_duplicates.CHUNK]
            near_duplicates.find_near_duplicates(chunk)
            bar.update(len(chunk))
    groups = db.session.execute(select(func.count(func.distinct(TextSignature.cluster_id)))
                                ).scalar_one()
    pairs = db.session.execute(select(func.count()).select_from(NearDuplicate)).scalar_one()
    click.echo(f"{len(ids)} documents compared in {time.monotonic() - started:.1f} s; "
               f"{pairs} pairs of near-duplicates in {groups} group{'' if groups == 1 else 's'}.")
