"""A day's work in a real browser: sign in, create an inquiry, upload, search, read, fix.

The live server runs the stack's real queue (consumer threads), so uploads are read in
the background and the batch page follows them through htmx polling.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import samples
from tests.conftest import PASSWORD, make_user, totp_code

pytestmark = pytest.mark.browser

ADMIN = "admin@example.org"
PROCESSING_TIMEOUT = 30_000  # ms: three small files on two worker threads
PHRASE = "the mandatory reporting duty"
BATCH_URL = re.compile(r"/upload/batches/\d+$")
AFTER_PASSWORD = re.compile(r"^(Enter your security code|Search the evidence)$")


@pytest.fixture
def admin_email(live_server) -> str:
    with live_server.app.app_context():
        make_user(ADMIN, "admin")
    return ADMIN


@pytest.fixture
def evidence(tmp_path: Path) -> list[Path]:
    """A 3-page PDF with the phrase on page 2, a DOCX, and a PDF that needs a password."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    return [
        samples.write(
            folder,
            "statement.pdf",
            samples.make_pdf(
                [
                    "Witness statement of the head teacher.",
                    f"I was not told about {PHRASE} until 2019.",
                    "I believe the facts stated in this statement are true.",
                ],
                title="Statement of the head teacher",
            ),
        ),
        samples.write(
            folder,
            "letter.docx",
            samples.make_docx(
                ["Letter from the local authority about safeguarding training."],
                title="Letter from the local authority",
            ),
        ),
        samples.write(folder, "locked.pdf", samples.make_encrypted_pdf()),
    ]


def security_code(live_server, email: str) -> str:
    with live_server.app.app_context():
        return totp_code(email)


def sign_in(page: Any, live_server, email: str, axe_check=None) -> None:
    """The sign-in form, then the security-code step that administrators go through."""
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name=AFTER_PASSWORD)).to_be_visible()
    if page.url.split("#")[0].endswith("/auth/code"):
        if axe_check is not None:
            axe_check(page)
        page.get_by_label("Enter your security code").fill(security_code(live_server, email))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Search the evidence")).to_be_visible()


