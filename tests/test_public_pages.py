"""The accessibility statement and the privacy notice: open to everyone, linked from every
page's footer, and filled in from the organisation's settings."""

from __future__ import annotations

from inquiry_docs.db import db
from tests.conftest import PASSWORD, make_user


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_both_pages_are_open_without_signing_in(client):
    for path, heading in (("/accessibility", "Accessibility statement for Inquiry Docs"),
                          ("/privacy", "Privacy notice")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'<h1 class="govuk-heading-l">{heading}</h1>' in _text(response)


def test_the_footer_of_every_page_links_to_them(client, admin_client, admin):
    anonymous = client.application.test_client()
    pages = [anonymous.get("/auth/login"), anonymous.get("/no-such-page"),
             admin_client.get("/documents/"), admin_client.get("/admin/audit"),
             anonymous.get("/privacy")]
    for page in pages:
        footer = _text(page).split('<footer class="govuk-footer', 1)[1]
        assert 'href="/accessibility">Accessibility statement</a>' in footer
        assert 'href="/privacy">Privacy notice</a>' in footer


def test_the_accessibility_statement_says_what_a_statement_must(app, client):
    page = _text(client.get("/accessibility"))
    for must in ("WCAG", "2.2", "AA", "partially compliant", "Equality and Human Rights "
                 "Commission", "Equality Advisory and Support Service",
                 "Reporting accessibility problems", "not yet been reviewed"):
        assert must in page, must
    app.config.update(ORGANISATION_NAME="The Oldham Inquiry", CONTACT_EMAIL="access@oldham.example",
                      ACCESSIBILITY_REVIEWED="27 March 2026")
    page = _text(client.get("/accessibility"))
    assert "This service is run by The Oldham Inquiry." in page
    assert 'href="mailto:access@oldham.example"' in page
    assert "last reviewed by The Oldham Inquiry on 27 March 2026" in page
    assert "not yet been reviewed" not in page


def test_the_privacy_notice_is_filled_from_the_settings(app, client):
    page = _text(client.get("/privacy"))
    assert "has not yet published its lawful basis" in page
    assert "Information Commissioner" in page and "0303 123 1113" in page
    for processed in ("Your account", "The audit trail", "The evidence", "IP"):
        assert processed in page
    app.config.update(
        ORGANISATION_NAME="The Oldham Inquiry", CONTACT_EMAIL="data@oldham.example",
        DPO_EMAIL="dpo@oldham.example",
        PRIVACY_LAWFUL_BASIS="Article 6(1)(e) UK GDPR: the inquiry's public task.\n\n"
                             "Schedule 1 <Data Protection Act 2018>.",
        PRIVACY_RETENTION="Kept until the inquiry's records go to The National Archives.")
    page = _text(client.get("/privacy"))
    assert "<p class=\"govuk-body\">Article 6(1)(e) UK GDPR: the inquiry&#39;s public task.</p>" \
        in page
    assert "<p class=\"govuk-body\">Schedule 1 &lt;Data Protection Act 2018&gt;.</p>" in page
    assert "The National Archives" in page
    assert "The Oldham Inquiry is the controller" in page
    assert 'href="mailto:dpo@oldham.example"' in page
    assert "has not yet published" not in page


def test_a_user_who_must_change_their_password_can_still_read_them(app, client, inquiry):
    user = make_user("member@example.org", "reader", inquiry)
    user.must_change_password = True
    db.session.commit()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/auth/change-password")
    for path in ("/accessibility", "/privacy"):
        assert client.get(path).status_code == 200
    assert client.get("/documents/").headers["Location"].endswith("/auth/change-password")
