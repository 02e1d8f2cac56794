"""Load test: simulated users search, read, tag and upload against `inquiry-docs serve`.

    .venv/bin/python bench/load.py                      # 20 users, 60 s, 50,000 pages
    .venv/bin/python bench/load.py --pages 300 --users 3 --seconds 3 --no-write   # smoke
    .venv/bin/python bench/load.py --cache /tmp/load-50k --workers 2   # build once, reuse
    .venv/bin/python bench/load.py --cache /tmp/load-50k --workers 2 --warmup 30

It builds a collection of `--pages` pages (generated English-like text, the corpus of
bench/search.py: rows inserted, then indexed as the indexer does), starts the real server
as a separate process on 127.0.0.1 with its job workers, and signs in `--users` people,
each a legal reviewer in one inquiry and a secretariat member in the other. For
`--seconds` each repeats, with a short random pause: a search (60%), opening a document
(25%), tagging a document (10%) or uploading a small text file (5%), through the same
forms and CSRF tokens a browser uses. It reports requests/s, p50/p95 per action and
errors, and appends the section to docs/benchmarks.md unless --no-write. With --warmup
the same load runs that long first: its errors are reported, its timings are not (a
freshly started server reads each word's postings from disk the first time, in each web
process; a server that has been up a while has most of them in memory).
Targets (the issue's): no errors, search p95 under 500 ms on this 2-core machine; with
`--backend tantivy` (SEARCH_BACKEND=tantivy for the build and the server) search p95 at
most 150 ms. The server's peak memory (VmHWM of the `serve` process and, with gunicorn,
of its largest worker) is read from /proc before it stops.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import search as corpus  # noqa: E402 - bench/search.py: the generated collection

ACTIONS = (("search", 0.60), ("view", 0.25), ("tag", 0.10), ("upload", 0.05))
SEARCH_TARGET_MS = 500.0
SEARCH_TARGETS = {"whoosh": SEARCH_TARGET_MS, "tantivy": 150.0}
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
TAG_NAME = "Load test"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # keep 302/303 as the answer: a form post succeeded


@dataclass
class Sample:
    action: str
    ms: float
    ok: bool
    detail: str = ""
    warm_up: bool = False  # made during the warm-up: errors count, timings do not


@dataclass
class World:
    base: Path
    url: str
    emails: list[str]
    tag_id: int
    reviewed_ids: list[int]  # documents in the inquiry where users are legal reviewers
    upload_inquiry: int
    all_ids: list[int]
    words: list[str]
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(base: Path, search: str = "whoosh") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    env.update({
        "INQUIRY_DOCS_SEARCH_BACKEND": search,
        "INQUIRY_DOCS_INSTANCE_DIR": str(base / "instance"),
        "INQUIRY_DOCS_UPLOAD_DIR": str(base / "uploads"),
        "INQUIRY_DOCS_INDEX_DIR": str(base / "index"),
        "INQUIRY_DOCS_DATABASE_URL": f"sqlite:///{base}/db.sqlite",
        "INQUIRY_DOCS_QUEUE_URL": f"sqlite:///{base}/queue.db",
        "INQUIRY_DOCS_SECRET_KEY": "load-secret",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    return env


def prepare(base: Path, pages: int, users: int, seed: int, search: str = "whoosh"
            ) -> tuple[World, corpus.Build]:
    """The collection, the people and a tag, written before the server starts."""
    from sqlalchemy import select

    vocabulary = corpus.Vocabulary(seed)
    app = corpus.make_app(base, search=search)
    built = corpus.build(app, base, pages, seed, vocabulary)
    from inquiry_docs.access import signin as auth
    from inquiry_docs.db import db
    from inquiry_docs.models import Document, Inquiry, Membership
    from inquiry_docs.review import tags

    with app.app_context():
        first, second = db.session.execute(select(Inquiry).order_by(Inquiry.id)).scalars()
        emails = []
        for n in range(users):
            email = f"user{n}@load.example"
            user, _ = auth.create_user(email, role="legal", inquiry=first,
                                       password=corpus.PASSWORD, clearance="OFFICIAL-SENSITIVE")
            db.session.add(Membership(user_id=user.id, inquiry_id=second.id, role="secretariat",
                                      clearance="OFFICIAL-SENSITIVE", restricted_access=True))
            db.session.commit()
            emails.append(email)
        tag = tags.create(user, first.id, TAG_NAME)
        reviewed = list(db.session.execute(
            select(Document.id).where(Document.inquiry_id == first.id,
                                      Document.restricted.is_(False))).scalars())
        # Within every user's reach: restricted documents only in the inquiry where they
        # have restricted access (a view of another would be a correct 404, not an error).
        every = list(db.session.execute(select(Document.id).where(
            (Document.inquiry_id == second.id) | Document.restricted.is_(False))).scalars())
        world = World(base, "", emails, tag.id, reviewed, second.id, every,
                      vocabulary.words[150:3000])
        db.session.remove()
        db.engine.dispose()
    return world, built


def prepared(base: Path, args: argparse.Namespace) -> tuple[World, corpus.Build]:
    """prepare(), or a copy of the collection --cache holds for the same options."""
    if args.cache is None:
        return prepare(base, args.pages, args.users, args.seed, args.backend)
    saved = args.cache / "world.json"
    wanted = {"pages": args.pages, "users": args.users, "seed": args.seed}
    if args.backend != "whoosh":
        wanted["backend"] = args.backend  # caches made before the option are Whoosh ones
    if not saved.exists() or json.loads(saved.read_text())["options"] != wanted:
        shutil.rmtree(args.cache, ignore_errors=True)
        args.cache.mkdir(parents=True)
        world, built = prepare(args.cache, args.pages, args.users, args.seed, args.backend)
        fields = {k: v for k, v in world.__dict__.items()
                  if k not in ("base", "samples", "lock")}
        saved.write_text(json.dumps({"options": wanted, "world": fields,
                                     "built": built.__dict__}))
    shutil.copytree(args.cache, base, dirs_exist_ok=True)
    data = json.loads(saved.read_text())
    print(f"A copy of the collection in {args.cache}", file=sys.stderr)
    return World(base=base, **data["world"]), corpus.Build(**data["built"])


class Client:
    """One simulated person: a cookie jar, a CSRF token, and timings of what they did."""

    def __init__(self, world: World, email: str, rng: random.Random) -> None:
        self.world, self.email, self.rng = world, email, rng
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
        self.token = ""

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None
                ) -> tuple[int, str]:
        req = urllib.request.Request(self.world.url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def post(self, path: str, fields: dict[str, str]) -> int:
        body = urllib.parse.urlencode({**fields, "csrf_token": self.token}).encode()
        return self.request(path, body, {"Content-Type": "application/x-www-form-urlencoded"})[0]

    def sign_in(self) -> None:
        _, page = self.request("/auth/login")
        self.token = CSRF.search(page).group(1)
        status = self.post("/auth/login", {"email": self.email, "password": corpus.PASSWORD})
        if status not in (302, 303):
            raise RuntimeError(f"{self.email} could not sign in: HTTP {status}")
        _, page = self.request("/upload/")
        self.token = CSRF.search(page).group(1)

    # --- the actions ---------------------------------------------------------------------

    def search(self) -> tuple[bool, str]:
        words = self.rng.sample(self.world.words, self.rng.choice((1, 1, 2, 3)))
        query = urllib.parse.urlencode({"q": " ".join(words)})
        status, _ = self.request(f"/?{query}")
        return status == 200, f"HTTP {status}"

    def view(self) -> tuple[bool, str]:
        status, _ = self.request(f"/documents/{self.rng.choice(self.world.all_ids)}")
        return status == 200, f"HTTP {status}"

    def tag(self) -> tuple[bool, str]:
        document_id = self.rng.choice(self.world.reviewed_ids)
        action = self.rng.choice(("add", "remove"))
        status = self.post(f"/review/documents/{document_id}/tags",
                           {"tag": str(self.world.tag_id), "action": action})
        return status in (302, 303), f"HTTP {status}"

    def upload(self) -> tuple[bool, str]:
        words = " ".join(self.rng.choices(self.world.words, k=400))
        content = f"Load test upload by {self.email} at {time.time()}\n{words}\n".encode()
        boundary = f"----load{self.rng.getrandbits(64):x}"
        parts = []
        for name, value in (("csrf_token", self.token), ("inquiry", str(self.world.upload_inquiry)),
                            ("doc_type", "other")):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f"{value}\r\n".encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                     f'filename="note.txt"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                     + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        status, _ = self.request("/upload/", b"".join(parts),
                                 {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return status in (302, 303), f"HTTP {status}"

    def run(self, until: float, think: float, measure_from: float = 0.0) -> None:
        names = [a for a, _ in ACTIONS]
        weights = [w for _, w in ACTIONS]
        first = list(names)  # every action once first, so even a short run covers them all
        while time.monotonic() < until:
            action = first.pop(0) if first else self.rng.choices(names, weights)[0]
            start = time.perf_counter()
            try:
                ok, detail = getattr(self, action)()
            except Exception as error:
                ok, detail = False, f"{type(error).__name__}: {error}"
            sample = Sample(action, (time.perf_counter() - start) * 1000, ok, detail,
                            warm_up=time.monotonic() < measure_from)
            with self.world.lock:
                self.world.samples.append(sample)
            if think:
                time.sleep(self.rng.uniform(0, 2 * think))


def start_server(world: World, workers: int = 1, redis_url: str = "",
                 search: str = "whoosh") -> subprocess.Popen:
    """`inquiry-docs serve`; with several workers (gunicorn), sign-in counts go to Redis."""
    port = free_port()
    log = open(world.base / "server.log", "w")  # noqa: SIM115 - closed with the process
    env = environment(world.base, search)
    command = [sys.executable, "-m", "inquiry_docs.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
        env["INQUIRY_DOCS_RATELIMIT_STORAGE_URL"] = redis_url
    server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    world.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(world.url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
        if server.poll() is not None:
            break
    server.kill()
    raise RuntimeError(f"the server did not start; see {world.base / 'server.log'}")


def peak_memory(pid: int) -> tuple[float, float]:
    """(VmHWM of `pid`, the largest VmHWM of its children) in MB, from /proc; 0 if gone."""
    def hwm(one: int) -> float:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    children = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += (task / "children").read_text().split()
    except OSError:
        pass
    return hwm(pid), max((hwm(int(c)) for c in children), default=0.0)


def serving(workers: int) -> str:
    if workers > 1:
        return f"gunicorn, {workers} processes, sign-in counts on Redis"
    return "the embedded threaded server, one process"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def render(args: argparse.Namespace, world: World, built: corpus.Build, seconds: float,
           memory: tuple[float, float] = (0.0, 0.0), load: tuple[float, float] | None = None
           ) -> str:
    samples = [s for s in world.samples if not s.warm_up]
    warm = [s for s in world.samples if s.warm_up]
    errors = [s for s in world.samples if not s.ok]  # the warm-up's errors count too
    lines = [
        f"## Load, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`bench/load.py --pages {args.pages} --users {args.users} --seconds {args.seconds} "
        f"--think {args.think} --warmup {args.warmup:g} --workers {args.workers}"
        f"{' --backend ' + args.backend if args.backend != 'whoosh' else ''}` on "
        f"{platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}): "
        f"{built.pages:,} pages in {built.documents:,} documents, `inquiry-docs serve` on "
        f"127.0.0.1 ({serving(args.workers)}, `SEARCH_BACKEND={args.backend}`) with its job "
        f"workers, {args.users} signed-in "
        f"users each pausing "
        f"0 to {2 * args.think:g} s between requests"
        + (f", measured after a {args.warmup:g} s warm-up at the same load ({len(warm):,} "
           f"requests, {sum(1 for s in warm if not s.ok)} errors; the server starts cold "
           "and each web process fills its own caches)." if args.warmup else "."),
        "",
        f"{len(samples):,} requests in {seconds:.0f} s: **{len(samples) / seconds:.1f} "
        f"requests/s**, {len(errors)} errors.",
        "",
        "| Action | Requests | p50 ms | p95 ms | max ms | Errors |",
        "|---|---|---|---|---|---|",
    ]
    for action, _ in ACTIONS:
        ms = [s.ms for s in samples if s.action == action]
        bad = sum(1 for s in samples if s.action == action and not s.ok)
        lines.append(f"| {action} | {len(ms)} | {percentile(ms, 50):.0f} | "
                     f"{percentile(ms, 95):.0f} | {max(ms, default=0):.0f} | {bad} |")
    search_p95 = percentile([s.ms for s in samples if s.action == "search"], 95)
    target = SEARCH_TARGETS.get(args.backend, SEARCH_TARGET_MS)
    within = search_p95 <= target if args.backend == "tantivy" else search_p95 < target
    met = "met" if within and not errors else "NOT met"
    wording = "at most" if args.backend == "tantivy" else "under"
    lines += ["", f"Target (zero errors, search p95 {wording} {target:.0f} ms): {met}."]
    if memory[0]:
        lines += ["", f"Peak memory of the server (VmHWM, read before it stopped): the `serve` "
                  f"process {memory[0]:,.0f} MB"
                  + (f", its largest child {memory[1]:,.0f} MB" if memory[1] else "") + "."]
    if load:
        lines += ["", f"Load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after the "
                  f"measured run on {os.cpu_count()} cores"
                  f"{': other work shared the machine' if max(load) > 0.5 else ''}."]
    if errors:
        kinds: dict[str, int] = {}
        for s in errors:
            kinds[f"{s.action}: {s.detail}"] = kinds.get(f"{s.action}: {s.detail}", 0) + 1
        lines += ["", "Errors: " + "; ".join(f"{k} (x{n})" for k, n in sorted(kinds.items()))]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.25,
                        help="mean pause between one user's requests, seconds")
    parser.add_argument("--warmup", type=float, default=0,
                        help="seconds of the same load before the measured --seconds "
                             "(timings not counted, errors counted)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1,
                        help="web processes (`serve --workers`, gunicorn; starts a Redis)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--backend", choices=tuple(SEARCH_TARGETS), default="whoosh",
                        help="search backend of the build and the server (default whoosh)")
    parser.add_argument("--cache", type=Path,
                        help="build the collection here once; each run works on a copy")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="inquiry-load-"))
    server = redis = None
    try:
        world, built = prepared(base, args)
        if args.workers > 1:
            from tests import services  # a throwaway Redis, as the tests start one

            redis = services.start_redis()
        server = start_server(world, args.workers, redis.url if redis else "", args.backend)
        clients = [Client(world, email, random.Random(args.seed * 1000 + n))
                   for n, email in enumerate(world.emails)]
        for client in clients:
            client.sign_in()
        print(f"{len(clients)} users signed in; running {args.warmup:g} s warm-up + "
              f"{args.seconds:g} s", file=sys.stderr)
        load_before = os.getloadavg()[0]
        measure_from = time.monotonic() + args.warmup
        until = measure_from + args.seconds
        threads = [threading.Thread(target=c.run, args=(until, args.think, measure_from))
                   for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - measure_from
        load = (load_before, os.getloadavg()[0])
        section = render(args, world, built, elapsed, peak_memory(server.pid), load)
        print(section)
        if not args.no_write:
            corpus.append(args.out, section)
            print(f"Appended to {args.out}", file=sys.stderr)
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # lets `serve` stop its job workers cleanly
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
        if redis is not None:
            redis.stop()
        if args.keep:
            print(f"Kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
