"""Tagging where the user is, in a real browser with the real queue: a new tag typed on a
document page and on a search result, applied at once, the document still "Searchable"."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest
from inquiry_docs.models import Document, Tag
from tests import samples
from tests.browser.conftest import wait_indexed
from tests.browser.test_walk import sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser

LEGAL = "legal@example.org"


@pytest.fixture
def two_documents(live_server) -> list[int]:
    app = live_server.app
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        legal = make_user(LEGAL, "legal", inquiry)
        ids = [ingest.receive(ingest.Incoming(
            io.BytesIO(samples.make_pdf([f"Operation Fern account number {n}."])),
            f"account-{n}.pdf", inquiry, user=legal)).document.id for n in range(2)]
    wait_indexed(app, ids)
    return ids


def test_create_a_tag_on_a_document_and_on_a_result_and_stay_searchable(
        page, live_server, two_documents, axe_check, console_errors):
    first, second = two_documents
    page.goto("/auth/login")
    sign_in(page, live_server, LEGAL)

    page.goto(f"/documents/{first}")
    expect(page.get_by_text("This inquiry has no tags yet")).to_be_visible()
    expect(page.locator(".govuk-tag", has_text="Searchable")).to_be_visible()
    axe_check(page)
    page.get_by_label("Name of the new tag").fill("Needs second look")
    page.get_by_label("Colour").select_option("purple")
    page.get_by_role("button", name=re.compile("^Create and add tag")).click()

    expect(page.get_by_text("Tag “Needs second look” added to OLD000001.")).to_be_visible()
    expect(page.locator(".govuk-summary-list .govuk-tag--purple",
                        has_text="Needs second look")).to_be_visible()
    expect(page.locator(".govuk-tag", has_text="Searchable")).to_be_visible()
    expect(page.get_by_text("Indexing", exact=True)).to_have_count(0)
    axe_check(page)

    # From a search result: open "Tag OLD000002", type the same name in other case.
    page.goto("/?q=fern")
    expect(page.get_by_role("heading", name="2 documents, 2 pages")).to_be_visible()
    result = page.locator(f"#doc-{second}")
    result.get_by_text("Tag OLD000002").click()
    axe_check(page)
    result.get_by_label("Name of the new tag").fill("needs SECOND look")
    result.get_by_role("button", name=re.compile("^Create and add tag")).click()
    expect(page).to_have_url(re.compile(rf"/\?q=fern#doc-{second}$"))
    expect(page.get_by_text("Tag “Needs second look” added to OLD000002.")).to_be_visible()
    expect(page.locator(f"#doc-{second} .govuk-tag--purple",
                        has_text="Needs second look")).to_be_visible()
    for doc_id in (first, second):
        expect(page.locator(f"#doc-{doc_id} .govuk-tag",
                            has_text="Searchable")).to_be_visible()

    app = live_server.app
    with app.app_context():
        assert len(db.session.execute(select(Tag)).scalars().all()) == 1  # reused
        tag_id = db.session.execute(select(Tag.id)).scalar_one()
    # Once the queue has written the labels, the tag filter finds both.
    for _ in range(100):
        with app.app_context():
            stale = db.session.execute(select(Document.id).where(
                Document.labels_stale.is_(True))).first()
            statuses = set(db.session.execute(select(Document.status)).scalars())
        assert statuses == {"indexed"}
        if stale is None:
            break
        page.wait_for_timeout(100)
    page.goto(f"/?q=fern&tag={tag_id}")
    expect(page.get_by_role("heading", name="2 documents, 2 pages")).to_be_visible()
    assert console_errors == []
