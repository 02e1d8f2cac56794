"""The tantivy index on disk: opening it (with its analysers), telling a damaged or older
index apart, our own writer lock, and one writer per batch that commits or rolls back.

Two locks guard a write: ours (an fcntl lock on `write.lock` in the folder, waited for up
to INDEX_LOCK_TIMEOUT, also held while a backup copies the files) and tantivy's own
writer lock, taken only while ours is held. Either busy raises IndexLocked, which
retries the index job. A failed commit is rolled back (tantivy's writer refuses every
later commit until then) and the batch is left for the retry: the index keeps its
last good commit, since tantivy makes a commit visible only by rewriting meta.json.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import tantivy

from ... import faults
from ..contract import IndexDamaged, IndexLocked, IndexOutdated
from .schema import SCHEMA_VERSION, make_schema, register

log = logging.getLogger(__name__)

LOCK = "write.lock"
VERSION = "inquiry-docs-schema"  # holds SCHEMA_VERSION; another value means "reindex"
KEEP = (LOCK,)  # files of ours that clearing the index leaves in place


@contextlib.contextmanager
def write_lock(directory: Path, timeout: float) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexLocked("The search index is busy.") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def exists(directory: Path) -> bool:
    return (directory / "meta.json").exists()


def open_index(directory: Path) -> tantivy.Index:
    """The index in `directory` with our analysers registered; raises IndexOutdated or
    IndexDamaged rather than reading an index this code did not make."""
    version = directory / VERSION
    found = version.read_text().strip() if version.exists() else ""
    if found != SCHEMA_VERSION:
        raise IndexOutdated("The search index was built by an older version: "
                            "run `inquiry-docs reindex` to rebuild it.")
    try:
        index = tantivy.Index.open(str(directory))
    except BaseException as error:  # OSError, ValueError, or a panic on a mangled file
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        raise IndexDamaged(f"The search index cannot be opened: {error}") from None
    register(index)
    return index


def create_index(directory: Path) -> tantivy.Index:
    """A new, empty index in `directory` (whatever was there is removed first)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        if path.is_file() and path.name not in KEEP:
            path.unlink()
    index = tantivy.Index(make_schema(), path=str(directory), reuse=False)
    register(index)
    (directory / VERSION).write_text(SCHEMA_VERSION + "\n")
    fsync_dir(directory)
    return index


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def batch_writer(index: tantivy.Index, memory_mb: int, threads: int, timeout: float
                 ) -> Iterator[tantivy.IndexWriter]:
    """tantivy's writer for one batch (call under write_lock): committed when the block
    ends, rolled back when it raises, and always given up, merges done, so its lock and
    memory go with it. tantivy's own lock is waited for up to `timeout` seconds."""
    threads = max(1, threads)
    heap = max(memory_mb, 16 * threads) * 1024 * 1024
    deadline = time.monotonic() + timeout
    while True:
        try:
            writer = index.writer(heap, threads)
            break
        except ValueError as error:
            if "LockBusy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise IndexLocked("The search index is busy (another writer).") from None
            time.sleep(0.05)
    try:
        yield writer
        # The batch is with the writer; the crash test kills the process here, before
        # meta.json names the new segments.
        faults.point("index_commit")
        writer.commit()
    except BaseException:
        try:
            writer.rollback()
        except BaseException:
            log.warning("rolling back a failed index commit also failed", exc_info=True)
        raise
    finally:
        try:
            writer.wait_merging_threads()
        except BaseException:
            log.warning("finishing the index writer's merges failed", exc_info=True)
