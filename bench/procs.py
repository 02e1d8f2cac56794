"""Memory and CPU time of process trees, from /proc (Linux), for the ingest benchmark."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path


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
    """Memory and CPU of processes and their descendants, sampled from /proc every
    `interval` s (one root, or several: a feeding command and the workers it feeds).

    `peak` is the highest sum of RSS over the roots and their descendants: pages shared
    after fork count once per process, so it is an upper bound. `largest` is the peak RSS
    of any one process. A child that lives less than the interval may be missed by both.
    `descendants_cpu()` is the CPU time of the roots' children at their last sample, with
    what each had reaped (a forkserver reaps the children it forked), so short-lived
    grandchildren are counted too.
    """

    def __init__(self, *pids: int, interval: float = 0.05) -> None:
        self.pids, self.interval = pids, interval
        self.peak = self.largest = 0
        self.last: dict[int, ProcStat] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        table = _processes()
        children: dict[int, list[int]] = {}
        for pid, proc in table.items():
            children.setdefault(proc.parent, []).append(pid)
        todo, total = list(self.pids), 0
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

    def descendants_cpu(self, *roots: int) -> float:
        """CPU of the children of `roots` (default: every root), at their last sample."""
        parents = set(roots or self.pids)
        return sum(p.cpu + p.reaped for p in self.last.values() if p.parent in parents)

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


def cpu_children() -> float:
    """User + system seconds of the children this process has waited for."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(*pids: int) -> float:
    """User + system seconds so far of these live processes and all their live
    descendants, with what each has reaped: a process's time moves into its parent's
    reaped time when it is waited for, so nothing is counted twice."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, proc in table.items():
        children.setdefault(proc.parent, []).append(pid)
    todo, total = list(pids), 0.0
    while todo:
        proc = table.get(pid := todo.pop())
        if proc is not None:
            total += proc.cpu + proc.reaped
            todo.extend(children.get(pid, ()))
    return total
