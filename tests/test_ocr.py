"""OCR of scans: image PDFs, image files, rotated and blank pages, mixed documents, long
scans, damaged images, OCR off or missing, and the `ocr` command.

Tesseract is a system package: these tests skip without it on a developer's machine, but
fail under CI (CI=true), where `.ci/run` installs it.
"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.evidence import ocr
from inquiry_docs.extract import ocr as tesseract
from inquiry_docs.extract.render import BAD_IMAGE
from inquiry_docs.models import AuditEvent, Document, Page
from tests import samples
from tests.conftest import build_app, login, make_user, require, upload


@pytest.fixture
def needs_tesseract() -> None:
    require(shutil.which("tesseract") is not None,
            "Tesseract is not installed (apt-get install tesseract-ocr)")


def docs() -> list[Document]:
    db.session.expire_all()
    return db.session.execute(select(Document).order_by(Document.id)).scalars().all()


def pages_of(document: Document) -> list[Page]:
    return db.session.execute(select(Page).where(Page.document_id == document.id)
                              .order_by(Page.number)).scalars().all()


NOTEBOOK = ["Police notebook, Constable Hargreaves", "Referral faxed to the council"]


def test_an_image_pdf_becomes_searchable_by_a_word_in_it(app, admin_client, inquiry,
                                                          needs_tesseract):
    scan = samples.make_scanned_pdf([samples.text_image(NOTEBOOK)])
    upload(admin_client, inquiry, [(scan, "notebook.pdf")])
    (document,) = docs()
    assert document.status == "indexed", document.reason
    (page,) = pages_of(document)
    assert page.ocr and page.ocr_confidence is not None and page.ocr_confidence > 60
    assert "Hargreaves" in page.text
    found = admin_client.get("/?q=Hargreaves")
    assert b"OLD000001" in found.data and b"<mark>Hargreaves</mark>" in found.data
    assert b"OCR" in found.data  # the hit says its text came from OCR


def test_a_rotated_scan_is_read_the_right_way_up(app, admin_client, inquiry,
                                                  needs_tesseract):
    scan = samples.make_scanned_pdf([samples.text_image(NOTEBOOK, rotate=90)])
    upload(admin_client, inquiry, [(scan, "sideways.pdf")])
    (document,) = docs()
    assert document.status == "indexed", document.reason
    assert "Hargreaves" in pages_of(document)[0].text


def test_a_blank_scan_is_no_text_with_a_reason(app, admin_client, inquiry, needs_tesseract):
    scan = samples.make_scanned_pdf([samples.text_image([]), samples.text_image([])])
    upload(admin_client, inquiry, [(scan, "blank.pdf")])
    (document,) = docs()
    assert document.status == "no_text" and document.reason == ocr.BLANK_REASON
    assert [p.ocr for p in pages_of(document)] == [True, True]
    assert app.extensions["search"].indexed_page_counts() == {}


def test_a_mixed_pdf_gets_ocr_only_where_needed(app, admin_client, inquiry, needs_tesseract):
    scan = samples.make_scanned_pdf([
        "Typed covering letter from the council about the referral.",
        samples.text_image(["Handwritten note from the headteacher"]),
    ])
    upload(admin_client, inquiry, [(scan, "mixed.pdf")])
    (document,) = docs()
    typed, scanned = pages_of(document)
    assert document.status == "indexed"
    assert not typed.ocr and typed.ocr_confidence is None and "covering letter" in typed.text
    assert scanned.ocr and "headteacher" in scanned.text
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "text_extracted")
                               ).scalar_one()
    assert '"ocr_pages": 1' in event.details
    both = admin_client.get("/?q=council+OR+headteacher").data.decode()
    assert "Page 2" in both and both.count("(OCR)") == 1


@pytest.mark.parametrize("fmt,name", [("PNG", "scan.png"), ("JPEG", "scan.jpg")])
def test_image_files_are_documents(app, admin_client, inquiry, needs_tesseract, fmt, name):
    data = samples.make_image_file([samples.text_image(NOTEBOOK).convert("RGB")], fmt)
    response = upload(admin_client, inquiry, [(data, name)])
    assert response.status_code == 303
    (document,) = docs()
    assert document.status == "indexed" and document.page_count == 1, document.reason
    assert "Hargreaves" in pages_of(document)[0].text


def test_a_multi_page_tiff_is_one_document_with_pages(app, admin_client, inquiry,
                                                      needs_tesseract):
    frames = [samples.text_image([f"Exhibit sheet {word}"]) for word in
              ("alpha", "bravo", "charlie")]
    upload(admin_client, inquiry, [(samples.make_image_file(frames), "bundle.tiff")])
    (document,) = docs()
    assert document.status == "indexed" and document.page_count == 3
    assert [p.text.split()[-1] for p in pages_of(document)] == ["alpha", "bravo", "charlie"]
    assert all(p.ocr for p in pages_of(document))


def test_a_damaged_image_fails_with_a_reason(app, admin_client, inquiry):
    data = samples.make_image_file([samples.text_image(NOTEBOOK)])
    upload(admin_client, inquiry, [(data[: len(data) // 3], "torn.png")])
    (document,) = docs()
    assert document.status == "failed" and document.reason == BAD_IMAGE


def test_an_image_named_as_a_pdf_is_refused(app, admin_client, inquiry):
    data = samples.make_image_file([samples.text_image(NOTEBOOK)])
    upload(admin_client, inquiry, [(data, "statement.pdf")])
    assert docs() == []


def test_a_300_page_scan_is_read_in_bounded_memory(tmp_path, needs_tesseract):
    # Small pages keep it quick; every chunk's child (and Tesseract under it) must fit
    # in 400 MB of address space, whatever the length of the scan.
    app = build_app(tmp_path, EXTRACT_MEMORY_MB=400, OCR_CHUNK_PAGES=50)
    small = (300, 120)
    pages = [samples.text_image([f"Sheet {n}"] if n % 50 == 0 else [], small, font_size=30)
             for n in range(1, 301)]
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user("admin@example.org", "admin")
        client = app.test_client()
        login(client, "admin@example.org")
        upload(client, inquiry, [(samples.make_scanned_pdf(pages), "long.pdf")])
        (document,) = docs()
        assert document.status == "indexed" and document.page_count == 300, document.reason
        read = pages_of(document)
        assert all(p.ocr for p in read)
        assert "Sheet 250" in read[249].text
        db.session.remove()
        db.engine.dispose()


def test_without_tesseract_scans_wait_with_a_reason_and_a_command(tmp_path):
    app = build_app(tmp_path, TESSERACT_CMD=str(tmp_path / "no-such-tesseract"))
    scan = samples.make_scanned_pdf([samples.text_image(NOTEBOOK)])
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user("admin@example.org", "admin")
        client = app.test_client()
        login(client, "admin@example.org")
        upload(client, inquiry, [(scan, "notebook.pdf")])
        (document,) = docs()
        assert document.status == "no_text"
        assert document.reason.startswith("OCR not available")
        assert "inquiry-docs ocr --all-no-text" in document.reason
        result = app.test_cli_runner().invoke(args=["ocr", "--all-no-text"])
        assert result.exit_code != 0 and "OCR not available" in result.output
        if shutil.which("tesseract"):
            app.config["TESSERACT_CMD"] = "tesseract"
            result = app.test_cli_runner().invoke(args=["ocr", "--all-no-text"])
            assert result.exit_code == 0, result.output
            assert "1 indexed" in result.output
            assert docs()[0].status == "indexed"
            assert db.session.execute(select(AuditEvent).where(
                AuditEvent.action == "ocr_requested")).scalar_one().object_id == str(document.id)
        db.session.remove()
        db.engine.dispose()


def test_ocr_off_leaves_scans_without_text(tmp_path):
    app = build_app(tmp_path, OCR="off")
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user("admin@example.org", "admin")
        client = app.test_client()
        login(client, "admin@example.org")
        upload(client, inquiry, [(samples.make_image_file([samples.text_image(NOTEBOOK)]),
                                  "scan.png")])
        (document,) = docs()
        assert document.status == "no_text" and document.reason == ocr.OFF_REASON
        assert document.page_count == 1
        result = app.test_cli_runner().invoke(args=["ocr", "OLD000001"])
        assert result.exit_code != 0 and "turned off" in result.output
        db.session.remove()
        db.engine.dispose()


def test_progress_shows_pages_read_by_ocr(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_pdf(["typed"]), "a.pdf")])
    (document,) = docs()
    batch_id = db.session.execute(select(db.text("max(id)")).select_from(
        db.text("batches"))).scalar()
    # The state a job leaves between two OCR chunks of a 40-page scan.
    document.status, document.ocr_done, document.ocr_total = "extracting", 12, 40
    db.session.commit()
    page = admin_client.get(f"/upload/batches/{batch_id}", headers={"HX-Request": "true"})
    assert "Reading text (OCR) 12/40" in page.data.decode()


def test_tesseract_tsv_keeps_lines_and_paragraphs():
    header = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth"
              "\theight\tconf\ttext")
    # (page, block, paragraph, line, word, confidence)
    words = [(1, 1, 1, 1, "Dear", 90), (1, 1, 1, 1, "Sir", 80), (1, 1, 1, 2, "Thank", 80),
             (1, 1, 2, 1, "Yours", 70), (2, 1, 1, 1, "Signed", 60)]
    rows = [f"5\t{p}\t{b}\t{par}\t{line}\t1\t0\t0\t1\t1\t{conf}\t{word}"
            for p, b, par, line, word, conf in words]
    rows.append("4\t2\t1\t1\t1\t0\t0\t0\t1\t1\t-1\t")
    parsed = tesseract.parse_tsv("\n".join([header, *rows]))
    assert parsed[1].text == "Dear Sir\nThank\n\nYours"
    assert parsed[1].confidence == 80.0
    assert parsed[2] == tesseract.PageText("Signed", 60.0)
