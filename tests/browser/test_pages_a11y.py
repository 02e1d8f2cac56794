"""Every page a signed-in admin can reach, with data on it: axe finds nothing, no console errors.

One server per module, loaded once through the upload form with a searchable document
(OLD000001) and one that fails (OLD000002, an encrypted PDF). Each test opens its own
browser context from the saved signed-in state.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from inquiry_docs.web.server import make_server
from tests import samples, stack
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, make_user, totp_code

pytestmark = pytest.mark.browser

ADMIN = "admin@example.org"
MAX_UPLOAD_MB = 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Like conftest's live_server, but shared by this module's tests."""
    from inquiry_docs import create_app
    from inquiry_docs.access.inquiries import create_inquiry
    from inquiry_docs.db import upgrade_database
    from inquiry_docs.operations import workers

    tmp = tmp_path_factory.mktemp("a11y")
    app = create_app(
        {
            "INSTANCE_DIR": str(tmp / "instance"),
            "UPLOAD_DIR": str(tmp / "uploads"),
            "INDEX_DIR": str(tmp / "index"),
            **stack.settings(tmp),
            "SECRET_KEY": "test",
            "TESTING": True,
            "WORKERS_IN_SERVER": 2,
            "MAX_UPLOAD_MB": MAX_UPLOAD_MB,
            # The anchor button writes here; the server does not anchor on its own.
            "ANCHOR_DIR": str(tmp / "anchors"),
            "ANCHOR_HOURS": 0,
        }
    )
    (tmp / "anchors").mkdir()
    with app.app_context():
        upgrade_database()
        make_user(ADMIN, "admin")
        create_inquiry("OLD", "Oldham local inquiry")
    http = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=http.serve_forever, name="a11y-server", daemon=True)
    workers.start_consumer(app)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{http.server_port}", app=app)
    finally:
        http.shutdown()
        thread.join(timeout=10)
        http.server_close()
        workers.stop_consumer(app)


@pytest.fixture(scope="module")
def signed_in(browser: Any, server: LiveServer, tmp_path_factory) -> dict[str, Any]:
    """Sign in once, upload the module's two documents, and keep the session cookie."""
    folder = tmp_path_factory.mktemp("a11y-files")
    files = [
        samples.write(
            folder,
            "statement.pdf",
            samples.make_pdf(
                [
                    "Witness statement of the head teacher.",
                    "I was not told about the mandatory reporting duty until 2019.",
                ],
                title="Statement of the head teacher",
            ),
        ),
        samples.write(folder, "locked.pdf", samples.make_encrypted_pdf()),
    ]
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.goto("/auth/login")
        page.get_by_label("Email address").fill(ADMIN)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        after_password = re.compile(r"^(Enter your security code|Search the evidence)$")
        expect(page.get_by_role("heading", level=1, name=after_password)).to_be_visible()
        if page.url.endswith("/auth/code"):  # administrators give a security code too
            with server.app.app_context():
                code = totp_code(ADMIN)
            page.get_by_label("Enter your security code").fill(code)
            page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Search the evidence")).to_be_visible()
        page.goto("/upload/")
        page.get_by_label("Files").set_input_files(files)
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#batch-progress").get_by_role("status")).to_contain_text(
            "Finished: 2 of 2", timeout=30_000
        )
        _link_evidence(server)
        return context.storage_state()
    finally:
        context.close()


def _link_evidence(server: LiveServer) -> None:
    """Recommendation 13 gets a linked passage, a trail event and a note to show."""
    from datetime import datetime

    from inquiry_docs.db import db
    from inquiry_docs.models import Document, User
    from inquiry_docs.recommendations import ensure_default_set, links, tracking

    with server.app.app_context():
        rec = ensure_default_set().recommendations[12]
        admin = db.session.execute(db.select(User)).scalar_one()
        document = db.session.get(Document, 1)
        data = links.LinkInput(2, "supports", "Head teacher <unaware>", "mandatory reporting")
        _, position = links.validate(document, data)
        links.add(admin, rec, document, data, position)
        tracking.add_event(admin, rec, datetime(2023, 5, 22), "Response published", document)
        tracking.add_note(admin, rec, "Follow up with the Home Office")
        db.session.remove()


