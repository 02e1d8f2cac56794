"""A researcher's day with recommendations, in Chromium: link a passage selected on a
document page, accept a suggestion, check the dashboard's counts, and open the dossier
DOCX with python-docx."""

from __future__ import annotations

import io
import time
from typing import Any

import docx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import samples
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

RESEARCHER = "researcher@example.org"
PASSAGE = "the teachers who knew would have had"


def _wait_until_indexed(app, count: int, timeout: float = 30.0) -> None:
    from inquiry_docs.db import db
    from inquiry_docs.models import Document

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            statuses = db.session.execute(select(Document.status)).scalars().all()
            db.session.remove()
        if len(statuses) == count and set(statuses) == {"indexed"}:
            return
        time.sleep(0.2)
    raise AssertionError(f"documents not indexed in time: {statuses}")


@pytest.fixture
def loaded(live_server) -> int:
    """The IICSA set, a researcher, and two statements; the id of recommendation 13."""
    from inquiry_docs.access.inquiries import create_inquiry
    from inquiry_docs.db import db
    from inquiry_docs.evidence import ingest
    from inquiry_docs.models import Recommendation
    from inquiry_docs.recommendations import ensure_default_set

    app = live_server.app
    with app.app_context():
        rset = ensure_default_set()
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user(RESEARCHER, "researcher", inquiry)
        files = [
            (samples.make_pdf([
                "Witness statement of the head teacher.",
                f"Had mandatory reporting been in force, {PASSAGE} a legal duty to report the "
                "abuse to the police or children's social care.",
                "I believe the facts stated in this statement are true.",
            ], title="Statement of the head teacher"), "statement.pdf"),
            (samples.make_pdf([
                "The nurse said that mandatory reporting of child sexual abuse would have "
                "helped her to act when the girl first told her.",
            ], title="Statement of the school nurse"), "nurse.pdf"),
        ]
        for content, name in files:  # as the command line ingests: the queue reads them
            ingest.receive(ingest.Incoming(io.BytesIO(content), name, inquiry, channel="cli"))
        rec_id = db.session.execute(select(Recommendation.id).where(
            Recommendation.set_id == rset.id, Recommendation.number == "13")).scalar_one()
        db.session.remove()
    _wait_until_indexed(app, 2)
    return rec_id


def _select_passage(page: Any, page_number: int, text: str) -> None:
    """Select `text` on one page of the document, as a mouse drag would."""
    page.evaluate(
        """([number, needle]) => {
            const node = document.querySelector(`#page-${number} .app-text`).firstChild;
            const start = node.textContent.indexOf(needle);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + needle.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            document.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
        }""",
        [page_number, text],
    )


def test_link_a_selected_passage_accept_a_suggestion_and_export_the_dossier(
        page, live_server, loaded, console_errors):
    rec_id = loaded
    page.goto("/auth/login")
    page.get_by_label("Email address").fill(RESEARCHER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Search the evidence")).to_be_visible()

    # 1. On the document page, the selection fills in the quote and page of the link form.
    page.goto("/documents/1")
    page.wait_for_load_state("load")
    _select_passage(page, 2, PASSAGE)
    form = page.locator("#link-form")
    expect(form).to_be_visible()
    expect(form.get_by_label("Quoted passage (optional)")).to_have_value(PASSAGE)
    expect(form.get_by_label("Page")).to_have_value("2")
    form.get_by_label("Recommendation").select_option(
        label="13. Mandatory reporting of child sexual abuse")
    form.get_by_label("Supports").check()
    form.get_by_label("Note (optional)").fill("Head teacher on what reporting would change")
    form.get_by_role("button", name="Link to recommendation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Page 2 linked")
    expect(page.locator("#document-links")).to_contain_text(PASSAGE)

    # 2. On the recommendation page, accept the nurse's statement as context.
    page.goto(f"/recommendations/{rec_id}")
    expect(page.locator("#evidence ~ ul").first).to_contain_text("OLD000001 p. 2")
    suggestion = page.locator(".app-suggestion", has_text="OLD000002 p. 1")
    expect(suggestion).to_be_visible()
    suggestion.get_by_label("Context").check()
    suggestion.get_by_role("button", name="Accept").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "OLD000002 page 1 linked as context")
    expect(page.locator(".app-suggestion", has_text="OLD000002 p. 1")).to_have_count(0)

    # 3. The dashboard counts both links.
    page.goto("/recommendations/")
    row = page.locator("#rec-13")
    expect(row.locator('[data-stance="supports"]')).to_have_text("1")
    expect(row.locator('[data-stance="context"]')).to_have_text("1")
    expect(row.locator('[data-count="pages"]')).to_have_text("2")

    # 4. The dossier opens in python-docx with each passage cited by URN and page.
    page.goto(f"/recommendations/{rec_id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the dossier (Word)").click()
    path = download.value.path()
    with open(path, "rb") as fh:
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(fh.read())).paragraphs)
    assert "Recommendation 13. Mandatory reporting of child sexual abuse" in text
    assert PASSAGE in text and "OLD000001 p. 2" in text and "Stance: Supports" in text
    assert "OLD000002 p. 1" in text and "Stance: Context" in text
    assert "Head teacher on what reporting would change" in text
    assert console_errors == []
