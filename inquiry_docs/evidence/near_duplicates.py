"""Near-duplicates found at ingest: documents whose texts are near-identical (a draft and
its signed copy, a re-submission with a paragraph changed), grouped into clusters.

Each document's text becomes a set of word shingles and a MinHash signature (datasketch);
the signature's LSH bands, hashed with the inquiry, are kept as buckets in the database.
A new document is compared only with the documents sharing one of its buckets, found by
an index lookup, so the work for each document stays the same however large the
collection grows. Pairs at or above THRESHOLD (estimated Jaccard similarity of the
shingles) are kept; a cluster is a connected group of pairs, named by its smallest id.

Signatures are derived data, like the search index: `inquiry-docs near-duplicates --all`
computes them again. Documents are compared within their inquiry only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
from datasketch import MinHash, MinHashLSH
from sqlalchemy import delete, insert, or_, select, update

from .. import queue
from ..access import audit
from ..db import db
from ..models import Document, NearDuplicate, Page, SignatureBucket, Status, TextSignature

NUM_PERM = 128
SHINGLE_WORDS = 5
THRESHOLD = 0.5  # estimated Jaccard of the 5-word shingles: a paragraph of four changed
# LSH bands tuned for a lower similarity than THRESHOLD, so a pair just above it is still
# almost always a candidate (0.99 at 0.6); candidates below THRESHOLD are checked and left.
CANDIDATE_THRESHOLD = 0.4
MIN_WORDS = 40  # shorter texts (a cover sheet, a form) say too little to call a version
SCHEME = "affine32"  # datasketch's permutation scheme, named so an upgrade cannot change it
SEED = 1
CHUNK = 200  # documents per transaction when computing many (`--all`)
_WORD = re.compile(r"\w+")
WITH_TEXT = (Status.INDEXING, Status.INDEXED)  # text saved (the index may still be coming)


@cache
def bands() -> tuple[int, int]:
    """(bands, rows per band) that datasketch finds best for CANDIDATE_THRESHOLD."""
    lsh = MinHashLSH(threshold=CANDIDATE_THRESHOLD, num_perm=NUM_PERM)
    return lsh.b, lsh.r


@cache
def method() -> str:
    """How signatures and buckets are made: rows made another way are made again."""
    b, r = bands()
    return f"minhash-{SCHEME}-{NUM_PERM}-s{SEED}-w{SHINGLE_WORDS}-b{b}r{r}"


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def shingles(text: str) -> set[bytes]:
    """Overlapping runs of SHINGLE_WORDS words, lower case, punctuation and layout ignored
    (so line breaks, page breaks and re-read text do not count as changes)."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return set()
    return {" ".join(words[i:i + SHINGLE_WORDS]).encode()
            for i in range(len(words) - SHINGLE_WORDS + 1)}


def signature(text: str) -> tuple[np.ndarray, int] | None:
    """The text's MinHash values (uint32) and its number of shingles; None if too short."""
    found = shingles(text)
    if not found:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME,
                      permutations=_permutations())
    minhash.update_batch(found)
    return minhash.hashvalues.astype(np.uint32), len(found)


def buckets(inquiry_id: int, values: np.ndarray) -> list[int]:
    """The signature's LSH bands as signed 64-bit keys, one per band, with the inquiry in
    each so that documents of different inquiries never meet."""
    b, r = bands()
    out = []
    for band in range(b):
        digest = hashlib.blake2b(
            inquiry_id.to_bytes(8, "big") + band.to_bytes(2, "big")
            + values[band * r:(band + 1) * r].tobytes(), digest_size=8).digest()
        out.append(int.from_bytes(digest, "big", signed=True))
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures' shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


def _values(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint32)


@dataclass
class _New:
    document_id: int
    inquiry_id: int
    urn: str
    values: np.ndarray
    count: int


@queue.task("near_duplicates", retries=3)
def find_near_duplicates(document_ids: list[int]) -> int:
    """Sign these documents' texts and record their near-duplicates; pairs found."""
    found = 0
    for start in range(0, len(document_ids), CHUNK):
        found += _find(document_ids[start:start + CHUNK])
    return found


def _find(document_ids: list[int]) -> int:
    signed = list(_sign(document_ids))
    # The texts were read in a transaction of their own; ending it here lets the writes
    # below start with the writer's lock (SQLite and PostgreSQL alike), so two batches
    # running at once still see each other's buckets.
    db.session.commit()
    ids = list(document_ids)
    seeds = set(ids) | _cluster_members(ids)
    _forget(ids)
    if signed:
        db.session.execute(insert(TextSignature), [
            {"document_id": s.document_id, "inquiry_id": s.inquiry_id, "method": method(),
             "shingles": s.count, "signature": s.values.tobytes()} for s in signed])
        keys = {s.document_id: buckets(s.inquiry_id, s.values) for s in signed}
        db.session.execute(insert(SignatureBucket), [
            {"bucket": key, "document_id": d} for d, ks in keys.items() for key in set(ks)])
    pairs = _pairs(signed) if signed else {}
    if pairs:
        db.session.execute(insert(NearDuplicate), [
            {"low_id": low, "high_id": high, "similarity": score}
            for (low, high), score in sorted(pairs.items())])
    seeds |= {d for pair in pairs for d in pair}
    recluster(seeds)
    _audit(signed, pairs)
    db.session.commit()
    return len(pairs)


