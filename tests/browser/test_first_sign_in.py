"""A new administrator's first sign-in in a real browser: the one-time password printed by
`inquiry-docs init`, a password of their own, two-factor, the recovery codes shown once
(with a page to print them), then the landing page; the codes are never shown again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from inquiry_docs.access import signin as auth
from inquiry_docs.access import totp

pytestmark = pytest.mark.browser

EMAIL = "first-admin@example.org"
NEW_PASSWORD = "a long passphrase of my own"


@pytest.fixture
def one_time_password(live_server) -> str:
    """What `inquiry-docs init` prints: a generated password to change at first sign-in."""
    with live_server.app.app_context():
        _, password = auth.create_user(EMAIL, role="admin")
    return password


def test_first_sign_in_in_one_sequence_with_codes_shown_once(page, one_time_password,
                                                             axe_check, console_errors):
    page.goto("/auth/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(one_time_password)
    page.get_by_role("button", name="Sign in").click()

    # Step 1: a password of their own.
    expect(page.get_by_role("heading", level=1, name="Choose a new password")).to_be_visible()
    expect(page.get_by_text("Set up your account: step 1 of 3")).to_be_visible()
    axe_check(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password and continue").click()

    # Step 2: two-factor, with the code computed from the key on the page.
    expect(page.get_by_role("heading", level=1,
                            name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_text("Set up your account: step 2 of 3")).to_be_visible()
    axe_check(page)
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(totp.code_at(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    # Step 3: the recovery codes, once, with a page to print them (a plain link).
    expect(page).to_have_url(re.compile(r"/auth/your-recovery-codes$"))
    expect(page.get_by_text("Set up your account: step 3 of 3")).to_be_visible()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(set(codes)) == 10
    axe_check(page)
    page.get_by_role("link", name="Print these codes").click()
    expect(page.get_by_role("heading", name="Inquiry Docs recovery codes")).to_be_visible()
    assert page.locator("#recovery-codes code").all_inner_texts() == codes
    page.emulate_media(media="print")
    expect(page.locator(".govuk-header")).to_be_hidden()
    expect(page.locator("#recovery-codes")).to_be_visible()
    page.emulate_media(media="screen")
    axe_check(page)
    page.get_by_role("link", name="Back to your recovery codes").click()
    page.get_by_role("button", name="I have saved my recovery codes").click()

    # The landing page, signed in: no second password change waiting.
    expect(page.get_by_role("heading", name="Search the evidence")).to_be_visible()
    expect(page.get_by_text("Your account is set up")).to_be_visible()

    # A second visit to the codes page does not show them again.
    page.goto("/auth/your-recovery-codes")
    expect(page.get_by_role("heading",
                            name="Your recovery codes cannot be shown again")).to_be_visible()
    expect(page.locator("#recovery-codes")).to_have_count(0)
    assert not any(code in page.content() for code in codes)
    axe_check(page)
    page.goto("/auth/your-recovery-codes/print")
    expect(page).to_have_url(re.compile(r"/auth/your-recovery-codes$"))
    assert console_errors == []
