"""True document dates: a tool's default is no date; the source of each date is kept,
shown and changed by hand; the first page's text dates a document without metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from inquiry_docs.db import db
from inquiry_docs.evidence import dates
from inquiry_docs.models import AuditEvent, Document
from tests import samples
from tests.conftest import upload

UPLOADED = datetime(2024, 5, 1, 12, 0)


@pytest.mark.parametrize("value", [
    datetime(2013, 12, 23, 23, 15, tzinfo=UTC),  # python-docx's template
    datetime(1970, 1, 1, 1, 0),  # the Unix epoch in Central European time
    datetime(1969, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(1980, 1, 1),  # the ZIP epoch
    datetime(2000, 1, 1, 0, 0, tzinfo=UTC),  # ReportLab's invariant date
    datetime(1899, 12, 30),  # before 1900
    datetime(2024, 5, 3),  # after the upload
])
def test_tool_defaults_and_impossible_metadata_dates_are_not_taken(value):
    assert dates.from_metadata(value, UPLOADED) is None
    assert dates.choose(value, "", UPLOADED) is None


def test_a_real_metadata_date_is_taken_in_utc():
    value = datetime(2019, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert dates.choose(value, "Dated 1 May 2001", UPLOADED) == \
        dates.Chosen(datetime(2019, 3, 4, 8, 30), dates.METADATA)
    assert dates.from_metadata(datetime(2000, 1, 1, 9, 0), UPLOADED) is not None


@pytest.mark.parametrize(("page", "expected"), [
    ("WITNESS STATEMENT\nDated: 3rd May 2019\nI, Jane, say", datetime(2019, 5, 3)),
    ("Our ref 12/04/2011\nDate: 27 March 2014\n", datetime(2014, 3, 27)),  # labelled wins
    ("Minutes of 14.02.2010 meeting", datetime(2010, 2, 14)),  # day first, UK style
    ("Report of March 27, 2014", datetime(2014, 3, 27)),
    ("Exported 2016-07-09", datetime(2016, 7, 9)),
    ("Letter of 1 January 1970 from the home", datetime(1970, 1, 1)),  # written: real
    ("Signed on 30 February 2012, re-signed 2 Mar 2012", datetime(2012, 3, 2)),
    ("Born 12 June 1885; statement 4 June 2020 is later", datetime(2020, 6, 4)),
    ("Review due 1 June 2031", None),  # after the upload
    ("No dates here, only 2019 as a year", None),
])
def test_the_first_page_dates_a_document_without_metadata(page, expected):
    chosen = dates.choose(None, page, UPLOADED)
    assert (chosen.value if chosen else None) == expected
    if chosen:
        assert chosen.source == dates.TEXT


def test_python_docx_default_date_is_not_the_documents_date(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_docx(["A statement with no date."]),
                                    "plain.docx"),
                                   (samples.make_docx(["Dated 4 July 2011", "I recall."]),
                                    "dated.docx"),
                                   (samples.make_pdf(["Notes"], created=datetime(2015, 6, 1)),
                                    "notes.pdf")])
    found = {d.original_filename: d for d in db.session.execute(select(Document)).scalars()}
    assert (found["plain.docx"].document_date, found["plain.docx"].date_source) == (None, None)
    assert (found["dated.docx"].document_date, found["dated.docx"].date_source) == \
        (datetime(2011, 7, 4), "text")
    assert (found["notes.pdf"].document_date.date().isoformat(),
            found["notes.pdf"].date_source) == ("2015-06-01", "metadata")
    page = admin_client.get(f"/documents/{found['dated.docx'].id}").get_data(as_text=True)
    assert "4 July 2011" in page and "Found in the text of the first page" in page
    # The year facet counts only the dated ones.
    results = admin_client.get("/?q=statement OR recall OR notes").get_data(as_text=True)
    assert "Not dated (1" in results


def test_a_date_entered_by_hand_is_recorded_kept_and_can_be_cleared(app, admin_client,
                                                                    inquiry):
    upload(admin_client, inquiry, [(samples.make_docx(["Dated 4 July 2011"]), "d.docx")])
    document = db.session.execute(select(Document)).scalar_one()
    edit = admin_client.get(f"/documents/{document.id}/edit").get_data(as_text=True)
    assert "found in the text of the first page" in edit
    form = {"title": document.title, "doc_type": "other", "source": ""}
    admin_client.post(f"/documents/{document.id}/edit",
                      data={**form, "day": "5", "month": "7", "year": "2011"})
    db.session.refresh(document)
    assert (document.document_date, document.date_source) == (datetime(2011, 7, 5), "manual")
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "metadata_changed")).scalar_one()
    assert '"date_source": ["text", "manual"]' in event.details
    assert "Entered by hand" in admin_client.get(f"/documents/{document.id}").get_data(
        as_text=True)
    # Reading the file again keeps what a person entered.
    dates.settle(document, datetime(2001, 1, 1), "Dated 9 May 2009")
    assert document.date_source == "manual"
    db.session.rollback()
    admin_client.post(f"/documents/{document.id}/edit",
                      data={**form, "day": "", "month": "", "year": ""})
    db.session.refresh(document)
    assert (document.document_date, document.date_source) == (None, None)


def test_the_migration_keeps_dates_as_metadata_and_clears_tool_defaults(tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.conftest import build_app

    app = build_app(tmp_path)
    with app.app_context():
        downgrade(revision="a1f5c3e7d9b4")
        db.session.execute(text(
            "INSERT INTO inquiries (id, code, name, last_number, created_at) "
            "VALUES (1, 'OLD', 'Oldham', 2, :now)"), {"now": datetime(2024, 1, 1)})
        for n, when in enumerate((datetime(2013, 12, 23, 23, 15), datetime(2012, 6, 15, 12),
                                  datetime(1970, 1, 1, 1, 0)), 1):
            db.session.execute(text(
                "INSERT INTO documents (id, inquiry_id, urn, title, original_filename, mime, "
                "size, sha256, page_count, page_label, document_date, doc_type, source, "
                "marking, restricted, restriction_ref, restriction_reason, status, reason, "
                "attempts, ocr_done, ocr_total, uploaded_at, updated_at) VALUES (:n, 1, :urn, "
                "'t', 'f', 'application/pdf', 1, :sha, 0, 'page', :when, 'other', '', "
                "'OFFICIAL', false, '', '', 'indexed', '', 0, 0, 0, :now, :now)"),
                {"n": n, "urn": f"OLD{n:06d}", "sha": f"{n:064d}", "when": when,
                 "now": datetime(2024, 1, 1)})
        db.session.commit()
        upgrade()
        rows = db.session.execute(text(
            "SELECT document_date, date_source FROM documents ORDER BY id")).all()
        got = [(str(d)[:10] if d else None, s) for d, s in rows]
        assert got == [(None, None), ("2012-06-15", "metadata"), (None, None)]
        db.session.remove()
        db.engine.dispose()
