"""Saved searches: saving, sharing, running, deleting, and "new since you last ran it"."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import indexing
from inquiry_docs.models import AuditEvent, Document, SavedSearch, SavedSearchRun
from inquiry_docs.search import saved as saved_searches
from tests.conftest import login, make_user, upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


def add_text(client, inquiry, text: str, name: str) -> Document:
    response = upload(client, inquiry, [(text.encode(), name)])
    assert response.status_code == 303
    db.session.expire_all()
    return db.session.execute(
        select(Document).where(Document.original_filename == name)).scalar_one()


def backdate_runs(saved: SavedSearch, seconds: int = 60) -> None:
    """Move the saving and every recorded run back in time (and the documents already
    there further back), so what is uploaded next is clearly newer."""
    for document in db.session.execute(select(Document)).scalars():
        document.uploaded_at -= timedelta(seconds=2 * seconds)
    for run in db.session.execute(
            select(SavedSearchRun).where(SavedSearchRun.saved_id == saved.id)).scalars():
        run.last_run_at -= timedelta(seconds=seconds)
    saved.created_at -= timedelta(seconds=seconds)
    db.session.commit()


def actions() -> list[str]:
    return db.session.execute(select(AuditEvent.action)).scalars().all()


def test_new_count_counts_documents_uploaded_after_the_last_run(app, admin_client, inquiry):
    add_text(admin_client, inquiry, "An earlier report on safeguarding.", "old.txt")
    reader = make_user("reader@example.org", "reader", inquiry)
    saved = saved_searches.save(reader, name="Safeguarding", query="safeguarding",
                                inquiry_id=inquiry.id)
    assert saved_searches.new_since_last_run(reader, saved).count == 0
    backdate_runs(saved)
    add_text(admin_client, inquiry, "A later note on safeguarding.", "new.txt")
    add_text(admin_client, inquiry, "A later note on something else.", "other.txt")
    new = saved_searches.new_since_last_run(reader, saved)
    assert (new.count, new.at_least, new.ran_before) == (1, False, True)
    saved_searches.record_run(reader, saved)
    assert saved_searches.new_since_last_run(reader, saved).count == 0
    assert "saved_search_created" in actions() and "saved_search_run" in actions()


def test_restricted_and_sensitive_documents_are_never_counted(app, admin_client, inquiry):
    reader = make_user("reader@example.org", "reader", inquiry)
    saved = saved_searches.save(reader, name="Ashworth", query="ashworth",
                                inquiry_id=inquiry.id)
    backdate_runs(saved)
    restricted = add_text(admin_client, inquiry, "Ashworth restricted material.", "r.txt")
    sensitive = add_text(admin_client, inquiry, "Ashworth sensitive material.", "s.txt")
    restricted.restricted = True
    sensitive.marking = "OFFICIAL-SENSITIVE"
    db.session.commit()
    indexing.index_documents([restricted.id, sensitive.id])
    assert saved_searches.new_since_last_run(reader, saved).count == 0
    # The same search, seen by someone cleared for both, counts both.
    admin = db.session.execute(select(type(reader)).where(type(reader).is_admin)).scalar_one()
    assert saved_searches.new_since_last_run(admin, saved).count == 2


def test_another_inquirys_documents_are_not_counted(app, admin_client, inquiry):
    reader = make_user("reader@example.org", "reader", inquiry)
    saved = saved_searches.save(reader, name="All", query="zebracrossing")
    backdate_runs(saved)
    other = create_inquiry("ROT", "Rotherham")
    add_text(admin_client, other, "Zebracrossing in Rotherham.", "rot.txt")
    assert saved_searches.new_since_last_run(reader, saved).count == 0


def test_shared_searches_are_seen_only_by_members_of_that_inquiry(app, admin_client,
                                                                   inquiry):
    add_text(admin_client, inquiry, "Abuse reported early.", "early.txt")
    other = create_inquiry("ROT", "Rotherham")
    owner = make_user("owner@example.org", "legal", inquiry)
    colleague = make_user("colleague@example.org", "reader", inquiry)
    outsider = make_user("outsider@example.org", "reader", other)
    shared = saved_searches.save(owner, name="Shared", query="abuse", inquiry_id=inquiry.id,
                                 shared=True)
    private = saved_searches.save(owner, name="Private", query="abuse", inquiry_id=inquiry.id)

    def names(user):
        return [item.saved.name for item in saved_searches.listing(user)]

    assert names(owner) == ["Private", "Shared"]
    assert names(colleague) == ["Shared"]
    assert names(outsider) == []
    assert saved_searches.get_for(outsider, shared.id) is None
    assert saved_searches.get_for(colleague, private.id) is None
    # Sharing needs one inquiry the owner belongs to.
    with pytest.raises(saved_searches.BadInput) as refused:
        saved_searches.save(owner, name="x", query="abuse", shared=True)
    assert "shared" in refused.value.errors
    with pytest.raises(saved_searches.BadInput) as refused:
        saved_searches.save(owner, name="x", query="abuse", inquiry_id=other.id, shared=True)
    assert "inquiry" in refused.value.errors
    # A colleague's count starts from the saving until they run it themselves.
    backdate_runs(shared)
    add_text(admin_client, inquiry, "Abuse reported late.", "late.txt")
    new = saved_searches.new_since_last_run(colleague, shared)
    assert (new.count, new.ran_before) == (1, False)


def test_pages_save_list_run_and_delete(app, admin_client, inquiry):
    add_text(admin_client, inquiry, "Referral from the school nurse.", "n.txt")
    owner = make_user("owner@example.org", "legal", inquiry)
    colleague = make_user("colleague@example.org", "reader", inquiry)
    client = app.test_client()
    login(client, owner.email)
    response = client.post("/searches/saved", data={
        "name": "<script>Nurse</script>", "q": "nurse", "inquiry": str(inquiry.id),
        "filters": f"q=nurse&inquiry={inquiry.id}&page=3&type=report&_external=1"
                   "&_scheme=javascript",
        "shared": "yes"})
    assert response.status_code == 303
    saved = db.session.execute(select(SavedSearch)).scalar_one()
    assert saved.shared and saved_searches.filters_of(saved) == {
        "inquiry": [str(inquiry.id)], "type": ["report"]}
    listing = client.get("/searches/")
    assert listing.status_code == 200
    assert b"<script>Nurse" not in listing.data and b"&lt;script&gt;Nurse" in listing.data
    assert b"0 new since you last ran it" in listing.data

    run = client.get(f"/searches/saved/{saved.id}/run")
    assert run.status_code == 302
    target = urlparse(run.headers["Location"])
    assert target.path == "/" and not target.scheme
    assert parse_qs(target.query) == {"q": ["nurse"], "inquiry": [str(inquiry.id)],
                                      "type": ["report"]}

    mate = app.test_client()
    login(mate, colleague.email)
    assert b"Shared by owner@example.org" in mate.get("/searches/").data
    assert mate.get(f"/searches/saved/{saved.id}/run").status_code == 302
    assert mate.post(f"/searches/saved/{saved.id}/delete").status_code == 404
    assert db.session.get(SavedSearch, saved.id) is not None

    assert client.post(f"/searches/saved/{saved.id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(SavedSearch, saved.id) is None
    assert not db.session.execute(select(SavedSearchRun)).scalars().all()
    assert "saved_search_deleted" in actions()
    assert client.get(f"/searches/saved/{saved.id}/run").status_code == 404


def test_save_form_errors_are_shown(app, admin_client, inquiry):
    response = admin_client.post("/searches/saved", data={"name": "", "q": "abuse"})
    assert response.status_code == 400
    assert b"There is a problem" in response.data and b"Enter a name" in response.data
    response = admin_client.post("/searches/saved", data={"name": "x", "q": "abuse",
                                                          "shared": "yes"})
    assert response.status_code == 400 and b"only be shared" in response.data
