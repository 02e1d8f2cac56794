"""Mixed uploads: each file's type, source and date before and after sending, in bulk, the
formats the page names, and refused files kept in the upload's record until dismissed."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.extract import accepted_formats
from inquiry_docs.models import AuditEvent, Batch, BatchItem, Document
from tests import samples
from tests.conftest import login, make_user, upload


def docs() -> list[Document]:
    db.session.expire_all()
    return db.session.execute(select(Document).order_by(Document.id)).scalars().all()


def events(action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def pdf(text: str) -> bytes:
    return samples.make_pdf([text])


def send(client, inquiry, files: list[tuple[bytes, str]], **fields: str):
    """The upload form as the page's script sends it: file-N-* for the Nth chosen file."""
    data = {"inquiry": str(inquiry.id), "doc_type": "other", **fields,
            "files": [(io.BytesIO(content), name) for content, name in files]}
    return client.post("/upload/", data=data, content_type="multipart/form-data")


def row(document: Document, **changed: str) -> dict[str, str]:
    """One row of the batch page's details form as drawn, with some fields changed."""
    date = document.document_date
    prefix = f"doc-{document.id}-"
    shown = {"doc_type": document.doc_type, "source": document.source,
             "day": str(date.day) if date else "", "month": str(date.month) if date else "",
             "year": str(date.year) if date else ""}
    form = {f"{prefix}{k}": v for k, v in {**shown, **changed}.items()}
    form |= {f"{prefix}was_doc_type": document.doc_type, f"{prefix}was_source": document.source,
             f"{prefix}was_date": date.date().isoformat() if date else ""}
    return form


# --- before sending --------------------------------------------------------------------

def test_each_file_gets_its_own_type_source_and_date_given_before_sending(
        app, admin_client, inquiry):
    response = send(admin_client, inquiry, [(pdf("first"), "a.pdf"), (pdf("second"), "b.pdf"),
                                            (pdf("third"), "c.pdf")],
                    doc_type="exhibit", source="Oldham Council",
                    **{"file-0-name": "a.pdf", "file-0-doc_type": "witness_statement",
                       "file-0-day": "3", "file-0-month": "4", "file-0-year": "2015",
                       "file-2-name": "c.pdf", "file-2-source": "Greater Manchester Police"})
    assert response.status_code == 303
    first, second, third = docs()
    assert (first.doc_type, first.source) == ("witness_statement", "Oldham Council")
    # Read and settled by the job since, the date given by hand stands.
    assert first.status == "indexed"
    assert (first.document_date, first.date_source) == (datetime(2015, 4, 3), "manual")
    # The others' dates come from the files (the sample PDFs carry one in their metadata).
    assert (second.doc_type, second.source, second.date_source) == \
        ("exhibit", "Oldham Council", "metadata")
    assert (third.doc_type, third.source) == ("exhibit", "Greater Manchester Police")


def test_fields_made_for_another_file_are_not_applied(app, admin_client, inquiry):
    send(admin_client, inquiry, [(pdf("x"), "a.pdf")], doc_type="report",
         **{"file-0-name": "other.pdf", "file-0-doc_type": "transcript",
            "file-0-day": "1", "file-0-month": "1", "file-0-year": "2001"})
    (document,) = docs()
    assert document.doc_type == "report" and document.date_source != "manual"


@pytest.mark.parametrize(("fields", "message"), [
    ({"file-0-day": "31", "file-0-month": "2", "file-0-year": "2015"}, "enter a real date"),
    ({"file-0-day": "x", "file-0-month": "", "file-0-year": ""}, "enter a real date"),
    ({"file-0-day": "1", "file-0-month": "1", "file-0-year": "1800"}, "the year must be"),
    ({"file-0-doc_type": "<script>"}, "choose a document type"),
    ({"file-0-source": "s" * 201}, "up to 200 characters"),
])
def test_a_bad_detail_for_a_file_is_an_error_on_the_form_and_nothing_is_stored(
        app, admin_client, inquiry, fields, message):
    response = send(admin_client, inquiry, [(pdf("x"), "a<b>.pdf")],
                    **{"file-0-name": "a<b>.pdf", **fields})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "There is a problem" in body and message in body
    assert "a&lt;b&gt;.pdf" in body and "a<b>.pdf" not in body
    assert "Choose the files again." in body
    assert docs() == [] and db.session.execute(select(Batch)).first() is None


