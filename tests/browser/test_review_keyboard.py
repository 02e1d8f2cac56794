"""Keyboard first: from a search result, tag every match and code three documents one
after another with the keyboard alone, then check what was saved."""

from __future__ import annotations

import io
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest
from inquiry_docs.models import Coding, DocumentTag
from inquiry_docs.review import tags
from tests import samples
from tests.browser.conftest import wait_indexed
from tests.browser.test_walk import sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser

LEGAL = "legal@example.org"




@pytest.fixture
def three_documents(live_server) -> list[int]:
    app = live_server.app
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        legal = make_user(LEGAL, "legal", inquiry)
        ids = []
        for n in range(3):
            outcome = ingest.receive(ingest.Incoming(
                io.BytesIO(samples.make_pdf([f"Operation Fern account number {n}."])),
                f"account-{n}.pdf", inquiry, user=legal))
            ids.append(outcome.document.id)
        tags.create(legal, inquiry.id, "Operation Fern", "blue")
    wait_indexed(app, ids)
    return ids


def tab_to(page: Any, test: str, limit: int = 120) -> None:
    """Press Tab until `test` (a JS expression about `el`, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        script = f"() => {{ const el = document.activeElement; return !!el && ({test}); }}"
        if page.evaluate(script):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def by_text(text: str) -> str:
    return f"el.textContent.trim() === {text!r}"


def by_id(element_id: str) -> str:
    return f"el.id === {element_id!r}"


def test_tag_and_code_three_documents_with_the_keyboard_only(page, live_server,
                                                              three_documents,
                                                              console_errors):
    page.goto("/auth/login")
    sign_in(page, live_server, LEGAL)

    # Search: the search box, typed, Enter.
    tab_to(page, by_id("q"))
    page.keyboard.type("fern")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="3 documents, 3 pages")).to_be_visible()

    # Tag every result: the link, the action, the tag, Continue, then Confirm.
    tab_to(page, "el.id === 'act-on-all'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Act on 3 documents")).to_be_visible()
    tab_to(page, by_id("action-tag_add"))
    page.keyboard.press("Space")
    tab_to(page, by_id("apply_tag"))
    page.keyboard.press("ArrowDown")  # from "Choose a tag" to "Operation Fern"
    tab_to(page, by_text("Continue"))
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-count")).to_contain_text("3 documents will be tagged")
    tab_to(page, "el.textContent.trim().startsWith('Confirm')")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("3 documents tagged “Operation Fern”")

    # Code the first result, then "Save and go to next" twice, then save the last one.
    tab_to(page, "el.textContent.trim().startsWith('Code OLD')")
    page.keyboard.press("Enter")
    for step in range(3):
        expect(page.get_by_text(f"Document {step + 1} of 3")).to_be_visible()
        tab_to(page, "el.name === 'relevance' && el.checked")  # "Not reviewed"
        page.keyboard.press("ArrowDown")  # Relevant
        tab_to(page, "el.name === 'privilege' && el.checked")  # "None"
        page.keyboard.press("ArrowDown")  # Legal advice privilege
        tab_to(page, "el.name === 'review_status' && el.checked")  # "To do"
        page.keyboard.press("ArrowDown")  # In progress
        page.keyboard.press("ArrowDown")  # Done
        tab_to(page, by_id("save-next" if step < 2 else "save"))
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("saved")
    expect(page.get_by_text("Document 3 of 3")).to_be_visible()

    with live_server.app.app_context():
        codings = db.session.execute(select(Coding).order_by(Coding.document_id)).scalars()
        assert [(c.document_id, c.relevance, c.privilege, c.review_status)
                for c in codings] == [(i, "relevant", "legal_advice", "done")
                                      for i in three_documents]
        tagged = db.session.execute(select(DocumentTag.document_id)).scalars().all()
        assert sorted(tagged) == three_documents
    assert console_errors == []


def test_selected_words_fill_the_note_and_the_note_is_saved_on_its_page(page, live_server,
                                                                        three_documents,
                                                                        console_errors):
    page.goto("/auth/login")
    sign_in(page, live_server, LEGAL)
    page.goto(f"/documents/{three_documents[0]}")
    page.get_by_text("Add a note to a page").click()
    page.locator("#page-1 .app-text").select_text()
    page.locator("#page-1 .app-text").dispatch_event("mouseup")
    expect(page.locator("#note-page")).to_have_value("1")
    expect(page.locator("#note-quote")).to_have_value("Operation Fern account number 0.")
    page.locator("#note-body").fill("The officer's account contradicts the earlier statement.")
    page.get_by_role("button", name="Save note").click()
    note = page.get_by_role("complementary", name="Note on page 1")
    expect(note).to_contain_text("contradicts the earlier statement")
    expect(note).to_contain_text("Operation Fern account number 0.")
    assert console_errors == []
