"""The shared page layout in a real browser: accessible, and nothing blocked by the CSP."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_page_is_accessible_and_csp_clean(page, console_errors, axe_check):
    response = page.goto("/auth/login")
    assert response is not None and response.ok
    page.wait_for_load_state("networkidle")

    assert page.title().endswith("Inquiry Docs")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    # app.js ran (a module from 'self'), so GOV.UK Frontend's components started.
    assert "govuk-frontend-supported" in (page.locator("body").get_attribute("class") or "")
    # Brand-neutral: Arial, never the GDS Transport web font.
    font = page.locator("h1").first.evaluate("el => getComputedStyle(el).fontFamily")
    assert font.startswith("arial"), font

    axe_check(page)
    blocked = [text for text in console_errors if "Content Security Policy" in text]
    assert not blocked, "\n".join(blocked)
