"""A legal reviewer ticks search results and acts on them: the selection checkboxes are one
named group beside the results, the button that acts on them sits above the list (not under
the filters), and the page passes axe with the filters applied and the save form open."""

from __future__ import annotations

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
LEGEND = "Select documents to tag, assign or export"


@pytest.fixture
def evidence(live_server) -> list[int]:
    app = live_server.app
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        make_user("legal@example.org", "legal", inquiry)
        ids = []
        for name, doc_type in [("statement.pdf", "witness_statement"), ("report.pdf", "report"),
                               ("letter.pdf", "report")]:
            outcome = ingest.receive(ingest.Incoming(
                io.BytesIO(samples.make_pdf([f"The {WORD} in {name}."])), name, inquiry,
                doc_type=doc_type))
            ids.append(outcome.document.id)
    wait_indexed(app, ids)
    return ids


def no_duplicate_ids(page: Any) -> None:
    duplicated = page.evaluate(
        "() => { const seen = {}; for (const e of document.querySelectorAll('[id]'))"
        " seen[e.id] = (seen[e.id] || 0) + 1;"
        " return Object.keys(seen).filter((id) => seen[id] > 1); }")
    assert duplicated == [], f"ids used more than once: {duplicated}"


def test_select_results_and_act_on_them(page, live_server, evidence, axe_check):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/auth/login")
    sign_in(page, live_server, "legal@example.org")
    page.get_by_label('Words or "an exact phrase"').fill(WORD)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="3 documents, 3 pages")).to_be_visible()

    # Filter to reports: the facet checkboxes are ticked, the filter panel stays open.
    page.get_by_role("group", name="Document type").get_by_label("Report").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="2 documents, 2 pages")).to_be_visible()
    expect(page.get_by_role("group", name="Document type").get_by_label("Report")).to_be_checked()

    # The selection checkboxes are one group, each named after its document.
    group = page.get_by_role("group", name=LEGEND)
    expect(group).to_be_visible()
    boxes = group.get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    expect(group.get_by_role("checkbox", name="Select OLD000002")).to_be_visible()
    expect(group.get_by_role("checkbox", name="Select OLD000003")).to_be_visible()

    # The button sits with the results, above the list, in the results column.
    button = page.get_by_role("button", name="Act on the selected documents")
    filters = page.locator(".app-filters").bounding_box()
    results = page.locator("ol.app-results").bounding_box()
    box = button.bounding_box()
    assert box["x"] >= filters["x"] + filters["width"], "the button is in the filters column"
    assert box["y"] + box["height"] <= results["y"], "the button is not above the results"

    page.get_by_text("Save this search").click()
    expect(page.get_by_role("textbox", name="Name")).to_be_visible()
    no_duplicate_ids(page)
    axe_check(page)

    # Tick one result by keyboard, the other by pointer, then act on both.
    group.get_by_role("checkbox", name="Select OLD000002").focus()
    page.keyboard.press("Space")
    group.get_by_role("checkbox", name="Select OLD000003").check()
    button.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Act on 2 documents")
    axe_check(page)


NAV = ["Search", "Documents", "Review", "Recommendations", "Administration", "Your account",
       "Sign out"]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_header_fits_one_row_and_upload_says_done(browser, live_server, evidence, axe_check,
                                                  tmp_path, javascript):
    """At 1366 x 768 the header's sections (search and documents, review, recommendations,
    administration, the account) sit in one row, with or without JavaScript; the pages they
    grouped are a click further; an upload's progress bar spans the column and says Done."""
    with live_server.app.app_context():
        make_user("admin@example.org", "admin")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript,
                                  viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto("/auth/login")
        sign_in(page, live_server, "admin@example.org")
        header = page.get_by_role("navigation", name="Main")
        items = header.locator(".govuk-service-navigation__item")
        expect(items).to_have_text(NAV)
        tops = {round(box["y"]) for box in
                (items.nth(i).bounding_box() for i in range(items.count()))}
        assert len(tops) == 1, f"the header's items wrap onto {len(tops)} rows"

        # The pages the header no longer names: from Search and from Documents.
        expect(page.get_by_role("main").get_by_role("link", name="Saved searches")
               ).to_be_visible()
        header.get_by_role("link", name="Documents").click()
        section = page.get_by_role("navigation", name="Documents")
        for name in ("Upload", "Needs attention", "Inquiries"):
            expect(section.get_by_role("link", name=name)).to_be_visible()
        if javascript:
            axe_check(page)
        section.get_by_role("link", name="Upload").click()
        expect(header.locator(".govuk-service-navigation__item--active")).to_have_text(
            "Documents")

        files = [samples.write(tmp_path, f"note{n}.pdf", samples.make_pdf([f"Note {n}."]))
                 for n in (1, 2)]
        page.get_by_label("Files").set_input_files(files)
        page.get_by_role("button", name="Upload").click()
        progress = page.locator("#batch-progress")
        if not javascript:  # no polling: the page says how to refresh
            for _ in range(60):
                if "Done" in progress.locator(".app-progress__state").inner_text():
                    break
                page.wait_for_timeout(500)
                page.reload()
        expect(progress.locator(".app-progress__state")).to_have_text("Done", timeout=30_000)
        expect(progress.get_by_role("status")).to_contain_text("Finished: 2 of 2")
        bar = progress.get_by_role("progressbar", name="Files processed").bounding_box()
        column = page.locator("main").bounding_box()
        assert bar["width"] >= column["width"] - 2 * 16, "the progress bar is not full width"
        if javascript:
            axe_check(page)
    finally:
        context.close()
