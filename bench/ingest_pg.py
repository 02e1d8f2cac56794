"""The scale-out end-to-end phase of bench/ingest.py (`--backend postgres`).

A throwaway PostgreSQL cluster and Redis are started from the installed binaries, as the
tests start them (tests/services.py), on 127.0.0.1, and stopped and deleted when the run
ends. Unlike the tests' clusters, PostgreSQL keeps fsync, synchronous commit and full-page
writes on, as a production server has them; Redis runs without persistence.

For each worker count N, on a new database and a new Redis database, with
`INQUIRY_DOCS_DATABASE_URL=postgresql+psycopg://...`, `SEARCH_BACKEND=postgres` and
`QUEUE_URL=redis://...`:

1. `inquiry-docs init`, `create-inquiry BEN Bench`;
2. N `inquiry-docs worker --workers 1` processes: N job consumers, each in a process of its
   own with its own extraction fork server, as worker machines run them. They are started
   before the clock, which starts once each is waiting on the queue (Redis counts N
   clients blocked in BRPOP);
3. `inquiry-docs ingest <folder> --inquiry BEN --workers 0` feeds them: it stores each
   original, queues its job on Redis and waits until every document is done, with no job
   threads of its own. It is timed and checked as the embedded run is (bench/ingest_e2e.py).

With SEARCH_BACKEND=postgres a job writes the pages and their search rows in one
transaction and there is no index job, so the search vectors are computed by PostgreSQL:
its processes' CPU time (and Redis's) is reported as server CPU.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest_e2e import (
    EndToEnd,
    Spec,
    clean_env,
    cli,
    fixed_cost,
    prepare,
    timed_ingest,
    timed_phase,
    verify,
)
from procs import tree_cpu

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


@dataclass
class Servers:
    postgres: Any  # tests.services.Postgres
    redis: Any  # tests.services.Redis

    def pids(self) -> tuple[int, int]:
        """The postmaster (whose children are the connections' backends) and redis-server."""
        postmaster = int((self.postgres.directory / "postmaster.pid").read_text().split()[0])
        return postmaster, self.redis.process.pid


@contextmanager
def servers() -> Iterator[Servers]:
    """A PostgreSQL cluster and a Redis for the run, deleted when it ends."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import services

    postgres = services.start_postgres(durable=True)
    try:
        redis = services.start_redis(databases=64)
        try:
            print(
                f"Started a throwaway PostgreSQL on port {postgres.port} and Redis on port "
                f"{redis.port}",
                file=sys.stderr,
            )
            yield Servers(postgres, redis)
        finally:
            redis.stop()
    finally:
        postgres.stop()


def describe(servers: Servers) -> str:
    """The set-up, for the report's Backend line."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{servers.postgres.port}/postgres"
                         ) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    client = servers.redis.client()
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    return (
        f"scale-out set-up: `INQUIRY_DOCS_DATABASE_URL=postgresql+psycopg://...` (a throwaway "
        f"PostgreSQL {version} cluster on 127.0.0.1 with fsync and synchronous commit on, a "
        f"new database per worker count), `INQUIRY_DOCS_SEARCH_BACKEND=postgres`, "
        f"`INQUIRY_DOCS_QUEUE_URL=redis://...` (Redis {redis_version}, no persistence). "
        f"N workers = N `inquiry-docs worker --workers 1` processes (one job thread each, "
        f"each with its own extraction fork server), started and waiting on the queue "
        f"before the clock starts; `inquiry-docs ingest <folder> --inquiry BEN --workers 0` "
        "stores and registers the files 16 at a time, queues one reading job per 16 files on "
        "Redis and waits, running no jobs itself. "
        f"The search rows are written in each job's transaction (no index job)."
    )


def settings(base: Path, servers: Servers, number: int) -> dict[str, str]:
    """The environment of run `number`: its own database and Redis database."""
    name = f"ingest_{number}"
    servers.postgres.execute(f"CREATE DATABASE {name}")
    return clean_env(
        {
            "INSTANCE_DIR": str(base / "instance"),
            "DATABASE_URL": servers.postgres.database_url(name),
            "SEARCH_BACKEND": "postgres",
            "QUEUE_URL": servers.redis.database_url(number),
            "UPLOAD_DIR": str(base / "uploads"),
            "INDEX_DIR": str(base / "index"),
        }
    )


# --- worker processes ----------------------------------------------------------------------


def start_workers(
    count: int, env: dict[str, str], base: Path, servers: Servers
) -> tuple[list[subprocess.Popen], float]:
    """`count` worker processes of one job thread each, once all wait on the queue; and
    the seconds that took."""
    start = time.perf_counter()
    workers = []
    for number in range(1, count + 1):
        with open(base / f"worker-{number}.log", "w") as log:
            workers.append(subprocess.Popen(
                [*cli(), "worker", "--workers", "1"], env=env, stdout=log,
                stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            ))
    try:
        wait_ready(workers, servers, base)
    except BaseException:
        stop_workers(workers)
        raise
    return workers, time.perf_counter() - start


def wait_ready(workers: list[subprocess.Popen], servers: Servers, base: Path) -> None:
    """Until Redis has as many clients blocked on the queue as there are workers (each
    worker's job thread waits in BRPOP once its app and fork server are ready)."""
    client = servers.redis.client()
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while int(client.info("clients")["blocked_clients"]) < len(workers):
            dead = [n for n, w in enumerate(workers, 1) if w.poll() is not None]
            if dead:
                log = (base / f"worker-{dead[0]}.log").read_text()[-3000:]
                raise SystemExit(f"inquiry-docs worker {dead[0]} exited:\n{log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(workers)} workers were not ready in {READY_TIMEOUT} s")
            time.sleep(0.05)
    finally:
        client.close()


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """SIGTERM (running jobs finish), then SIGKILL for any left, with their children."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)  # a fork server it left behind


# --- one run -------------------------------------------------------------------------------


def end_to_end(
    specs: list[Spec], corpus: Path, base: Path, count: int, servers: Servers, number: int
) -> EndToEnd:
    """`count` worker processes fed by `ingest --workers 0`, timed and checked."""
    base.mkdir(parents=True)
    env = settings(base, servers, number)
    prepare(env)
    startup = fixed_cost(base, env, 0)
    workers, ready = start_workers(count, env, base, servers)
    pids = tuple(w.pid for w in workers)
    try:
        before, server_before = [tree_cpu(p) for p in pids], tree_cpu(*servers.pids())
        timed = timed_ingest(specs, corpus, base, env, 0, also=pids)
        workers_cpu = [tree_cpu(p) - b for p, b in zip(pids, before, strict=True)]
        server_cpu = tree_cpu(*servers.pids()) - server_before
        stopped = [n for n, w in enumerate(workers, 1) if w.poll() is not None]
    finally:
        stop_workers(workers)
    phase = timed_phase(f"End to end ({count} x `inquiry-docs worker --workers 1`)", specs,
                        timed, sum(workers_cpu), server_cpu)
    result = EndToEnd(phase, count, timed.seconds, startup, ready, workers_cpu)
    if stopped:
        result.problems.append(f"worker process(es) {stopped} exited during the run")
    verify(result, specs, env, timed.report)
    return result
