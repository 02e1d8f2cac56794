"""Reconcile originals, database and index; rebuild the index from the database."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..db import db
from ..evidence import indexing, ingest
from ..evidence.storage import Store
from ..models import Document, Page, Status, utcnow
from ..search import backend

Echo = Callable[[str], None]
STUCK = (Status.RECEIVED, Status.EXTRACTING)


def rebuild_index(progress: bool = False) -> int:
    """Clear the index and write every searchable document again, one batch at a time."""
    from tqdm import tqdm

    search = backend()
    if hasattr(search, "rebuild"):  # PostgreSQL: one bulk load, indexes built after it
        done = search.rebuild((Status.INDEXED,))
        db.session.expire_all()
        _check_index(True, lambda _: None, rebuild=False)
        return done
    search.clear()
    batch = current_app.config["INDEX_BATCH"]
    total = db.session.execute(
        select(func.count()).select_from(Document).where(Document.status == Status.INDEXED)
    ).scalar_one()
    done, last = 0, 0
    with tqdm(total=total, disable=not (progress and sys.stderr.isatty()), unit="doc") as bar:
        while True:
            documents = db.session.execute(
                select(Document).where(Document.status == Status.INDEXED, Document.id > last)
                .order_by(Document.id).limit(batch)
            ).scalars().all()
            if not documents:
                break
            pages = indexing.pages_for_index(list(documents))
            search.index_pages([d.id for d in documents], pages)
            last = documents[-1].id
            done += len(documents)
            bar.update(len(documents))
            db.session.expunge_all()  # keep memory bounded on big collections
    # A worker may have written a document just before the clear and marked it indexed
    # after this pass went by: one reconciling pass puts back whatever that lost.
    db.session.expire_all()
    _check_index(True, lambda _: None, rebuild=False)
    return done


def run_check(repair: bool = False, echo: Echo = print) -> int:
    """Report (and with `repair`, fix) disagreements; returns how many remain."""
    problems = _check_originals(echo) + _check_index(repair, echo)
    stuck = _check_stuck(repair, echo)
    if repair and (stuck or problems):
        # Re-run to count only what repair could not fix.
        return _check_originals(lambda _: None) + _check_index(False, lambda _: None) + \
            _check_stuck(False, lambda _: None)
    return problems + stuck


def _check_originals(echo: Echo) -> int:
    store = Store(current_app.config["UPLOAD_DIR"])
    problems = 0
    known: set[str] = set()
    last = 0
    while True:
        rows = db.session.execute(
            select(Document.id, Document.urn, Document.sha256).where(Document.id > last)
            .order_by(Document.id).limit(500)
        ).all()
        if not rows:
            break
        for _, urn, sha256 in rows:
            known.add(sha256)
            actual = store.hash_of(sha256)
            if actual is None:
                problems += 1
                echo(f"MISSING original for {urn} ({sha256})")
            elif actual != sha256:
                problems += 1
                echo(f"ALTERED original for {urn}: stored bytes hash to {actual}")
        last = rows[-1][0]
    for sha256 in store.all_hashes():
        if sha256 not in known:
            echo(f"note: original {sha256} is kept but no document refers to it")
    return problems


def _expected_pages() -> dict[int, int]:
    rows = db.session.execute(
        select(Page.document_id, func.count()).join(Document)
        .where(Document.status.in_((Status.INDEXED, Status.INDEXING)),
               func.length(func.trim(Page.text)) > 0)
        .group_by(Page.document_id)
    ).all()
    return dict(rows)


def _check_index(repair: bool, echo: Echo, rebuild: bool = True) -> int:
    try:
        indexed = backend().indexed_page_counts()
    except Exception as error:
        echo(f"INDEX damaged or unreadable ({type(error).__name__}: {error})")
        if repair and rebuild:  # not from inside rebuild_index: an unreadable index would loop
            count = rebuild_index()
            echo(f"repaired: rebuilt the index from the database ({count} documents)")
        return 1
    expected = _expected_pages()
    statuses = dict(db.session.execute(select(Document.id, Document.status)).all())
    orphans = [d for d in indexed if d not in statuses or statuses[d] not in
               (Status.INDEXED, Status.INDEXING)]
    stale = set(db.session.execute(select(Document.id).where(
        Document.labels_stale.is_(True))).scalars())  # labels the index has yet to write
    wrong = [d for d, n in expected.items() if indexed.get(d) != n
             or statuses[d] == Status.INDEXING or d in stale]
    for d in orphans:
        echo(f"ORPHAN index entries for document id {d}")
    for d in wrong:
        echo(f"INDEX differs for document id {d}: {indexed.get(d, 0)} of {expected[d]} pages")
    if repair and (orphans or wrong):
        if orphans:
            backend().delete_documents(orphans)
        for start in range(0, len(wrong), current_app.config["INDEX_BATCH"]):
            _mark_for_indexing(wrong[start:start + current_app.config["INDEX_BATCH"]])
        indexing.index_pending()
        echo(f"repaired: dropped {len(orphans)} orphan(s), indexed {len(wrong)} document(s)")
    return len(orphans) + len(wrong)


def _mark_for_indexing(ids: list[int]) -> None:
    for document in db.session.execute(select(Document).where(Document.id.in_(ids))).scalars():
        document.status = Status.INDEXING
    db.session.commit()


def _check_stuck(repair: bool, echo: Echo) -> int:
    """Documents a dead worker left unread: `extracting` with no progress for STUCK_MINUTES,
    or `received` that long with no reading task left in the queue. Repair queues them
    again; documents still waiting for a worker with their task queued are only noted."""
    stuck, waiting = unfinished()
    for document in stuck:
        echo(f"UNFINISHED {document.urn} (document id {document.id}) has been "
             f"{document.status} since {document.updated_at:%Y-%m-%d %H:%M} UTC: its worker "
             "stopped")
    if waiting:
        echo(f"note: {len(waiting)} document(s) wait in the queue to be read by a worker")
    if repair and stuck:
        ingest.read_again(stuck)
        echo(f"repaired: queued {len(stuck)} unfinished document(s) to be read again; "
             "the server's or a worker's job threads read them")
    return len(stuck)


def unfinished() -> tuple[list[Document], list[Document]]:
    """(stuck, waiting): unfinished documents a worker will never finish, and those whose
    reading task is still in the queue."""
    limit = utcnow() - timedelta(minutes=current_app.config["STUCK_MINUTES"])
    documents = db.session.execute(
        select(Document).where(Document.status.in_(STUCK)).order_by(Document.id)
    ).scalars().all()
    queued = ingest.queued_for_reading()
    stuck, waiting = [], []
    for document in documents:
        if document.status == Status.RECEIVED and document.id in queued:
            waiting.append(document)
        elif document.updated_at <= limit:
            stuck.append(document)
    return stuck, waiting
