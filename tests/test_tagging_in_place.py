"""Tagging where the user is: a new or existing tag from a document page or a search
result, and a label change that never makes a document look unsearchable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import indexing, metadata
from inquiry_docs.models import AuditEvent, Document, DocumentTag, Membership, Status, Tag
from tests import samples
from tests.conftest import login, make_user, on_tantivy_too, upload


@pytest.fixture
def world(app, admin_client, inquiry):
    """Two OLD documents about "Operation Fern", one ROT document, a legal user of OLD who
    only reads ROT, and a researcher of OLD (who may not tag)."""
    upload(admin_client, inquiry, [(samples.make_pdf([f"Operation Fern statement {n}."]),
                                    f"s{n}.pdf") for n in range(2)])
    rot = create_inquiry("ROT", "Rotherham")
    upload(admin_client, rot, [(samples.make_pdf(["Operation Fern in Rotherham."]), "r.pdf")])
    docs = db.session.execute(select(Document).order_by(Document.id)).scalars().all()
    legal = make_user("legal@example.org", "legal", inquiry)
    db.session.add(Membership(user_id=legal.id, inquiry_id=rot.id, role="reader"))
    make_user("researcher@example.org", "researcher", inquiry)
    db.session.commit()
    client = app.test_client()
    login(client, legal.email)
    return docs, client


def _create(client, document, name, colour="purple", **extra):
    return client.post(f"/review/documents/{document.id}/tags",
                       data={"action": "create", "new_name": name, "new_colour": colour,
                             **extra})


def _tags_of(document):
    return set(db.session.execute(select(Tag.name).join(DocumentTag)
                                  .where(DocumentTag.document_id == document.id)).scalars())


def _actions():
    return [e.action for e in db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id)).scalars()]


@on_tantivy_too
def test_a_new_tag_typed_on_the_document_page_is_created_applied_audited_and_searchable(
        app, world):
    docs, client = world
    page = client.get(f"/documents/{docs[0].id}")
    assert b"This inquiry has no tags yet" in page.data  # an empty list says how to start
    assert b"type a new tag's name where you are" in client.get("/review/tags").data
    assert b"Name of the new tag" in page.data
    response = _create(client, docs[0], "  Needs   redaction ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/documents/{docs[0].id}#review")
    tag = db.session.execute(select(Tag).where(Tag.name == "Needs redaction")).scalar_one()
    assert (tag.colour, tag.inquiry_id) == ("purple", docs[0].inquiry_id)
    assert _tags_of(docs[0]) == {"Needs redaction"}
    assert _actions()[-2:] == ["tag_created", "tag_added"]
    shown = client.get(f"/documents/{docs[0].id}").data
    assert b"Needs redaction" in shown and b"Searchable" in shown
    assert b"This inquiry has no tags yet" not in shown
    found = client.get("/", query_string={"q": "fern", "tag": str(tag.id)})
    assert b"1 document" in found.data and docs[0].urn.encode() in found.data


@on_tantivy_too
def test_a_name_the_inquiry_already_has_reuses_that_tag(app, world):
    docs, client = world
    _create(client, docs[0], "Operation X", "blue")
    response = _create(client, docs[1], "operation   x", "red")
    assert response.status_code == 303
    assert db.session.execute(select(Tag)).scalars().all()[0].colour == "blue"
    assert len(db.session.execute(select(Tag)).scalars().all()) == 1
    assert _tags_of(docs[1]) == {"Operation X"}
    assert _actions().count("tag_created") == 1
    # Again on a document that has it already: nothing changes, and the page says so.
    again = _create(client, docs[1], "Operation X")
    assert b"already has the tag" in client.get(again.headers["Location"]).data


def test_empty_too_long_and_badly_coloured_names_are_refused_clearly(app, world):
    docs, client = world
    for name, colour, message in (
            ("   ", "grey", b"Enter a name for the new tag"),
            ("x" * 61, "grey", b"The tag name must be 60 characters or fewer"),
            ("Fine", "tartan", b"Choose a colour for the new tag")):
        response = _create(client, docs[0], name, colour)
        assert response.status_code == 303
        page = client.get(response.headers["Location"])
        assert message in page.data and b"Nothing was changed on" in page.data
    assert db.session.execute(select(Tag)).scalars().all() == []
    assert "tag_created" not in _actions()


def test_only_who_may_tag_in_the_inquiry_creates_tags_there(app, world):
    docs, client = world
    assert _create(client, docs[2], "Rotherham tag").status_code == 403  # a reader in ROT
    researcher = app.test_client()
    login(researcher, "researcher@example.org")
    assert _create(researcher, docs[0], "Mine").status_code == 403
    assert b"Name of the new tag" not in researcher.get(f"/documents/{docs[0].id}").data
    assert b"Name of the new tag" not in client.get(f"/documents/{docs[2].id}").data
    assert db.session.execute(select(Tag)).scalars().all() == []


@on_tantivy_too
def test_search_results_offer_tagging_and_come_back_to_the_results(app, world):
    docs, client = world
    results = client.get("/", query_string={"q": "fern"})
    html = results.data.decode()
    assert f'id="tag-{docs[0].id}"' in html and f'form="new-tag-form-{docs[0].id}"' in html
    assert f'id="new-tag-form-{docs[0].id}"' in html
    assert f'id="tag-{docs[2].id}"' not in html  # ROT: this user only reads it
    back = f"/?q=fern#doc-{docs[0].id}"
    response = _create(client, docs[0], "From the results", next=back)
    assert response.headers["Location"].endswith(back)
    assert b"From the results" in client.get("/", query_string={"q": "fern"}).data
    tag = db.session.execute(select(Tag)).scalar_one()
    response = client.post(f"/review/documents/{docs[1].id}/tags",
                           data={"action": "add", "tag": tag.id, "next": back})
    assert _tags_of(docs[1]) == {"From the results"}
    # Somewhere else than this site: back to the document instead.
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = _create(client, docs[1], "From the results", next=elsewhere)
        assert response.headers["Location"].endswith(f"/documents/{docs[1].id}#review")


@on_tantivy_too
def test_a_label_change_keeps_the_document_searchable_while_the_index_catches_up(
        app, world, monkeypatch):
    docs, client = world
    waiting = []
    monkeypatch.setattr(metadata, "enqueue_index", lambda: waiting.append(1))
    _create(client, docs[0], "Pending tag")
    coded = client.post(f"/review/documents/{docs[0].id}/coding", data={
        "relevance": "relevant", "privilege": "none", "review_status": "in_progress"})
    assert coded.status_code == 303
    db.session.expire_all()
    document = db.session.get(Document, docs[0].id)
    assert document.status == Status.INDEXED
    assert document.labels_stale is bool(waiting)  # only where the index holds labels
    page = client.get(f"/documents/{docs[0].id}").data
    assert b"Searchable" in page and b">Indexing<" not in page
    results = client.get("/", query_string={"q": "fern"}).data
    assert b">Indexing<" not in results
    indexing.index_pending()  # the index run that was asked for
    db.session.expire_all()
    assert db.session.get(Document, docs[0].id).labels_stale is False
    tag = db.session.execute(select(Tag)).scalar_one()
    found = client.get("/", query_string={"q": "fern", "tag": str(tag.id)})
    assert b"1 document" in found.data