def test_the_upload_page_names_every_accepted_format(app, admin_client, inquiry):
    import re

    page = admin_client.get("/upload/").get_data(as_text=True)
    formats = accepted_formats()
    listed = re.search(r'<ul[^>]*id="accepted-formats"[^>]*>(.*?)</ul>', page, re.S).group(1)
    for fmt in formats.values():
        line = f"{fmt.name} ({', '.join(fmt.extensions)})"
        assert line in listed
    assert listed.count("<li>") == len(formats)
    # Images and scans are named as such, and the names come from the acceptance rule.
    assert {"image/png", "image/jpeg", "image/tiff"} <= set(formats)
    assert listed.count("read with OCR") == sum(f.image for f in formats.values()) == 3
    accept = set(re.search(r'id="files"[^>]*accept="([^"]+)"', page).group(1).split(","))
    assert accept == {ext for fmt in formats.values() for ext in fmt.extensions}
    # The per-file list is drawn by the page's script from this row.
    assert 'id="file-details-row"' in page and "As above" in page


def test_a_refusal_names_the_accepted_formats_it_was_checked_against(app, admin_client,
                                                                     inquiry):
    upload(admin_client, inquiry, [(samples.make_windows_exe(), "setup.exe")])
    item = db.session.execute(select(BatchItem)).scalar_one()
    assert "are not supported" in item.reason and "TIFF image (.tif, .tiff)" in item.reason


# --- after sending ----------------------------------------------------------------------

@pytest.fixture
def sent(app, admin_client, inquiry) -> tuple[int, list[Document]]:
    response = upload(admin_client, inquiry, [(pdf("one"), "one.pdf"), (pdf("two"), "two.pdf"),
                                              (pdf("three"), "three.pdf")])
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return batch_id, docs()


def test_the_batch_page_lists_each_file_with_its_details_to_edit(app, admin_client, sent):
    batch_id, documents = sent
    page = admin_client.get(f"/upload/batches/{batch_id}").get_data(as_text=True)
    assert 'id="details-form"' in page and 'id="bulk-form"' in page
    for document in documents:
        assert f'name="doc-{document.id}-doc_type"' in page
        assert f'id="file-{document.id}"' in page and 'form="bulk-form"' in page


