"""Throwaway PostgreSQL and Redis servers on 127.0.0.1, started from the installed binaries.

One of each per test session (see the `postgres_server` and `redis_server` fixtures in
conftest.py); each test gets its own database and Redis database (tests/stack.py), so tests
never see each other's data.
The servers live in a temporary directory and are stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL bin directory (Debian keeps them per version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def redis_bin() -> str | None:
    return shutil.which("redis-server")


# Another process may take a free port before our server binds it: try a few.
PORT_ATTEMPTS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` account then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class Postgres:
    directory: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def stop(self) -> None:
        subprocess.run(_as_postgres_user([str(self.bindir / "pg_ctl"), "-D", str(self.directory),
                                          "-m", "immediate", "-w", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(self.directory.parent, ignore_errors=True)


def start_postgres(durable: bool = False) -> Postgres:
    """A new cluster on a free port. Tests run it without fsync (it is thrown away, and
    fsync is most of each commit's cost); `durable` keeps fsync, synchronous commit and
    full-page writes on, as a production server has them (for benchmarks)."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="inquiry-docs-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        uid = pwd.getpwnam("postgres").pw_uid
        os.chown(root, uid, -1)
        os.chown(data, uid, -1)
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                      "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   capture_output=True, check=True)
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        fast = "" if durable else \
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {data}{fast} "
                   "-c max_connections=200")
        started = subprocess.run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data),
                                                    "-l", str(data / "log"), "-w", "-o", options,
                                                    "start"]), capture_output=True)
        if started.returncode == 0:
            return Postgres(data, port, bindir)
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode()[-500:]}")


@dataclass
class Redis:
    process: subprocess.Popen
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return self.database_url(0)

    def database_url(self, number: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{number}"

    def client(self, number: int = 0):
        """A redis-py client for one of the server's numbered databases."""
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=number)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_redis(databases: int = 1024) -> Redis:
    binary = redis_bin()
    if binary is None:
        raise RuntimeError("Redis is not installed (apt-get install redis-server)")
    directory = Path(tempfile.mkdtemp(prefix="inquiry-docs-redis-"))
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        process = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port),
                                    "--save", "", "--appendonly", "no", "--dir", str(directory),
                                    "--databases", str(databases)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = Redis(process, port, directory)
        if _answers(server):
            return server
        process.kill()
        process.wait()
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError("redis-server did not start")


def _answers(server: Redis, timeout: float = 10.0) -> bool:
    """Our server answers on its port (not another that took the port first)."""
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.process.poll() is None:
        client = server.client()
        try:
            return client.config_get("dir")["dir"] == str(server.directory)
        except (OSError, redis.ConnectionError):
            time.sleep(0.05)  # not listening yet
        finally:
            client.close()
    return False
