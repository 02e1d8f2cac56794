"""`inquiry-docs audit verify` and `inquiry-docs audit export`."""

from __future__ import annotations

import csv
import json
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, insert, select, update

from inquiry_docs.access import audit
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent

TABLE = AuditEvent.__table__


def _events(n: int) -> list[int]:
    ids = [audit.record("test_event", object_type="thing", object_id=i, n=i).id for i in range(n)]
    db.session.commit()
    return ids


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def _row(event_id: int) -> dict:
    return dict(db.session.execute(select(TABLE).where(TABLE.c.id == event_id)).mappings().one())


def _make_room_at(event_id: int) -> None:
    """Renumber events from `event_id` on, one up, as someone inserting a row would."""
    last = db.session.execute(select(func.max(AuditEvent.id))).scalar()
    for moving in range(last, event_id - 1, -1):
        db.session.execute(update(TABLE).where(TABLE.c.id == moving).values(id=moving + 1))
    db.session.commit()


def _forged(event_id: int, prev_hash: str, *, real_hash: bool) -> dict:
    row = {
        "id": event_id,
        "at": datetime(2024, 1, 1, 12, 0),
        "user_id": None,
        "actor": "nobody@example.org",
        "ip": "10.0.0.1",
        "action": "document_viewed",
        "object_type": "document",
        "object_id": "1",
        "inquiry_id": None,
        "details": "{}",
        "prev_hash": prev_hash,
        "hash": "f" * 64,
    }
    if real_hash:
        # The forger knows the algorithm and the database, but not the key kept outside it.
        real_key = current_app.config["AUDIT_KEY"]
        current_app.config["AUDIT_KEY"] = "a guess at the key"
        try:
            row["hash"] = audit._digest(AuditEvent(**row), prev_hash)
        finally:
            current_app.config["AUDIT_KEY"] = real_key
    return row


def test_verify_intact(runner):
    _events(5)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Audit trail intact: 5 events checked."


def test_verify_empty_trail(runner):
    result = _verify(runner)
    assert result.exit_code == 0
    assert "Audit trail intact: 0 events checked." in result.output


def test_verify_names_an_edited_row(runner):
    ids = _events(5)
    db.session.execute(update(TABLE).where(TABLE.c.id == ids[2]).values(details='{"n": 99}'))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert result.output.strip() == f"Audit trail broken at event #{ids[2]}: this event was altered"


def test_verify_names_the_row_after_a_deleted_one(runner):
    ids = _events(5)
    db.session.execute(delete(TABLE).where(TABLE.c.id == ids[1]))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit trail broken at event #{ids[2]}: ")


def test_verify_names_an_inserted_row_with_a_forged_hash(runner):
    ids = _events(5)
    _make_room_at(ids[2])
    db.session.execute(
        insert(TABLE).values(**_forged(ids[2], _row(ids[1])["hash"], real_hash=False))
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert result.output.strip() == f"Audit trail broken at event #{ids[2]}: this event was altered"


def test_verify_catches_an_inserted_row_whose_hash_was_recomputed(runner):
    """Hashed with the right algorithm but without the key, the inserted row is named."""
    ids = _events(5)
    _make_room_at(ids[2])
    db.session.execute(
        insert(TABLE).values(**_forged(ids[2], _row(ids[1])["hash"], real_hash=True))
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit trail broken at event #{ids[2]}: ")


def test_verify_catches_a_forged_row_appended_with_a_garbage_hash(runner):
    ids = _events(3)
    db.session.execute(
        insert(TABLE).values(**_forged(ids[-1] + 1, _row(ids[-1])["hash"], real_hash=False))
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"#{ids[-1] + 1}" in result.output


def test_verify_catches_a_forged_row_appended_with_a_recomputed_hash(runner):
    ids = _events(3)
    db.session.execute(
        insert(TABLE).values(**_forged(ids[-1] + 1, _row(ids[-1])["hash"], real_hash=True))
    )
    db.session.commit()
    assert _verify(runner).exit_code == 1


# ---- export ----


def _read(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_writes_every_event_and_is_audited(runner, tmp_path):
    ids = _events(3)
    audit.record("search", actor="=cmd()", object_type="search", query="=HYPERLINK(1)")
    db.session.commit()
    out = tmp_path / "trail.csv"
    result = runner.invoke(args=["audit", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 4 events" in result.output
    rows = _read(out)
    assert list(rows[0]) == [
        "id",
        "at",
        "actor",
        "ip",
        "action",
        "object_type",
        "object_id",
        "inquiry",
        "details",
        "hash",
    ]
    assert [int(r["id"]) for r in rows] == [ids[-1] + 1, *reversed(ids)]
    assert rows[0]["actor"] == "'=cmd()"
    assert rows[1]["hash"] == _row(ids[-1])["hash"]

    exported = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "audit_exported")
    ).scalar_one()
    assert exported.actor == "command line"
    assert json.loads(exported.details)["rows"] == 4
    assert json.loads(exported.details)["channel"] == "cli"
    assert _verify(runner).exit_code == 0


def test_export_filters_by_date_and_action(runner, tmp_path):
    _events(2)
    old = audit.record("sign_in", actor="someone@example.org")
    db.session.commit()
    db.session.execute(
        update(TABLE).where(TABLE.c.id == old.id).values(at=datetime(2020, 1, 1))
    )  # breaks the chain; fine here
    db.session.commit()
    out = tmp_path / "since.csv"
    assert runner.invoke(args=["audit", "export", str(out), "--since", "2021-01-01"]).exit_code == 0
    assert {r["action"] for r in _read(out)} == {"test_event"}
    out = tmp_path / "action.csv"
    assert runner.invoke(args=["audit", "export", str(out), "--action", "sign_in"]).exit_code == 0
    assert [r["actor"] for r in _read(out)] == ["someone@example.org"]
    exported = (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "audit_exported").order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [json.loads(e.details)["filters"] for e in exported] == [
        {"date_from": "2021-01-01"},
        {"action": "sign_in"},
    ]


def test_export_refuses_a_bad_date(runner, tmp_path):
    result = runner.invoke(args=["audit", "export", str(tmp_path / "x.csv"), "--since", "01/02"])
    assert result.exit_code == 2
    assert "yyyy-mm-dd" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_a_recorded_head_catches_events_cut_off_the_end(runner):
    ids = _events(5)
    recorded = runner.invoke(args=["audit", "head"])
    assert recorded.exit_code == 0, recorded.output
    head = recorded.output.strip()
    assert head.startswith(f"{ids[-1]}:") and len(head.split(":")[1]) == 64
    _events(2)  # the trail goes on growing after the head was written down
    assert runner.invoke(args=["audit", "verify", "--head", head]).exit_code == 0

    db.session.execute(delete(TABLE).where(TABLE.c.id >= ids[3]))  # the newest events go
    db.session.commit()
    assert _verify(runner).exit_code == 0  # the chain alone cannot tell
    result = runner.invoke(args=["audit", "verify", "--head", head])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Audit trail broken at event #{ids[-1]}: the recorded "
                                     "head event is missing: the trail was cut short")


def test_a_recorded_head_that_does_not_match_is_reported(runner):
    ids = _events(3)
    result = runner.invoke(args=["audit", "verify", "--head", f"{ids[1]}:{'0' * 64}"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Audit trail broken at event #{ids[1]}: this event "
                                     "differs from the recorded head")
    bad = runner.invoke(args=["audit", "verify", "--head", "yesterday"])
    assert bad.exit_code == 2 and "ID:HASH" in bad.output
