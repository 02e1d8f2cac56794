"""Legal review: tags, coding, notes, queues, history, bulk actions and exports, through the
pages, with the real database, queue (immediate mode) and search index."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, Coding, Document, DocumentTag, Membership, Note, Tag
from tests import samples
from tests.conftest import login, make_user, on_tantivy_too, upload, with_whoosh


@pytest.fixture
def world(app, admin_client, inquiry):
    """OLD with four documents about "Operation Fern" (one OFFICIAL-SENSITIVE), ROT with
    one, a legal user of OLD who is only a reader in ROT, and a researcher of OLD."""
    files = [(samples.make_pdf([f"Operation Fern statement {n}.", "Page two text."]),
              f"s{n}.pdf") for n in range(4)]
    upload(admin_client, inquiry, files)
    rot = create_inquiry("ROT", "Rotherham")
    upload(admin_client, rot, [(samples.make_pdf(["Operation Fern in Rotherham."]), "r.pdf")])
    docs = db.session.execute(select(Document).order_by(Document.id)).scalars().all()
    admin_client.post(f"/documents/{docs[3].id}/marking", data={
        "marking": "OFFICIAL-SENSITIVE", "restricted": "no"})
    legal = make_user("legal@example.org", "legal", inquiry)
    # In ROT the same person only reads: they see its documents but may not change them.
    db.session.add(Membership(user_id=legal.id, inquiry_id=rot.id, role="reader"))
    make_user("researcher@example.org", "researcher", inquiry)
    db.session.commit()
    return docs, legal, rot


def _client(app, email):
    client = app.test_client()
    login(client, email)
    return client


def _tag(client, inquiry_id, name="Operation X", colour="blue"):
    response = client.post("/review/tags", data={"inquiry": inquiry_id, "name": name,
                                                 "colour": colour, "description": "d"})
    assert response.status_code == 303, response.data[:400]
    return db.session.execute(select(Tag).where(Tag.name == name)).scalar_one()


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def _tagged(tag):
    return set(db.session.execute(select(DocumentTag.document_id)
                                  .where(DocumentTag.tag_id == tag.id)).scalars())


@on_tantivy_too
def test_tag_a_whole_result_set_after_seeing_the_count_then_filter_and_facet(app, world,
                                                                            inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    tag = _tag(client, inquiry.id)
    # The action covers every match the user may see, not the page on screen: 3 in OLD
    # (the fourth is OFFICIAL-SENSITIVE, beyond their clearance) and 1 in ROT, where they
    # only read.
    args = {"q": "fern", "action": "tag_add", "apply_tag": tag.id}
    preview = client.get("/review/bulk", query_string=args)
    assert preview.status_code == 200
    assert b"Act on 4 documents" in preview.data
    assert b"3 documents will be tagged" in preview.data
    assert b"1 will be skipped because you may not change it" in preview.data
    assert _tagged(tag) == set()  # nothing changes before confirming
    done = client.post("/review/bulk", data=args)
    assert done.status_code == 303
    assert _tagged(tag) == {d.id for d in docs[:3]}
    page = client.get(done.headers["Location"])
    assert "3 documents tagged “Operation X”, 1 skipped".encode() in page.data
    assert len(_events("tag_added")) == 3
    # Shown on results, usable as a filter, counted as a facet.
    filtered = client.get("/", query_string={"q": "fern", "tag": str(tag.id)})
    assert b"3 documents" in filtered.data and b"app-tag" in filtered.data
    assert b"Operation X <span class=\"app-count\">(3" in filtered.data
    shown = client.get(f"/documents/{docs[0].id}")
    assert b"Operation X" in shown.data


@on_tantivy_too
def test_mixed_selection_changes_none_of_the_forbidden_documents(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    tag = _tag(client, inquiry.id)
    rot_doc = docs[4]
    ticked = [docs[0].id, rot_doc.id, 999_999]  # one allowed, one read-only, one unknown
    response = client.post("/review/bulk", data={"doc": ticked, "action": "tag_add",
                                                 "apply_tag": tag.id})
    assert response.status_code == 303
    assert _tagged(tag) == {docs[0].id}
    follow = client.get(response.headers["Location"])
    assert b"1 document tagged" in follow.data and b"2 skipped" in follow.data
    # Assignment: the same selection, the same answer; the ROT document keeps no coding.
    response = client.post("/review/bulk", data={"doc": ticked, "action": "assign",
                                                 "assignee": legal.id})
    assert response.status_code == 303
    codings = db.session.execute(select(Coding)).scalars().all()
    assert [(c.document_id, c.reviewer_id) for c in codings] == [(docs[0].id, legal.id)]
    assert b"2 skipped" in client.get(response.headers["Location"]).data


@on_tantivy_too
def test_rename_and_merge_tags_keep_documents_and_search(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    first, second = _tag(client, inquiry.id, "Op X"), _tag(client, inquiry.id, "Op Y")
    client.post("/review/bulk", data={"doc": [docs[0].id], "action": "tag_add",
                                      "apply_tag": first.id})
    client.post("/review/bulk", data={"doc": [docs[1].id], "action": "tag_add",
                                      "apply_tag": second.id})
    assert client.post(f"/review/tags/{first.id}/edit", data={
        "name": "Operation X", "colour": "red", "description": ""}).status_code == 303
    assert client.post(f"/review/tags/{second.id}/edit", data={
        "name": "operation x", "colour": "red", "description": ""}).status_code == 400
    response = client.post(f"/review/tags/{second.id}/merge", data={"into": first.id})
    assert response.status_code == 303
    assert db.session.get(Tag, second.id) is None
    assert _tagged(first) == {docs[0].id, docs[1].id}
    found = client.get("/", query_string={"q": "fern", "tag": str(first.id)})
    assert b"2 documents" in found.data and b"Operation X" in found.data


@on_tantivy_too
def test_coding_form_saves_every_field_is_audited_and_filters_search(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    document = docs[0]
    response = client.post(f"/review/documents/{document.id}/coding", data={
        "relevance": "relevant", "privilege": "legal_advice", "review_status": "second_review",
        "reviewer_id": str(legal.id), "redaction_needed": "yes", "redaction_pages": "2, 1",
        "redaction_reason": "victim", "marking": "OFFICIAL", "restricted": "yes",
        "restriction_ref": "RO-2025-03"})
    assert response.status_code == 303, response.data[:500]
    coding = db.session.execute(select(Coding)).scalar_one()
    assert (coding.relevance, coding.privilege, coding.review_status, coding.reviewer_id,
            coding.redaction_needed, coding.redaction_pages, coding.redaction_reason) == (
        "relevant", "legal_advice", "second_review", legal.id, True, "1-2", "victim")
    db.session.refresh(document)
    assert document.restricted and document.restriction_ref == "RO-2025-03"
    event = _events("coding_changed")[-1]
    assert json.loads(event.details)["changes"]["relevance"] == ["not_reviewed", "relevant"]
    assert _events("marking_changed")
    # Legal here has no restricted access: the document is now beyond reach.
    assert b"0 documents" in client.get("/", query_string={"q": "fern",
                                                          "relevance": "relevant"}).data
    admin = _client(app, "admin@example.org")
    found = admin.get("/", query_string={"q": "fern", "relevance": "relevant",
                                         "privilege": "legal_advice", "review": "second_review",
                                         "reviewer": str(legal.id), "redaction": "yes"})
    assert b"1 document," in found.data and b"OLD000001" in found.data
    facets = admin.get("/", query_string={"q": "fern"}).data.decode()
    for label, count in (("Relevant", 1), ("Not reviewed", 4), ("Legal advice privilege", 1),
                         ("Second review", 1), ("legal@example.org", 1), ("Nobody", 4)):
        assert f'{label} <span class="app-count">({count}<' in facets, label
    assert "Redaction needed" in facets and "Under a restriction order" in facets
    assert b"0 documents" in admin.get("/", query_string={"q": "fern",
                                                          "relevance": "not_relevant"}).data


def test_coding_refuses_bad_values_and_the_wrong_roles(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    bad = client.post(f"/review/documents/{docs[0].id}/coding", data={
        "relevance": "very", "privilege": "none", "review_status": "done",
        "redaction_needed": "yes", "redaction_pages": "1-99", "redaction_reason": ""})
    assert bad.status_code == 400 and b"Choose how relevant" in bad.data
    assert b"Enter pages between 1 and 2" in bad.data
    assert db.session.execute(select(Coding)).first() is None
    researcher = _client(app, "researcher@example.org")
    assert researcher.post(f"/review/documents/{docs[0].id}/coding", data={
        "relevance": "relevant", "privilege": "none", "review_status": "done"}
    ).status_code == 403
    assert client.post(f"/review/documents/{docs[4].id}/coding", data={
        "relevance": "relevant", "privilege": "none", "review_status": "done"}
    ).status_code == 403  # ROT: a reader there
    assert db.session.execute(select(Coding)).first() is None


def test_queue_previous_next_and_save_and_next(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    client.post("/review/bulk", data={"doc": [d.id for d in docs[:3]], "action": "assign",
                                      "assignee": legal.id})
    queue = client.get("/review/queue?name=mine")
    assert b"Assigned to me: 3 documents" in queue.data
    first = client.get(f"/review/documents/{docs[0].id}/coding?queue=mine")
    assert b"Document 1 of 3" in first.data and b"Next document" in first.data
    saved = client.post(f"/review/documents/{docs[0].id}/coding?queue=mine", data={
        "then": "next", "relevance": "relevant", "privilege": "none",
        "review_status": "done", "reviewer_id": str(legal.id)})
    assert saved.headers["Location"].startswith(f"/review/documents/{docs[1].id}/coding")
    assert "queue=mine" in saved.headers["Location"]
    assert b"Assigned to me: 2 documents" in client.get("/review/queue?name=mine").data
    unreviewed = client.get("/review/queue?name=unreviewed")
    assert b"Not yet reviewed: 3 documents" in unreviewed.data  # 2 in OLD, 1 in ROT
    # Through a search's results too, without going back to the list; the search's own
    # filters (here on relevance) are kept apart from the coding fields of the same name.
    page = client.get(f"/review/documents/{docs[1].id}/coding", query_string={"q": "fern"})
    assert b"Previous document" in page.data and b"Next document" in page.data
    url = f"/review/documents/{docs[1].id}/coding?q=fern&relevance=not_reviewed"
    assert b"Document 1 of 3" in client.get(url).data  # 2 in OLD, 1 in ROT
    saved = client.post(url, data={"then": "next", "relevance": "partly_relevant",
                                   "privilege": "none", "review_status": "in_progress"})
    assert saved.status_code == 303
    assert saved.headers["Location"].startswith(f"/review/documents/{docs[2].id}/coding")
    assert "relevance=not_reviewed" in saved.headers["Location"]
    assert db.session.execute(select(Coding.relevance).where(
        Coding.document_id == docs[1].id)).scalar_one() == "partly_relevant"


@on_tantivy_too
def test_notes_anchor_to_pages_keep_history_and_are_searchable_within_reach(app, world,
                                                                            inquiry):
    docs, legal, _ = world
    researcher = _client(app, "researcher@example.org")
    response = researcher.post(f"/review/documents/{docs[0].id}/notes", data={
        "page": "2", "quote": "Page two text.",
        "body": "Contradicts the earlier statement <script>x</script>"})
    assert response.status_code == 303
    note = db.session.execute(select(Note)).scalar_one()
    shown = researcher.get(f"/documents/{docs[0].id}")
    assert f'id="note-{note.id}"'.encode() in shown.data
    assert b"&lt;script&gt;x&lt;/script&gt;" in shown.data and b"<script>x" not in shown.data
    legal = _client(app, legal.email)
    assert legal.get(f"/review/notes/{note.id}/edit").status_code == 403
    assert legal.post(f"/review/notes/{note.id}/edit", data={"body": "no"}).status_code == 403
    assert researcher.post(f"/review/notes/{note.id}/edit", data={
        "body": "Contradicts the statement of 2012", "quote": ""}).status_code == 303
    db.session.refresh(note)
    assert note.body == "Contradicts the statement of 2012"
    assert [r.body for r in note.revisions] == [
        "Contradicts the earlier statement <script>x</script>"]
    assert b"1 note" in legal.get("/review/notes?q=contradicts 2012").data
    assert b"statement of 2012" in legal.get("/review/notes?q=contradicts").data
    # Someone outside the inquiry finds nothing, and the note's page is a 404.
    make_user("outsider@example.org", "legal", db.session.get(Document, docs[4].id).inquiry)
    outsider = _client(app, "outsider@example.org")
    assert b"0 notes" in outsider.get("/review/notes?q=contradicts").data
    assert outsider.get(f"/review/notes/{note.id}/edit").status_code == 404


def test_history_lists_every_change_with_before_and_after(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    tag = _tag(client, inquiry.id)
    document = docs[0]
    client.post(f"/review/documents/{document.id}/tags", data={"tag": tag.id,
                                                               "action": "add"})
    client.post(f"/review/documents/{document.id}/coding", data={
        "relevance": "partly_relevant", "privilege": "none", "review_status": "in_progress"})
    client.post(f"/review/documents/{document.id}/notes", data={"page": "1", "body": "N1"})
    admin = _client(app, "admin@example.org")
    admin.post(f"/documents/{document.id}/edit", data={"title": "Renamed", "doc_type": "other"})
    page = client.get(f"/review/documents/{document.id}/history").data.decode()
    for text in ("Tag added", "Operation X", "Coding", "Not reviewed", "Partly relevant",
                 "Note added", "N1", "Details", "Renamed", "legal@example.org",
                 "admin@example.org"):
        assert text in page, text
    client.post(f"/review/documents/{document.id}/tags", data={"tag": tag.id,
                                                               "action": "remove"})
    assert "Tag removed" in client.get(f"/review/documents/{document.id}/history").data.decode()


def test_coding_csv_export_is_audited_neutralised_and_within_reach(app, world, inquiry):
    docs, legal, _ = world
    admin = _client(app, "admin@example.org")
    admin.post(f"/documents/{docs[0].id}/edit", data={"title": "=HYPERLINK(\"x\")",
                                                      "doc_type": "other"})
    client = _client(app, legal.email)
    response = client.get("/review/export.csv", query_string={"q": "fern"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode())))
    assert rows[0][:3] == ["URN", "Title", "Inquiry"]
    # OLD's OFFICIAL documents; ROT's is skipped (no export right there).
    assert sorted(r[0] for r in rows[1:]) == [d.urn for d in docs[:3]]
    assert "'=HYPERLINK(\"x\")" in [r[1] for r in rows]
    event = _events("coding_exported")[-1]
    assert json.loads(event.details)["rows"] == 3
    assert json.loads(event.details)["skipped"] == 1
    reader = _client(app, "researcher@example.org")
    assert reader.get("/review/export.csv?q=fern").status_code == 403


def test_disclosure_bundle_zip_index_and_manifest(app, world, inquiry):
    docs, legal, _ = world
    client = _client(app, legal.email)
    args = {"doc": [docs[0].id, docs[1].id, docs[4].id], "action": "bundle",
            "name": "CP bundle"}
    preview = client.get("/review/bulk", query_string=args)
    assert b"2 documents will be put in the bundle" in preview.data
    response = client.post("/review/bulk", data=args)
    assert response.status_code == 303
    progress = client.get(response.headers["Location"])
    assert b"Ready: 2 of 2 documents added" in progress.data
    partial = client.get(response.headers["Location"], headers={"HX-Request": "true"})
    assert partial.data.lstrip().startswith(b'<div id="bundle-progress"')
    bundle_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    download = client.get(f"/review/bundles/{bundle_id}/bundle.zip")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = sorted(archive.namelist())
    assert names == sorted([f"originals/{docs[0].urn}.pdf", f"originals/{docs[1].urn}.pdf",
                            "index.csv", "manifest.txt"])
    manifest = dict(line.split("  ")[::-1] for line in
                    archive.read("manifest.txt").decode().splitlines())
    for name in names:
        if name != "manifest.txt":
            assert manifest[name] == hashlib.sha256(archive.read(name)).hexdigest()
    assert manifest[f"originals/{docs[0].urn}.pdf"] == docs[0].sha256
    index_rows = list(csv.reader(io.StringIO(archive.read("index.csv").decode())))
    assert [r[0] for r in index_rows[1:]] == [docs[0].urn, docs[1].urn]
    for action in ("bundle_requested", "bundle_built", "bundle_downloaded"):
        assert _events(action), action
    other = _client(app, "admin@example.org")
    assert other.get(f"/review/bundles/{bundle_id}").status_code == 404
    assert other.get(f"/review/bundles/{bundle_id}/bundle.zip").status_code == 404


@on_tantivy_too
def test_tag_counts_never_include_documents_beyond_reach(app, world, inquiry):
    docs, legal, _ = world
    admin = _client(app, "admin@example.org")
    tag = _tag(admin, inquiry.id)
    admin.post("/review/bulk", data={"doc": [d.id for d in docs[:4]], "action": "tag_add",
                                     "apply_tag": tag.id})
    # docs[3] is OFFICIAL-SENSITIVE; legal is cleared for OFFICIAL only.
    client = _client(app, legal.email)
    page = client.get("/review/tags").data.decode()
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">3</td>' in page
    found = client.get("/", query_string={"q": "fern"}).data.decode()
    assert 'Operation X <span class="app-count">(3<' in found


@with_whoosh
def test_an_index_from_before_review_fields_asks_for_reindex_then_works(app, world, runner):
    from whoosh import index
    from whoosh.fields import ID, Schema

    from inquiry_docs.search import backend

    directory = app.config["INDEX_DIR"]
    search = backend()
    search._index = None  # as if the app had just started on the old index
    search._local = __import__("threading").local()
    index.create_in(directory, Schema(key=ID(unique=True)))
    client = _client(app, "admin@example.org")
    response = client.get("/", query_string={"q": "fern"})
    assert response.status_code == 503 and b"inquiry-docs reindex" in response.data
    from inquiry_docs.access import tokens
    from inquiry_docs.models import User

    admin = db.session.execute(select(User).where(User.email == "admin@example.org")).scalar_one()
    bearer = {"Authorization": f"Bearer {tokens.create(admin, 'api')[1]}"}
    api = app.test_client().get("/api/v1/search", query_string={"q": "fern"}, headers=bearer)
    assert api.status_code == 503 and api.is_json  # the API answers in JSON, not a page
    assert "rebuilt" in api.get_json()["error"]
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert b"5 documents" in client.get("/", query_string={"q": "fern"}).data


@on_tantivy_too
def test_acting_on_all_results_covers_more_than_the_page_on_screen(app, admin_client, inquiry):
    files = [(f"Operation Kestrel log entry {n}.\n".encode(), f"log{n}.txt") for n in range(25)]
    upload(admin_client, inquiry, files)
    results = admin_client.get("/", query_string={"q": "kestrel"}).data.decode()
    assert "25 documents" in results and results.count('class="app-result"') == 20
    tag = _tag(admin_client, inquiry.id, "Operation Kestrel")
    args = {"q": "kestrel", "action": "tag_add", "apply_tag": tag.id}
    assert b"25 documents will be tagged" in admin_client.get("/review/bulk",
                                                             query_string=args).data
    admin_client.post("/review/bulk", data=args)
    assert len(_tagged(tag)) == 25
    assert b"25 documents" in admin_client.get("/", query_string={"q": "kestrel",
                                                                  "tag": str(tag.id)}).data


def test_bundle_job_leaves_out_documents_the_requester_can_no_longer_see(app, world, inquiry):
    from inquiry_docs.models import Bundle
    from inquiry_docs.review import bundles

    docs, legal, _ = world
    # Asked for while both were visible; one went under a restriction order before the
    # job ran.
    bundle = Bundle(user_id=legal.id, name="Late", document_ids=json.dumps(
        [docs[0].id, docs[1].id]), total=2)
    db.session.add(bundle)
    db.session.commit()
    admin = _client(app, "admin@example.org")
    admin.post(f"/documents/{docs[1].id}/marking", data={
        "marking": "OFFICIAL", "restricted": "yes", "restriction_ref": "RO-1"})
    assert bundles.build_bundle(bundle.id) == "done"
    db.session.refresh(bundle)
    archive = zipfile.ZipFile(bundles.path_of(bundle))
    assert f"originals/{docs[0].urn}.pdf" in archive.namelist()
    assert not any(docs[1].urn in name for name in archive.namelist())
    assert docs[1].urn not in archive.read("index.csv").decode()
    assert bundle.sha256 == hashlib.sha256(bundles.path_of(bundle).read_bytes()).hexdigest()
