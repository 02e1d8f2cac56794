"""Ingest benchmark: bare extraction, indexing alone and end to end, measured in one run.

    python bench/ingest.py                       # 200 PDFs x 10 pages + 20 DOCX x 10 pages
    python bench/ingest.py --docs 3 --pages 2 --docx 1 --no-write
    python bench/ingest.py --worker-counts 1,2,4                  # one end-to-end row each
    python bench/ingest.py --backend postgres --worker-counts 1,2,4  # the scale-out set-up

1. Bare extraction: `extract_inline` over every file in a process pool of --workers.
2. Indexing alone (embedded only): the pages written to a fresh Whoosh (or tantivy) index,
   INDEX_BATCH documents per commit, as `indexing.index_pending` does.
3. End to end, once per worker count in --worker-counts (default: --workers), on new
   temporary directories and a new database each time (bench/ingest_e2e.py):
   `inquiry-docs init`, `create-inquiry BEN Bench`, then the real commands, timed from the
   start of `inquiry-docs ingest` to the moment every document is indexed; the outcome is
   then checked (every document indexed, page counts in the database and the search
   backend, a search for a word put on one known page finding that page only).
   - `--backend whoosh` (default), the embedded set-up: SQLite, the SQLite queue, Whoosh
     (`--backend tantivy`: the same with the tantivy index);
     N workers = `inquiry-docs ingest <folder> --inquiry BEN --workers N`, N job threads
     inside the command.
   - `--backend postgres`, the scale-out set-up (bench/ingest_pg.py): a throwaway
     PostgreSQL cluster and Redis started from the installed binaries and deleted after
     the run, SEARCH_BACKEND=postgres; N workers = N `inquiry-docs worker --workers 1`
     processes consuming the Redis queue, fed by `inquiry-docs ingest ... --workers 0`.
     Indexing alone is not measured: the search rows are written by PostgreSQL in each
     job's transaction, and its CPU time is reported as server CPU.

The files are generated first, with a seed, into a temporary folder (not timed). PDFs
embed a TrueType font and justify their lines, as office suites write them; a PDF in
a core font with plain lines extracts about three times faster and says less about real
bundles. The result is printed and appended to docs/benchmarks.md (unless --no-write);
the target is end to end >= 75% of the bare extraction rate, with as many workers as bare
extraction had processes.
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

# Beside this script: bench/ingest_e2e.py, bench/ingest_report.py, procs.py, report.py
from ingest_e2e import INQUIRY, MARKER, EndToEnd, Phase, Spec, end_to_end
from ingest_report import EMBEDDED, render, workers_text
from procs import TreeSampler, cpu_children, peak_rss_self, reset_peak_rss
from report import append

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("whoosh", "tantivy", "postgres")
MARKER_DOC, MARKER_PAGE = 5, 7  # 1-based; clamped to the corpus size
FONTS = (
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
)
PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- English-like text ---------------------------------------------------------------------

COMMON = """the of and to a in that is was he for it with as his on be at by i this had not are
but from or have an they which one you were her all she there would their we him been has when
who will more no if out so said what up its about into than them can only other new some could
time these two may then do first any my now such like our over man me even most made after also
did many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year off
come since against go came right used take three"""

DOMAIN = """inquiry witness statement evidence council police officer report review meeting
record records child children abuse allegation complaint safeguarding school home care social
worker services investigation interview chair panel hearing transcript document documents
disclosure bundle solicitor counsel recommendation recommendations institution authority
authorities concern concerns referral referrals response failure failures decision decisions
procedure policy policies manager managers staff member members family families victim
victims survivor survivors account accounts minutes letter letters email memo file files
section paragraph annex exhibit date period years month months incident incidents practice
governance training vetting barring disclosure oversight board trust diocese church
residential placement foster local national independent government department secretary
minister parliament act order restriction privilege redaction sensitive official"""

ONSETS = ["b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m"]
ONSETS += ["n", "p", "pl", "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "wh", ""]
NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"]
CODAS = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "rt", "ld"]
SUFFIXES = ["", "", "", "ing", "ed", "er", "ly", "tion", "ment", "ness", "al", "ous"]


class Prose:
    """Deterministic English-like pages over a Zipf-distributed vocabulary of ~20,000 words."""

    def __init__(self, seed: int, size: int = 20_000) -> None:
        rng = random.Random(seed)
        words = list(dict.fromkeys(COMMON.split() + DOMAIN.split()))
        known = set(words)
        while len(words) < size:
            word = "".join(
                rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS)
                for _ in range(rng.choice((1, 2, 2, 3)))
            ) + rng.choice(SUFFIXES)
            if len(word) > 2 and word not in known and MARKER not in word:
                known.add(word)
                words.append(word)
        self.words = words
        total, self.cumulative = 0.0, []
        for rank in range(1, len(words) + 1):
            total += 1.0 / rank**1.05
            self.cumulative.append(total)

    def _words(self, rng: random.Random, count: int) -> list[str]:
        top = self.cumulative[-1]
        return [
            self.words[bisect.bisect(self.cumulative, rng.random() * top)] for _ in range(count)
        ]

    def sentence(self, rng: random.Random) -> str:
        words = self._words(rng, rng.randint(6, 22))
        if len(words) > 8 and rng.random() < 0.4:
            words[rng.randrange(3, len(words) - 2)] += ","
        if rng.random() < 0.15:
            words.insert(rng.randrange(len(words)), str(rng.randint(1, 2024)))
        return " ".join(words).capitalize() + rng.choice("........?")

    def page(self, rng: random.Random, marker: str | None = None) -> list[str]:
        """Paragraphs of one page, 2,000 to 3,000 characters in all."""
        target, size = rng.randint(2000, 3000), 0
        paragraphs: list[str] = []
        while size < target:
            sentences = [self.sentence(rng) for _ in range(rng.randint(3, 7))]
            paragraphs.append(" ".join(sentences))
            size += len(paragraphs[-1]) + 1
        if marker:
            middle = paragraphs[len(paragraphs) // 2].split(" ")
            middle.insert(len(middle) // 2, marker)
            paragraphs[len(paragraphs) // 2] = " ".join(middle)
        return paragraphs


# --- the corpus ------------------------------------------------------------------------------


_prose: Prose | None = None
_font: str | None = None


def _init_generator(seed: int, font: str | None) -> None:
    global _prose, _font
    _prose, _font = Prose(seed), font


def _pdf(spec: Spec, rng: random.Random) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if _font:
        pdf.add_font("Body", fname=_font)
        pdf.set_font("Body", size=10.5)
    else:
        pdf.set_font("helvetica", size=10.5)
    pdf.set_auto_page_break(True, margin=12)
    for number in range(1, spec.pages + 1):
        pdf.add_page()
        marker = MARKER if number == spec.marker_page else None
        pdf.multi_cell(0, 4.6, "\n".join(_prose.page(rng, marker)), align="J")
    return bytes(pdf.output())


def _docx(spec: Spec, rng: random.Random) -> bytes:
    import io

    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for number in range(1, spec.pages + 1):
        if number > 1:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        marker = MARKER if number == spec.marker_page else None
        for paragraph in _prose.page(rng, marker):
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _generate(job: tuple[Spec, int]) -> int:
    spec, seed = job
    rng = random.Random(seed)
    data = _pdf(spec, rng) if spec.mime == PDF_MIME else _docx(spec, rng)
    Path(spec.path).write_bytes(data)
    return len(data)


def plan(folder: Path, docs: int, pages: int, docx: int) -> list[Spec]:
    """Files in the order `ingest` takes them (sorted names), the marker on one page."""
    names = [(f"bundle-{n:04d}.pdf", PDF_MIME) for n in range(1, docs + 1)]
    names += [(f"statement-{n:04d}.docx", DOCX_MIME) for n in range(1, docx + 1)]
    names.sort()
    marker_doc = min(MARKER_DOC, len(names))
    return [
        Spec(
            str(folder / name),
            mime,
            pages,
            min(MARKER_PAGE, pages) if index == marker_doc else None,
        )
        for index, (name, mime) in enumerate(names, 1)
    ]


def generate(specs: list[Spec], seed: int, workers: int, font: str | None) -> int:
    jobs = [(spec, seed * 1_000_003 + index) for index, spec in enumerate(specs)]
    with ProcessPoolExecutor(workers, initializer=_init_generator, initargs=(seed, font)) as pool:
        return sum(pool.map(_generate, jobs, chunksize=4))


# --- phases ------------------------------------------------------------------------------


def _extract_one(spec: Spec) -> Any:
    from inquiry_docs.extract import extract_inline

    return extract_inline(spec.path, spec.mime)


def bare_extraction(specs: list[Spec], workers: int) -> tuple[Phase, list[Any]]:
    import inquiry_docs.extract  # noqa: F401  (imported before the pool forks)

    cpu = cpu_children()
    with TreeSampler(os.getpid()) as memory:
        start = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_extract_one, specs, chunksize=1))
        seconds = time.perf_counter() - start
    for spec, result in zip(specs, results, strict=True):
        if len(result.pages) != spec.pages:
            raise SystemExit(
                f"{spec.path}: {len(result.pages)} pages extracted, "
                f"{spec.pages} generated (the generator overflowed a page)"
            )
    pages = sum(len(r.pages) for r in results)
    return Phase(
        f"Bare extraction (`extract_inline`, {workers} processes)",
        len(specs),
        pages,
        seconds,
        memory.peak / 2**20,
        memory.largest / 2**20,
        cpu_children() - cpu,
    ), results


def index_batch_size() -> int:
    from inquiry_docs import config

    return int(config.load()["INDEX_BATCH"])


def _naive(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=None) if moment else None


def indexing_alone(specs: list[Spec], results: list[Any], folder: Path,
                   search: str = "whoosh") -> Phase:
    from inquiry_docs.search import IndexPage
    from inquiry_docs.search.tantivy.backend import TantivyBackend
    from inquiry_docs.search.whoosh.backend import WhooshBackend

    batch = index_batch_size()
    documents = [
        (
            doc_id,
            [
                IndexPage(
                    document_id=doc_id,
                    urn=f"{INQUIRY}{doc_id:06d}",
                    number=number,
                    text=text,
                    title=Path(spec.path).stem,
                    inquiry_id=1,
                    doc_type="other",
                    source="",
                    marking="OFFICIAL",
                    date=_naive(result.created),
                )
                for number, text in result.pages
                if text.strip()
            ],
        )
        for doc_id, (spec, result) in enumerate(zip(specs, results, strict=True), 1)
    ]
    backend = TantivyBackend(str(folder)) if search == "tantivy" else WhooshBackend(str(folder))
    reset_peak_rss()  # if the kernel refuses, VmHWM is this process's peak so far
    cpu = time.process_time()
    start = time.perf_counter()
    for first in range(0, len(documents), batch):
        chunk = documents[first : first + batch]
        backend.index_pages(
            [doc_id for doc_id, _ in chunk], [page for _, pages in chunk for page in pages]
        )
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = peak_rss_self()
    pages = sum(len(pages) for _, pages in documents)
    counts = backend.indexed_page_counts()
    if sum(counts.values()) != pages:
        raise SystemExit(
            f"Indexing alone: {sum(counts.values())} pages in the index, {pages} written"
        )
    return Phase(
        f"Indexing alone ({search.capitalize()}, {batch} documents per commit)",
        len(documents),
        pages,
        seconds,
        peak / 2**20,
        None,
        cpu,
    )


# --- scans: PDF readers, OCR, page images (opt-in) ------------------------------------------


def scans_section(base: Path, args: argparse.Namespace, font: str | None) -> str:
    import scans

    vocabulary = [w for w in Prose(args.seed).words[:5000] if w.isalpha()]
    print("Scans: PDF readers, OCR, page images...", file=sys.stderr)
    return "#### PDF text readers, OCR and page images\n\n" + scans.run(
        base, vocabulary, font, real_pdfs=args.real_pdfs)


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=200, help="PDF documents (default 200)")
    parser.add_argument("--pages", type=int, default=10, help="pages per document (default 10)")
    parser.add_argument(
        "--docx",
        type=int,
        default=20,
        help="DOCX documents, with a page break between pages (default 20)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="extraction processes and consumer threads (default: cores)",
    )
    parser.add_argument("--seed", type=int, default=1, help="text generator seed (default 1)")
    parser.add_argument(
        "--backend",
        type=_backends,
        default=["whoosh"],
        metavar="B[,B...]",
        help="whoosh: the embedded set-up (SQLite, SQLite queue, `ingest --workers N`); "
        "tantivy: the same with the tantivy index; postgres: the scale-out one on a "
        "throwaway PostgreSQL cluster and Redis "
        "(SEARCH_BACKEND=postgres, N `inquiry-docs worker` processes) (default whoosh). "
        "Several, comma-separated (tantivy,whoosh,postgres), run side by side on the same "
        "corpus and bare extraction, one section each",
    )
    parser.add_argument(
        "--worker-counts",
        type=_counts,
        metavar="N,N,...",
        help="one end-to-end run per worker count, e.g. 1,2,4 (default: --workers)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="Markdown file the section is appended to",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--scans",
        action="store_true",
        help="also compare the PDF text readers and time OCR and page images (bench/scans.py)",
    )
    parser.add_argument(
        "--real-pdfs",
        type=Path,
        help="with --scans: a folder of real-world PDFs to measure the readers' agreement",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (files, database, index) and say where (a "
        "PostgreSQL cluster and Redis are deleted all the same)",
    )
    args = parser.parse_args(argv)
    if min(args.docs, args.docx) < 0 or args.docs + args.docx < 1 or args.pages < 1:
        parser.error("need at least one document of at least one page")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.worker_counts = args.worker_counts or [args.workers]
    args.backends = args.backend
    args.backend = args.backends[0]
    args.command = shlex.join(["python", "bench/ingest.py", *(argv or sys.argv[1:])])
    args.effective = (
        f"--docs {args.docs} --pages {args.pages} --docx {args.docx} "
        f"--workers {args.workers} --seed {args.seed} --backend {','.join(args.backends)} "
        f"--worker-counts {','.join(map(str, args.worker_counts))}"
    )
    return args


def _backends(text: str) -> list[str]:
    """`--backend`: one of BACKENDS, or several comma-separated, each once."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",")))
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown backend {', '.join(unknown) or text!r} (choose from {', '.join(BACKENDS)})")
    return names


