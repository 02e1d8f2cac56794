"""A mixed upload in a real browser: choose files, give one its own type and date (by
keyboard) before sending, send, correct another after, set two at once, and find the
refused file on the upload's page and under Needs attention, where it is dismissed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inquiry_docs.access.inquiries import create_inquiry
from tests import samples
from tests.browser.test_walk import sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser

CLERK = "clerk@example.org"
PROCESSING_TIMEOUT = 30_000  # ms
BATCH_URL = re.compile(r"/upload/batches/\d+(#.*)?$")


@pytest.fixture
def clerk(live_server) -> str:
    with live_server.app.app_context():
        make_user(CLERK, "secretariat", create_inquiry("OLD", "Oldham local inquiry"))
    return CLERK


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "to-send"
    folder.mkdir()
    return [
        samples.write(folder, "statement.pdf", samples.make_pdf(
            ["Witness statement of the head teacher."], title="Statement of the head teacher")),
        samples.write(folder, "letter.docx", samples.make_docx(
            ["Letter from the local authority."], title="Letter from the local authority")),
        samples.write(folder, "blank.pdf", b""),
    ]


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement.id")


def test_a_mixed_upload_described_file_by_file(page, live_server, clerk, files, axe_check,
                                               console_errors):
    page.goto("/auth/login")
    sign_in(page, live_server, clerk)
    page.get_by_role("link", name="Documents", exact=True).click()
    page.get_by_role("navigation", name="Documents").get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload documents")).to_be_visible()
    formats = page.locator("#accepted-formats li")
    expect(formats.filter(has_text="TIFF image (.tif, .tiff)")).to_contain_text("read with OCR")
    expect(formats.filter(has_text="PDF (.pdf)")).to_have_count(1)
    axe_check(page)

    # Choosing files lists them, each with its own fields; the batch's are the defaults.
    page.get_by_label("Document type", exact=True).select_option(label="Exhibit")
    page.get_by_label("Files").set_input_files(files)
    listed = page.locator("#file-details-rows tr")
    expect(listed).to_have_count(3)
    expect(page.get_by_role("heading", name="Details of each file")).to_be_visible()
    axe_check(page)

    # By keyboard: the statement's type (typing picks the option), source and date.
    page.get_by_label("Document type of statement.pdf").focus()
    page.keyboard.type("W")
    expect(page.get_by_label("Document type of statement.pdf")).to_have_value(
        "witness_statement")
    page.keyboard.press("Tab")
    assert focused_id(page) == "file-0-source"
    page.keyboard.type("Oldham Academy")
    for part, value in (("day", "3"), ("month", "4"), ("year", "2015")):
        page.keyboard.press("Tab")
        assert focused_id(page) == f"file-0-{part}"
        page.keyboard.type(value)

    # A date that does not exist is caught before anything is sent.
    letter = listed.filter(has_text="letter.docx")
    letter.get_by_label("Day").fill("31")
    letter.get_by_label("Month").fill("2")
    letter.get_by_label("Year").fill("2015")
    page.get_by_role("button", name="Upload").click()
    summary = page.locator("#file-details-errors .govuk-error-summary")
    expect(summary).to_contain_text("Enter a real date for letter.docx")
    expect(summary).to_be_focused()
    expect(letter.locator(".govuk-error-message")).to_contain_text("Enter a real date")
    expect(page).to_have_url(re.compile(r"/upload/$"))
    axe_check(page)
    for part in ("Day", "Month", "Year"):
        letter.get_by_label(part).fill("")

    # GOV.UK's button ignores a second press within a second of the first (double clicks).
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Upload").focus()
    with page.expect_navigation(url=BATCH_URL):
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Upload to OLD")).to_be_visible()
    expect(page.locator("#batch-progress").get_by_role("status")).to_contain_text(
        "Finished: 2 of 2 stored files processed, 1 refused", timeout=PROCESSING_TIMEOUT)

    # The refused file is on the upload's own page, with its reason and size.
    refused = page.get_by_role("table", name="Files of this upload that were refused")
    expect(refused.locator("tbody tr")).to_have_count(1)
    expect(refused).to_contain_text("blank.pdf")
    expect(refused).to_contain_text("The file is empty.")
    expect(refused).to_contain_text("0 bytes")

    details = page.get_by_role("table", name="Type, source and date of each file stored "
                                             "from this upload")
    expect(page.get_by_label("Document type of OLD000001")).to_have_value("witness_statement")
    expect(page.get_by_label("Source of OLD000001")).to_have_value("Oldham Academy")
    statement = details.locator("tbody tr").filter(has_text="statement.pdf")
    expect(statement.get_by_label("Year")).to_have_value("2015")
    expect(statement).to_contain_text("Entered by hand")
    expect(page.get_by_label("Document type of OLD000002")).to_have_value("exhibit")
    axe_check(page)

    # After sending: correct the letter's source and date, one row among the others.
    page.get_by_label("Source of OLD000002").fill("Oldham Council")
    letter = details.locator("tbody tr").filter(has_text="letter.docx")
    letter.get_by_label("Day").fill("12")
    letter.get_by_label("Month").fill("11")
    letter.get_by_label("Year").fill("2014")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Details of 1 file updated: OLD000002.")).to_be_visible()
    expect(page.get_by_label("Source of OLD000002")).to_have_value("Oldham Council")
    expect(letter).to_contain_text("Entered by hand")
    axe_check(page)

    # In bulk: both files become correspondence; their own sources and dates stay.
    for urn in ("OLD000001", "OLD000002"):
        page.get_by_label(re.compile(rf"^Select {urn}")).focus()
        page.keyboard.press("Space")
        expect(page.get_by_label(re.compile(rf"^Select {urn}"))).to_be_checked()
    page.locator("#bulk-doc_type").select_option(label="Correspondence")
    page.get_by_role("button", name="Apply to selected files").click()
    expect(page.get_by_text("Details of 2 files updated: OLD000001, OLD000002.")).to_be_visible()
    for urn in ("OLD000001", "OLD000002"):
        expect(page.get_by_label(f"Document type of {urn}")).to_have_value("correspondence")
    expect(page.get_by_label("Source of OLD000001")).to_have_value("Oldham Academy")
    expect(statement.get_by_label("Year")).to_have_value("2015")
    axe_check(page)

    # Needs attention lists the refused file, who sent it and why, until it is dismissed.
    page.get_by_role("link", name="Documents", exact=True).click()
    page.get_by_role("link", name="Needs attention").click()
    expect(page.get_by_role("heading", name="Files refused at upload")).to_be_visible()
    listed = page.get_by_role("table", name="Files refused at upload").locator("tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("blank.pdf")
    expect(listed).to_contain_text("The file is empty.")
    expect(listed).to_contain_text(CLERK)
    axe_check(page)
    listed.get_by_role("button", name="Dismiss blank.pdf").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("blank.pdf was dismissed from Needs attention.")).to_be_visible()
    expect(page.get_by_role("table", name="Files refused at upload")).to_have_count(0)
    axe_check(page)

    assert console_errors == [], "\n".join(console_errors)


def test_without_javascript_each_file_is_described_after_sending(browser, live_server, clerk,
                                                                  files):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/auth/login")
        sign_in(page, live_server, clerk)
        page.goto("/upload/")
        # No script, no per-file list: the whole batch's fields are what is sent.
        expect(page.locator("#file-details")).to_be_hidden()
        page.get_by_label("Document type", exact=True).select_option(label="Report")
        page.get_by_label("Files").set_input_files(files[:2])
        page.get_by_role("button", name="Upload").click()
        expect(page).to_have_url(BATCH_URL)
        expect(page.get_by_label("Document type of OLD000001")).to_have_value("report")
        page.get_by_label("Document type of OLD000002").select_option(label="Transcript")
        letter = page.locator("#details-form tbody tr").filter(has_text="letter.docx")
        letter.get_by_label("Day").fill("30")
        letter.get_by_label("Month").fill("2")
        letter.get_by_label("Year").fill("2014")
        page.get_by_role("button", name="Save changes").click()
        # A date that does not exist is an error on the page; nothing is saved.
        expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "OLD000002: Enter a real date")
        expect(page.get_by_label("Document type of OLD000002")).to_have_value("transcript")
        letter.get_by_label("Day").fill("28")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_text("Details of 1 file updated: OLD000002.")).to_be_visible()
        expect(page.get_by_label("Document type of OLD000002")).to_have_value("transcript")
        expect(letter).to_contain_text("Entered by hand")
        # Bulk works without script too: the table's boxes belong to the bulk form.
        page.get_by_label(re.compile(r"^Select OLD000001")).check()
        page.get_by_label("Source or provider").fill("Home Office")
        page.get_by_role("button", name="Apply to selected files").click()
        expect(page.get_by_text("Details of 1 file updated: OLD000001.")).to_be_visible()
        expect(page.get_by_label("Source of OLD000001")).to_have_value("Home Office")
        expect(page.get_by_label("Source of OLD000002")).to_have_value("")
    finally:
        context.close()
