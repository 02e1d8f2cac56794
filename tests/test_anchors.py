"""Anchoring the audit trail: signed heads written to a folder, a real SMTP server and a
real HTTP endpoint, and `audit verify --anchors` catching a rewritten trail."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import delete, func, select, update

from inquiry_docs import queue
from inquiry_docs.access import anchors, audit
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, utcnow
from inquiry_docs.operations import anchoring, workers
from tests.conftest import build_app, login, make_user

TABLE = AuditEvent.__table__


def _events(n: int) -> list[int]:
    ids = [audit.record("test_event", object_type="thing", object_id=i, n=i).id for i in range(n)]
    db.session.commit()
    return ids


def _rechain() -> None:
    """What someone holding AUDIT_KEY can do: recompute every hash, so the chain checks out."""
    prev = audit.GENESIS
    for row in db.session.execute(select(TABLE).order_by(TABLE.c.id)).all():
        digest = audit._digest(row, prev)
        db.session.execute(update(TABLE).where(TABLE.c.id == row.id)
                           .values(prev_hash=prev, hash=digest))
        prev = digest
    db.session.commit()


def _anchor(runner) -> dict:
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    newest = max(Path(current_app.config["ANCHOR_DIR"]).glob("*.json"), key=_made)
    return json.loads(newest.read_text())


def _made(path: Path) -> str:
    return json.loads(path.read_text())["anchor"]["anchored_at"]


def _verify(runner, folder: Path, key: Path | None = None):
    args = ["audit", "verify", "--anchors", str(folder)]
    return runner.invoke(args=args + (["--public-key", str(key)] if key else []))


@pytest.fixture
def folder(app, tmp_path) -> Path:
    path = tmp_path / "worm"
    path.mkdir()
    app.config["ANCHOR_DIR"] = str(path)
    return path


@pytest.fixture
def public_key(runner, tmp_path) -> Path:
    """The public key as an auditor would keep it, off the machine."""
    printed = runner.invoke(args=["audit", "anchor", "--public-key"])
    assert printed.exit_code == 0 and printed.output.startswith("-----BEGIN PUBLIC KEY-----")
    path = tmp_path / "anchor.pub.pem"
    path.write_text(printed.output)
    return path


def test_an_anchor_is_a_new_signed_read_only_file_each_time(app, runner, folder, public_key):
    ids = _events(3)
    first = _anchor(runner)
    payload = first["anchor"]
    assert payload["event_id"] == ids[-1]
    assert payload["hash"] == db.session.get(AuditEvent, ids[-1]).hash
    assert payload["count"] == db.session.scalar(select(func.count()).select_from(AuditEvent)
                                                 .where(AuditEvent.id <= ids[-1]))
    anchors.read(json.dumps(first).encode(), anchors.load_public_key(public_key.read_text()),
                 "first")  # the signature checks out with the printed key
    [path] = folder.glob("*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "audit_anchored")).scalar_one()
    details = json.loads(event.details)
    assert details["sinks"] == {f"folder {folder}": "ok"} and details["trigger"] == "cli"
    assert event.object_id == str(ids[-1])

    second = _anchor(runner)  # covers the first anchor's own event
    assert second["anchor"]["event_id"] == event.id
    assert len(list(folder.glob("*.json"))) == 2 and path.read_text() == json.dumps(
        first, indent=1, sort_keys=True) + "\n"
    _events(2)  # the trail goes on after the anchors
    result = _verify(runner, folder, public_key)
    assert result.exit_code == 0, result.output
    assert "consistent with 2 anchor(s)" in result.output
    assert audit.verify().ok


@pytest.fixture
def anchored(app, runner, folder, public_key) -> dict:
    """Events, an anchor, more events, a second anchor, more events."""
    early = _events(4)
    first = _anchor(runner)
    middle = _events(4)
    second = _anchor(runner)
    late = _events(3)
    names = sorted(folder.glob("*.json"), key=_made)
    return {"early": early, "middle": middle, "late": late, "first": first,
            "second": second, "names": [p.name for p in names]}


def _caught(runner, folder, key, name: str) -> str:
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the chain alone passes
    result = _verify(runner, folder, key)
    assert result.exit_code == 1, result.output
    assert f"contradicts anchor {name}" in result.output
    return result.output


def test_an_edited_and_rechained_event_is_caught_by_the_first_anchor(
        runner, folder, public_key, anchored):
    db.session.execute(update(TABLE).where(TABLE.c.id == anchored["early"][1])
                       .values(actor="someone else"))
    db.session.commit()
    _rechain()
    output = _caught(runner, folder, public_key, anchored["names"][0])
    assert "its hash differs from the anchored one" in output


def test_a_deleted_and_rechained_event_is_caught_by_the_anchor_after_it(
        runner, folder, public_key, anchored):
    db.session.execute(delete(TABLE).where(TABLE.c.id == anchored["middle"][2]))
    db.session.commit()
    _rechain()
    output = _caught(runner, folder, public_key, anchored["names"][1])  # the first still holds
    assert f"event #{anchored['second']['anchor']['event_id']}" in output


def test_truncated_newest_events_are_caught(runner, folder, public_key, anchored):
    cut_from = anchored["second"]["anchor"]["event_id"]
    db.session.execute(delete(TABLE).where(TABLE.c.id >= cut_from))
    db.session.commit()
    output = _caught(runner, folder, public_key, anchored["names"][1])
    assert "the anchored event is missing" in output


def test_a_whole_table_rewritten_with_the_key_is_caught(runner, folder, public_key, anchored):
    # Every event before the first anchor replaced by invented ones, one for one, re-chained.
    for event_id in anchored["early"]:
        db.session.execute(update(TABLE).where(TABLE.c.id == event_id).values(
            action="sign_in", actor="nobody@example.org", details="{}"))
    db.session.commit()
    _rechain()
    _caught(runner, folder, public_key, anchored["names"][0])


def test_an_anchor_whose_count_disagrees_is_named(app, runner, folder, public_key):
    ids = _events(3)
    head = anchors.Head(ids[-1], db.session.get(AuditEvent, ids[-1]).hash, 99, utcnow())
    document = anchors.make(head)  # signed with the real key, but counting wrong
    (folder / "counted.json").write_text(anchors.dumps(document))
    output = _verify(runner, folder, public_key).output
    assert "contradicts anchor counted.json" in output
    assert "3 events lead up to it where the anchor counted 99" in output


def test_an_altered_or_foreign_anchor_is_refused(app, runner, folder, public_key, anchored):
    path = folder / anchored["names"][0]
    document = json.loads(path.read_text())
    document["anchor"]["hash"] = "0" * 64
    forged = folder / "forged.json"
    forged.write_text(json.dumps(document))
    result = _verify(runner, folder, public_key)
    assert result.exit_code == 1
    assert "Anchor forged.json: the signature does not match the public key" in result.output
    forged.unlink()
    other = Ed25519PrivateKey.generate().public_key()
    (folder.parent / "other.pem").write_text(anchors.public_pem(other))
    result = _verify(runner, folder, folder.parent / "other.pem")
    assert result.exit_code == 1 and "signature does not match" in result.output
    empty = folder.parent / "empty"
    empty.mkdir()
    result = _verify(runner, empty, public_key)
    assert result.exit_code == 1 and "No anchors" in result.output
    bad_key = folder.parent / "bad.pem"
    bad_key.write_text("not a key")
    assert _verify(runner, folder, bad_key).exit_code == 2


# ---- email and HTTP sinks, on real servers on this machine ----


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (the controller's start-up check needs one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


class _Endpoint(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []
    status = 204

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_endpoint() -> Iterator[type[_Endpoint]]:
    handler = type("Endpoint", (_Endpoint,), {"received": [], "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_port}/anchors"
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _mail_settings(app, port: int) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none",
                      ANCHOR_EMAIL="records@example.org, auditor@example.org",
                      MAIL_FROM="inquiry-docs@example.org", ORGANISATION_NAME="Oldham Inquiry")


def test_every_sink_gets_the_same_signed_anchor(app, runner, folder, public_key, smtp_server,
                                                http_endpoint, tmp_path):
    port, inbox = smtp_server
    _mail_settings(app, port)
    app.config.update(ANCHOR_URL=http_endpoint.url, ANCHOR_URL_TOKEN="s3cret")
    _events(2)
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    assert result.output.count("written") == 4
    [written] = folder.glob("*.json")
    assert len(inbox.messages) == 2
    assert {m["To"] for m in inbox.messages} == {"records@example.org", "auditor@example.org"}
    mail = inbox.messages[0]
    assert "Oldham Inquiry" in mail["Subject"]
    [attachment] = [p for p in mail.walk() if p.get_filename()]
    assert attachment.get_filename() == written.name
    assert attachment.get_payload(decode=True) == written.read_bytes()
    [(headers, body)] = http_endpoint.received
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer s3cret"
    assert body == written.read_bytes()
    # An auditor who saved the emailed file alone can prove the trail with it.
    saved = tmp_path / "from-email"
    saved.mkdir()
    (saved / attachment.get_filename()).write_bytes(attachment.get_payload(decode=True))
    assert _verify(runner, saved, public_key).exit_code == 0


def test_a_failing_sink_is_reported_and_the_others_still_written(
        app, runner, tmp_path, smtp_server, http_endpoint):
    port, inbox = smtp_server
    _mail_settings(app, port)
    http_endpoint.status = 500
    app.config.update(ANCHOR_DIR=str(tmp_path / "not-mounted"), ANCHOR_URL=http_endpoint.url)
    _events(1)
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 1
    assert "is not a folder (is the disk mounted?)" in result.output
    assert "answered HTTP 500" in result.output
    assert len(inbox.messages) == 2  # email still went out
    assert not (tmp_path / "not-mounted").exists()  # never made on the disk beneath
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "audit_anchor_failed")).scalar_one()
    sinks = json.loads(event.details)["sinks"]
    assert sinks["email records@example.org"] == "ok"
    assert "answered HTTP 500" in sinks[f"http {http_endpoint.url}"]
    assert audit.verify().ok


def test_without_sinks_nothing_is_anchored_and_that_is_said(app, runner):
    _events(1)
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 1
    assert "no anchor sinks are configured" in result.output
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "audit_anchor_failed")) == 1


def test_a_broken_chain_is_not_anchored(app, runner, folder):
    ids = _events(3)
    db.session.execute(update(TABLE).where(TABLE.c.id == ids[1]).values(actor="x"))
    db.session.commit()
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 1 and "audit trail is broken" in result.output
    assert list(folder.glob("*")) == []


# ---- on demand from the audit trail page ----


def test_admins_anchor_from_the_audit_trail_page(app, admin_client, folder, inquiry):
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "The trail has not been anchored yet" in page and f"folder {folder}" in page
    response = admin_client.post("/admin/audit/anchor")
    assert response.status_code == 302
    assert len(list(folder.glob("*.json"))) == 1
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "audit_anchored")).scalar_one()
    assert event.actor == "admin@example.org" and json.loads(event.details)["trigger"] == "web"
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Audit trail anchored at event #" in page and "written to every place" in page

    make_user("legal@example.org", "legal", inquiry)
    other = app.test_client()
    login(other, "legal@example.org")
    assert other.post("/admin/audit/anchor").status_code == 403
    assert len(list(folder.glob("*.json"))) == 1


# ---- on its own ----


def test_when_the_server_anchors_on_its_own(app, runner, folder):
    now = utcnow()
    _events(1)
    assert anchoring.due(now)  # never anchored
    app.config["ANCHOR_HOURS"] = 0
    assert not anchoring.due(now)
    app.config["ANCHOR_HOURS"] = 24
    runner.invoke(args=["audit", "anchor"])
    assert not anchoring.due(utcnow())
    assert not anchoring.due(utcnow() + timedelta(hours=23))
    assert anchoring.due(utcnow() + timedelta(hours=24, minutes=1))
    app.config["ANCHOR_DIR"] = str(folder / "gone")  # the next attempt fails
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 1
    later = utcnow() + timedelta(hours=25)
    assert anchoring.due(later)  # the failure is the newest attempt: retried...
    assert not anchoring.due(utcnow() + timedelta(minutes=30))  # ...but not at once
    assert anchoring.due(utcnow() + timedelta(minutes=61))
    app.config["ANCHOR_DIR"] = ""
    assert not anchoring.due(later)  # no sinks, nothing to do
    # The task is queued by the scheduler in every minute; it decides itself.
    names = {t.name for t in queue.huey().read_periodic(datetime(2026, 3, 27, 2, 17))}
    assert "anchor_audit_trail" in names


def test_a_running_server_anchors_by_itself_once(tmp_path):
    folder = tmp_path / "worm"
    folder.mkdir()
    app = build_app(tmp_path, QUEUE_IMMEDIATE=False, ANCHOR_DIR=str(folder))
    with app.app_context():
        _events(2)
        db.session.remove()
    try:
        workers.start_consumer(app, workers=1)  # its scheduler checks periodic tasks at once
        deadline = time.monotonic() + 30
        while not list(folder.glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list(folder.glob("*.json"))) == 1
        workers.stop_consumer(app)
        workers.start_consumer(app, workers=1)  # a restart a minute later: not due yet
        time.sleep(3)
    finally:
        workers.stop_consumer(app)
    assert len(list(folder.glob("*.json"))) == 1
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "audit_anchored")).scalar_one()
        assert event.actor == "schedule" and json.loads(event.details)["trigger"] == "schedule"
        assert not queue.huey().get(anchoring.LOCK, peek=True)  # the claim was let go
        db.session.remove()
        db.engine.dispose()
