"""The end-to-end phase of bench/ingest.py: the real `inquiry-docs` commands, timed and checked.

`end_to_end` runs the embedded set-up on temporary directories: SQLite, the Huey queue in a
SQLite file and N consumer threads inside `inquiry-docs ingest --workers N`, Whoosh.
bench/ingest_pg.py runs the scale-out one (PostgreSQL, Redis, `inquiry-docs worker`
processes) through the same `timed_ingest` and `verify`.

Each run is timed from starting `inquiry-docs ingest` to the moment the database shows every
document done (polled every 0.05 s), then checked through the app built with the command's
settings: every document indexed, page counts in the database and in the search backend,
and `inquiry-docs search` finding the planted word on its page and nowhere else.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procs import TreeSampler, cpu_children

ROOT = Path(__file__).resolve().parent.parent
INQUIRY = "BEN"
MARKER = "zyxquillonmarsh"  # never produced by the generator's vocabulary
DONE_SQL = "SELECT count(*) FROM documents WHERE status IN ('indexed', 'no_text', 'failed')"
ROWS_SQL = (
    "SELECT d.id, d.urn, d.original_filename, d.page_count, "
    "(SELECT count(*) FROM pages p WHERE p.document_id = d.id) FROM documents d"
)


@dataclass(frozen=True)
class Spec:
    path: str
    mime: str
    pages: int
    marker_page: int | None = None  # the page that holds MARKER


@dataclass
class Phase:
    name: str
    documents: int
    pages: int
    seconds: float
    peak_mb: float
    largest_mb: float | None = None
    cpu_seconds: float | None = None
    server_cpu_seconds: float | None = None  # database and queue servers, when apart

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


@dataclass
class EndToEnd:
    phase: Phase
    workers: int
    command_seconds: float  # until `ingest` exited
    startup_seconds: float  # `ingest` of an empty folder
    ready_seconds: float | None = None  # worker processes started and waiting (not timed)
    worker_cpu: list[float] = field(default_factory=list)  # each worker process, in the run
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    search_peak_mb: float | None = None  # `inquiry-docs search` of the result, its peak RSS


@dataclass
class Timed:
    """One timed `inquiry-docs ingest` of the corpus."""

    done_at: float  # seconds from its start until every document was done
    seconds: float  # until it exited
    cpu: float  # the command, what it waited for, and its children with what they reaped
    peak: int  # bytes, over the command's tree and the other sampled processes
    largest: int
    report: list[dict]


def cli() -> list[str]:
    script = Path(sys.executable).parent / "inquiry-docs"
    return [str(script)] if script.exists() else [sys.executable, "-m", "inquiry_docs.cli"]


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    """Run one `inquiry-docs` command to its end; its output, or exit on failure."""
    done = subprocess.run(
        [*cli(), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(
            f"inquiry-docs {shlex.join(args)} exited {done.returncode}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def run_cli_peak(args: list[str], env: dict[str, str]) -> tuple[str, int]:
    """run_cli, and the command's peak RSS in bytes, sampled from /proc over its tree (not
    its rusage: Linux counts the forking parent's memory into a child's ru_maxrss)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([*cli(), *args], env=env, stdout=out, stderr=err, cwd=ROOT)
        with TreeSampler(process.pid, interval=0.02) as memory:
            process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(
            f"inquiry-docs {shlex.join(args)} exited {process.returncode}:\n{stdout}\n{stderr}"
        )
    return stdout, memory.largest


