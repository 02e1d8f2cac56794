"""Reading several files in one sandboxed child, each under its own limits.

A child per file costs a fork, a pipe and a reap (about 5 ms here), which is more than
PDFium needs for a short PDF. So a batch of files shares one child: before each file the
child re-arms its CPU limit, and it sends each result as soon as it has it. If the child
dies or stops answering, the file it was reading is read again alone, by `extract()` with
its usual limits (so the reason given is exactly the one-file reason), and the files after
it go to a fresh child. A hostile file therefore costs its batch a second child, no more.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from .sandbox import (
    _GRACE_CPU_SECONDS,
    CHILD_NAME,
    _apply_limits,
    _get_context,
    _reap,
    _run,
    _start,
)
from .types import ExtractionError

Call = tuple[tuple, dict]  # the args and keyword args of one call


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(conn: Connection, func: Callable[..., Any], calls: Sequence[Call],
           cpu_seconds: int, memory_mb: int) -> None:
    try:
        _apply_limits(cpu_seconds * len(calls), memory_mb)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        for number, (args, kwargs) in enumerate(calls):
            # This file's allowance starts now, whatever the files before it used.
            soft = math.ceil(_cpu_used()) + cpu_seconds
            resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard), hard))
            outcome = _run(func, args, kwargs)
            try:
                conn.send((number, outcome))
            except MemoryError:
                outcome = ("memory",)
                conn.send((number, outcome))
            if outcome[0] == "memory":
                return  # a heap that ran out once is not trusted with another file
    finally:
        conn.close()


def _run_child(func: Callable[..., Any], calls: Sequence[Call], cpu_seconds: int,
               memory_mb: int, wall_seconds: float) -> dict[int, tuple]:
    """The messages one child sent, by call number, until it finished, died or stalled."""
    context = _get_context()
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child, name=CHILD_NAME, daemon=True,
                              args=(writer, func, list(calls), cpu_seconds, memory_mb))
    _start(process, writer)
    got: dict[int, tuple] = {}
    try:
        while len(got) < len(calls):
            if not reader.poll(wall_seconds):
                process.kill()
                break
            try:
                number, outcome = reader.recv()
            except (EOFError, OSError):
                break
            got[number] = outcome
            if outcome[0] == "memory":
                break
    finally:
        reader.close()
        if len(got) < len(calls):
            process.kill()
        _reap(process)
    return got


def run_each(func: Callable[..., Any], calls: Sequence[Call], *, alone: Callable[[int], Any],
             cpu_seconds: int = 120, memory_mb: int = 1024,
             wall_seconds: float | None = None) -> list[Any]:
    """func(*args, **kwargs) for each call, in shared children; a result or the
    ExtractionError for each, in order. `alone(n)` reads call n by itself: it is asked for
    a call whose child died, stalled or ran out of memory, and must raise ExtractionError
    with the reason (or return the result)."""
    wall = wall_seconds if wall_seconds is not None else 3 * cpu_seconds
    results: list[Any] = [None] * len(calls)
    start = 0
    while start < len(calls):
        got = _run_child(func, calls[start:], cpu_seconds, memory_mb,
                         wall + _GRACE_CPU_SECONDS)
        done = start
        while done - start in got and got[done - start][0] in ("ok", "error"):
            kind, *rest = got[done - start]
            results[done] = rest[0] if kind == "ok" else ExtractionError(rest[0], rest[1])
            done += 1
        if done < len(calls):  # the child stopped at this call: read it by itself
            try:
                results[done] = alone(done)
            except ExtractionError as error:
                results[done] = error
            done += 1
        start = done
    return results
