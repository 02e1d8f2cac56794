"""A reader without clearance cannot find a restricted document by search, address or API;
a cleared colleague can; the audit trail shows both attempts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from playwright.sync_api import expect

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest, metadata
from inquiry_docs.models import Document
from tests import samples
from tests.browser.conftest import wait_indexed
from tests.browser.test_walk import sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser

NAME = "Kestrelson"




@pytest.fixture
def restricted(live_server) -> dict[str, Any]:
    app = live_server.app
    with app.app_context():
        inquiry = create_inquiry("OLD", "Oldham local inquiry")
        admin = make_user("admin@example.org", "admin")
        make_user("reader@example.org", "reader", inquiry, clearance="OFFICIAL-SENSITIVE")
        cleared = make_user("cleared@example.org", "reader", inquiry,
                            clearance="OFFICIAL-SENSITIVE")
        cleared.memberships[0].restricted_access = True
        db.session.commit()
        outcome = ingest.receive(ingest.Incoming(
            io.BytesIO(samples.make_pdf([f"Police record naming {NAME} as a witness."])),
            "record.pdf", inquiry, user=admin))
        document_id, urn, admin_id = outcome.document.id, outcome.document.urn, admin.id
    wait_indexed(app, [document_id])
    with app.app_context():
        from inquiry_docs.models import User

        document = db.session.get(Document, document_id)
        metadata.set_marking(document, metadata.Marking("OFFICIAL-SENSITIVE", True, "RO-7",
                                                        "Names a complainant"),
                             db.session.get(User, admin_id))
    wait_indexed(app, [document_id])
    with app.app_context():
        from inquiry_docs.access import tokens
        from inquiry_docs.models import User

        secrets = {}
        for email in ("reader@example.org", "cleared@example.org"):
            user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
            secrets[email] = tokens.create(user, "browser test")[1]
    return {"id": document_id, "urn": urn, "tokens": secrets}


def test_restricted_document_is_invisible_without_clearance(browser, live_server, restricted,
                                                            axe_check):
    def fresh():
        return browser.new_context(base_url=live_server.url).new_page()

    reader = fresh()
    reader.goto("/auth/login")
    sign_in(reader, live_server, "reader@example.org")
    reader.get_by_label('Words or "an exact phrase"').fill(NAME)
    reader.get_by_role("button", name="Search").click()
    expect(reader.get_by_role("heading", name="0 documents, 0 pages")).to_be_visible()
    expect(reader.get_by_text(restricted["urn"])).to_have_count(0)
    for path in (f"/documents/{restricted['id']}", f"/documents/{restricted['id']}/original"):
        response = reader.goto(path)
        assert response.status == 404
        expect(reader.get_by_role("heading", name="Page not found")).to_be_visible()

    api = reader.context.request
    bearer = {"Authorization": f"Bearer {restricted['tokens']['reader@example.org']}"}
    found = api.get(f"/api/v1/search?q={NAME}", headers=bearer)
    assert found.status == 200 and found.json()["total_documents"] == 0
    assert api.get(f"/api/v1/documents/{restricted['urn']}", headers=bearer).status == 404

    cleared = fresh()
    cleared.goto("/auth/login")
    sign_in(cleared, live_server, "cleared@example.org")
    cleared.get_by_label('Words or "an exact phrase"').fill(NAME)
    cleared.get_by_role("button", name="Search").click()
    expect(cleared.get_by_role("heading", name="1 document, 1 page")).to_be_visible()
    cleared.get_by_role("link", name=restricted["urn"], exact=False).first.click()
    expect(cleared.get_by_text("Restriction order RO-7")).to_be_visible()
    bearer = {"Authorization": f"Bearer {restricted['tokens']['cleared@example.org']}"}
    found = cleared.context.request.get(f"/api/v1/search?q={NAME}", headers=bearer)
    assert found.json()["total_documents"] == 1
    assert cleared.context.request.get(f"/api/v1/documents/{restricted['urn']}",
                                       headers=bearer).status == 200

    admin = fresh()
    admin.goto("/auth/login")
    sign_in(admin, live_server, "admin@example.org")
    admin.goto(f"/admin/audit?document={restricted['urn']}")
    axe_check(admin)
    table = admin.locator("table")
    expect(table.get_by_text("document_refused").first).to_be_visible()
    expect(table.locator("tr", has_text="document_refused")
           .filter(has_text="reader@example.org").first).to_be_visible()
    expect(table.locator("tr", has_text="document_viewed")
           .filter(has_text="cleared@example.org").first).to_be_visible()
    admin.goto("/admin/audit?action=search")
    expect(admin.locator("tr", has_text="reader@example.org").first).to_be_visible()
    expect(admin.locator("tr", has_text="cleared@example.org").first).to_be_visible()
    expect(admin.get_by_text(NAME).first).to_be_visible()