def _counts(text: str) -> list[int]:
    """`--worker-counts`: a comma-separated list of whole numbers of at least 1."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}") from None
    if min(counts) < 1:
        raise argparse.ArgumentTypeError("each worker count must be at least 1")
    return counts


def make_corpus(base: Path, args: argparse.Namespace) -> tuple[list[Spec], str | None, str]:
    """Generate the files (not timed): their specs, the font used, and a description."""
    corpus = base / "files"
    corpus.mkdir()
    specs = plan(corpus, args.docs, args.pages, args.docx)
    font = next((f for f in FONTS if Path(f).exists()), None)
    start = time.perf_counter()
    size = generate(specs, args.seed, args.workers, font)
    seconds = time.perf_counter() - start
    described = (
        f"{args.docs} PDF x {args.pages} pages ({Path(font).name if font else 'Helvetica'}"
        f", justified) + {args.docx} DOCX x {args.pages} pages, 2,000-3,000 characters a "
        f"page, seed {args.seed}; {size / 2**20:.1f} MB on disk, generated in "
        f"{seconds:.1f} s (not timed)"
    )
    print(f"Generated {len(specs)} files in {seconds:.1f} s", file=sys.stderr)
    return specs, font, described


def _progress(run: EndToEnd) -> EndToEnd:
    rate = run.phase.rate
    print(f"End to end, {workers_text(run.workers)}: {rate:.1f} pages/s", file=sys.stderr)
    return run


def embedded(specs: list[Spec], base: Path, counts: list[int], search: str = "whoosh"
             ) -> list[EndToEnd]:
    """One end-to-end run of the embedded set-up per worker count."""
    return [
        _progress(end_to_end(specs, base / "files", base / f"pipeline-{search}-{number}-{count}",
                             count,
                             search))
        for number, count in enumerate(counts, 1)
    ]


def scale_out(specs: list[Spec], base: Path, counts: list[int]) -> tuple[list[EndToEnd], str]:
    """One end-to-end run of the scale-out set-up per worker count, on servers started for
    the run and deleted after it; the runs and a description of the set-up."""
    import ingest_pg  # bench/ingest_pg.py

    with ingest_pg.servers() as servers:
        runs = [
            _progress(ingest_pg.end_to_end(
                specs, base / "files", base / f"pipeline-postgres-{number}-{count}", count,
                servers,
                number))
            for number, count in enumerate(counts, 1)
        ]
        return runs, ingest_pg.describe(servers)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="inquiry-docs-bench-"))
    try:
        specs, font, described = make_corpus(base, args)
        load_before = os.getloadavg()[0]
        bare, results = bare_extraction(specs, args.workers)
        print(f"Bare extraction: {bare.rate:.1f} pages/s", file=sys.stderr)
        sections, problems = [], False
        for search in args.backends:
            one = argparse.Namespace(**{**vars(args), "backend": search})
            if search == "postgres":
                phases = [bare]
                runs, stack = scale_out(specs, base, args.worker_counts)
            else:
                index = indexing_alone(specs, results, base / f"index-alone-{search}", search)
                print(f"Indexing alone ({search}): {index.rate:.1f} pages/s", file=sys.stderr)
                phases = [bare, index]
                stack = EMBEDDED.replace("SEARCH_BACKEND=whoosh", f"SEARCH_BACKEND={search}")
                runs = embedded(specs, base, args.worker_counts, search)
            load = (load_before, os.getloadavg()[0])
            sections.append(render(one, described, phases, runs, load, stack))
            problems = problems or any(run.problems for run in runs)
        section = "\n".join(sections)
        if args.scans:
            section += "\n" + scans_section(base, args, font)
        print(section)
        if not args.no_write:
            append(args.out, section)
            print(f"Appended to {args.out}", file=sys.stderr)
        return 1 if problems else 0
    finally:
        if args.keep:
            print(f"Kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
