"""Originals are written once, content-addressed, and never overwritten."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading

import pytest

from inquiry_docs.evidence.storage import Store, TooLarge

pytestmark = pytest.mark.stack_free("originals written to a folder")


def put(store: Store, data: bytes, limit: int = 10**9) -> tuple[str, bool]:
    with store.stage(io.BytesIO(data), limit) as staged:
        return staged.sha256, store.commit(staged)


def test_original_is_addressed_by_sha256_and_read_only(tmp_path):
    store = Store(tmp_path)
    sha, created = put(store, b"evidence")
    assert created
    assert sha == hashlib.sha256(b"evidence").hexdigest()
    path = tmp_path / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == b"evidence"
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_same_bytes_twice_keep_one_file_and_leave_no_temporaries(tmp_path):
    store = Store(tmp_path)
    first = put(store, b"same")
    second = put(store, b"same")
    assert first[1] is True and second[1] is False
    assert list(store.all_hashes()) == [first[0]]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_concurrent_identical_writes_make_one_original(tmp_path):
    store = Store(tmp_path)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(put(store, b"x" * 200_000)[1])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    assert len(list(store.all_hashes())) == 1


def test_too_large_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(TooLarge), store.stage(io.BytesIO(b"x" * 2000), 1000):
        pass
    assert list(store.all_hashes()) == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_rehash_detects_a_flipped_byte(tmp_path):
    store = Store(tmp_path)
    sha, _ = put(store, b"original bytes")
    path = store.path_for(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"original bytez")
    assert store.hash_of(sha) != sha
    path.unlink()
    assert store.hash_of(sha) is None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a" * 63, "g" * 64, ""])
def test_paths_only_come_from_hex_digests(tmp_path, bad):
    with pytest.raises(ValueError):
        Store(tmp_path).path_for(bad)
