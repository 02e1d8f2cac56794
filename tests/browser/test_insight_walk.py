"""A researcher's look at the whole: open the timeline, narrow it by a filter, open a month
as a search, then open a document's near-duplicate and compare the two versions."""

from __future__ import annotations

import io
import random
import re
import time
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

WORDS = ("harbour", "school", "council", "report", "visit", "officer", "night", "letter",
         "meeting", "record", "mother", "teacher", "police", "home", "care", "review")


def _paragraphs(seed: int, count: int = 5) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(50)) + "." for _ in range(count)]


def _wait_compared(app, ids: list[int], timeout: float = 30) -> None:
    from sqlalchemy import select

    from inquiry_docs.db import db
    from inquiry_docs.models import TextSignature

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            signed = db.session.execute(select(TextSignature.document_id).where(
                TextSignature.document_id.in_(ids))).scalars().all()
        if len(signed) == len(ids):
            return
        time.sleep(0.2)
    raise AssertionError("the near-duplicates were not looked for in time")


@pytest.fixture
def evidence(live_server) -> dict[str, Any]:
    app = live_server.app
    statement = _paragraphs(1)
    signed = list(statement)
    signed[2] = "The officer <said> nothing to the teacher that night."
    files = [
        ("statement.docx", "witness_statement", "Police", ["Dated 4 March 2019", *statement]),
        ("statement-signed.docx", "witness_statement", "Police",
         ["Dated 4 March 2019", *signed]),
        ("minutes.docx", "report", "Council", ["Date: 20 March 2019", *_paragraphs(2)]),
        ("review.docx", "report", "Council", ["Dated 10 June 2019", *_paragraphs(3)]),
    ]
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user("researcher@example.org", "researcher", inquiry)
        ids = []
        for name, doc_type, source, blocks in files:
            outcome = ingest.receive(ingest.Incoming(
                io.BytesIO(samples.make_docx(blocks)), name, inquiry, doc_type=doc_type,
                source=source))
            ids.append(outcome.document.id)
    wait_indexed(app, ids)
    _wait_compared(app, ids)
    return {"statement": ids[0], "signed": ids[1], "minutes": ids[2], "review": ids[3]}


def test_timeline_filter_month_and_compare_versions(page, live_server, evidence, axe_check,
                                                    console_errors):
    page.goto("/auth/login")
    sign_in(page, live_server, "researcher@example.org")

    # The timeline of everything the researcher can see.
    page.goto("/timeline")
    expect(page.get_by_role("heading", name="4 documents, 4 dated")).to_be_visible()
    march = page.locator("#month-2019-03")
    expect(march.locator("td").first).to_have_text("3")
    expect(page.locator("#month-2019-06 td").first).to_have_text("1")
    expect(page.get_by_role("img", name="Dated documents by month")).to_be_visible()
    axe_check(page)

    # Narrow it to reports with the filter panel.
    page.get_by_label("Report").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="2 documents, 2 dated")).to_be_visible()
    expect(page.locator("#month-2019-03 td").first).to_have_text("1")
    axe_check(page)

    # Open March 2019: a search of that month, still only reports.
    page.locator("#month-2019-03").get_by_role("link", name="March 2019").click()
    expect(page.get_by_role("heading", name="1 document, 1 page")).to_be_visible()
    expect(page.get_by_text("Month: March 2019")).to_be_visible()
    expect(page.get_by_role("link", name="OLD000003 minutes")).to_be_visible()
    axe_check(page)

    # The statement's page lists its signed copy; compare the two.
    page.goto(f"/documents/{evidence['statement']}")
    versions = page.locator("#versions + p + table")
    expect(versions).to_contain_text("OLD000002")
    axe_check(page)
    page.get_by_role("link", name="Compare OLD000001 with OLD000002").click()
    expect(page.get_by_role("heading", name="OLD000001 compared with OLD000002")).to_be_visible()
    expect(page.locator("ins.app-diff__added", has_text="<said>")).to_have_count(1)
    expect(page.locator("del.app-diff__removed").first).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"^Show every (page|section)$")).click()
    expect(page.locator("#page-1")).to_be_visible()
    assert console_errors == []