def clean_env(settings: dict[str, str]) -> dict[str, str]:
    """This environment without any INQUIRY_DOCS_* of the caller's, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    env.update({f"INQUIRY_DOCS_{name}": value for name, value in settings.items()})
    return env


def sqlite_env(base: Path, search: str = "whoosh") -> dict[str, str]:
    instance = base / "instance"
    return clean_env(
        {
            "SEARCH_BACKEND": search,
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance}/inquiry_docs.db",
            "QUEUE_URL": f"sqlite:///{instance}/queue.db",
            "UPLOAD_DIR": str(base / "uploads"),
            "INDEX_DIR": str(base / "index"),
        }
    )


def prepare(env: dict[str, str]) -> None:
    """A new installation: the schema, the first admin, the inquiry to ingest into."""
    run_cli(["init"], env)
    run_cli(["create-inquiry", INQUIRY, "Bench"], env)


def fixed_cost(base: Path, env: dict[str, str], workers: int) -> float:
    """Seconds `ingest` takes on an empty folder: interpreter, app, consumer start and stop."""
    empty = base / "empty"
    empty.mkdir(exist_ok=True)
    start = time.perf_counter()
    run_cli(["ingest", str(empty), "--inquiry", INQUIRY, "--workers", str(workers)], env)
    return time.perf_counter() - start


@contextmanager
def done_counter(url: str) -> Iterator[Callable[[], int]]:
    """Asks the database (a SQLAlchemy URL) how many documents are done, on each call."""
    from sqlalchemy import create_engine, text

    options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
    # Autocommit: each look is its own transaction, so it sees the latest commits.
    engine = create_engine(url, isolation_level="AUTOCOMMIT", **options)
    try:
        with engine.connect() as conn:
            yield lambda: int(conn.execute(text(DONE_SQL)).scalar_one())
    finally:
        engine.dispose()


def wait_done(
    process: subprocess.Popen, done: Callable[[], int], documents: int, start: float,
    deadline: float,
) -> float | None:
    """Wait for the command to exit, noting when `done()` first reaches `documents`;
    the seconds from `start` to that moment, or None."""
    done_at = None
    while True:
        running = process.poll() is None
        if done_at is None and done() >= documents:
            done_at = time.perf_counter() - start
        if not running:
            return done_at
        if time.perf_counter() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise SystemExit("End to end: timed out")
        time.sleep(0.05)


def timed_ingest(
    specs: list[Spec], corpus: Path, base: Path, env: dict[str, str], workers: int,
    also: tuple[int, ...] = (),
) -> Timed:
    """`inquiry-docs ingest <corpus> --workers N`, timed until every document is done;
    memory is sampled over it and over the `also` processes (workers it feeds)."""
    report = base / "report.json"
    args = ["ingest", str(corpus), "--inquiry", INQUIRY, "--workers", str(workers)]
    args += ["--report", str(report)]
    pages = sum(s.pages for s in specs)
    with (
        open(base / "ingest.out", "w+") as out,
        open(base / "ingest.err", "w+") as err,
        done_counter(env["INQUIRY_DOCS_DATABASE_URL"]) as done,
    ):
        cpu = cpu_children()
        start = time.perf_counter()
        process = subprocess.Popen(
            [*cli(), *args], env=env, stdout=out, stderr=err, cwd=ROOT, start_new_session=True
        )
        with TreeSampler(process.pid, *also) as memory:
            done_at = wait_done(process, done, len(specs), start, start + 120 + 2 * pages)
        seconds = time.perf_counter() - start
        cpu = cpu_children() - cpu + memory.descendants_cpu(process.pid)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0 or done_at is None:
        raise SystemExit(
            f"inquiry-docs {shlex.join(args)} exited {process.returncode} "
            f"before every document was done:\n{stdout}\n{stderr}"
        )
    rows = json.loads(report.read_text())
    return Timed(done_at, seconds, cpu, memory.peak, memory.largest, rows)


def timed_phase(name: str, specs: list[Spec], timed: Timed, cpu: float = 0.0,
                server_cpu: float | None = None) -> Phase:
    """A table row for a timed ingest of `specs`; `cpu` adds processes it did not wait for."""
    return Phase(name, len(specs), sum(s.pages for s in specs), timed.done_at,
                 timed.peak / 2**20, timed.largest / 2**20, timed.cpu + cpu, server_cpu)


def end_to_end(specs: list[Spec], corpus: Path, base: Path, workers: int,
               search: str = "whoosh") -> EndToEnd:
    """The embedded set-up: `inquiry-docs ingest --workers N` with its SQLite queue."""
    base.mkdir(parents=True)
    env = sqlite_env(base, search)
    prepare(env)
    startup = fixed_cost(base, env, workers)
    timed = timed_ingest(specs, corpus, base, env, workers)
    phase = timed_phase(f"End to end (`inquiry-docs ingest --workers {workers}`)", specs,
                        timed)
    result = EndToEnd(phase, workers, timed.seconds, startup)
    verify(result, specs, env, timed.report)
    return result


# --- checks ----------------------------------------------------------------------------------


def stored(env: dict[str, str]) -> tuple[list[tuple[Any, ...]], dict[int, int]]:
    """Each document's (id, URN, file name, page count, page rows), and the search
    backend's page count per document, through the app built with the command's settings."""
    from sqlalchemy import text

    from inquiry_docs import config, create_app
    from inquiry_docs.db import db

    app = create_app({**config.load(env), "QUEUE_IMMEDIATE": True})
    with app.app_context():
        rows = [tuple(row) for row in db.session.execute(text(ROWS_SQL)).all()]
        in_index = app.extensions["search"].indexed_page_counts()
        db.session.remove()
        db.engine.dispose()
    return rows, in_index


def verify(result: EndToEnd, specs: list[Spec], env: dict[str, str], report: list[dict]) -> None:
    """Append what was checked, or what is wrong, to `result`."""
    _check_report(result, specs, report)
    rows, in_index = stored(env)
    _check_pages(result, specs, rows, in_index)
    _check_search(result, specs, rows, env)


def _check_report(result: EndToEnd, specs: list[Spec], report: list[dict]) -> None:
    indexed = [r for r in report if r["outcome"] == "indexed"]
    if len(indexed) == len(specs):
        return
    others = [
        f"{Path(r['path']).name}: {r['outcome']} {r['reason']}"
        for r in report
        if r["outcome"] != "indexed"
    ]
    result.problems.append(
        f"{len(indexed)}/{len(specs)} documents indexed; " + "; ".join(others[:5])
    )


def _check_pages(
    result: EndToEnd, specs: list[Spec], rows: list[tuple[Any, ...]], in_index: dict[int, int]
) -> None:
    expected = {Path(s.path).name: s for s in specs}
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


def _check_search(
    result: EndToEnd, specs: list[Spec], rows: list[tuple[Any, ...]], env: dict[str, str]
) -> None:
    marked = next(s for s in specs if s.marker_page)
    urn = {name: urn for _, urn, name, _, _ in rows}.get(Path(marked.path).name)
    output, peak = run_cli_peak(["search", MARKER, "--inquiry", INQUIRY, "--json"], env)
    found = json.loads(output)
    result.search_peak_mb = peak / 2**20
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
