"""The timeline: documents by month within the reader's reach, narrowed by any search
filter, a month opened as a search, the CSV; searching by filters alone; the charts."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import metadata
from inquiry_docs.models import AuditEvent, Document, User
from inquiry_docs.search.facets import Filters, parse_filters
from tests import samples
from tests.conftest import login, make_user, upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


def _add(client, inquiry, name, text, doc_type="other", source="", date=None):
    upload(client, inquiry, [(samples.make_docx([text]), name)], doc_type=doc_type,
           source=source)
    document = db.session.execute(
        select(Document).order_by(Document.id.desc()).limit(1)).scalar_one()
    if date is not None:
        admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
        metadata.apply(document, metadata.Changes(document.title, doc_type, source, date),
                       admin)
    return document


@pytest.fixture
def corpus(app, admin_client, inquiry):
    other = create_inquiry("ROT", "Rotherham")
    docs = {
        "march_a": _add(admin_client, inquiry, "a.docx", "harbour log one", "report",
                        "Police", datetime(2004, 3, 1)),
        "march_b": _add(admin_client, inquiry, "b.docx", "harbour witness", "witness_statement",
                        "=HYPERLINK(\"x\")", datetime(2004, 3, 20)),
        "june": _add(admin_client, inquiry, "c.docx", "harbour minutes", "report", "Police",
                     datetime(2004, 6, 2)),
        # python-docx's template date is no date: this one stays undated.
        "undated": _add(admin_client, inquiry, "d.docx", "harbour note", "other", "Police"),
        "secret": _add(admin_client, other, "s.docx", "harbour secret", "exhibit", "Secret",
                       datetime(2004, 3, 5)),
    }
    reader = make_user("reader@example.org", "reader", inquiry)
    return docs, reader


def _reader(app, reader):
    client = app.test_client()
    login(client, reader.email)
    return client


def test_the_timeline_counts_documents_by_month_within_reach(app, corpus):
    docs, reader = corpus
    assert docs["undated"].document_date is None and docs["undated"].date_source is None
    page = _reader(app, reader).get("/timeline").get_data(as_text=True)
    assert "4 documents, 3 dated" in page
    march = page[page.index('id="month-2004-03"'):page.index('id="month-2004-06"')]
    assert ">2</td>" in march and "Report: 1" in march and "Witness statement: 1" in march
    assert "Secret" not in page and "Exhibit" not in page  # another inquiry's document
    assert re.search(r"Not dated</th>\s*<td[^>]*>1</td>", page)
    assert "<svg" in page and 'role="img"' in page
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "timeline_viewed")).scalar_one()
    assert event.user_id == reader.id


def test_the_timeline_narrows_by_words_and_filters(app, corpus):
    _, reader = corpus
    client = _reader(app, reader)
    by_type = client.get("/timeline?type=report").get_data(as_text=True)
    assert "2 documents, 2 dated" in by_type and 'id="month-2004-06"' in by_type
    words = client.get("/timeline?q=witness").get_data(as_text=True)
    assert "1 document, 1 dated" in words and 'id="month-2004-06"' not in words
    by_source = client.get("/timeline?source=Police&year_from=2004&year_to=2004")
    assert "2 documents, 2 dated" in by_source.get_data(as_text=True)


def test_a_month_opens_as_a_search_of_that_month(app, corpus):
    docs, reader = corpus
    client = _reader(app, reader)
    page = client.get("/timeline?type=report").get_data(as_text=True)
    link = re.search(r'href="(/\?[^"]*month=2004-03[^"]*)"', page).group(1)
    found = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "1 document, 1 page" in found
    assert docs["march_a"].urn in found and docs["march_b"].urn not in found  # a witness stmt
    assert "Month:</strong> March 2004" in found
    every = client.get("/?month=2004-03").get_data(as_text=True)  # no words: every page
    assert "2 documents, 2 pages" in every and docs["secret"].urn not in every


def test_the_month_filter_applies_inside_the_search(app, corpus):
    from inquiry_docs.access.permissions import scope_for
    from inquiry_docs.search import backend

    docs, reader = corpus
    scope = scope_for(reader)
    found = backend().search("harbour", scope, filters=Filters(month="2004-03"), facets=True)
    assert {d.document_id for d in found.documents} == {docs["march_a"].id, docs["march_b"].id}
    assert found.facets.values["year"] == {2004: 2}
    assert parse_filters({"month": "2004-13"}).month is None
    assert parse_filters({"month": "x"}).month is None
    assert parse_filters({"month": " 2004-03 "}).month == "2004-03"


def test_the_timeline_csv_neutralises_formulas(app, corpus):
    _, reader = corpus
    response = _reader(app, reader).get("/timeline.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = rows[0]
    assert header[:2] == ["Month", "Documents"]
    assert "Source: Police" in header and 'Source: =HYPERLINK("x")' in header
    assert rows[1][:2] == ["2004-03", "2"] and rows[-1] == ["Not dated", "1"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_bad_timeline_input_is_a_clear_page_not_an_error(app, corpus):
    _, reader = corpus
    client = _reader(app, reader)
    broad = client.get("/timeline?q=ab*")
    assert broad.status_code == 200 and b"Your search is too broad" in broad.data
    assert client.get("/timeline?month=2004-99&year_from=x").status_code == 200
    assert client.get("/timeline.csv?q=ab*").status_code == 400


def test_search_page_charts_count_results_by_month_source_and_type(app, corpus):
    _, reader = corpus
    page = _reader(app, reader).get("/?q=harbour").get_data(as_text=True)
    assert page.count('class="app-chart__svg"') == 3
    glance = page[page.index('id="glance"'):]
    assert "4 documents: 3 with a date, 1 not dated" in glance
    assert re.search(r"March 2004</th>\s*<td[^>]*>2</td>", glance)
    assert re.search(r"Police</th>\s*<td[^>]*>3</td>", glance)
