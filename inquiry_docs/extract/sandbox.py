"""Run a parser in a child process with CPU-time and address-space limits.

Children come from a forkserver that has already imported the parsers, so a child costs
a fork, not an interpreter start, and it is forked from a process without threads (the
caller may be a threaded job consumer). One fresh child per file: a parser that leaks,
crashes or is tricked into looping takes nothing else down with it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import re
import resource
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from .types import ExtractionError

T = TypeVar("T")

# The parsers, plus modules they import lazily on first use (~4 ms a child otherwise).
# A name that stops existing is skipped by the server, never an error.
PRELOAD = [
    "inquiry_docs.extract",
    "_strptime",
    "encodings.ascii",
    "pypdf.filters",
    "pypdf._codecs._codecs",
    "inquiry_docs.extract.ocr",
    "pypdfium2",
]
CHILD_NAME = "inquiry-docs-extract"
_GRACE_CPU_SECONDS = 2  # between SIGXCPU (soft limit) and SIGKILL (hard limit)
_REAP_SECONDS = 10
_MEMORY_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}
_TIME_SIGNALS = {signal.SIGXCPU, signal.SIGKILL}
_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"]+){2,}[\\/]?")

_context: Any = None
_context_lock = threading.Lock()


def _skip_main_in_children() -> None:
    """Stop our children from re-running the parent's main module.

    A forkserver child normally re-imports the parent's __main__ so it can unpickle
    objects defined there (Python 3.11's server never preloads it: it looks for a
    "main_path" key that spawn does not provide). For the `inquiry-docs` console script
    that means importing the whole application again for every file. Our targets are
    importable by module name, so children named CHILD_NAME are told there is no main.
    """
    original = multiprocessing.spawn.get_preparation_data
    if getattr(original, "skips_main_for", None) == CHILD_NAME:
        return

    def get_preparation_data(name: str) -> dict:
        data = original(name)
        if name == CHILD_NAME:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    get_preparation_data.skips_main_for = CHILD_NAME  # type: ignore[attr-defined]
    multiprocessing.spawn.get_preparation_data = get_preparation_data


def _get_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            _skip_main_in_children()
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
    return _context


def warm_up() -> None:
    """Start the forkserver now rather than on the first file (optional)."""
    from multiprocessing import forkserver

    _get_context()
    forkserver.ensure_running()


def memory_reason(memory_mb: int) -> str:
    return (
        f"The file needs more memory to read than allowed ({memory_mb} MB); "
        "it may be a decompression bomb."
    )


def time_reason(seconds: float) -> str:
    unit = "second" if seconds == 1 else "seconds"
    return f"Reading the file took longer than {seconds:g} {unit}."


def failure_reason(exc: BaseException) -> str:
    """A reason such as "The file could not be read: KeyError: ...", without paths."""
    message = _PATHLIKE.sub("<path>", str(exc)).strip()
    message = " ".join(message.split())
    if len(message) > 200:
        message = message[:197] + "..."
    name = type(exc).__name__
    if not message:
        return f"The file could not be read: {name}."
    return f"The file could not be read: {name}: {message}"


# --- the child ---------------------------------------------------------------------------


def _set_limit(which: int, soft: int, hard: int) -> None:
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:  # can only go down
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def _apply_limits(cpu_seconds: int, memory_mb: int) -> None:
    _set_limit(resource.RLIMIT_CORE, 0, 0)  # a crash must not leave a core file behind
    _set_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + _GRACE_CPU_SECONDS)
    _set_limit(resource.RLIMIT_AS, memory_mb * 2**20, memory_mb * 2**20)


def _run(func: Callable[..., Any], args: tuple, kwargs: dict) -> tuple:
    try:
        return ("ok", func(*args, **kwargs))
    except ExtractionError as exc:
        return ("error", exc.reason, exc.retryable)
    except MemoryError:
        return ("memory",)
    except Exception as exc:  # the parser's bug or a hostile file: report, don't crash
        return ("error", failure_reason(exc), False)


def _child(
    conn: Connection,
    func: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    cpu_seconds: int,
    memory_mb: int,
) -> None:
    try:
        _apply_limits(cpu_seconds, memory_mb)
        outcome = _run(func, args, kwargs)
        try:
            conn.send(outcome)
        except MemoryError:  # pickling a big result can be what runs out
            outcome = None
            conn.send(("memory",))
    finally:
        conn.close()


# --- the parent --------------------------------------------------------------------------


def _receive(reader: Connection, process: Any, wall_seconds: float) -> tuple | None:
    """The child's message; None if it died first; ("wall",) if it ran out of time."""
    if not reader.poll(wall_seconds):
        process.kill()
        return ("wall",)
    try:
        # Read before joining: a large result fills the pipe and the child waits for us.
        return reader.recv()
    except (EOFError, OSError):
        return None


def _reap(process: Any) -> int | None:
    process.join(_REAP_SECONDS)
    if process.is_alive():
        process.kill()
        process.join(_REAP_SECONDS)
    code = process.exitcode
    if code is not None:  # close() refuses a process that is somehow still running
        process.close()
    return code


def _died(exitcode: int | None, cpu_seconds: int, memory_mb: int) -> ExtractionError:
    signum = -exitcode if exitcode is not None and exitcode < 0 else None
    if signum in _TIME_SIGNALS:
        return ExtractionError(time_reason(cpu_seconds))
    if signum in _MEMORY_SIGNALS:
        # Under an address-space limit a failed allocation in C code ends like this.
        return ExtractionError(memory_reason(memory_mb))
    return ExtractionError(
        f"The file could not be read: the reader stopped unexpectedly (exit code {exitcode}).",
        retryable=True,
    )


def _outcome(message: tuple | None, exitcode: int | None, limits: tuple[int, int, float]) -> Any:
    cpu_seconds, memory_mb, wall_seconds = limits
    kind = message[0] if message else None
    if kind == "ok":
        return message[1]
    if kind == "error":
        raise ExtractionError(message[1], message[2])
    if kind == "memory":
        raise ExtractionError(memory_reason(memory_mb))
    if kind == "wall":
        raise ExtractionError(time_reason(wall_seconds), retryable=True)
    raise _died(exitcode, cpu_seconds, memory_mb)


def _start(process: Any, writer: Connection) -> None:
    try:
        process.start()
    except OSError as exc:
        raise ExtractionError(
            "The file could not be read now: no reader process could be started.",
            retryable=True,
        ) from exc
    finally:
        writer.close()  # the child has its own copy; ours would hide its EOF


def run_limited(
    func: Callable[..., T],
    *args: Any,
    cpu_seconds: int = 120,
    memory_mb: int = 1024,
    wall_seconds: float | None = None,
    **kwargs: Any,
) -> T:
    """func(*args, **kwargs) in a fresh child process under CPU and memory limits.

    `func` must be importable by name: a module-level function, not one defined in the
    __main__ script (children do not import it). Raises ExtractionError
    with a reason for users on any failure; the default wall-clock limit is 3 x CPU.
    """
    wall = wall_seconds if wall_seconds is not None else 3 * cpu_seconds
    context = _get_context()
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(writer, func, args, kwargs, cpu_seconds, memory_mb),
        name=CHILD_NAME,
        daemon=True,
    )
    _start(process, writer)
    interrupted = True
    try:
        message = _receive(reader, process, wall)
        interrupted = False
    finally:
        reader.close()
        if interrupted:  # e.g. KeyboardInterrupt: don't leave the child running
            process.kill()
        exitcode = _reap(process)
    return _outcome(message, exitcode, (cpu_seconds, memory_mb, wall))