def watch_console(page: Any, errors: list[str]) -> None:
    """Collect console errors as "text @ url", and uncaught exceptions."""

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            errors.append(f"{msg.text} @ {msg.location.get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))


@pytest.fixture(scope="module")
def review_data(server: LiveServer, signed_in) -> None:
    """A tag on OLD000001, its coding, a note on page 2, a finished disclosure bundle, an
    approved redaction, a finished production, then a redaction waiting for approval."""
    import time

    from sqlalchemy import select

    from inquiry_docs.db import db
    from inquiry_docs.models import Bundle, Document, Production, User
    from inquiry_docs.review import bundles, coding, notes, productions, redactions, tags

    with server.app.app_context():
        admin = db.session.execute(select(User).where(User.email == ADMIN)).scalar_one()
        document = db.session.get(Document, 1)
        tag = tags.create(admin, document.inquiry_id, "Operation Fern", "blue", "Police op")
        tags.apply(admin, tag, [document])
        document = db.session.get(Document, 1)
        coding.save(document, coding.Change("relevant", "legal_advice", True, "2", "victim",
                                            "second_review", admin.id), admin)
        notes.add(admin, db.session.get(Document, 1), 2, "Contradicts the earlier account",
                  "mandatory reporting duty")
        bundles.start(admin, [db.session.get(Document, 1)], "Core participants")
        legal = make_user("legal@example.org", "legal", document.inquiry)
        redaction = redactions.add(admin, db.session.get(Document, 1),
                                   redactions.Box(2, 0.05, 0.04, 0.5, 0.07),
                                   redactions.Reason("pii"))
        redactions.approve(legal, redaction)
        productions.start(admin, [db.session.get(Document, 1)], productions.Request(
            "Tranche 1", "Core participants", "OLD", "100"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with server.app.app_context():
            done = db.session.get(Bundle, 1).status == "done" and \
                db.session.get(Production, 1).status == "done" and \
                db.session.get(Document, 1).status == "indexed"
            if done:
                admin = db.session.execute(select(User).where(User.email == ADMIN)
                                           ).scalar_one()
                redactions.add(admin, db.session.get(Document, 1),
                               redactions.Box(1, 0.05, 0.04, 0.3, 0.07),
                               redactions.Reason("restriction", "RO 2023/4"))
                return
        time.sleep(0.2)
    raise AssertionError("the bundle, the production or the re-index did not finish in time")


@pytest.fixture
def admin_page(browser: Any, server: LiveServer, signed_in, review_data,
               console_errors) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, storage_state=signed_in)
    page = context.new_page()
    watch_console(page, console_errors)
    yield page
    context.close()


def check_page(page: Any, console_errors: list[str], axe_check, status: int = 200) -> None:
    """axe finds nothing, and the console is clean.

    Chromium logs "Failed to load resource" for a page served with an error status; for
    an error page that is the expected answer, so only that one line (for this page's own
    URL and status) is allowed.
    """
    page.wait_for_load_state("load")  # app.js, a module, has run by then
    axe_check(page)
    # Two forms on one page must not share ids: a label would name the other form's field.
    duplicated = page.evaluate(
        "() => { const seen = {}; for (const e of document.querySelectorAll('[id]'))"
        " seen[e.id] = (seen[e.id] || 0) + 1;"
        " return Object.keys(seen).filter((id) => seen[id] > 1); }")
    assert duplicated == [], f"ids used more than once: {duplicated}"
    errors = list(console_errors)
    if status >= 400:
        own = f"the server responded with a status of {status} "
        errors = [e for e in errors if not (own in e and e.endswith(f" @ {page.url}"))]
    assert errors == [], "\n".join(errors)


# (path, status, text on the page)
PAGES = [
    ("/", 200, "Search the evidence"),
    ("/?q=reporting", 200, "1 document, 1 page"),
    ("/?q=nomatchanywhere", 200, "0 documents, 0 pages"),
    ("/documents/", 200, "2 documents"),
    ("/documents/?status=failed", 200, "1 document"),
    ("/documents/1", 200, "Statement of the head teacher"),
    ("/documents/1?q=duty", 200, "Open the image of page 2 full size"),
    ("/documents/2", 200, "The PDF is encrypted and needs a password."),
    ("/documents/attention", 200, "locked.pdf"),
    ("/inquiries/", 200, "Oldham local inquiry"),
    ("/inquiries/new", 200, "Create an inquiry"),
    ("/upload/", 200, "Upload documents"),
    ("/upload/batches/1", 200, "Finished: 2 of 2"),
    ("/documents/999999", 404, "Page not found"),
    ("/documents/1/edit", 200, "Edit details"),
    ("/documents/1/marking", 200, "Marking and restriction"),
    ("/documents/1/similar?page=1", 200, "More like"),
    ("/admin/", 200, "Administration"),
    ("/admin/users", 200, "admin@example.org"),
    ("/admin/users/new", 200, "Add a user"),
    ("/admin/users/1", 200, "admin@example.org"),
    ("/admin/audit", 200, "document_viewed"),
    ("/admin/audit/verify", 200, "intact"),
    ("/admin/status", 200, "Queue depth"),
    ("/admin/documents/1/seen", 200, "admin@example.org"),
    ("/auth/two-factor", 200, "Two-factor"),
    ("/auth/change-password", 200, "Change your password"),
    ("/account/tokens", 200, "API tokens"),
    ("/recommendations/", 200, "Mandatory reporting of child sexual abuse"),
    ("/recommendations/13", 200, "Linked evidence (1)"),
    ("/recommendations/documents/1", 200, "Likely recommendations"),
    ("/recommendations/links/1/edit", 200, "Edit the link to OLD000001"),
    ("/recommendations/sets/1/matrix", 200, "Coverage matrix"),
    ("/recommendations/sets/1/matrix?by=type", 200, "Witness statement"),
    ("/recommendations/sets/import", 200, "Import recommendations"),
    ("/recommendations/sets/1/edit", 200, "Edit the set"),
    ("/recommendations/13/edit", 200, "Edit recommendation 13"),
    ("/review/queue", 200, "Assigned to me: 1 document"),
    ("/review/queue?name=second", 200, "Needs second review: 1 document"),
    ("/review/queue?name=unreviewed", 200, "Not yet reviewed"),
    ("/review/tags", 200, "Operation Fern"),
    ("/review/tags/1/edit", 200, "Change tag Operation Fern"),
    ("/review/tags/1/merge", 200, "no other tag"),
    ("/review/documents/1/coding", 200, "Relevance"),
    ("/review/documents/1/coding?q=reporting", 200, "Document 1 of 1"),
    ("/review/documents/1/history", 200, "Second review"),
    ("/review/notes?q=contradicts", 200, "1 note"),
    ("/review/notes/1/edit", 200, "Edit note"),
    ("/review/bulk?q=reporting", 200, "Act on 1 document"),
    ("/review/bulk?q=reporting&action=tag_remove&apply_tag=1", 200, "will be untagged"),
    ("/review/bundles/1", 200, "Ready: 1 of 1"),
    ("/?q=reporting&tag=1&relevance=relevant", 200, "Operation Fern"),
    ("/accessibility", 200, "Enforcement procedure"),
    ("/privacy", 200, "Your rights"),
    ("/?q=reporting&collapse=yes", 200, "One document per group of near-duplicates"),
    ("/?type=other", 200, "1 document, 2 pages"),
    ("/timeline", 200, "1 document, 1 dated"),
    ("/timeline?q=reporting&type=other", 200, "Month by month"),
    ("/timeline?q=nomatchanywhere", 200, "No documents match your words"),
    ("/documents/1/compare", 200, "Choose what to compare with"),
    ("/documents/1/compare?with=OLD000002", 200, "OLD000001 compared with OLD000002"),
    ("/documents/1/compare?with=OLD999999", 400, "Enter the URN of another document"),
    ("/review/documents/1/redactions", 200, "1 waiting for approval"),
    ("/review/redactions/1/edit", 200, "Change a redaction"),
    ("/review/redact?doc=1", 200, "What do you want to find?"),
    ("/review/redact?doc=1&kind=words&words=reporting&reason=pii", 200, "1 hit on 1 page"),
    ("/review/redact?q=reporting", 200, "In all 1 document"),
    ("/review/queue?name=redactions", 200, "Redactions to approve: 1 document"),
    ("/review/productions/", 200, "Tranche 1"),
    ("/review/productions/new?doc=1", 200, "left out: redactions waiting for approval"),
    ("/review/productions/new?doc=2", 200, "left out: no page images"),
    ("/review/productions/1", 200, "Ready: 1 of 1 document produced."),
    ("/documents/1#page-2", 200, "Redact part of page 2 (1 redaction)"),
]


@pytest.mark.parametrize(("path", "status", "text"), PAGES, ids=[p[0] for p in PAGES])
def test_page_is_accessible(admin_page, console_errors, axe_check, path, status, text):
    response = admin_page.goto(path)
    assert response is not None and response.status == status
    expect(admin_page.locator("main")).to_contain_text(text)
    check_page(admin_page, console_errors, axe_check, status)


def test_document_page_with_marks_is_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/documents/1?q=reporting#page-2")
    expect(admin_page.locator("#page-2 mark")).to_have_text("reporting", ignore_case=True)
    check_page(admin_page, console_errors, axe_check)


def error_summary(page: Any, *links: str) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    for link in links:
        expect(summary.get_by_role("link", name=link)).to_be_visible()
    assert page.title().startswith("Error: ")


def test_create_inquiry_errors_are_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/inquiries/new")
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        admin_page.get_by_role("button", name="Create inquiry").click()
    assert posted.value.status == 400
    error_summary(
        admin_page,
        "Enter a code of exactly 3 letters, like OLD",
        "Enter a name of up to 200 characters",
    )
    # GOV.UK Frontend moves focus to the summary; its links lead to the fields.
    expect(admin_page.locator(".govuk-error-summary")).to_be_focused()
    expect(admin_page.get_by_label("Code")).to_have_attribute(
        "aria-describedby", "code-hint code-error"
    )
    check_page(admin_page, console_errors, axe_check, 400)
    admin_page.get_by_role("link", name="Enter a name of up to 200 characters").click()
    expect(admin_page.get_by_label("Name")).to_be_focused()


def test_upload_errors_are_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/upload/")
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        admin_page.get_by_role("button", name="Upload").click()
    assert posted.value.status == 400
    error_summary(admin_page, "Choose one or more files to upload")
    check_page(admin_page, console_errors, axe_check, 400)


def test_sign_in_error_is_accessible(browser, server, console_errors, axe_check):
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        watch_console(page, console_errors)
        page.goto("/auth/login")
        page.get_by_label("Email address").fill(ADMIN)
        page.get_by_label("Password", exact=True).fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        error_summary(page, "Enter a correct email address and password")
        check_page(page, console_errors, axe_check, 400)
    finally:
        context.close()


@pytest.mark.parametrize(("path", "heading"), [
    ("/accessibility", "Accessibility statement for Inquiry Docs"),
    ("/privacy", "Privacy notice"),
])
def test_published_pages_are_accessible_signed_out(browser, server, console_errors, axe_check,
                                                   path, heading):
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        watch_console(page, console_errors)
        page.goto("/auth/login")
        page.get_by_role("contentinfo").get_by_role("link", name=heading.split(" for ")[0]
                                                    ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert page.url.endswith(path)
        check_page(page, console_errors, axe_check)
    finally:
        context.close()


def test_anchoring_from_the_audit_trail_is_accessible(admin_page, console_errors, axe_check,
                                                      server):
    admin_page.goto("/admin/audit")
    admin_page.get_by_role("button", name="Anchor the audit trail now").click()
    expect(admin_page.locator(".govuk-notification-banner")).to_contain_text(
        "Audit trail anchored at event #")
    expect(admin_page.locator("main")).to_contain_text("written to every place")
    check_page(admin_page, console_errors, axe_check)
    assert len(list((Path(server.app.config["ANCHOR_DIR"])).glob("*.json"))) == 1


def test_too_large_upload_page_is_accessible(admin_page, console_errors, axe_check, tmp_path):
    big = samples.write(tmp_path, "big.pdf", b"%PDF-1.4\n" + b"0" * (MAX_UPLOAD_MB + 2) * 2**20)
    admin_page.goto("/upload/")
    admin_page.get_by_label("Files").set_input_files(big)
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        admin_page.get_by_role("button", name="Upload").click()
    assert posted.value.status == 413
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("The file is too large")
    expect(admin_page.locator("main")).to_contain_text(f"larger than the {MAX_UPLOAD_MB} MB")
    check_page(admin_page, console_errors, axe_check, 413)


def test_recommendation_link_errors_are_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/recommendations/13")
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        admin_page.get_by_role("button", name="Link evidence").click()
    assert posted.value.status == 400
    error_summary(admin_page, "Enter the URN of a document you can see, like OLD000123")
    check_page(admin_page, console_errors, axe_check, 400)


def test_document_link_form_errors_are_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/recommendations/documents/1")
    admin_page.get_by_label("Recommendation").select_option(
        label="13. Mandatory reporting of child sexual abuse")
    admin_page.get_by_label("Page").fill("2")
    admin_page.get_by_label("Quoted passage (optional)").fill("not on the page at all")
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        admin_page.get_by_role("button", name="Link to recommendation").click()
    assert posted.value.status == 400
    error_summary(admin_page, "Choose whether the evidence supports, challenges, gives "
                              "context or shows implementation")
    check_page(admin_page, console_errors, axe_check, 400)


def test_redaction_form_errors_are_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/review/documents/1/redactions")
    form = admin_page.locator("#add-box + form")
    form.get_by_label("Page", exact=True).fill("")
    form.get_by_label("Left").fill("abc")
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.get_by_role("button", name="Propose redaction").click()
    assert posted.value.status == 400
    error_summary(admin_page, "Enter the box's left as a percentage of the page, like 12.5",
                  "Enter the page number")
    check_page(admin_page, console_errors, axe_check, 400)


def test_production_form_errors_are_accessible(admin_page, console_errors, axe_check):
    admin_page.goto("/review/productions/new?doc=1")
    with admin_page.expect_response(lambda r: r.request.method == "POST") as posted:
        admin_page.get_by_role("button", name="Build the production").click()
    assert posted.value.status == 400
    error_summary(admin_page, "Enter a name of up to 100 characters",
                  "Enter a prefix of 1 to 10 capital letters and digits, starting with a "
                  "letter, like OLD")
    check_page(admin_page, console_errors, axe_check, 400)


STANCE_LABELS = ["Supports", "Challenges", "Context", "Implementation"]


def _stance_labels(form: Any) -> list[dict[str, Any]]:
    """Each stance radio with the text of its label (for=) and whether CSS hides that label."""
    return form.locator("input[type=radio]").evaluate_all(
        "(inputs) => inputs.map((i) => ({id: i.id, labels: [...i.labels].map((l) => ({"
        " text: l.textContent.trim(), hidden: getComputedStyle(l).display === 'none'"
        " || getComputedStyle(l).visibility === 'hidden'}))}))")


def test_link_form_choices_are_named_with_the_section_closed_and_open(
        admin_page, console_errors, axe_check):
    """The collapsed "Link a page or passage" form on a document page: its stance radios are
    a fieldset with a legend, each with its own label, closed (in the DOM, out of the
    accessibility tree) and open (announced by name); axe passes both ways. Then a reader
    opens it by keyboard, fills it and links page 2 to recommendation 1."""
    admin_page.goto("/documents/1")
    details = admin_page.locator("details#link-passage")
    form = details.locator("form")
    expect(details).not_to_have_attribute("open", re.compile(".*"))
    labels = _stance_labels(form)
    assert [entry["labels"] for entry in labels] == [
        [{"text": text, "hidden": False}] for text in STANCE_LABELS]
    assert len({entry["id"] for entry in labels}) == len(STANCE_LABELS)
    for text in STANCE_LABELS:  # named already, only hidden with the section
        expect(form.get_by_role("radio", name=text, exact=True, include_hidden=True)
               ).to_have_count(1)
        expect(form.get_by_role("radio", name=text, exact=True)).to_have_count(0)
    check_page(admin_page, console_errors, axe_check)

    summary = details.locator("summary")
    summary.focus()
    admin_page.keyboard.press("Enter")
    expect(details).to_have_attribute("open", "")
    stance = form.get_by_role("group", name="Stance")
    expect(stance).to_be_visible()
    for text in STANCE_LABELS:
        expect(stance.get_by_role("radio", name=text, exact=True)).to_be_visible()
    assert _stance_labels(form) == labels
    check_page(admin_page, console_errors, axe_check)

    form.get_by_label("Recommendation").select_option(index=1)
    form.get_by_label("Page", exact=True).fill("2")
    stance.get_by_role("radio", name="Context", exact=True).focus()
    admin_page.keyboard.press("Space")
    expect(stance.get_by_role("radio", name="Context", exact=True)).to_be_checked()
    form.get_by_role("button", name="Link to recommendation").click()
    expect(admin_page.locator(".govuk-notification-banner")).to_contain_text(
        "linked to recommendation")
    check_page(admin_page, console_errors, axe_check)


@pytest.fixture
def welsh_page(browser: Any, server: LiveServer, signed_in, review_data,
               console_errors) -> Iterator[Any]:
    """The admin's pages with a browser that asks for Welsh first."""
    context = browser.new_context(base_url=server.url, storage_state=signed_in,
                                  locale="cy-GB")
    page = context.new_page()
    watch_console(page, console_errors)
    yield page
    context.close()


def test_every_page_in_welsh_is_accessible(welsh_page, console_errors, axe_check):
    """The same pages once in Welsh: lang="cy", the navigation in Welsh, axe finds nothing.
    (Only the interface is translated; the documents' own words stay as written.)"""
    for path, status, _text in PAGES:
        console_errors.clear()  # each page answers for its own console
        response = welsh_page.goto(path)
        assert response is not None and response.status == status, path
        assert welsh_page.locator("html").get_attribute("lang") == "cy", path
        expect(welsh_page.get_by_role("link", name="Dogfennau", exact=True)).to_be_visible()
        check_page(welsh_page, console_errors, axe_check, status)


def test_the_language_switch_works_by_keyboard(welsh_page, server, console_errors, axe_check):
    welsh_page.goto("/documents/")
    switch = welsh_page.get_by_role("navigation", name="Iaith")
    expect(switch.locator("[aria-current]")).to_have_text("Cymraeg")
    switch.get_by_role("button", name="English").focus()
    welsh_page.keyboard.press("Enter")
    expect(welsh_page.locator("html")).to_have_attribute("lang", "en-GB")
    assert welsh_page.url.endswith("/documents/")
    # Kept on the account: the browser still asks for Welsh, the pages stay English.
    welsh_page.reload()
    expect(welsh_page.get_by_role("link", name="Documents", exact=True)).to_be_visible()
    check_page(welsh_page, console_errors, axe_check)
    welsh_page.get_by_role("navigation", name="Language").get_by_role(
        "button", name="Cymraeg").click()
    expect(welsh_page.locator("html")).to_have_attribute("lang", "cy")
    # The account as it was (following the browser), for the module's other tests.
    from inquiry_docs.db import db
    from inquiry_docs.models import User

    with server.app.app_context():
        db.session.execute(db.update(User).values(language=None))
        db.session.commit()
        db.session.remove()
