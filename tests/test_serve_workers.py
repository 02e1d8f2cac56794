"""`inquiry-docs serve --workers 2` runs gunicorn: two processes, one signed-in session.

The real command in a subprocess on a free port, on the stack's settings, sharing what
must be shared (the database for sessions, Redis for sign-in throttling). The access log
names the worker process that answered each request, so the test can tell that both
workers served the signed-in user and both refused the session once it had ended.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from inquiry_docs.cli.serve import serve
from inquiry_docs.db import db
from tests import stack
from tests.conftest import PASSWORD, build_app, make_user
from tests.services import free_port

pytestmark = pytest.mark.slow
PAGE = "/account/tokens"  # any page that needs a signed-in user
LOG_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) .* worker=<(?P<pid>\d+)>')


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    env.update({f"INQUIRY_DOCS_{name}": value for name, value in stack.settings(tmp_path).items()})
    env.update({
        "INQUIRY_DOCS_INSTANCE_DIR": str(tmp_path / "instance"),
        "INQUIRY_DOCS_UPLOAD_DIR": str(tmp_path / "uploads"),
        "INQUIRY_DOCS_INDEX_DIR": str(tmp_path / "index"),
        "INQUIRY_DOCS_SECRET_KEY": "serve-workers-test",
        "INQUIRY_DOCS_WORKERS_IN_SERVER": "1",
        "INQUIRY_DOCS_WEB_THREADS": "2",
        **extra,
    })
    return env


def _command() -> list[str]:
    script = Path(sys.executable).parent / "inquiry-docs"
    return [str(script)] if script.exists() else [sys.executable, "-m", "inquiry_docs.cli"]


def _prepare(tmp_path: Path) -> None:
    """A database with one reader, made the way the server will find it."""
    app = build_app(tmp_path, SECRET_KEY="serve-workers-test")
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        make_user("reader@example.org", "reader", create_inquiry("OLD", "Oldham"))
        db.session.remove()
        db.engine.dispose()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies kept between requests, redirects not followed, a new connection each time."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect)

    def request(self, path: str, data: dict[str, str] | None = None,
                cookie: str | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        opener = self.opener
        if cookie is not None:  # replay a cookie by hand, outside the jar
            req.add_header("Cookie", f"session={cookie}")
            opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), \
                    response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf(self, path: str) -> str:
        status, _, html = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def session_cookie(self) -> str:
        return next(c.value for c in self.jar if c.name == "session")


def _wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "server stopped: " + log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not answer /healthz within 60 s")


def _workers_by_status(access_log: Path, path: str) -> dict[str, set[int]]:
    seen: dict[str, set[int]] = {}
    for line in access_log.read_text().splitlines():
        match = LOG_LINE.search(line)
        if match and match["path"] == path and match["method"] == "GET":
            seen.setdefault(match["status"], set()).add(int(match["pid"]))
    return seen


def _until_both_workers(browser: Browser, access_log: Path, status: str, expected: int,
                        cookie: str | None = None) -> set[int]:
    """Request PAGE (each on a new connection) until two workers have answered it."""
    for _ in range(200):
        code, location, _ = browser.request(PAGE, cookie=cookie)
        assert code == expected, (code, location)
        if expected == 302:
            assert "/auth/login" in location
        time.sleep(0.02)
        if len(_workers_by_status(access_log, PAGE).get(status, set())) >= 2:
            break
    return _workers_by_status(access_log, PAGE).get(status, set())


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def test_two_gunicorn_workers_share_the_session_and_its_end(tmp_path, redis_url):
    _prepare(tmp_path)
    port = free_port()
    access_log = tmp_path / "access.log"
    output = tmp_path / "server.out"
    env = _env(tmp_path, INQUIRY_DOCS_RATELIMIT_STORAGE_URL=redis_url)
    with open(output, "w") as out:
        server = subprocess.Popen([*_command(), "serve", "--workers", "2", "--port", str(port),
                                   "--access-log", str(access_log)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, output)
        browser = Browser(base)
        token = browser.csrf("/auth/login")
        status, location, _ = browser.request("/auth/login", {
            "csrf_token": token, "email": "reader@example.org", "password": PASSWORD})
        assert status == 302 and "/auth/login" not in location

        signed_in = _until_both_workers(browser, access_log, "200", 200)
        assert len(signed_in) == 2, access_log.read_text()
        assert signed_in <= _children(server.pid)  # the workers, not the master

        copied = browser.session_cookie()
        status, location, _ = browser.request("/auth/logout",
                                              {"csrf_token": browser.csrf(PAGE)})
        assert status == 302 and location.endswith("/auth/login")

        # The cookie copied before signing out no longer works, whichever worker answers.
        signed_out = _until_both_workers(browser, access_log, "302", 302, cookie=copied)
        assert signed_out == signed_in, access_log.read_text()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert code == 0, output.read_text()[-3000:]
    for pid in signed_in:
        assert not Path(f"/proc/{pid}").exists()
    assert "Shutting down" in output.read_text()


def test_embedded_server_stops_cleanly_on_sigterm(tmp_path):
    _prepare(tmp_path)
    port = free_port()
    output = tmp_path / "server.out"
    with open(output, "w") as out:
        server = subprocess.Popen([*_command(), "serve", "--port", str(port)],
                                  env=_env(tmp_path), stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", server, output)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(60)
    assert code == 0, output.read_text()[-3000:]


def test_job_worker_stops_gracefully_on_sigterm(tmp_path):
    from huey.consumer import Consumer

    from inquiry_docs import queue
    from inquiry_docs.operations import workers

    if "graceful_signal" in workers.graceful_on_sigterm():
        consumer = Consumer(queue.make_huey("memory://"), **workers.graceful_on_sigterm())
        assert consumer._signal_actions[signal.SIGTERM] == (False, True)  # graceful
    _prepare(tmp_path)
    output = tmp_path / "worker.out"
    with open(output, "w") as out:
        worker = subprocess.Popen([*_command(), "worker", "--workers", "1"],
                                  env=_env(tmp_path), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not _catches(worker.pid, signal.SIGTERM):  # the consumer is running
        assert worker.poll() is None and time.monotonic() < deadline, output.read_text()
        time.sleep(0.1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0, output.read_text()[-3000:]


def _catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for the signal (SigCgt in /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(mask & (1 << (signum - 1)))


def test_several_workers_refuse_per_process_throttling_counts(app):
    result = app.test_cli_runner().invoke(serve, ["--workers", "2"])
    assert result.exit_code == 2
    assert "INQUIRY_DOCS_RATELIMIT_STORAGE_URL" in result.output


def test_gunicorn_settings_come_from_the_app_settings():
    from inquiry_docs.web import gunicorn_server

    options = gunicorn_server.options("::1", 8000, 3, 4, None)
    assert options["bind"] == ["[::1]:8000"]
    assert (options["workers"], options["threads"], options["worker_class"]) == (3, 4, "gthread")
    assert options["preload_app"] is False  # each worker builds its own app
