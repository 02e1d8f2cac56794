"""A researcher's search in a real browser: filter, open a hit, step to the next hit, save
the search and download every result as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from playwright.sync_api import expect

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.evidence import ingest
from tests import samples
from tests.browser.conftest import wait_indexed
from tests.browser.test_walk import sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser

WORD = "harbourmaster"




@pytest.fixture
def evidence(live_server) -> dict[str, Any]:
    app = live_server.app
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user("researcher@example.org", "researcher", inquiry)
        files = [
            ("statement.pdf", "witness_statement",
             ["Statement of the skipper.", f"I told the {WORD} on Monday.", "Nothing here.",
              f"The {WORD} wrote it down.", "Signed."]),
            ("report.pdf", "report", [f"Annual report naming the {WORD} once."]),
        ]
        ids = []
        for name, doc_type, pages in files:
            outcome = ingest.receive(ingest.Incoming(
                io.BytesIO(samples.make_pdf(pages)), name, inquiry, doc_type=doc_type))
            ids.append(outcome.document.id)
    wait_indexed(app, ids)
    return {"statement": ids[0], "report": ids[1]}


def test_filter_open_next_hit_save_and_export(page, live_server, evidence, axe_check):
    page.goto("/auth/login")
    sign_in(page, live_server, "researcher@example.org")
    page.get_by_label('Words or "an exact phrase"').fill(WORD)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="2 documents, 3 pages")).to_be_visible()

    # Narrow to witness statements with the filter panel.
    page.get_by_role("group", name="Document type").get_by_label("Witness statement").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="1 document, 2 pages")).to_be_visible()
    expect(page.get_by_text("OLD000002")).to_have_count(0)
    axe_check(page)
    results_url = page.url

    # Open the first hit, then step to the next one.
    page.get_by_role("link", name="Page 2", exact=True).click()
    expect(page.get_by_text("Hit 1 of 2")).to_be_visible()
    expect(page.locator("#page-2 mark")).to_have_text(WORD)
    axe_check(page)
    page.get_by_role("link", name="Next hit").click()
    expect(page.get_by_text("Hit 2 of 2")).to_be_visible()
    assert "at=4" in page.url
    expect(page.get_by_role("link", name="Next hit")).to_have_count(0)
    expect(page.get_by_role("link", name="Previous hit")).to_be_visible()

    # Save the filtered search.
    page.goto(results_url)
    page.get_by_text("Save this search").click()
    page.get_by_label("Name").fill("Harbourmaster statements")
    page.get_by_role("button", name="Save search").click()
    expect(page.get_by_text("Saved “Harbourmaster statements”.")).to_be_visible()
    expect(page.get_by_role("cell", name="Harbourmaster statements", exact=True)).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Run").first.click()  # the filter was saved with it
    expect(page.get_by_role("heading", name="1 document, 2 pages")).to_be_visible()

    # Download every filtered result as CSV.
    page.goto(results_url)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Export all results (CSV)").click()
    download = waiting.value
    assert download.suggested_filename == "search-results.csv"
    with open(download.path(), encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read())))
    assert [(r["URN"], r["Page"]) for r in rows] == [("OLD000001", "2"), ("OLD000001", "4")]
    assert all(WORD in r["Snippet"] for r in rows)