def _sign(document_ids: list[int]) -> Iterator[_New]:
    documents = db.session.execute(
        select(Document.id, Document.inquiry_id, Document.urn)
        .where(Document.id.in_(document_ids), Document.status.in_(WITH_TEXT))).all()
    for document_id, inquiry_id, urn in documents:
        text = "\n".join(db.session.execute(
            select(Page.text).where(Page.document_id == document_id)
            .order_by(Page.number)).scalars())
        made = signature(text)
        if made is not None:
            yield _New(document_id, inquiry_id, urn, made[0], made[1])


def _cluster_members(ids: list[int]) -> set[int]:
    """Every document sharing a cluster with one of these (their cluster may now split)."""
    clusters = select(TextSignature.cluster_id).where(
        TextSignature.document_id.in_(ids), TextSignature.cluster_id.is_not(None))
    return set(db.session.execute(select(TextSignature.document_id).where(
        TextSignature.cluster_id.in_(clusters))).scalars())


def _forget(ids: list[int]) -> None:
    db.session.execute(delete(NearDuplicate).where(
        or_(NearDuplicate.low_id.in_(ids), NearDuplicate.high_id.in_(ids))))
    db.session.execute(delete(SignatureBucket).where(SignatureBucket.document_id.in_(ids)))
    db.session.execute(delete(TextSignature).where(TextSignature.document_id.in_(ids)))


def _pairs(signed: list[_New]) -> dict[tuple[int, int], float]:
    """Each new document against those sharing a bucket with it, by lookup."""
    wanted = {s.document_id: set(buckets(s.inquiry_id, s.values)) for s in signed}
    sharing: dict[int, set[int]] = {}
    all_keys = sorted(set().union(*wanted.values()))
    by_key: dict[int, set[int]] = {}
    for key, document_id in db.session.execute(
            select(SignatureBucket.bucket, SignatureBucket.document_id)
            .where(SignatureBucket.bucket.in_(all_keys))):
        by_key.setdefault(key, set()).add(document_id)
    for document_id, keys in wanted.items():
        sharing[document_id] = set().union(*(by_key.get(k, set()) for k in keys)) - \
            {document_id}
    others = set().union(*sharing.values()) if sharing else set()
    values = {d: _values(blob) for d, blob in db.session.execute(
        select(TextSignature.document_id, TextSignature.signature)
        .where(TextSignature.document_id.in_(others), TextSignature.method == method()))}
    new = {s.document_id: s.values for s in signed}
    pairs: dict[tuple[int, int], float] = {}
    for document_id, candidates in sharing.items():
        for other in candidates:
            if other not in values:
                continue
            key = (min(document_id, other), max(document_id, other))
            if key in pairs:
                continue
            score = similarity(new[document_id], values[other])
            if score >= THRESHOLD:
                pairs[key] = round(score, 4)
    return pairs


def recluster(seeds: Iterable[int]) -> None:
    """Name the clusters these documents are in again: each connected group of pairs is
    named by its smallest document id; a document with no pair is in none."""
    seen: set[int] = set()
    for seed in sorted(set(seeds)):
        if seed in seen:
            continue
        group = _connected(seed)
        seen |= group
        db.session.execute(update(TextSignature).where(TextSignature.document_id.in_(group))
                           .values(cluster_id=min(group) if len(group) > 1 else None))


def _connected(seed: int) -> set[int]:
    group, frontier = {seed}, {seed}
    while frontier:
        rows = db.session.execute(select(NearDuplicate.low_id, NearDuplicate.high_id).where(
            or_(NearDuplicate.low_id.in_(frontier), NearDuplicate.high_id.in_(frontier))))
        found = {d for row in rows for d in row} - group
        group |= found
        frontier = found
    return group


def _audit(signed: list[_New], pairs: dict[tuple[int, int], float]) -> None:
    """One event per new document that has near-duplicates, naming them."""
    if not pairs:
        return
    urns = dict(db.session.execute(select(Document.id, Document.urn).where(
        Document.id.in_({d for pair in pairs for d in pair}))).all())
    for s in signed:
        others = {(high if low == s.document_id else low): score
                  for (low, high), score in pairs.items() if s.document_id in (low, high)}
        if others:
            audit.record("near_duplicates_found", object_type="document",
                         object_id=s.document_id, inquiry_id=s.inquiry_id, urn=s.urn,
                         near_duplicates={urns[d]: score for d, score in sorted(others.items())})


def unsigned_documents() -> list[int]:
    """Searchable documents with no signature made the current way (for `--all`)."""
    current = select(TextSignature.document_id).where(TextSignature.method == method())
    return list(db.session.execute(
        select(Document.id).where(Document.status.in_(WITH_TEXT),
                                  Document.id.not_in(current)).order_by(Document.id)).scalars())
