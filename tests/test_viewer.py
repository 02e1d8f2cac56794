"""The document viewer as plain HTML: everything it offers is a link, so it works without
JavaScript (tests/browser/test_viewer.py drives the keys and zoom)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import Document
from tests import samples
from tests.conftest import upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


def _links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


def test_a_pdf_has_thumbnails_and_each_image_beside_its_text(app, admin_client, inquiry):
    texts = [f"Page {n} of the council file." for n in range(1, 23)]
    texts[20] = "The signature of the director is on this page."
    upload(admin_client, inquiry, [(samples.make_pdf(texts), "file.pdf")])
    document = db.session.execute(select(Document)).scalar_one()
    html = admin_client.get(f"/documents/{document.id}?q=signature").data.decode()
    links = _links(html)
    # Thumbnails of the 20 pages in this view, each a link to its page.
    assert html.count('class="app-thumbs__image"') == 20
    assert "#page-1" in links and "#page-20" in links
    # The page image beside the text, its full-size image a plain link.
    image = f"/documents/{document.id}/pages/2/read.png"
    assert f'src="{image}"' in html and image in links
    assert admin_client.get(image).status_code == 200
    # Previous and next page by link, across views: page 20's next is page 21 in view 2.
    assert f"/documents/{document.id}?q=signature&page=2#page-21" in links
    assert f"/documents/{document.id}?q=signature&page=1#page-1" in links
    # The next hit is a link too; there the search word is marked in the text.
    hit = next(u for u in links if "at=21" in u)
    second = admin_client.get(hit.split("#")[0]).data.decode()
    assert 'id="page-21"' in second and "<mark>signature</mark>" in second
    assert "Hit 1 of 1" in second


def test_other_formats_keep_the_text_only_layout(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_docx(["A section of text."]), "a.docx")])
    document = db.session.execute(select(Document)).scalar_one()
    html = admin_client.get(f"/documents/{document.id}").data.decode()
    assert "app-thumbs" not in html and "/pages/" not in html
    assert "A section of text." in html
