"""Ingest benchmark: bare extraction, indexing alone and end to end, measured in one run.

    python bench/ingest.py                       # 200 PDFs x 10 pages + 20 DOCX x 10 pages
    python bench/ingest.py --docs 3 --pages 2 --docx 1 --no-write

1. Bare extraction: `extract_inline` over every file in a process pool of --workers.
2. Indexing alone: the extracted pages written to a fresh Whoosh index, INDEX_BATCH
   documents per commit, as `jobs.index_pending` does.
3. End to end: `inquiry-docs init`, `create-inquiry BEN Bench`, then
   `inquiry-docs ingest <folder> --inquiry BEN --workers N` in a subprocess on temporary
   directories with the real SQLite queue, timed from its start to the moment every
   document is indexed; the outcome is then checked (every document indexed, page counts
   in the database and the index, a search for a word put on one known page).

The files are generated first, with a seed, into a temporary folder (not timed). PDFs
embed a TrueType font and justify their lines, as office suites write them; a PDF in
a core font with plain lines extracts about three times faster and says less about real
bundles. The result is printed and appended to docs/benchmarks.md (unless --no-write);
the target is end to end >= 75% of the bare extraction rate.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from report import append, machine  # bench/report.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pypdf", "Whoosh-Reloaded", "python-docx", "huey", "SQLAlchemy")
TARGET = 0.75
INQUIRY = "BEN"
MARKER = "zyxquillonmarsh"  # never produced by the vocabulary below
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


@dataclass(frozen=True)
class Spec:
    path: str
    mime: str
    pages: int
    marker_page: int | None = None  # the page that holds MARKER


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


# --- peak memory -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcStat:
    parent: int
    rss: int  # bytes
    cpu: float  # user + system seconds of the process itself
    reaped: float  # user + system seconds of the children it has waited for


def _processes() -> dict[int, ProcStat]:
    """Every process we can see, from /proc/<pid>/stat."""
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(b")") + 2 :].split()  # fields[0] is field 3, "state"
            found[int(name)] = ProcStat(
                int(fields[1]),
                int(fields[21]) * page,
                (int(fields[11]) + int(fields[12])) / tick,
                (int(fields[13]) + int(fields[14])) / tick,
            )
        except (OSError, ValueError, IndexError):
            continue  # it ended while we looked
    return found


class TreeSampler:
    """Memory and CPU of a process's descendants, sampled from /proc every `interval` s.

    `peak` is the highest sum of RSS over the process and its descendants: pages shared
    after fork count once per process, so it is an upper bound. `largest` is the peak RSS
    of any one process. A child that lives less than the interval may be missed by both.
    `descendants_cpu()` is the CPU time of the root's children at their last sample, with
    what each had reaped (a forkserver reaps the children it forked), so short-lived
    grandchildren are counted too.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak = self.largest = 0
        self.last: dict[int, ProcStat] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        table = _processes()
        children: dict[int, list[int]] = {}
        for pid, proc in table.items():
            children.setdefault(proc.parent, []).append(pid)
        todo, total = [self.pid], 0
        while todo:
            pid = todo.pop()
            proc = table.get(pid)
            if proc is None:
                continue
            self.last[pid] = proc
            total += proc.rss
            self.largest = max(self.largest, proc.rss)
            todo.extend(children.get(pid, ()))
        self.peak = max(self.peak, total)

    def descendants_cpu(self) -> float:
        return sum(p.cpu + p.reaped for p in self.last.values() if p.parent == self.pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux); False if the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_self() -> int:
    """This process's peak RSS in bytes (VmHWM, which reset_peak_rss() restarts)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- phases ------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    documents: int
    pages: int
    seconds: float
    peak_mb: float
    largest_mb: float | None = None
    cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _extract_one(spec: Spec) -> Any:
    from inquiry_docs.extract import extract_inline

    return extract_inline(spec.path, spec.mime)


def _cpu_children() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_extraction(specs: list[Spec], workers: int) -> tuple[Phase, list[Any]]:
    import inquiry_docs.extract  # noqa: F401  (imported before the pool forks)

    cpu = _cpu_children()
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
        _cpu_children() - cpu,
    ), results


def index_batch_size() -> int:
    from inquiry_docs import config

    return int(config.load()["INDEX_BATCH"])


def _naive(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=None) if moment else None


def indexing_alone(specs: list[Spec], results: list[Any], folder: Path) -> Phase:
    from inquiry_docs.search import IndexPage
    from inquiry_docs.search.whoosh import WhooshBackend

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
    backend = WhooshBackend(str(folder))
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
        f"Indexing alone (Whoosh, {batch} documents per commit)",
        len(documents),
        pages,
        seconds,
        peak / 2**20,
        None,
        cpu,
    )


@dataclass
class EndToEnd:
    phase: Phase
    command_seconds: float
    startup_seconds: float
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "inquiry-docs"
    return [str(script)] if script.exists() else [sys.executable, "-m", "inquiry_docs.cli"]


def _env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    instance = base / "instance"
    env.update(
        {
            "INQUIRY_DOCS_INSTANCE_DIR": str(instance),
            "INQUIRY_DOCS_DATABASE_URL": f"sqlite:///{instance}/inquiry_docs.db",
            "INQUIRY_DOCS_QUEUE_URL": f"sqlite:///{instance}/queue.db",
            "INQUIRY_DOCS_UPLOAD_DIR": str(base / "uploads"),
            "INQUIRY_DOCS_INDEX_DIR": str(base / "index"),
        }
    )
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        [*_cli(), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(
            f"inquiry-docs {shlex.join(args)} exited {done.returncode}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _finished(database: sqlite3.Connection) -> int:
    return database.execute(
        "SELECT count(*) FROM documents WHERE status IN ('indexed', 'no_text', 'failed')"
    ).fetchone()[0]


def _wait_indexed(
    process: subprocess.Popen, db_path: Path, specs: list[Spec], start: float
) -> tuple[float | None, float, int, int]:
    """Wait for the command to exit, noting when the database first shows every document
    done. Returns (seconds to that moment or None, CPU of the command's descendants,
    peak RSS of the tree, largest process)."""
    done_at = None
    deadline = start + 120 + 2 * sum(s.pages for s in specs)
    with TreeSampler(process.pid) as memory, closing(sqlite3.connect(db_path, 30)) as database:
        while True:
            running = process.poll() is None
            if done_at is None and _finished(database) >= len(specs):
                done_at = time.perf_counter() - start
            if not running:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                raise SystemExit("End to end: timed out")
            time.sleep(0.05)
    return done_at, memory.descendants_cpu(), memory.peak, memory.largest


def end_to_end(specs: list[Spec], corpus: Path, base: Path, workers: int) -> EndToEnd:
    base.mkdir(parents=True)
    env = _env(base)
    _run(["init"], env)
    _run(["create-inquiry", INQUIRY, "Bench"], env)
    empty = base / "empty"
    empty.mkdir()
    start = time.perf_counter()
    _run(["ingest", str(empty), "--inquiry", INQUIRY, "--workers", str(workers)], env)
    startup = time.perf_counter() - start

    report = base / "report.json"
    args = ["ingest", str(corpus), "--inquiry", INQUIRY, "--workers", str(workers)]
    args += ["--report", str(report)]
    with (
        open(base / "ingest.out", "w+") as out,
        open(base / "ingest.err", "w+") as err,
    ):
        cpu = _cpu_children()
        start = time.perf_counter()
        process = subprocess.Popen(
            [*_cli(), *args], env=env, stdout=out, stderr=err, cwd=ROOT, start_new_session=True
        )
        database = base / "instance" / "inquiry_docs.db"
        done_at, descendants_cpu, peak, largest = _wait_indexed(process, database, specs, start)
        command = time.perf_counter() - start
        cpu = _cpu_children() - cpu + descendants_cpu
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0 or done_at is None:
        raise SystemExit(
            f"inquiry-docs {shlex.join(args)} exited {process.returncode} "
            f"before every document was done:\n"
            f"{stdout}\n{stderr}"
        )
    pages = sum(s.pages for s in specs)
    phase = Phase(
        f"End to end (`inquiry-docs ingest --workers {workers}`)",
        len(specs),
        pages,
        done_at,
        peak / 2**20,
        largest / 2**20,
        cpu,
    )
    result = EndToEnd(phase, command, startup)
    verify(result, specs, base, env, json.loads(report.read_text()))
    return result


def verify(
    result: EndToEnd, specs: list[Spec], base: Path, env: dict[str, str], report: list[dict]
) -> None:
    from inquiry_docs.search.whoosh import WhooshBackend

    expected = {Path(s.path).name: s for s in specs}
    indexed = [r for r in report if r["outcome"] == "indexed"]
    if len(indexed) != len(specs):
        others = [
            f"{Path(r['path']).name}: {r['outcome']} {r['reason']}"
            for r in report
            if r["outcome"] != "indexed"
        ]
        result.problems.append(
            f"{len(indexed)}/{len(specs)} documents indexed; " + "; ".join(others[:5])
        )
    connection = sqlite3.connect(base / "instance" / "inquiry_docs.db")
    rows = connection.execute(
        "SELECT d.id, d.urn, d.original_filename, d.page_count, "
        "(SELECT count(*) FROM pages p WHERE p.document_id = d.id) FROM documents d"
    ).fetchall()
    connection.close()
    in_index = WhooshBackend(str(base / "index")).indexed_page_counts()
    wrong = [
        name
        for _, _, name, count, rows_ in rows
        if name not in expected or count != rows_ or count != expected[name].pages
    ]
    wrong += [name for doc_id, _, name, count, _ in rows if in_index.get(doc_id) != count]
    if wrong or len(rows) != len(specs):
        result.problems.append(
            f"page counts differ for {len(wrong)} documents "
            f"({', '.join(sorted(set(wrong))[:5])}); {len(rows)} rows"
        )
    else:
        result.checks.append(
            f"{len(rows)}/{len(specs)} documents indexed with the right page "
            f"counts in the database and the index "
            f"({sum(in_index.values())} index records)"
        )
    marked = next(s for s in specs if s.marker_page)
    urn = {name: urn for _, urn, name, _, _ in rows}.get(Path(marked.path).name)
    found = json.loads(_run(["search", MARKER, "--inquiry", INQUIRY, "--json"], env))
    hits = [(h["urn"], h["page"]) for h in found["hits"]]
    if hits == [(urn, marked.marker_page)]:
        result.checks.append(
            f'search for "{MARKER}" found only {urn} '
            f"({Path(marked.path).name}) page {marked.marker_page}"
        )
    else:
        result.problems.append(
            f'search for "{MARKER}" gave {hits}, expected [({urn!r}, {marked.marker_page})]'
        )


# --- the report --------------------------------------------------------------------------


def _row(phase: Phase) -> str:
    largest = f"{phase.largest_mb:,.0f}" if phase.largest_mb is not None else "-"
    cpu = f"{phase.cpu_seconds:,.1f}" if phase.cpu_seconds is not None else "-"
    return (
        f"| {phase.name} | {phase.documents:,} | {phase.pages:,} | {phase.seconds:,.2f} | "
        f"{phase.rate:,.1f} | {cpu} | {phase.peak_mb:,.0f} | {largest} |"
    )


def _per_page(phase: Phase) -> str:
    if phase.cpu_seconds is None or not phase.pages:
        return "-"
    return f"{1000 * phase.cpu_seconds / phase.pages:.1f} ms"


def _ceiling(bare: Phase, index: Phase) -> str:
    if not bare.cpu_seconds or index.cpu_seconds is None:
        return "-"
    return f"{bare.cpu_seconds / (bare.cpu_seconds + index.cpu_seconds):.2f}"


def render(
    args: argparse.Namespace,
    corpus: str,
    phases: list[Phase],
    e2e: EndToEnd,
    load: tuple[float, float],
) -> str:
    bare, index, through = phases
    ratio = through.rate / bare.rate if bare.rate else 0.0
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Ingest, {when}",
        "",
        "- Machine: " + machine(PACKAGES),
        f"- Command: `{args.command}` (in effect: `{args.effective}`)",
        f"- Corpus: {corpus}",
        "",
        "| Phase | Documents | Pages | Seconds | Pages/s | CPU s | Peak RSS MB "
        "| Largest process MB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
        *(_row(p) for p in phases),
        "",
        f"End to end / bare extraction: **{ratio:.2f}** (target >= {TARGET:.2f}): **{verdict}**.",
        "",
        f"- CPU ceiling: extraction and indexing share the same cores, so even with no other "
        f"cost and every core busy, end to end could reach at most bare CPU / (bare CPU + "
        f"indexing CPU) = {_ceiling(bare, index)} of the bare rate.",
        f"- CPU time per page: bare extraction {_per_page(bare)}, indexing alone "
        f"{_per_page(index)}, end to end {_per_page(through)}. Load average (1 min) "
        f"{load[0]:.1f} before the run and {load[1]:.1f} after it on {os.cpu_count()} cores"
        f"{': other work shared the machine' if max(load) > 0.5 else ''}.",
        f"- End to end is timed from starting the command to the moment the database shows "
        f"every document indexed (polled every 0.05 s); the command itself exited after "
        f"{e2e.command_seconds:.2f} s. Its fixed cost, `ingest` of an empty folder (interpreter, "
        f"app, consumer start and stop), is {e2e.startup_seconds:.2f} s.",
        "- Peak RSS: bare extraction and end to end are the highest sum of resident memory "
        "over the process tree (the benchmark and its pool; the command, its forkserver and "
        "extraction children), sampled from /proc every 0.05 s; pages shared after fork count "
        "once per process, so it is an upper bound. Indexing alone is this process's VmHWM "
        "(exact). CPU s: user + system time of the pool or of the command and the children it "
        "waited for, and of its forkserver with the extraction children it reaped; for "
        "indexing alone, this process.",
        *(f"- Checked: {check}." for check in e2e.checks),
        *(f"- **Problem:** {problem}." for problem in e2e.problems),
        "",
    ]
    return "\n".join(lines)


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
        help="keep the temporary folder (files, database, index) and say where",
    )
    args = parser.parse_args(argv)
    if min(args.docs, args.docx) < 0 or args.docs + args.docx < 1 or args.pages < 1:
        parser.error("need at least one document of at least one page")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.command = shlex.join(["python", "bench/ingest.py", *(argv or sys.argv[1:])])
    args.effective = (
        f"--docs {args.docs} --pages {args.pages} --docx {args.docx} "
        f"--workers {args.workers} --seed {args.seed}"
    )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="inquiry-docs-bench-"))
    try:
        corpus = base / "files"
        corpus.mkdir()
        specs = plan(corpus, args.docs, args.pages, args.docx)
        font = next((f for f in FONTS if Path(f).exists()), None)
        start = time.perf_counter()
        size = generate(specs, args.seed, args.workers, font)
        described = (
            f"{args.docs} PDF x {args.pages} pages ({Path(font).name if font else 'Helvetica'}"
            f", justified) + {args.docx} DOCX x {args.pages} pages, 2,000-3,000 characters a "
            f"page, seed {args.seed}; {size / 2**20:.1f} MB on disk, generated in "
            f"{time.perf_counter() - start:.1f} s (not timed)"
        )
        print(
            f"Generated {len(specs)} files in {time.perf_counter() - start:.1f} s", file=sys.stderr
        )
        load_before = os.getloadavg()[0]
        bare, results = bare_extraction(specs, args.workers)
        print(f"Bare extraction: {bare.rate:.1f} pages/s", file=sys.stderr)
        index = indexing_alone(specs, results, base / "index-alone")
        print(f"Indexing alone: {index.rate:.1f} pages/s", file=sys.stderr)
        e2e = end_to_end(specs, corpus, base / "pipeline", args.workers)
        load = (load_before, os.getloadavg()[0])
        section = render(args, described, [bare, index, e2e.phase], e2e, load)
        if args.scans:
            section += "\n" + scans_section(base, args, font)
        print(section)
        if not args.no_write:
            append(args.out, section)
            print(f"Appended to {args.out}", file=sys.stderr)
        return 1 if e2e.problems else 0
    finally:
        if args.keep:
            print(f"Kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
