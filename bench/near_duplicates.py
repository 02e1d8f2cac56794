"""Near-duplicates at scale: cluster generated documents with known versions and measure
the time (in quarters, to show it grows linearly) and the precision and recall of the
groups found, pair by pair.

    .venv/bin/python bench/near_duplicates.py                 # 100,000 pages
    .venv/bin/python bench/near_duplicates.py --pages 2000 --no-write

The collection: originals of 1 to 12 pages (~330 words a page, a Zipf vocabulary of
20,000 words), each document type opening with the same template paragraph (so unrelated
documents share text, as real ones do); a third of the originals get 1 to 3 versions,
each one of: a few words edited (3 to 10), one paragraph rewritten, or a re-submission
(a cover note added, the text re-paginated, "DRAFT" dropped). Documents and pages are
written straight into a fresh SQLite database (not timed); then the ingest task
(`evidence.near_duplicates.find_near_duplicates`) runs on them in ingest order, 16 at a
time, as the workers do. A pair of documents is "the same" when they are of one family;
found when they share a group.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import append, machine  # noqa: E402

BATCH = 16  # documents per ingest task, as process_documents hands them over
WORDS_PER_PAGE = 330
TEMPLATES = {
    "witness_statement": "Witness statement of the person named below. This statement, "
    "consisting of the pages each signed by me, is true to the best of my knowledge and "
    "belief and I make it knowing that, if it is tendered in evidence, I shall be liable to "
    "prosecution if I have wilfully stated in it anything which I know to be false.",
    "report": "Report prepared for the inquiry under the terms of reference agreed with the "
    "chair. It draws on the records held by the service and on interviews with staff, and "
    "it should be read together with the appendices listed at the end of this report.",
    "correspondence": "Dear Sir or Madam, thank you for your letter of the date above about "
    "the matters raised with the inquiry. I write to set out the position of the council "
    "and to answer the questions you asked in the order in which you asked them.",
}
KINDS = ("edit", "paragraph", "resubmission")


@dataclass
class Doc:
    family: int
    kind: str  # original, or how this version differs from it
    doc_type: str
    pages: list[str]


@dataclass
class Collection:
    docs: list[Doc] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(len(d.pages) for d in self.docs)


def _vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10)))
             for _ in range(size * 2)}
    vocabulary = sorted(words)[:size]
    rng.shuffle(vocabulary)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return vocabulary, weights


class Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary, self.weights = _vocabulary(self.rng)

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocabulary, self.weights, k=n)

    def paragraph(self) -> str:
        return " ".join(self.words(self.rng.randint(50, 90))) + "."

    def original(self, doc_type: str, pages: int) -> list[str]:
        out = []
        for number in range(pages):
            paragraphs = [TEMPLATES[doc_type]] if number == 0 else []
            while sum(len(p.split()) for p in paragraphs) < WORDS_PER_PAGE:
                paragraphs.append(self.paragraph())
            out.append("\n\n".join(paragraphs))
        return out

    def version(self, pages: list[str], kind: str) -> list[str]:
        rng = self.rng
        pages = list(pages)
        if kind == "edit":
            for _ in range(rng.randint(3, 10)):
                n = rng.randrange(len(pages))
                words = pages[n].split(" ")
                words[rng.randrange(len(words))] = self.words(1)[0]
                pages[n] = " ".join(words)
        elif kind == "paragraph":
            n = rng.randrange(len(pages))
            paragraphs = pages[n].split("\n\n")
            paragraphs[rng.randrange(1 if n == 0 and len(paragraphs) > 1 else 0,
                                     len(paragraphs))] = self.paragraph()
            pages[n] = "\n\n".join(paragraphs)
        else:  # re-submitted: a cover note, the text laid out on pages afresh
            words = ("Re-submitted to the inquiry with the corrections asked for. "
                     + self.paragraph() + " " + " ".join(pages).replace("DRAFT ", "")).split()
            size = max(1, len(words) // max(1, len(pages)) + rng.randint(-30, 30))
            pages = [" ".join(words[i:i + size]) for i in range(0, len(words), size)]
        return pages


def generate(total_pages: int, seed: int) -> Collection:
    writer = Writer(seed)
    rng = writer.rng
    collection = Collection()
    family = 0
    while collection.pages < total_pages:
        doc_type = rng.choice(list(TEMPLATES))
        pages = writer.original(doc_type, rng.randint(1, 12))
        if rng.random() < 0.2:
            pages[0] = "DRAFT " + pages[0]
        collection.docs.append(Doc(family, "original", doc_type, pages))
        if rng.random() < 1 / 3:
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(KINDS)
                collection.docs.append(Doc(family, kind, doc_type, writer.version(pages, kind)))
        family += 1
    # Versions arrive later than their originals, mixed in with other documents.
    head, tail = collection.docs[:len(collection.docs) // 4], collection.docs[len(
        collection.docs) // 4:]
    rng.shuffle(tail)
    collection.docs = head + tail
    return collection


def _app(folder: Path):
    from inquiry_docs import create_app
    from inquiry_docs.db import upgrade_database

    app = create_app({
        "INSTANCE_DIR": str(folder / "instance"), "UPLOAD_DIR": str(folder / "uploads"),
        "INDEX_DIR": str(folder / "index"), "DATABASE_URL": f"sqlite:///{folder}/db.sqlite",
        "QUEUE_URL": f"sqlite:///{folder}/queue.db", "QUEUE_IMMEDIATE": True,
        "SECRET_KEY": "bench", "SEARCH_BACKEND": "whoosh",
    })
    with app.app_context():
        upgrade_database()
    return app


def _load(collection: Collection) -> list[int]:
    """Documents and pages as committed rows, in arrival order; their ids."""
    from sqlalchemy import insert

    from inquiry_docs.access.inquiries import create_inquiry
    from inquiry_docs.db import db
    from inquiry_docs.models import Document, Page

    inquiry = create_inquiry("BEN", "Benchmark inquiry")
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = []
    for start in range(0, len(collection.docs), 500):
        chunk = collection.docs[start:start + 500]
        first = start + 1
        db.session.execute(insert(Document), [{
            "id": first + n, "inquiry_id": inquiry.id, "urn": f"BEN{first + n:06d}",
            "title": f"Document {first + n}", "original_filename": "x.pdf",
            "mime": "application/pdf", "size": 1, "sha256": f"{first + n:064d}",
            "page_count": len(d.pages), "doc_type": d.doc_type, "status": "indexed",
            "uploaded_at": now, "updated_at": now} for n, d in enumerate(chunk)])
        db.session.execute(insert(Page), [
            {"document_id": first + n, "number": number, "text": text}
            for n, d in enumerate(chunk) for number, text in enumerate(d.pages, 1)])
        ids.extend(range(first, first + len(chunk)))
    db.session.commit()
    return ids


def _score(collection: Collection, ids: list[int]) -> dict[str, float]:
    from sqlalchemy import select

    from inquiry_docs.db import db
    from inquiry_docs.models import NearDuplicate, TextSignature

    cluster = dict(db.session.execute(
        select(TextSignature.document_id, TextSignature.cluster_id)).all())
    family = {i: d.family for i, d in zip(ids, collection.docs, strict=True)}
    by_family: dict[int, list[int]] = {}
    by_cluster: dict[int, list[int]] = {}
    for i in ids:
        by_family.setdefault(family[i], []).append(i)
        if cluster.get(i) is not None:
            by_cluster.setdefault(cluster[i], []).append(i)
    truth = {p for members in by_family.values() for p in combinations(sorted(members), 2)}
    found = {p for members in by_cluster.values() for p in combinations(sorted(members), 2)}
    hit = len(truth & found)
    direct = {(low, high) for low, high in db.session.execute(
        select(NearDuplicate.low_id, NearDuplicate.high_id))}
    kinds: dict[str, list[bool]] = {}
    original = {d.family: i for i, d in zip(ids, collection.docs, strict=True)
                if d.kind == "original"}
    for i, d in zip(ids, collection.docs, strict=True):
        if d.kind != "original":
            pair = tuple(sorted((i, original[d.family])))
            kinds.setdefault(d.kind, []).append(pair in found)
    return {"precision": hit / len(found) if found else 1.0,
            "recall": hit / len(truth) if truth else 1.0, "true_pairs": len(truth),
            "found_pairs": len(found), "direct_pairs": len(direct), "groups": len(by_cluster),
            **{f"recall_{k}": sum(v) / len(v) for k, v in kinds.items() if v},
            **{f"count_{k}": len(v) for k, v in kinds.items()}}


def run(total_pages: int, seed: int, folder: Path) -> tuple[str, dict]:
    from inquiry_docs.db import db
    from inquiry_docs.evidence import near_duplicates

    started = time.monotonic()
    collection = generate(total_pages, seed)
    generated = time.monotonic() - started
    app = _app(folder)
    with app.app_context():
        ids = _load(collection)
        quarters: list[tuple[int, float]] = []
        # Quarters of the pages generated (a little past --pages), so the last one ends
        # with the last batch.
        quarter = collection.pages / 4
        pages_done, mark, clock = 0, quarter, time.monotonic()
        began = clock
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            near_duplicates.find_near_duplicates(batch)
            pages_done += sum(len(collection.docs[i - 1].pages) for i in batch)
            if pages_done >= mark or start + BATCH >= len(ids):
                now = time.monotonic()
                quarters.append((pages_done, now - clock))
                clock, mark = now, mark + quarter
        elapsed = time.monotonic() - began
        figures = _score(collection, ids)
        db.session.remove()
    figures.update(pages=collection.pages, documents=len(collection.docs), seconds=elapsed,
                   generated=generated)
    return _section(figures, quarters, total_pages, seed), figures


def _section(f: dict, quarters: list[tuple[int, float]], total_pages: int, seed: int) -> str:
    from inquiry_docs.evidence import near_duplicates as nd

    b, r = nd.bands()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    before = 0
    for done, seconds in quarters:
        pages = done - before
        rows.append(f"| {before + 1:,}\u2013{done:,} | {seconds:.1f} | "
                    f"{1000 * seconds / max(pages, 1):.1f} |")
        before = done
    kinds = "; ".join(f"{k} {100 * f.get('recall_' + k, 1):.1f}% of {f.get('count_' + k, 0)}"
                      for k in KINDS)
    met = f["precision"] >= 0.95 and f["recall"] >= 0.95
    return "\n".join([
        f"## Near-duplicates, {when}", "",
        f"`bench/near_duplicates.py --pages {total_pages} --seed {seed}` on "
        f"{machine(('datasketch', 'numpy', 'SQLAlchemy'))}.", "",
        f"{f['pages']:,} pages in {f['documents']:,} documents (generated in "
        f"{f['generated']:.0f} s, not timed); MinHash of {nd.NUM_PERM} permutations over "
        f"{nd.SHINGLE_WORDS}-word shingles, {b} LSH bands of {r} rows kept in SQLite, pairs "
        f"at estimated Jaccard >= {nd.THRESHOLD}. The ingest task ran {BATCH} documents at "
        f"a time in arrival order: **{f['seconds']:.0f} s** in all "
        f"({1000 * f['seconds'] / f['pages']:.1f} ms a page).", "",
        "| Pages | Seconds | ms a page |", "|---|---|---|", *rows, "",
        f"Pairs of one family: {f['true_pairs']:,}; pairs sharing a group: "
        f"{f['found_pairs']:,} ({f['direct_pairs']:,} compared directly, in "
        f"{f['groups']:,} groups). **Precision {100 * f['precision']:.2f}%, recall "
        f"{100 * f['recall']:.2f}%** (target 95% both: {'met' if met else 'NOT met'}). "
        f"Each version grouped with its original, by kind: {kinds}.", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-near-duplicates-") as folder:
        section, figures = run(args.pages, args.seed, Path(folder))
    print(section)
    if not args.no_write:
        append(args.out, section)
    return 0 if figures["precision"] >= 0.95 and figures["recall"] >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
