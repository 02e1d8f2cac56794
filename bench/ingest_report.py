"""The Markdown section bench/ingest.py prints and appends to docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from ingest_e2e import EndToEnd, Phase
from report import machine

PACKAGES = ("pypdfium2", "Whoosh-Reloaded", "tantivy", "python-docx", "huey", "SQLAlchemy")
PG_PACKAGES = ("pypdfium2", "python-docx", "huey", "SQLAlchemy", "psycopg", "redis")
TARGET = 0.75
# backend -> (end to end / bare extraction at least, end-to-end pages/s at least), for the
# run with as many workers as bare extraction had processes; None: no such target
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "whoosh": (TARGET, None),
    "tantivy": (0.60, 1000.0),
    "postgres": (None, 186.0),
}


def _row(phase: Phase, servers: bool) -> str:
    largest = f"{phase.largest_mb:,.0f}" if phase.largest_mb is not None else "-"
    cpu = f"{phase.cpu_seconds:,.1f}" if phase.cpu_seconds is not None else "-"
    server = f"{phase.server_cpu_seconds:,.2f}" if phase.server_cpu_seconds is not None else "-"
    return (
        f"| {phase.name} | {phase.documents:,} | {phase.pages:,} | {phase.seconds:,.2f} | "
        f"{phase.rate:,.1f} | {cpu} | " + (f"{server} | " if servers else "")
        + f"{phase.peak_mb:,.0f} | {largest} |"
    )


def _table(phases: list[Phase], servers: bool) -> list[str]:
    head = "| Phase | Documents | Pages | Seconds | Pages/s | CPU s | "
    head += "Server CPU s | " if servers else ""
    return [
        head + "Peak RSS MB | Largest process MB |",
        "|---|" + "--:|" * (8 if servers else 7),
        *(_row(p, servers) for p in phases),
    ]


def _per_page(phase: Phase) -> str:
    if phase.cpu_seconds is None or not phase.pages:
        return "-"
    text = f"{1000 * phase.cpu_seconds / phase.pages:.1f} ms"
    if phase.server_cpu_seconds is not None:
        text += f" (+ {1000 * phase.server_cpu_seconds / phase.pages:.1f} ms in the servers)"
    return text


def _ceiling(bare: Phase, index: Phase) -> str:
    if not bare.cpu_seconds or index.cpu_seconds is None:
        return "-"
    return f"{bare.cpu_seconds / (bare.cpu_seconds + index.cpu_seconds):.2f}"


def workers_text(count: int) -> str:
    return f"{count} worker" + ("" if count == 1 else "s")


def _label(run: EndToEnd, runs: list[EndToEnd]) -> str:
    return "" if len(runs) == 1 else f" ({workers_text(run.workers)})"


def _ratios(bare: Phase, runs: list[EndToEnd], processes: int, backend: str = "whoosh"
            ) -> list[str]:
    """End to end against bare extraction (and, where the backend has one, the pages/s
    target); judged like for like only (as many workers as bare extraction had processes)."""
    least_ratio, least_rate = TARGETS.get(backend, (TARGET, None))
    lines = []
    for run in runs:
        ratio = run.phase.rate / bare.rate if bare.rate else 0.0
        judged = run.workers == processes
        if judged and least_ratio is not None:
            verdict = "PASS" if ratio >= least_ratio else "FAIL"
            tail = f" (target >= {least_ratio:.2f}): **{verdict}**."
        elif judged:
            tail = " (no target for this set-up)."
        else:
            tail = f" (bare extraction ran {processes} processes)."
        lines.append(f"End to end / bare extraction{_label(run, runs)}: **{ratio:.2f}**{tail}")
        if judged and least_rate is not None:
            verdict = "PASS" if run.phase.rate >= least_rate else "FAIL"
            lines.append(
                f"End to end{_label(run, runs)}: **{run.phase.rate:,.1f} pages/s** (target >= "
                f"{least_rate:,.0f} pages/s with {workers_text(run.workers)}): **{verdict}**.")
    return lines


def _setup(args: argparse.Namespace, stack: str) -> list[str]:
    """What ran, what "N workers" means for it, and how many cores they had."""
    counts = ", ".join(str(n) for n in args.worker_counts)
    cores = os.cpu_count() or 1
    over = [n for n in args.worker_counts if n > cores]
    text = f"- Worker counts: {counts}. This machine has {cores} cores"
    if args.backend == "postgres":
        text += ", which the workers share with `ingest`, PostgreSQL and Redis"
    if over:
        text += (
            f", so {' and '.join(map(str, over))} workers oversubscribe it: the workers take "
            f"turns on the cores, and those rows show what more workers than cores cost on "
            f"one machine, not what worker machines of their own would add."
        )
    return [f"- Backend: {stack}", text + ("" if over else ".")]


def _notes(phases: list[Phase], runs: list[EndToEnd], load: tuple[float, float],
           postgres: bool) -> list[str]:
    bare = phases[0]
    per_page = "; ".join(f"{workers_text(r.workers)} {_per_page(r.phase)}" for r in runs)
    lines = []
    if not postgres:
        lines.append(
            f"- CPU ceiling: extraction and indexing share the same cores, so even with no "
            f"other cost and every core busy, end to end could reach at most bare CPU / (bare "
            f"CPU + indexing CPU) = {_ceiling(bare, phases[1])} of the bare rate."
        )
    lines.append(
        f"- CPU time per page: bare extraction {_per_page(bare)}"
        + (f", indexing alone {_per_page(phases[1])}" if not postgres else "")
        + f"; end to end: {per_page}. Load average (1 min) {load[0]:.1f} before the run and "
        f"{load[1]:.1f} after it on {os.cpu_count()} cores"
        f"{': other work shared the machine' if max(load) > 0.5 else ''}."
    )
    lines += [_timing(run, runs, postgres) for run in runs]
    searched = [r for r in runs if r.search_peak_mb]
    if searched:
        lines.append(
            "- Peak memory of a searching process: `inquiry-docs search` of the planted word "
            "on the ingested collection (its largest RSS, sampled from /proc every 0.02 s): "
            + "; ".join(f"{workers_text(r.workers)} {r.search_peak_mb:,.0f} MB" for r in searched)
            + ". The largest process column is the biggest single process of the run "
            "(the `ingest` command or a worker, with its index writer).")
    lines.append(MEASURES_PG if postgres else MEASURES)
    return lines


def _timing(run: EndToEnd, runs: list[EndToEnd], postgres: bool) -> str:
    text = (
        f"- End to end{_label(run, runs)} is timed from starting the command to the moment "
        f"the database shows every document indexed (polled every 0.05 s); the command "
        f"itself exited after {run.command_seconds:.2f} s. Its fixed cost, `ingest` of an "
        f"empty folder (interpreter, app"
        + ("" if postgres else ", consumer start and stop")
        + f"), is {run.startup_seconds:.2f} s."
    )
    if run.ready_seconds is not None:
        text += (
            f" The {workers_text(run.workers)} took {run.ready_seconds:.2f} s to start and wait "
            f"on the queue, before the clock started."
        )
    if run.worker_cpu:
        each = ", ".join(f"{cpu:.1f}" for cpu in run.worker_cpu)
        text += f" CPU s of each worker process in the run, with its children: {each}."
    return text


MEASURES = (
    "- Peak RSS: bare extraction and end to end are the highest sum of resident memory "
    "over the process tree (the benchmark and its pool; the command, its forkserver and "
    "extraction children), sampled from /proc every 0.05 s; pages shared after fork count "
    "once per process, so it is an upper bound. Indexing alone is this process's VmHWM "
    "(exact). CPU s: user + system time of the pool or of the command and the children it "
    "waited for, and of its forkserver with the extraction children it reaped; for "
    "indexing alone, this process."
)
MEASURES_PG = (
    "- Peak RSS: the highest sum of resident memory over the process trees (bare "
    "extraction: the benchmark and its pool; end to end: `ingest` and the worker processes, "
    "each with its forkserver and extraction children, but not the servers), sampled from "
    "/proc every 0.05 s; pages shared after fork count once per process, so it is an upper "
    "bound. CPU s: user + system time of the pool, or of `ingest` and the worker processes "
    "with the children they reaped, from the moment the workers waited on the queue to the "
    "end of `ingest`. Server CPU s: the PostgreSQL cluster's processes (which compute the "
    "search vectors, in each job's transaction) and Redis, over the same time."
)


def _side_by_side(args: argparse.Namespace) -> list[str]:
    others = [b for b in getattr(args, "backends", [args.backend]) if b != args.backend]
    if not others:
        return []
    return [f"- This section is the `{args.backend}` part of one run with "
            f"{', '.join(f'`{b}`' for b in others)}: the same corpus and the same bare "
            f"extraction row; the backends' runs followed one another, in the order given."]


def render(
    args: argparse.Namespace,
    corpus: str,
    phases: list[Phase],
    runs: list[EndToEnd],
    load: tuple[float, float],
    stack: str,
) -> str:
    """The Markdown section: `phases` are bare extraction (and, on Whoosh, indexing alone),
    `runs` one end-to-end run per worker count."""
    postgres = args.backend == "postgres"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = ("Ingest, scale-out (PostgreSQL, Redis, worker processes)" if postgres
             else f"Ingest, embedded ({args.backend})")
    lines = [
        f"## {title}, {when}",
        "",
        "- Machine: " + machine(PG_PACKAGES if postgres else PACKAGES),
        f"- Command: `{args.command}` (in effect: `{args.effective}`)",
        *_side_by_side(args),
        *_setup(args, stack),
        f"- Corpus: {corpus}",
        "",
        *_table([*phases, *(r.phase for r in runs)], postgres),
        "",
        *_ratios(phases[0], runs, args.workers, args.backend),
        "",
        *_notes(phases, runs, load, postgres),
        *(f"- Checked{_label(r, runs)}: {check}." for r in runs for check in r.checks),
        *(f"- **Problem**{_label(r, runs)}: {problem}." for r in runs for problem in r.problems),
        "",
    ]
    return "\n".join(lines)


EMBEDDED = (
    "embedded set-up: SQLite database, Huey queue in a SQLite file, `SEARCH_BACKEND=whoosh`. "
    "N workers = `inquiry-docs ingest <folder> --inquiry BEN --workers N`: N job threads in "
    "the command's process, which stores the files, queues their jobs and runs them (the "
    "parsers in children of its fork server); the index is written by one run at a time."
)
