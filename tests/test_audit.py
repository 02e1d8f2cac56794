"""The audit trail is hash-chained: any edit or deletion is detected."""

from __future__ import annotations

from sqlalchemy import delete, update

from inquiry_docs.access import audit
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent


def _events(n: int) -> list[AuditEvent]:
    events = [audit.record("test_event", object_type="thing", object_id=i, n=i) for i in range(n)]
    db.session.commit()
    return events


def test_chain_verifies(app):
    _events(5)
    verdict = audit.verify()
    assert verdict.ok and verdict.checked == 5


def test_edited_event_is_detected(app):
    events = _events(5)
    db.session.execute(update(AuditEvent).where(AuditEvent.id == events[2].id)
                       .values(details='{"n": 99}'))
    db.session.commit()
    verdict = audit.verify()
    assert not verdict.ok and verdict.broken_at == events[2].id


def test_deleted_event_is_detected(app):
    events = _events(5)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == events[1].id))
    db.session.commit()
    verdict = audit.verify()
    assert not verdict.ok and verdict.broken_at == events[2].id


def test_rolled_back_change_leaves_no_event(app):
    _events(1)
    audit.record("never_happened")
    db.session.rollback()
    assert db.session.query(AuditEvent).count() == 1
    assert audit.verify().ok