def test_a_day_of_work(page, live_server, admin_email, evidence, console_errors, axe_check):
    # Sign in through the form.
    page.goto("/auth/login")
    axe_check(page)
    sign_in(page, live_server, admin_email, axe_check)

    # Create the inquiry through the UI.
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("main").get_by_role("link", name="Inquiries").click()
    expect(page.get_by_role("heading", name="Inquiries", exact=True)).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Create an inquiry").click()
    expect(page.get_by_role("heading", name="Create an inquiry")).to_be_visible()
    axe_check(page)
    page.get_by_label("Code").fill("OLD")
    page.get_by_label("Name").fill("Oldham local inquiry")
    page.get_by_role("button", name="Create inquiry").click()
    expect(page.get_by_text("Inquiry OLD created.")).to_be_visible()
    expect(page.get_by_role("cell", name="OLD", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Oldham local inquiry")).to_be_visible()

    # Upload three files at once.
    page.get_by_role("link", name="Documents", exact=True).click()
    page.get_by_role("navigation", name="Documents").get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload documents")).to_be_visible()
    axe_check(page)
    # The only inquiry is chosen already.
    expect(page.get_by_label("Inquiry").locator("option:checked")).to_have_text(
        re.compile(r"^OLD . Oldham local inquiry$")
    )
    page.get_by_label("Document type").select_option(label="Witness statement")
    page.get_by_label("Files").set_input_files(evidence)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.headers.get("hx-request") else None)
    with page.expect_response(BATCH_URL) as first_response:
        page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(BATCH_URL)
    expect(page.get_by_role("heading", name="Upload to OLD")).to_be_visible()
    first_html = first_response.value.text()
    # The first render shows the work still going, with htmx polling set up, unless the
    # workers (batched, quick on a quiet machine) finished the three files before it.
    if "Finished:" not in first_html:
        assert "Processing" in first_html, first_html
        assert 'hx-trigger="every 1s"' in first_html

    # htmx swaps the progress in place: no reload, so the same document stays loaded.
    page.evaluate("window.__sameDocument = true")
    progress = page.locator("#batch-progress")
    expect(progress.get_by_role("status")).to_contain_text(
        "Finished: 3 of 3 stored files processed", timeout=PROCESSING_TIMEOUT
    )
    assert page.evaluate("window.__sameDocument") is True, "the batch page was reloaded"
    assert polls or "Finished:" in first_html, "htmx never polled the batch"
    # Once finished, the swapped-in progress no longer polls.
    expect(page.locator("#batch-progress[hx-get], #batch-progress [hx-get]")).to_have_count(0)

    rows = progress.locator("tbody tr")
    expect(rows).to_have_count(3)
    statement = rows.filter(has_text="statement.pdf")
    expect(statement).to_contain_text("OLD000001")
    expect(statement).to_contain_text("Searchable")
    expect(rows.filter(has_text="letter.docx")).to_contain_text("Searchable")
    locked = rows.filter(has_text="locked.pdf")
    expect(locked).to_contain_text("OLD000003")
    expect(locked.locator(".govuk-tag")).to_have_text("Failed")
    expect(locked).to_contain_text("The PDF is encrypted and needs a password.")
    axe_check(page)

    # Search for the exact phrase.
    page.get_by_role("link", name="Search", exact=True).click()
    page.get_by_label('Words or "an exact phrase"').fill('"mandatory reporting"')
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-heading")).to_have_text("1 document, 1 page")
    results = page.locator(".app-result")
    expect(results).to_have_count(1)
    expect(results.get_by_role("heading")).to_contain_text("OLD000001")
    expect(results.locator(".app-snippet mark").first).to_be_visible()
    expect(results.locator(".app-snippet")).to_contain_text("mandatory reporting")
    axe_check(page)

    # Follow the page-2 hit to the document, scrolled to page 2 with the words marked.
    results.get_by_role("link", name="Page 2").click()
    expect(page).to_have_url(re.compile(r"#page-2$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement of the head teacher")
    expect(page.locator("#page-2")).to_be_in_viewport()
    marks = page.locator("#page-2 mark")
    expect(marks.first).to_be_visible()
    assert " ".join(marks.all_inner_texts()).lower().split() == ["mandatory", "reporting"]
    expect(page.locator("#page-1 mark")).to_have_count(0)
    expect(page.locator("#page-2-heading")).to_contain_text("Page 2")
    summary = page.locator(".govuk-summary-list")
    expect(summary.locator(".govuk-summary-list__row", has_text="Type")).to_contain_text(
        "Witness statement"
    )
    expect(summary.locator(".govuk-summary-list__row", has_text="Pages")).to_contain_text("3")
    expect(page.get_by_role("heading", name="How it arrived")).to_be_visible()
    expect(page.get_by_role("table", name="Each time this file was received")).to_contain_text(
        "statement.pdf"
    )
    axe_check(page)

    # Needs attention: the encrypted file, with a Retry button.
    page.get_by_role("link", name="Documents", exact=True).click()
    page.get_by_role("link", name="Needs attention").click()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    failed = page.locator("tbody tr")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("OLD000003")
    expect(failed).to_contain_text("locked.pdf")
    expect(failed).to_contain_text("The PDF is encrypted and needs a password.")
    expect(failed.get_by_role("button", name="Retry")).to_be_visible()
    axe_check(page)

    assert console_errors == [], "\n".join(console_errors)


def test_the_same_day_without_javascript(browser, live_server, admin_email, evidence):
    with live_server.app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        create_inquiry("OLD", "Oldham local inquiry")
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/auth/login")
        sign_in(page, live_server, admin_email)

        page.goto("/upload/")
        page.get_by_label("Document type").select_option(label="Witness statement")
        page.get_by_label("Files").set_input_files(evidence)
        page.get_by_role("button", name="Upload").click()
        expect(page).to_have_url(BATCH_URL)

        # Without htmx the page offers a plain link to refresh it, until the work is done.
        status = page.locator("#batch-progress").get_by_role("status")
        expect(status).to_contain_text("Processing")
        refresh = page.get_by_role("link", name="Refresh to see progress")
        expect(refresh).to_be_visible()
        for _ in range(60):
            page.wait_for_timeout(500)
            refresh.click()
            if "Finished" in status.inner_text():
                break
            expect(refresh).to_be_visible()
        else:
            pytest.fail("the batch did not finish within 60 refreshes")
        expect(status).to_contain_text("Finished: 3 of 3 stored files processed")
        expect(page.get_by_role("link", name="Refresh to see progress")).to_have_count(0)

        page.get_by_role("link", name="Search", exact=True).click()
        page.get_by_label('Words or "an exact phrase"').fill('"mandatory reporting"')
        page.get_by_role("button", name="Search").click()
        results = page.locator(".app-result")
        expect(results).to_have_count(1)
        expect(results).to_contain_text("OLD000001")
        expect(results.locator(".app-snippet mark").first).to_be_visible()
        results.get_by_role("link", name="Page 2").click()
        expect(page.locator("#page-2 mark").first).to_have_text("mandatory", ignore_case=True)
    finally:
        context.close()


def test_sign_in_by_keyboard(page, live_server, admin_email):
    page.goto("/auth/login")
    page.wait_for_load_state("networkidle")

    def focused() -> dict[str, str]:
        return page.evaluate(
            "() => { const el = document.activeElement;"
            " return {tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.trim(),"
            " cls: String(el.className)}; }"
        )

    def tab() -> dict[str, str]:
        page.keyboard.press("Tab")
        return focused()

    # Tab order: skip link, the header's home link, the language switch, email, password,
    # Sign in.
    skip = tab()
    assert skip["tag"] == "a" and "govuk-skip-link" in skip["cls"], skip
    assert skip["text"] == "Skip to main content"
    home = tab()
    assert home["tag"] == "a" and home["text"] == "Inquiry Docs", home
    welsh = tab()
    assert welsh["tag"] == "button" and welsh["text"] == "Cymraeg", welsh
    assert tab()["id"] == "email", focused()
    assert tab()["id"] == "password", focused()
    button = tab()
    assert button["tag"] == "button" and button["text"] == "Sign in", button

    # The skip link jumps past the header: the next Tab lands on the email field.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
    assert "govuk-skip-link" in focused()["cls"], focused()
    page.keyboard.press("Enter")
    assert focused()["id"] == "main-content", focused()
    assert tab()["id"] == "email", focused()
    page.keyboard.type(admin_email)
    assert tab()["id"] == "password", focused()
    page.keyboard.type(PASSWORD)

    # Enter in the password field submits the form; an administrator is then asked for a
    # security code, which the keyboard can give as well.
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=AFTER_PASSWORD)).to_be_visible()
    if page.url.split("#")[0].endswith("/auth/code"):
        # Wait for the page to settle first: arriving at #main-content, the browser's
        # scroll to the fragment can take focus away from a field focused too early.
        page.wait_for_load_state("load")
        field = page.get_by_label("Enter your security code")
        field.focus()
        code = security_code(live_server, admin_email)
        page.keyboard.type(code)
        expect(field).to_have_value(code)
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Search the evidence")).to_be_visible()
    # (The #main-content fragment from the skip link survives the redirect, as browsers do.)
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/(#main-content)?$"))
