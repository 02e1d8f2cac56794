"""The page viewer: a scanned document's thumbnails and page images beside their OCR text,
search words marked, and keys for pages, hits and zoom. (The same reading by plain links,
without JavaScript, is checked on the HTML in tests/test_viewer.py.)"""

from __future__ import annotations

import io
import shutil
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest
from inquiry_docs.models import Document
from tests import samples
from tests.browser.test_walk import sign_in
from tests.conftest import make_user, require

pytestmark = pytest.mark.browser

READER = "reader@example.org"
WORDS = ["notebook", "referral", "council", "signature"]


@pytest.fixture
def scanned(live_server) -> int:
    """A four-page scan; each page names one word, the last two both say "signature"."""
    require(shutil.which("tesseract") is not None, "Tesseract is not installed")
    app = live_server.app
    pages = [samples.text_image([f"Page about the {word}", "signature" if n > 1 else "end"])
             for n, word in enumerate(WORDS)]
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        reader = make_user(READER, "reader", inquiry)
        outcome = ingest.receive(ingest.Incoming(
            io.BytesIO(samples.make_scanned_pdf(pages)), "scan.pdf", inquiry, user=reader))
        document_id = outcome.document.id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            if db.session.get(Document, document_id).status == "indexed":
                return document_id
        time.sleep(0.2)
    raise AssertionError("the scan was not read in time")


def _loaded(page: Any, selector: str) -> bool:
    """Wait until the first image matching `selector` has loaded (they load lazily)."""
    page.wait_for_function(
        "s => { const img = document.querySelector(s); return img.complete && "
        "img.naturalWidth > 0; }", arg=selector, timeout=20_000)
    return True


def test_viewer_with_keys_and_zoom(page, live_server, scanned, console_errors, axe_check):
    page.goto("/auth/login")
    sign_in(page, live_server, READER)
    page.goto(f"/documents/{scanned}?q=signature")
    expect(page.get_by_role("navigation", name="Page thumbnails").get_by_role("link")
           ).to_have_count(4)
    expect(page.locator("#page-3 mark")).to_have_text("signature")
    expect(page.locator("#page-1 .govuk-tag")).to_contain_text("Text from OCR")
    page.locator("#page-1 .app-page__image").scroll_into_view_if_needed()
    expect(page.locator("#page-1 .app-page__image")).to_be_visible()
    assert _loaded(page, "#page-1 .app-page__image")
    assert _loaded(page, ".app-thumbs__image")
    axe_check(page)

    page.keyboard.press("j")
    expect(page.locator("#page-2")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator("#page-1")).to_be_focused()
    width = page.locator("#page-1 .app-page__image").evaluate("img => img.clientWidth")
    page.keyboard.press("+")
    wider = page.locator("#page-1 .app-page__image").evaluate("img => img.clientWidth")
    assert wider > width
    page.get_by_role("button", name="Fit to column").click()
    assert page.locator("#page-1 .app-page__image").evaluate("img => img.clientWidth") == width

    page.keyboard.press("n")  # next hit: the matches are pages 3 and 4
    expect(page.locator(".app-hit-nav")).to_contain_text("Hit 2 of 2")
    page.wait_for_load_state("load")  # viewer.js, a module, listens from then on
    page.keyboard.press("p")
    expect(page.locator(".app-hit-nav")).to_contain_text("Hit 1 of 2")
    assert console_errors == []


def _pdf(pages: list[list[tuple[float, float, str]]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for strings in pages:
        pdf.setFont("Helvetica", 14)
        for x, y, text in strings:
            pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _in_view(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    height = page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
    return box


def test_a_hit_link_opens_its_page_at_the_top_with_the_hit_in_view(
        page, live_server, console_errors, axe_check):
    from tests.browser.conftest import wait_indexed

    app = live_server.app
    lines = [[(72, 780, f"Page {n} of the harbour file."), (72, 400, "Nothing of note.")]
             for n in range(1, 6)]
    lines[2] = [(72, 780, "Page 3 of the harbour file."),
                (72, 700, "The harbourmaster kept the log book."),
                (300, 300, "The harbourmaster signed it.")]
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user(READER, "researcher", inquiry)
        outcome = ingest.receive(ingest.Incoming(io.BytesIO(_pdf(lines)), "log.pdf", inquiry))
        document_id = outcome.document.id
    wait_indexed(app, [document_id])

    page.goto("/auth/login")
    sign_in(page, live_server, READER)
    page.get_by_label('Words or "an exact phrase"').fill("harbourmaster")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Page 3", exact=True).click()
    page.wait_for_load_state("load")
    assert page.url.endswith("#page-3") and "q=harbourmaster" in page.url
    # Page 3 starts at the top of the window, its first hit marked in view in the text...
    assert abs(page.locator("#page-3").bounding_box()["y"]) < 2
    expect(page.locator("#hit-3-1")).to_have_text("harbourmaster")
    _in_view(page, "#hit-3-1")
    # ...and boxed on the page image, once it has loaded; the pages above loading their
    # images do not move it.
    assert _loaded(page, "#page-3 .app-page__image")
    assert _loaded(page, "#page-2 .app-page__image")
    page.wait_for_timeout(300)
    assert abs(page.locator("#page-3").bounding_box()["y"]) < 2
    expect(page.locator("#page-3 .app-hit")).to_have_count(2)
    box = _in_view(page, "#page-3 .app-hit")
    image = page.locator("#page-3 .app-page__image").bounding_box()
    from reportlab.pdfbase.pdfmetrics import stringWidth

    start = (72 + stringWidth("The ", "Helvetica", 14)) / 595.28  # "harbourmaster" after it
    assert box["x"] - image["x"] == pytest.approx(start * image["width"], abs=3)
    expect(page.locator("#page-3 figcaption")).to_contain_text(
        "2 words matching your search marked on the image.")
    axe_check(page)
    assert console_errors == []


def test_a_hit_far_down_its_page_is_brought_into_view(page, live_server, console_errors):
    from tests.browser.conftest import wait_indexed

    app = live_server.app
    lines = [(72, 800 - 12 * n, f"Line {n} of the long page.") for n in range(60)]
    lines[-1] = (72, 800 - 12 * 59, "The harbourmaster is named last.")
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user(READER, "researcher", inquiry)
        outcome = ingest.receive(ingest.Incoming(
            io.BytesIO(_pdf([[(72, 780, "First page.")], [(72, 780, "Second page.")],
                             lines])), "long.pdf", inquiry))
        document_id = outcome.document.id
    wait_indexed(app, [document_id])
    page.goto("/auth/login")
    sign_in(page, live_server, READER)
    page.goto(f"/documents/{document_id}?q=harbourmaster&at=3#page-3")
    page.wait_for_load_state("load")
    expect(page.locator("#hit-3-1")).to_be_in_viewport()
    _in_view(page, "#hit-3-1")
    assert console_errors == []
