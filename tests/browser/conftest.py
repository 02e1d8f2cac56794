"""Fixtures for tests that drive Debian's Chromium through Playwright.

live_server   the app on 127.0.0.1 with in-process job workers, fresh data dirs per test
browser       one headless Chromium for the session (/usr/bin/chromium; no downloads)
page          a new browser context per test, base_url set to the live server
console_errors  console errors and uncaught exceptions seen by `page`
axe_check     axe_check(page) runs axe-core (WCAG 2.2 AA + best practice), asserts no violations
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from inquiry_docs.web.server import make_server
from tests import stack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright's 5 s wait for an expectation is short when both stacks, two Chromiums and
# PostgreSQL share two cores (the full `make test`); a page that never comes still fails.
expect.set_options(timeout=15_000)
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture
def live_server_config(tmp_path: Path) -> dict[str, Any]:
    """The app's test settings; override this fixture in a test module to change them."""
    return {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "INDEX_DIR": str(tmp_path / "index"),
        **stack.settings(tmp_path),
        "SECRET_KEY": "test",
        "TESTING": True,
        "WORKERS_IN_SERVER": 2,
    }


@pytest.fixture
def live_server(live_server_config: dict[str, Any]) -> Iterator[LiveServer]:
    from inquiry_docs import create_app
    from inquiry_docs.db import upgrade_database
    from inquiry_docs.operations import workers

    app = create_app(live_server_config)
    with app.app_context():
        upgrade_database()
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    workers.start_consumer(app)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        workers.stop_consumer(app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        from tests.conftest import require

        require(False, f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Any, live_server: LiveServer, console_errors: list[str]) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    yield page
    context.close()


def run_axe(page: Any) -> list[dict[str, Any]]:
    """Load axe-core into the page (evaluate, since the CSP blocks added scripts); violations."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` in {ROOT}")
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return result["violations"]


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}" for node in violation["nodes"])
    return "\n".join(lines)


@pytest.fixture
def axe_check() -> Callable[[Any], None]:
    def check(page: Any) -> None:
        violations = run_axe(page)
        assert not violations, f"axe on {page.url}:\n{format_violations(violations)}"

    return check


def wait_indexed(app: Flask, ids: list[int], timeout: float = 30) -> None:
    """Wait until the live server's queue has indexed these documents."""
    import time

    from sqlalchemy import select

    from inquiry_docs.db import db
    from inquiry_docs.models import Document

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            statuses = db.session.execute(
                select(Document.status).where(Document.id.in_(ids))).scalars().all()
            if len(statuses) == len(ids) and all(s == "indexed" for s in statuses):
                return
        time.sleep(0.2)
    raise AssertionError("the documents were not indexed in time")
