"""More like this, for a document and for a page: other documents sharing telling words,
never one the user may not see."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import metadata
from inquiry_docs.models import AuditEvent, Document, User
from tests import samples
from tests.conftest import login, make_user, upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


HARBOUR = "harbour trawler skipper quayside netting herring"
ORCHARD = "orchard pruning blossom cider apples ladder"


def _add(client, inquiry, name: str, pages: list[str]) -> Document:
    upload(client, inquiry, [(samples.make_pdf(pages), name)])
    return db.session.execute(select(Document).order_by(Document.id.desc()).limit(1)).scalar_one()


def _corpus(admin_client, inquiry):
    other = create_inquiry("ROT", "Rotherham")
    docs = {
        "source": _add(admin_client, inquiry, "source.pdf",
                       [f"{HARBOUR} on the first page", f"{ORCHARD} on the second page"]),
        "harbour": _add(admin_client, inquiry, "harbour.pdf", [f"the {HARBOUR} again"]),
        "orchard": _add(admin_client, inquiry, "orchard.pdf", [f"an {ORCHARD} visit"]),
        "restricted": _add(admin_client, inquiry, "restricted.pdf", [f"{HARBOUR} restricted"]),
        "elsewhere": _add(admin_client, other, "elsewhere.pdf", [f"{HARBOUR} elsewhere"]),
        "unrelated": _add(admin_client, inquiry, "unrelated.pdf", ["parliament committee"]),
    }
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    metadata.set_marking(docs["restricted"],
                         metadata.Marking("OFFICIAL", True, "RO-9", "names a witness"), admin)
    return docs


def _reader(app, inquiry):
    make_user("reader@example.org", "reader", inquiry)
    client = app.test_client()
    login(client, "reader@example.org")
    return client


def _listed(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [urn for urn in ("OLD000002", "OLD000003", "OLD000004", "ROT000001", "OLD000005")
            if f"{urn} " in html]


def test_more_like_a_page_finds_documents_sharing_its_words(app, admin_client, inquiry):
    docs = _corpus(admin_client, inquiry)
    reader = _reader(app, inquiry)

    first = reader.get(f"/documents/{docs['source'].id}/similar?page=1")
    assert first.status_code == 200
    assert _listed(first) == ["OLD000002"]  # not the orchard, restricted, other inquiry
    assert "<mark>trawler</mark>" in first.get_data(as_text=True)

    second = reader.get(f"/documents/{docs['source'].id}/similar?page=2")
    assert _listed(second) == ["OLD000003"]

    whole = reader.get(f"/documents/{docs['source'].id}/similar")
    assert sorted(_listed(whole)) == ["OLD000002", "OLD000003"]
    assert "OLD000001 " not in whole.get_data(as_text=True).split("<h1", 1)[1].split(
        "</h1>", 1)[1]  # the document itself is not listed under the heading


def test_a_cleared_user_also_sees_restricted_and_other_inquiry_documents(
        app, admin_client, inquiry):
    docs = _corpus(admin_client, inquiry)
    response = admin_client.get(f"/documents/{docs['source'].id}/similar?page=1")
    assert sorted(_listed(response)) == ["OLD000002", "OLD000004", "ROT000001"]


def test_more_like_this_is_audited_and_guarded(app, admin_client, inquiry):
    docs = _corpus(admin_client, inquiry)
    reader = _reader(app, inquiry)
    assert reader.get(f"/documents/{docs['restricted'].id}/similar").status_code == 404
    assert reader.get(f"/documents/{docs['elsewhere'].id}/similar").status_code == 404
    assert reader.get(f"/documents/{docs['source'].id}/similar?page=9").status_code == 404
    assert reader.get(f"/documents/{docs['unrelated'].id}/similar").status_code == 200
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "similar_searched").order_by(AuditEvent.id.desc())).scalars().first()
    assert event is not None and event.object_id == str(docs["unrelated"].id)
