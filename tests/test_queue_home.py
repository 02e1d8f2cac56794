"""The queue belongs to its installation: its default file follows the database, so two
installations in one checkout never take each other's jobs; and Huey keeps no results."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from inquiry_docs import config, queue
from inquiry_docs.operations import workers
from tests import samples, stack
from tests.conftest import build_app


def test_the_default_queue_file_follows_the_database(tmp_path):
    instance = tmp_path / "instance"
    default = f"sqlite:///{instance / 'inquiry_docs.db'}"
    assert config.default_queue_url(default, instance) == f"sqlite:///{instance / 'queue.db'}"
    assert config.default_queue_url("sqlite:////data/a/evidence.db", instance) == \
        "sqlite:////data/a/evidence.queue.db"
    one = config.default_queue_url("postgresql+psycopg://u:pw1@db/one", instance)
    two = config.default_queue_url("postgresql+psycopg://u:pw1@db/two", instance)
    again = config.default_queue_url("postgresql+psycopg://u:other@db/one", instance)
    assert one != two and one == again  # the password is not part of the name
    assert one.startswith(f"sqlite:///{instance}/queue-") and "pw1" not in one


def test_an_unset_queue_url_is_chosen_from_the_database_setting(tmp_path):
    app = build_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/own.db", QUEUE_URL="",
                    SEARCH_BACKEND="whoosh")
    assert app.config["QUEUE_URL"] == f"sqlite:///{tmp_path}/own.queue.db"


def _installation(base: Path, shared_instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    settings = {k: v for k, v in stack.settings(base).items() if k != "QUEUE_URL"}
    env.update({f"INQUIRY_DOCS_{k}": v for k, v in settings.items()})
    env.update({
        "INQUIRY_DOCS_INSTANCE_DIR": str(shared_instance),  # one checkout, one instance folder
        "INQUIRY_DOCS_UPLOAD_DIR": str(base / "uploads"),
        "INQUIRY_DOCS_INDEX_DIR": str(base / "index"),
        "INQUIRY_DOCS_SECRET_KEY": "two-installations",
    })
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inquiry_docs.cli", *args], env=env,
                          capture_output=True, text=True, timeout=180)


def test_two_installations_ingest_at_once_and_each_reads_every_document(tmp_path):
    shared = tmp_path / "instance"
    envs = {name: _installation(tmp_path / name, shared) for name in ("first", "second")}
    for name, env in envs.items():
        assert _run(env, "init").returncode == 0
        assert _run(env, "create-inquiry", "OLD", f"{name} installation").returncode == 0
        folder = tmp_path / f"{name}-files"
        folder.mkdir()
        for n in range(12):
            samples.write(folder, f"{name}{n}.pdf",
                          samples.make_pdf([f"{name} statement number {n}", "page two"]))
    running = [subprocess.Popen(
        [sys.executable, "-m", "inquiry_docs.cli", "ingest", str(tmp_path / f"{name}-files"),
         "--inquiry", "OLD", "--workers", "2"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for name, env in envs.items()]
    for process in running:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-2000:]
        assert out.startswith("12 indexed, 0 duplicate, 0 no text, 0 failed, 0 rejected"), out
    for name, env in envs.items():
        found = _run(env, "search", f"{name}", "--json")
        assert '"documents": 12' in found.stdout, found.stdout[-500:]


def test_tasks_leave_no_results_behind_and_old_ones_are_pruned(tmp_path):
    app = build_app(tmp_path, QUEUE_IMMEDIATE=False, WORKERS_IN_SERVER=1)
    huey = queue.huey(app)
    huey.put("a-result-an-earlier-version-left", "done")
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry
        from inquiry_docs.evidence import ingest

        inquiry = create_inquiry("OLD", "Oldham")
        workers.start_consumer(app)
        try:
            for n in range(3):
                ingest.receive(ingest.Incoming(
                    stream=io.BytesIO(samples.make_pdf([f"result {n}"])),
                    filename=f"r{n}.pdf", inquiry=inquiry))
            workers.wait_until_idle(app, poll=0.2)
        finally:
            workers.stop_consumer(app)
    assert huey.storage.result_store_size() == 0
