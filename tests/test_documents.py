"""Document pages: metadata editing, provenance, access, and the audit of each view."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, Document
from tests import samples
from tests.conftest import login, make_user, on_tantivy_too, upload


def _one_document(admin_client, inquiry) -> Document:
    upload(admin_client, inquiry, [(samples.make_pdf(["Police log about the school."]),
                                    "log.pdf")])
    return db.session.execute(select(Document)).scalar_one()


@on_tantivy_too
def test_edit_metadata_is_audited_with_before_and_after_and_reindexed(app, admin_client,
                                                                       inquiry):
    document = _one_document(admin_client, inquiry)
    response = admin_client.post(f"/documents/{document.id}/edit", data={
        "title": "Police log 2012", "doc_type": "exhibit", "source": "GMP",
        "day": "27", "month": "3", "year": "2012"})
    assert response.status_code == 302
    db.session.refresh(document)
    assert (document.title, document.doc_type, document.source) == ("Police log 2012",
                                                                     "exhibit", "GMP")
    assert document.document_date.year == 2012 and document.status == "indexed"
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "metadata_changed")).scalar_one()
    assert '"title": ["log", "Police log 2012"]' in event.details
    found = admin_client.get("/?q=title%3A2012")
    assert b"OLD000001" in found.data


def test_edit_rejects_bad_dates_without_saving(app, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    response = admin_client.post(f"/documents/{document.id}/edit", data={
        "title": "x", "doc_type": "exhibit", "source": "", "day": "31", "month": "2",
        "year": "2012"})
    assert response.status_code == 400 and b"Enter a real date" in response.data
    db.session.refresh(document)
    assert document.title == "log"


def test_reader_cannot_edit_or_retry_or_upload(app, client, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    admin_client.post("/auth/logout")
    make_user("reader@example.org", "reader", inquiry)
    login(client, "reader@example.org")
    assert client.get(f"/documents/{document.id}").status_code == 200
    assert client.get(f"/documents/{document.id}/edit").status_code == 403
    assert client.post(f"/documents/{document.id}/retry").status_code == 403
    assert client.get("/upload/").status_code == 403
    assert client.get("/inquiries/new").status_code == 403


@on_tantivy_too
def test_other_inquiry_document_is_404_everywhere(app, client, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    other = create_inquiry("ROT", "Rotherham")
    make_user("outsider@example.org", "secretariat", other)
    admin_client.post("/auth/logout")
    login(client, "outsider@example.org")
    for path in (f"/documents/{document.id}", f"/documents/{document.id}/original",
                 f"/documents/{document.id}/edit", "/documents/999999"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/documents/{document.id}/retry").status_code == 404
    assert b"OLD000001" not in client.get("/?q=police").data
    assert b"OLD000001" not in client.get("/documents/").data
    assert b"0 documents" in client.get("/?q=police").data


def test_numbers_too_big_for_the_database_are_not_found_rather_than_errors(app, admin_client,
                                                                          inquiry):
    # SQLite finds nothing for such an id; PostgreSQL would refuse to compare it.
    document = _one_document(admin_client, inquiry)
    huge = "99999999999"
    for path in (f"/documents/{huge}", f"/documents/{huge}/original",
                 f"/documents/{document.id}/pages/{huge}/thumb.png", f"/review/tags/{huge}/edit"):
        assert admin_client.get(path).status_code == 404, path
    for path in (f"/documents/?inquiry={huge}", f"/documents/?page={huge}",
                 f"/documents/{document.id}?at={huge}&q=police",
                 f"/documents/{document.id}/similar?page={huge}", f"/?q=police&inquiry={huge}",
                 f"/?q=police&page={huge}", f"/review/notes?page={huge}",
                 f"/admin/audit?document={huge}"):
        assert admin_client.get(path).status_code in (200, 400), path
    response = admin_client.post(f"/review/documents/{document.id}/tags", data={"tag": huge})
    assert response.status_code in (302, 303), response.status_code


@on_tantivy_too
def test_sensitive_document_hidden_from_official_clearance(app, client, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    document.marking = "OFFICIAL-SENSITIVE"
    db.session.commit()
    from inquiry_docs.evidence.indexing import index_documents

    index_documents([document.id])
    make_user("reader@example.org", "reader", inquiry, clearance="OFFICIAL")
    make_user("cleared@example.org", "reader", inquiry, clearance="OFFICIAL-SENSITIVE")
    admin_client.post("/auth/logout")
    login(client, "reader@example.org")
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert b"0 documents" in client.get("/?q=police").data
    client.post("/auth/logout")
    login(client, "cleared@example.org")
    assert client.get(f"/documents/{document.id}").status_code == 200
    assert b"OLD000001" in client.get("/?q=police").data


def test_views_and_downloads_are_audited(app, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    admin_client.get(f"/documents/{document.id}")
    admin_client.get(f"/documents/{document.id}/original")
    actions = db.session.execute(select(AuditEvent.action).where(
        AuditEvent.object_id == str(document.id))).scalars().all()
    assert "document_viewed" in actions and "original_downloaded" in actions


def test_signed_out_session_cookie_no_longer_works(app, client, admin):
    login(client, admin.email)
    cookie = client.get_cookie("session")
    assert client.get("/documents/").status_code == 200
    client.post("/auth/logout")
    client.set_cookie("session", cookie.value)
    response = client.get("/documents/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_security_headers(app, admin_client):
    response = admin_client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


@on_tantivy_too
def test_restricted_document_needs_restricted_access(app, client, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    document.restricted = True
    document.restriction_ref = "RO-3"
    db.session.commit()
    from inquiry_docs.evidence.indexing import index_documents

    index_documents([document.id])
    make_user("reader@example.org", "reader", inquiry, clearance="OFFICIAL-SENSITIVE")
    admin_client.post("/auth/logout")
    login(client, "reader@example.org")
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert b"0 documents" in client.get("/?q=police").data
    from inquiry_docs.models import Membership

    db.session.execute(select(Membership)).scalar_one().restricted_access = True
    db.session.commit()
    assert client.get(f"/documents/{document.id}").status_code == 200
    assert b"OLD000001" in client.get("/?q=police").data


@on_tantivy_too
def test_legal_user_places_a_restriction_order_and_search_follows(app, client, admin_client,
                                                                   inquiry):
    document = _one_document(admin_client, inquiry)
    admin_client.post("/auth/logout")
    make_user("legal@example.org", "legal", inquiry, clearance="OFFICIAL-SENSITIVE")
    make_user("reader@example.org", "reader", inquiry, clearance="OFFICIAL-SENSITIVE")
    login(client, "legal@example.org")
    missing_ref = client.post(f"/documents/{document.id}/marking", data={
        "marking": "OFFICIAL-SENSITIVE", "restricted": "yes", "restriction_ref": ""})
    assert missing_ref.status_code == 400 and b"restriction order reference" in missing_ref.data
    response = client.post(f"/documents/{document.id}/marking", data={
        "marking": "OFFICIAL-SENSITIVE", "restricted": "yes", "restriction_ref": "RO-1",
        "restriction_reason": "Names a complainant"})
    assert response.status_code == 302
    db.session.refresh(document)
    assert document.restricted and document.restriction_ref == "RO-1"
    assert document.status == "indexed"
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "marking_changed")).scalar_one()
    assert '"restricted": [false, true]' in event.details
    client.post("/auth/logout")
    login(client, "reader@example.org")
    assert b"0 documents" in client.get("/?q=police").data
    assert client.get(f"/documents/{document.id}/marking").status_code == 404


def test_refused_document_attempts_are_audited(app, client, admin_client, inquiry):
    document = _one_document(admin_client, inquiry)
    other = create_inquiry("ROT", "Rotherham")
    make_user("outsider@example.org", "reader", other)
    admin_client.post("/auth/logout")
    login(client, "outsider@example.org")
    assert client.get(f"/documents/{document.id}").status_code == 404
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "document_refused")).scalar_one()
    assert event.actor == "outsider@example.org" and event.object_id == str(document.id)


def test_restricted_attachment_is_not_named_on_its_parent_or_in_the_batch(app, client,
                                                                          admin_client,
                                                                          inquiry):
    eml = samples.make_eml("Referral", "See attached.",
                           [("secret.pdf", samples.make_pdf(["attached police text"]))])
    upload(admin_client, inquiry, [(eml, "referral.eml")])
    parent, child = db.session.execute(select(Document).order_by(Document.id)).scalars().all()
    child.restricted, child.restriction_ref = True, "RO-9"
    child.title = "Secret attachment title"
    db.session.commit()
    make_user("sec@example.org", "secretariat", inquiry)
    admin_client.post("/auth/logout")
    login(client, "sec@example.org")
    page = client.get(f"/documents/{parent.id}").data
    assert child.urn.encode() not in page and b"Secret attachment title" not in page
    upload(client, inquiry, [(eml, "again.eml")])
    from inquiry_docs.models import Batch

    batch = db.session.execute(select(Batch).order_by(Batch.id.desc())).scalars().first()
    body = client.get(f"/upload/batches/{batch.id}").data
    assert parent.urn.encode() in body
