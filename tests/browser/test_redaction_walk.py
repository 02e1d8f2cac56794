"""Redaction from end to end in Chromium: a legal user draws a box over a name with the
mouse and another with the keys, a second legal user approves both from the queue and
builds a production, and the PDF in the downloaded ZIP has lost the hidden words (pypdf
and pdftotext) while keeping the rest."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import zipfile
from typing import Any

import pypdf
import pytest
from playwright.sync_api import expect

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest, page_words
from inquiry_docs.models import Document, Redaction
from tests import samples
from tests.browser.test_walk import sign_in
from tests.conftest import make_user, require

pytestmark = pytest.mark.browser

FIRST, SECOND = "legal1@example.org", "legal2@example.org"
PAGES = ["Statement taken in Oldham.\nThe witness named Jane Roe as the driver of the van.\n"
         "The council kept the file.",
         "Second page: the notebook was signed by Peter Grant in the office."]


@pytest.fixture
def statement(live_server) -> int:
    app = live_server.app
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user(FIRST, "legal", inquiry)
        make_user(SECOND, "legal", inquiry)
        outcome = ingest.receive(ingest.Incoming(
            io.BytesIO(samples.make_pdf(PAGES)), "statement.pdf", inquiry))
        document_id = outcome.document.id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            if db.session.get(Document, document_id).status == "indexed":
                return document_id
        time.sleep(0.2)
    raise AssertionError("the statement was not read in time")


def _words_box(app, document_id: int, number: int, first: str, last: str):
    """The box (fractions of the page) round two words on a page, from their positions."""
    with app.app_context():
        words = page_words.page(db.session.get(Document, document_id), number).words
    a = next(w for w in words if w.text == first)
    b = next(w for w in words if w.text.rstrip(".") == last)
    return (min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))


def _sign_in_as(page: Any, live_server, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    sign_in(page, live_server, email)


def test_draw_approve_produce_and_the_words_are_gone(page, live_server, statement,
                                                     console_errors, axe_check):
    app = live_server.app
    _sign_in_as(page, live_server, FIRST)
    page.goto(f"/documents/{statement}")

    # Page 1: drag over "Jane Roe" on the page image.
    x0, y0, x1, y1 = _words_box(app, statement, 1, "Jane", "Roe")
    page.locator("#redact-1 summary").click()
    page.get_by_role("button", name="Draw a box on page 1").click()
    canvas = page.locator('[data-canvas="1"]')
    canvas.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#page-1 .app-page__image');"
        " return i.complete && i.naturalWidth > 0; }", timeout=20_000)
    area = canvas.bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + (x0 - 0.005) * area["width"],
                    area["y"] + (y0 - 0.003) * area["height"])
    page.mouse.down()
    page.mouse.move(area["x"] + (x1 + 0.005) * area["width"],
                    area["y"] + (y1 + 0.003) * area["height"], steps=5)
    page.mouse.up()
    form = page.locator('[data-redact-form="1"]')
    expect(form.get_by_label("Reason")).to_be_focused()
    assert abs(float(form.get_by_label("Left").input_value()) - (x0 - 0.005) * 100) < 0.5
    expect(page.locator('[data-redactions="1"] .app-redaction--draft')).to_have_count(1)
    axe_check(page)
    form.get_by_label("Reason").select_option(label="Personal data of a third party")
    form.get_by_role("button", name="Propose redaction").click()
    expect(page.locator("main")).to_contain_text("Redaction proposed on page 1")

    # Page 2: the same with the keys only: Enter starts, arrows move, Shift+arrows size.
    page.locator("#redact-2 summary").click()
    draw = page.locator('[data-draw="2"]')
    expect(draw).to_have_accessible_name("Draw a box on page 2")
    draw.focus()
    page.keyboard.press("Enter")
    expect(draw).to_have_attribute("aria-pressed", "true")
    expect(draw).to_contain_text("Finish the box")
    second = page.locator('[data-redact-form="2"]')
    left = float(second.get_by_label("Left").input_value())
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    for _ in range(2):
        page.keyboard.press("Shift+ArrowDown")
    assert float(second.get_by_label("Left").input_value()) == pytest.approx(left + 2)
    assert float(second.get_by_label("Height").input_value()) == pytest.approx(5)
    page.keyboard.press("Enter")
    expect(second.get_by_label("Reason")).to_be_focused()
    second.get_by_label("Reason").select_option("irrelevant")
    second.get_by_role("button", name="Propose redaction").press("Enter")
    expect(page.locator("main")).to_contain_text("Redaction proposed on page 2")

    with app.app_context():
        made = db.session.query(Redaction).order_by(Redaction.id).all()
        assert [(r.page, r.status) for r in made] == [(1, "proposed"), (2, "proposed")]
        box = made[0]
        assert box.x0 <= x0 and box.y0 <= y0 and box.x1 >= x1 and box.y1 >= y1

    # The second legal user approves them from the queue.
    _sign_in_as(page, live_server, SECOND)
    page.goto("/review/queue?name=redactions")
    expect(page.get_by_role("heading", name="Redactions to approve: 1 document")).to_be_visible()
    page.get_by_role("link", name="redactions of OLD000001 to approve").click()
    expect(page.locator("#redaction-summary")).to_contain_text("2 waiting for approval")
    axe_check(page)
    page.get_by_role("button", name="Approve all redactions by others").click()
    expect(page.locator("main")).to_contain_text("2 redactions approved.")

    # ...and builds a production of the document.
    page.get_by_role("link", name="Produce this document").click()
    expect(page.locator("#production-count")).to_contain_text("1 document can be produced.")
    page.get_by_label("Name").fill("Tranche 1")
    page.get_by_label("Recipient").fill("Core participants")
    page.get_by_label("Production number prefix").fill("OLD")
    page.get_by_label("First number").fill("500")
    page.get_by_role("button", name="Build the production").click()
    expect(page.get_by_role("status")).to_contain_text("Ready: 1 of 1 document produced.",
                                                       timeout=60_000)
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the production (ZIP)").click()
    archive = zipfile.ZipFile(download.value.path())
    data = archive.read("documents/OLD000500.pdf")

    reader = pypdf.PdfReader(io.BytesIO(data))
    texts = [p.extract_text() for p in reader.pages]
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    poppler = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                             check=True).stdout.decode()
    for text in (texts[0], poppler):
        assert "Jane" not in text and "Roe" not in text
        for kept in ("witness", "driver", "council", "OLD000500_0001"):
            assert kept in text, kept
    assert "OLD000500_0002" in texts[1] and "notebook" in texts[1]
    assert console_errors == []