def test_one_file_corrected_after_sending_is_audited_and_dated_by_hand(
        app, admin_client, sent):
    batch_id, (one, two, three) = sent
    form = {**row(one, doc_type="transcript", source="BBC", day="9", month="10",
                  year="2012"), **row(two), **row(three)}
    response = admin_client.post(f"/upload/batches/{batch_id}/details", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("#details")
    one, two, three = docs()
    assert (one.doc_type, one.source, one.document_date, one.date_source) == \
        ("transcript", "BBC", datetime(2012, 10, 9), "manual")
    assert (two.doc_type, three.doc_type) == ("other", "other")
    (event,) = events("metadata_changed")  # only the file that changed
    changes = json.loads(event.details)["changes"]
    assert changes["doc_type"] == ["other", "transcript"]
    assert changes["date_source"][1] == "manual"
    shown = admin_client.get(f"/upload/batches/{batch_id}").get_data(as_text=True)
    assert f"Details of 1 file updated: {one.urn}." in shown and "Entered by hand" in shown
    # The index agrees: the searchable documents are found by their new type.
    assert one.status == "indexed"
    found = admin_client.get("/?type=transcript").get_data(as_text=True)
    assert one.urn in found and two.urn not in found


def test_saving_rows_as_drawn_keeps_a_date_read_since(app, admin_client, sent):
    batch_id, (one, *_) = sent
    form = row(one)  # drawn while the file had no date yet
    one.document_date, one.date_source = datetime(2019, 5, 1), "text"
    db.session.commit()
    admin_client.post(f"/upload/batches/{batch_id}/details", data=form)
    (one, *_) = docs()
    assert (one.document_date, one.date_source) == (datetime(2019, 5, 1), "text")
    assert events("metadata_changed") == []


@pytest.mark.parametrize(("changed", "message"), [
    ({"day": "32", "month": "1", "year": "2010"}, "Enter a real date"),
    ({"doc_type": "nonsense"}, "Choose a document type for"),
    ({"source": "s" * 201}, "Enter a source of up to 200 characters"),
])
def test_a_bad_row_is_an_error_on_the_batch_page_and_changes_nothing(
        app, admin_client, sent, changed, message):
    batch_id, (one, two, _) = sent
    form = {**row(one, **changed), **row(two, doc_type="report")}
    response = admin_client.post(f"/upload/batches/{batch_id}/details", data=form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "There is a problem" in body and message in body
    assert [d.doc_type for d in docs()] == ["other"] * 3 and events("metadata_changed") == []


def test_bulk_sets_type_source_and_date_of_the_selected_files_only(app, admin_client, sent):
    batch_id, (one, two, three) = sent
    response = admin_client.post(f"/upload/batches/{batch_id}/bulk", data={
        "file": [str(one.id), str(three.id), "99999"], "bulk-doc_type": "correspondence",
        "bulk-source": "Home Office", "bulk-day": "1", "bulk-month": "6", "bulk-year": "2011"})
    assert response.status_code == 302
    one, two, three = docs()
    for document in (one, three):
        assert (document.doc_type, document.source, document.document_date,
                document.date_source) == ("correspondence", "Home Office",
                                          datetime(2011, 6, 1), "manual")
    assert (two.doc_type, two.source, two.date_source) == ("other", "", "metadata")
    assert len(events("metadata_changed")) == 2
    # A field left empty keeps each file's own value.
    admin_client.post(f"/upload/batches/{batch_id}/bulk",
                      data={"file": [str(one.id)], "bulk-doc_type": "report"})
    one, *_ = docs()
    assert (one.doc_type, one.source, one.document_date) == ("report", "Home Office",
                                                             datetime(2011, 6, 1))


@pytest.mark.parametrize(("form", "message"), [
    ({"bulk-doc_type": "report"}, "Select the files to change"),
    ({"file": "SELF"}, "Choose a type, enter a source or enter a date to set"),
    ({"file": "SELF", "bulk-day": "1", "bulk-month": "13", "bulk-year": "2011"},
     "Enter a real date"),
    ({"file": "SELF", "bulk-doc_type": "x"}, "Choose a document type"),
    ({"file": "not-a-number", "bulk-doc_type": "report"}, "Select the files to change"),
])
def test_bulk_without_files_or_values_is_an_error(app, admin_client, sent, form, message):
    batch_id, (one, *_) = sent
    form = {k: (str(one.id) if v == "SELF" else v) for k, v in form.items()}
    response = admin_client.post(f"/upload/batches/{batch_id}/bulk", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert events("metadata_changed") == []


def test_another_users_batch_cannot_be_edited(app, admin_client, sent, inquiry):
    batch_id, (one, *_) = sent
    make_user("sec@example.org", "secretariat", inquiry)
    other = app.test_client()
    login(other, "sec@example.org")
    assert other.post(f"/upload/batches/{batch_id}/bulk", data={
        "file": str(one.id), "bulk-doc_type": "report"}).status_code == 404
    assert docs()[0].doc_type == "other"


# --- refused files ----------------------------------------------------------------------

def test_refused_files_are_kept_in_the_uploads_record_and_listed_until_dismissed(
        app, admin_client, admin, inquiry):
    name, noise = "<b onclick=x>noise.pdf", samples.make_random_bytes()
    response = upload(admin_client, inquiry, [(b"", "empty.pdf"), (noise, name),
                                              (pdf("kept"), "kept.pdf")])
    batch_id = int(response.headers["Location"].rsplit("/", 1)[1])
    refused = db.session.execute(select(BatchItem).where(BatchItem.outcome == "rejected")
                                 .order_by(BatchItem.id)).scalars().all()
    assert [(i.filename, i.size) for i in refused] == [("empty.pdf", 0), (name, len(noise))]
    assert all(i.received_at is not None for i in refused)
    assert len(docs()) == 1  # nothing of the refused files is stored

    batch_page = admin_client.get(f"/upload/batches/{batch_id}").get_data(as_text=True)
    assert "Refused files" in batch_page and "The file is empty." in batch_page
    assert "&lt;b onclick=x&gt;noise.pdf" in batch_page and "<b onclick" not in batch_page

    attention = admin_client.get("/documents/attention").get_data(as_text=True)
    assert "Files refused at upload" in attention and "empty.pdf" in attention
    assert "&lt;b onclick=x&gt;noise.pdf" in attention and "<b onclick" not in attention
    assert admin.email in attention and "The file is empty." in attention

    dismissed = admin_client.post(f"/upload/refused/{refused[0].id}/dismiss",
                                  data={"back": "batch"})
    assert dismissed.status_code == 302 and dismissed.headers["Location"].endswith(
        f"/upload/batches/{batch_id}#refused")
    batch_page = admin_client.get(f"/upload/batches/{batch_id}").get_data(as_text=True)
    assert "empty.pdf was dismissed from Needs attention." in batch_page
    assert f"Dismissed by {admin.email}" in batch_page
    attention = admin_client.get("/documents/attention").get_data(as_text=True)
    assert "empty.pdf" not in attention and "noise" in attention
    (event,) = events("refused_file_dismissed")
    assert json.loads(event.details)["filename"] == "empty.pdf"
    # Dismissing again changes nothing and records nothing.
    admin_client.post(f"/upload/refused/{refused[0].id}/dismiss")
    assert len(events("refused_file_dismissed")) == 1
    assert admin_client.post("/upload/refused/99999/dismiss").status_code == 404


def test_a_refused_file_is_not_shown_to_those_who_may_not_upload(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(b"", "secret-name.pdf")])
    make_user("reader@example.org", "reader", inquiry)
    reader = app.test_client()
    login(reader, "reader@example.org")
    page = reader.get("/documents/attention").get_data(as_text=True)
    assert "secret-name.pdf" not in page and "Files refused at upload" not in page
    item = db.session.execute(select(BatchItem)).scalar_one()
    assert reader.post(f"/upload/refused/{item.id}/dismiss").status_code == 404
    assert db.session.get(BatchItem, item.id).dismissed_at is None
