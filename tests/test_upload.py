"""Uploading through the web: URNs, duplicates, progress, and every kind of bad input."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.evidence.storage import Store
from inquiry_docs.models import AuditEvent, BatchItem, Document, Page, Receipt
from tests import samples
from tests.conftest import upload


def docs() -> list[Document]:
    db.session.expire_all()
    return db.session.execute(select(Document).order_by(Document.id)).scalars().all()


def items() -> list[BatchItem]:
    db.session.expire_all()
    return db.session.execute(select(BatchItem).order_by(BatchItem.id)).scalars().all()


def stored(app) -> list[str]:
    return list(Store(app.config["UPLOAD_DIR"]).all_hashes())


def test_upload_assigns_urns_in_order_and_extracts_pages(app, admin_client, inquiry):
    pdf = samples.make_pdf(["Mandatory reporting was discussed.", "Second page text."],
                           title="Witness statement of A")
    docx_bytes = samples.make_docx(["First section about the school."])
    response = upload(admin_client, inquiry, [(pdf, "a.pdf"), (docx_bytes, "b.docx")],
                      doc_type="witness_statement", source="Greater Manchester Police")
    assert response.status_code == 303
    page = admin_client.get(response.headers["Location"])
    assert page.status_code == 200
    assert b"OLD000001" in page.data and b"OLD000002" in page.data
    first, second = docs()
    assert (first.urn, second.urn) == ("OLD000001", "OLD000002")
    assert first.status == "indexed" and first.page_count == 2
    assert first.title == "Witness statement of A"
    assert first.doc_type == "witness_statement" and first.source == "Greater Manchester Police"
    assert first.mime == "application/pdf" and first.size == len(pdf)
    texts = db.session.execute(select(Page.text).where(Page.document_id == first.id)
                               .order_by(Page.number)).scalars().all()
    assert "Mandatory reporting" in texts[0] and "Second page" in texts[1]
    assert second.status == "indexed"


def test_search_finds_the_phrase_and_the_page(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_pdf(["nothing here", "the mandatory "
                                    "reporting duty was ignored"]), "s.pdf")])
    response = admin_client.get("/?q=%22mandatory+reporting%22")
    assert response.status_code == 200
    assert b"OLD000001" in response.data
    assert b"<mark>mandatory</mark> <mark>reporting</mark>" in response.data
    assert b"#page-2" in response.data


def test_duplicate_is_reported_and_recorded_as_provenance(app, admin_client, inquiry):
    pdf = samples.make_pdf(["same bytes"])
    upload(admin_client, inquiry, [(pdf, "first.pdf")])
    response = upload(admin_client, inquiry, [(pdf, "second-name.pdf")])
    page = admin_client.get(response.headers["Location"])
    assert b"Duplicate" in page.data and b"Already held as OLD000001" in page.data
    assert len(docs()) == 1 and len(stored(app)) == 1
    receipts = db.session.execute(select(Receipt).order_by(Receipt.id)).scalars().all()
    assert [(r.filename, r.duplicate) for r in receipts] == [
        ("first.pdf", False), ("second-name.pdf", True)]


def test_the_same_file_uploaded_twice_at_once_gives_one_document(app, inquiry, admin):
    from tests.conftest import login

    pdf = samples.make_pdf(["concurrent upload"])
    email, inquiry_id = admin.email, inquiry.id
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def go():
        client = app.test_client()
        login(client, email)
        barrier.wait()
        statuses.append(upload(client, inquiry_id, [(pdf, "x.pdf")]).status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * 4
    assert len(docs()) == 1 and len(stored(app)) == 1
    outcomes = sorted(i.outcome for i in items())
    assert outcomes == ["duplicate", "duplicate", "duplicate", "received"]
    assert docs()[0].urn == "OLD000001"


@pytest.mark.parametrize(("content", "name", "reason"), [
    (b"", "empty.pdf", "The file is empty."),
    (samples.make_pdf(["a pdf"]), "statement.docx", "named .docx but its content is PDF"),
    (samples.make_elf(), "tool.pdf", "named .pdf but its content is a program"),
    (samples.make_windows_exe(), "setup.exe", "are not supported"),
    (samples.make_random_bytes(), "noise.pdf", "named .pdf but its content is"),
    (b"plain words", "notes.xyz", "extension .xyz is not supported"),
])
def test_refused_before_storage_with_a_reason(app, admin_client, inquiry, content, name,
                                              reason):
    response = upload(admin_client, inquiry, [(content, name)])
    page = admin_client.get(response.headers["Location"])
    assert b"Refused" in page.data
    item = items()[0]
    assert item.outcome == "rejected" and reason.lower() in item.reason.lower()
    assert docs() == [] and stored(app) == []
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "upload_rejected")).scalar() is not None


def test_over_the_size_limit_is_413_with_a_readable_page(tmp_path):
    from tests.conftest import build_app, login, make_user

    app = build_app(tmp_path, MAX_UPLOAD_MB=1)
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham")
        make_user("admin@example.org", "admin")
        client = app.test_client()
        login(client, "admin@example.org")
        response = upload(client, inquiry, [(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024),
                                             "big.pdf")])
        assert response.status_code == 413
        assert b"larger than the 1 MB limit" in response.data
        assert b"<html" in response.data
        assert list(Store(app.config["UPLOAD_DIR"]).all_hashes()) == []


@pytest.mark.parametrize(("maker", "name", "reason"), [
    (samples.make_encrypted_pdf, "locked.pdf", "encrypted"),
    (samples.make_truncated_pdf, "cut.pdf", ""),
    (samples.make_zip_bomb_docx, "bomb.docx", ""),
])
def test_unreadable_files_are_kept_failed_with_a_reason_and_retryable(
        app, admin_client, inquiry, maker, name, reason):
    content = maker()
    upload(admin_client, inquiry, [(content, name)])
    (document,) = docs()
    assert document.status == "failed"
    assert reason in document.reason.lower() and len(document.reason) > 10
    assert stored(app) == [document.sha256]
    attention = admin_client.get("/documents/attention")
    assert document.urn.encode() in attention.data and b"Retry" in attention.data
    retried = admin_client.post(f"/documents/{document.id}/retry")
    assert retried.status_code == 302
    assert docs()[0].attempts == 2 and docs()[0].status == "failed"


def test_pdf_bomb_is_failed_not_silently_empty(app, admin_client, inquiry, bomb_pdf):
    upload(admin_client, inquiry, [(bomb_pdf, "bomb.pdf")])
    (document,) = docs()
    assert document.status == "failed"
    assert "bomb" in document.reason.lower() or "memory" in document.reason.lower()


def test_docx_external_entity_does_not_leak_files(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_xxe_docx(), "xxe.docx")])
    (document,) = docs()
    texts = " ".join(db.session.execute(select(Page.text)).scalars())
    assert "root:" not in texts
    assert document.status in ("failed", "indexed", "no_text")
    if document.status == "failed":
        assert document.reason


def test_scanned_pdf_is_no_text_not_an_empty_indexed_document(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_image_only_pdf(), "scan.pdf")])
    (document,) = docs()
    assert document.status == "no_text" and "OCR" in document.reason
    assert app.extensions["search"].indexed_page_counts() == {}


def test_a_word_file_without_words_is_no_text_without_talk_of_ocr(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_docx(["   "]), "blank.docx")])
    (document,) = docs()
    assert document.status == "no_text"
    assert document.reason == "No text was found in this file: it has no words to read or search."


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "a\x00b.pdf",
                                  "invoice\u202efdp.exe.pdf", "..\\..\\win.pdf"])
def test_hostile_filenames_are_cleaned_and_never_used_as_paths(app, admin_client, inquiry,
                                                               name):
    response = upload(admin_client, inquiry, [(samples.make_pdf([name]), name)])
    assert response.status_code == 303
    (document,) = docs()
    assert "/" not in document.original_filename and "\\" not in document.original_filename
    assert "\x00" not in document.original_filename
    assert "\u202e" not in document.original_filename
    assert stored(app) == [document.sha256]
    page = admin_client.get(f"/documents/{document.id}")
    assert page.status_code == 200
    download = admin_client.get(f"/documents/{document.id}/original")
    assert download.headers["Content-Disposition"] == 'attachment; filename="OLD000001.pdf"'


def test_escaped_filename_and_title_on_pages(app, admin_client, inquiry):
    name = "<img src=x onerror=alert(1)>.pdf"
    upload(admin_client, inquiry, [(samples.make_pdf(["x"]), name)])
    for path in ("/documents/", "/documents/1", "/upload/batches/1"):
        body = admin_client.get(path).data
        assert b"<img src=x" not in body
        assert b"&lt;img src=x onerror=" in body


def test_download_is_the_original_as_an_attachment(app, admin_client, inquiry):
    pdf = samples.make_pdf(["download me"])
    upload(admin_client, inquiry, [(pdf, "d.pdf")])
    response = admin_client.get("/documents/1/original")
    assert response.status_code == 200 and response.data == pdf
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]


def test_batch_progress_fragment_for_polling(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_pdf(["x"]), "x.pdf")])
    fragment = admin_client.get("/upload/batches/1", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b'id="batch-progress"' in fragment.data and b"<html" not in fragment.data
    assert b"Finished: 1 of 1" in fragment.data


def test_email_attachments_become_linked_child_documents(app, admin_client, inquiry):
    eml = samples.make_eml("Referral", "See attached statement.",
                           [("statement.pdf", samples.make_pdf(["attached statement text"]))])
    upload(admin_client, inquiry, [(eml, "referral.eml")])
    parent, child = docs()
    assert parent.title == "Referral" and parent.status == "indexed"
    assert child.parent_id == parent.id and child.status == "indexed"
    assert child.receipts[0].channel == "email attachment"
    page = admin_client.get(f"/documents/{parent.id}")
    assert child.urn.encode() in page.data


def test_upload_form_requires_files_and_a_permitted_inquiry(app, admin_client, inquiry):
    response = admin_client.post("/upload/", data={"inquiry": str(inquiry.id)})
    assert response.status_code == 400 and b"Choose one or more files" in response.data
    response = admin_client.post("/upload/", data={"inquiry": "999",
                                                    "files": (io.BytesIO(b"x"), "x.txt")})
    assert response.status_code == 400 and b"Choose an inquiry" in response.data
