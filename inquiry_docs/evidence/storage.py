"""Write-once, content-addressed storage of originals: <root>/ab/cd/<sha256>.

A file is streamed to a temporary file while it is hashed, fsynced, then hard-linked into
place. Linking fails if the target exists, so the same bytes arriving twice (even at the
same moment) leave exactly one original and never overwrite it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The stream passed the size limit; nothing was kept."""


@dataclass
class Staged:
    """A received file, hashed and on disk, not yet placed in the store."""

    path: Path
    sha256: str
    size: int


class Store:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    @contextlib.contextmanager
    def stage(self, stream: BinaryIO, max_bytes: int) -> Iterator[Staged]:
        """Copy a stream to a temporary file, hashing it; the file is removed on exit
        unless `commit` linked it into the store (the link survives the removal)."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="in-")
        path = Path(name)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            yield Staged(path, digest.hexdigest(), size)
        finally:
            path.unlink(missing_ok=True)

    def commit(self, staged: Staged) -> bool:
        """Place a staged file; True if it was new, False if the bytes were already stored."""
        target = self.path_for(staged.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(staged.path, target)
        except FileExistsError:
            return False
        os.chmod(target, 0o444)
        _fsync_dir(target.parent)
        return True

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path_for(sha256), "rb")

    def hash_of(self, sha256: str) -> str | None:
        """Re-hash a stored original; None if it is missing."""
        path = self.path_for(sha256)
        if not path.exists():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def all_hashes(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                for item in sorted(second.iterdir()):
                    if len(item.name) == 64:
                        yield item.name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
