"""The formats of issue 18 through the real upload, job, database and index: Word
flavours, mailboxes and Outlook messages as parent and child documents, a PDF with a
page that cannot be read, and the technical detail kept for the admin's status page."""

from __future__ import annotations

import importlib.util
from html import escape

from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import BatchItem, Document, Page
from tests import samples
from tests import samples_mail as mail
from tests import samples_office as office
from tests.conftest import login, make_user, require, upload
from tests.samples_office import WordParts, p


def docs() -> list[Document]:
    db.session.expire_all()
    return db.session.execute(select(Document).order_by(Document.id)).scalars().all()


def texts(document: Document) -> str:
    return "\n".join(db.session.execute(select(Page.text).where(
        Page.document_id == document.id).order_by(Page.number)).scalars())


def test_templates_and_macro_enabled_files_are_read_and_searchable(app, admin_client,
                                                                   inquiry):
    from inquiry_docs.extract.types import DOCM, DOTM, DOTX

    body = p("Safeguarding policy", office.footnote_ref(1), " template.")
    files = [(office.make_word(WordParts(body=body, footnotes={1: "Issued 2004."}), mime),
              f"policy{ext}") for mime, ext in ((DOTX, ".dotx"), (DOCM, ".docm"),
                                                (DOTM, ".dotm"))]
    files[1] = (office.make_word(WordParts(body=p("Macro form with reference 77341.")), DOCM),
                "form.docm")
    upload(admin_client, inquiry, files)
    assert [d.status for d in docs()] == ["indexed"] * 3
    assert "[Footnote 1: Issued 2004.]" in texts(docs()[0])
    page = admin_client.get("/?q=77341").get_data(as_text=True)
    assert "OLD000002" in page


def test_a_mailbox_becomes_one_document_per_message_with_their_attachments(
        app, admin_client, inquiry):
    box = mail.make_mbox([
        samples.make_eml(subject="Strategy meeting", body="Minutes of the strategy meeting."),
        samples.make_eml(subject="Referral", body="See attached.",
                         attachments=[("referral.pdf", samples.make_pdf(["Referral form"]))]),
    ])
    upload(admin_client, inquiry, [(box, "export.mbox")])
    mailbox, first, second, attachment = docs()
    assert mailbox.mime == "application/mbox" and mailbox.status == "indexed"
    assert "Mailbox of 2 messages" in texts(mailbox)
    assert (first.title, second.title) == ("Strategy meeting", "Referral")
    assert first.parent_id == mailbox.id and second.parent_id == mailbox.id
    assert attachment.parent_id == second.id and "Referral form" in texts(attachment)
    assert all(d.status == "indexed" for d in (first, second, attachment))
    page = admin_client.get("/?q=%22strategy+meeting%22").get_data(as_text=True)
    assert first.urn in page


def test_an_outlook_message_and_its_attachments(app, admin_client, inquiry):
    require(importlib.util.find_spec("extract_msg") is not None,
            "extract-msg (the msg extra) is not installed")
    message = mail.make_msg(subject="Exhibit bundle", body="Bundle attached.",
                            attachments=[("bundle.pdf", samples.make_pdf(["Exhibit AB/1"]))])
    upload(admin_client, inquiry, [(message, "Exhibit bundle.msg")])
    parent, child = docs()
    assert parent.mime == "application/vnd.ms-outlook" and parent.status == "indexed"
    assert parent.title == "Exhibit bundle" and "Bundle attached." in texts(parent)
    assert child.parent_id == parent.id and "Exhibit AB/1" in texts(child)


def test_without_the_msg_extra_a_msg_upload_is_refused_with_the_extras_name(
        app, admin_client, inquiry, monkeypatch):
    require(importlib.util.find_spec("extract_msg") is not None,
            "extract-msg (the msg extra) is not installed")
    from inquiry_docs.extract import msg

    monkeypatch.setattr(msg, "available", lambda: False)
    upload(admin_client, inquiry, [(mail.make_msg(), "note.msg")])
    item = db.session.execute(select(BatchItem)).scalar_one()
    assert item.outcome == "rejected" and "inquiry-docs[msg]" in item.reason
    assert docs() == []


def test_an_unreadable_page_is_named_and_its_detail_is_for_admins_only(app, admin_client,
                                                                       inquiry):
    upload(admin_client, inquiry, [(office.make_pdf_with_bad_page(), "statement.pdf"),
                                   (samples.make_truncated_pdf(), "cut.pdf")])
    partial, damaged = docs()
    assert partial.status == "indexed"
    assert partial.reason == ("Page 2 could not be read and was left without text; the rest "
                              "was read.")
    assert "PdfiumError" in partial.reason_detail
    assert damaged.status == "failed"
    assert damaged.reason == "The PDF is damaged or incomplete and could not be read."
    assert damaged.reason_detail and "Error" not in damaged.reason
    shown = admin_client.get(f"/documents/{partial.id}").get_data(as_text=True)
    assert partial.reason in shown and "PdfiumError" not in shown
    status = admin_client.get("/admin/status").get_data(as_text=True)
    assert "Reading problems" in status
    for document in (partial, damaged):
        assert document.urn in status and escape(document.reason_detail) in status
    # Someone who is not an administrator never sees the detail.
    make_user("reviewer@example.org", "legal", inquiry)
    client = app.test_client()
    login(client, "reviewer@example.org")
    page = client.get(f"/documents/{partial.id}").get_data(as_text=True)
    assert partial.reason in page and "PdfiumError" not in page
    assert client.get("/admin/status").status_code == 403


def test_the_upload_form_offers_every_extension_that_is_read(app, admin_client, inquiry):
    import re

    from inquiry_docs.extract.types import KNOWN

    page = admin_client.get("/upload/").get_data(as_text=True)
    accept = set(re.search(r'id="files"[^>]*accept="([^"]+)"', page).group(1).split(","))
    assert accept == {ext for _, extensions in KNOWN.values() for ext in extensions}


def test_a_scan_with_a_sticky_note_is_still_read_by_ocr(app, admin_client, inquiry):
    import shutil

    require(shutil.which("tesseract") is not None,
            "Tesseract is not installed (apt-get install tesseract-ocr)")
    scan = samples.make_scanned_pdf([samples.text_image(["Referral faxed to the council"])])
    upload(admin_client, inquiry, [(office.with_sticky_notes(scan, {1: "Chase the fax"}),
                                    "fax.pdf")])
    (document,) = docs()
    assert document.status == "indexed", document.reason
    (page,) = db.session.execute(select(Page).where(Page.document_id == document.id)).scalars()
    assert page.ocr and "council" in page.text
    assert page.text.endswith("[Note: Chase the fax]")
