"""CSV export of a whole result set: every matching page, plain text, formulas neutralised,
audited, within the user's reach."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent
from inquiry_docs.search.export import safe_cell
from tests import samples
from tests.conftest import login, make_user, upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


def _rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_safe_cell_neutralises_formulas():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "ok", 3)] == \
        ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "ok", "3"]


def test_export_has_every_page_not_only_the_first_results_page(app, admin_client, inquiry):
    for n in range(25):  # more documents than one page of results
        upload(admin_client, inquiry, [(samples.make_pdf([f"quokka {n}", "quokka again"]),
                                        f"q{n}.pdf")])
    rows = _rows(admin_client.get("/search/export.csv?q=quokka"))
    assert rows[0] == ["URN", "Title", "Date", "Type", "Page", "Score", "Snippet"]
    assert len(rows) == 1 + 50
    assert all("quokka" in r[6] and "<mark>" not in r[6] for r in rows[1:])
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "search_exported")).scalar_one()
    assert "quokka" in str(event.details) and "50" in str(event.details)


def test_export_is_plain_text_neutralised_and_in_scope(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_pdf(
        ["=HYPERLINK(\"http://x\") wombat <script>alert(1)</script>"]), "w.pdf")],
        doc_type="report")
    other = create_inquiry("ROT", "Rotherham")
    upload(admin_client, other, [(samples.make_pdf(["wombat secret"]), "s.pdf")])
    reader = make_user("reader@example.org", "reader", inquiry)
    client = app.test_client()
    login(client, reader.email)
    rows = _rows(client.get("/search/export.csv?q=wombat"))
    assert len(rows) == 2
    snippet = rows[1][6]
    assert snippet.startswith("'=HYPERLINK") and "<script>alert(1)</script>" in snippet
    assert "secret" not in client.get("/search/export.csv?q=wombat").get_data(as_text=True)
    assert len(_rows(client.get("/search/export.csv?q=wombat&type=exhibit"))) == 1
    assert _rows(client.get("/search/export.csv")) == [
        ["URN", "Title", "Date", "Type", "Page", "Score", "Snippet"]]
