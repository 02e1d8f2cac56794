"""The Whoosh index on disk: its schema, how its folder is read, and what a failed writer
and a commit leave to tidy (the writer's own lock, fsync of the files)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage

from ..contract import IndexOutdated

__all__ = ["IndexOutdated", "abandon", "fsync_tree", "make_schema", "storage"]

log = logging.getLogger(__name__)


def make_schema() -> Schema:
    stem = StemmingAnalyzer()
    words = StandardAnalyzer(stoplist=None)  # lower-cased words, every one kept, no stems
    return Schema(
        key=ID(unique=True),  # "<document id>:<page>"
        # Columns (sortable) let a search group, sort and count every hit without reading
        # stored fields.
        doc=NUMERIC(int, bits=64, stored=True, signed=False, sortable=True),
        urn=ID(stored=True, sortable=True),
        page=NUMERIC(int, stored=True, sortable=True),
        text=TEXT(analyzer=stem, phrase=True),  # unquoted words match word forms
        exact=TEXT(analyzer=words, phrase=True),  # quoted phrases, prefixes, fuzzy: as written
        title=TEXT(analyzer=stem, field_boost=2.0),
        inquiry=NUMERIC(int, stored=True, sortable=True),
        type=ID(sortable=True),
        source=TEXT(analyzer=words, phrase=True),  # source:police matches any word of it
        src=ID(sortable=True),  # the whole source, for the source filter and its counts
        tag=KEYWORD(lowercase=True, commas=True),  # tag ids
        rec=KEYWORD(lowercase=True, commas=True),  # recommendations the page is linked to
        marking=ID(),
        restricted=ID(),  # "yes" under a restriction order, else "no"
        # Review coding, for filters only (document-level, the same on every page).
        relevance=ID(),
        privilege=ID(),
        review=ID(),
        reviewer=ID(),  # the assigned reviewer's user id, or "none"
        redaction=ID(),  # "yes" when pages need redacting
        date=DATETIME(sortable=True),
        year=NUMERIC(int, sortable=True),  # the year of `date`, for the year filter and counts
    )


def storage(directory: Path) -> FileStorage:
    """The index folder, read through ordinary file reads.

    With memory mapping, Whoosh copies each segment's whole postings file into a BytesIO
    whenever a reader opens it: at 100,000 pages, 800 MB and about a second per searcher,
    in every request thread.
    """
    return FileStorage(str(directory), supports_mmap=False)


def abandon(writer) -> None:
    """Give up a writer whose work or commit failed (e.g. the disk filled up).

    Whoosh keeps its own WRITELOCK after a failed commit, which would refuse every later
    writer in this process; release it even when cancelling fails too.
    """
    try:
        writer.cancel()
    except Exception:
        log.warning("cancelling a failed index writer also failed", exc_info=True)
    finally:
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", None) is not None:
            lock.release()


def fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_file() and not path.name.endswith(".lock"):
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
