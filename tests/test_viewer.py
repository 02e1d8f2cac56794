"""The document viewer as plain HTML: everything it offers is a link, so it works without
JavaScript (tests/browser/test_viewer.py drives the keys and zoom)."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import Document
from tests import samples
from tests.conftest import require, upload


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
    assert 'id="page-21"' in second and '<mark id="hit-21-1">signature</mark>' in second
    assert "Hit 1 of 1" in second


def test_other_formats_keep_the_text_only_layout(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_docx(["A section of text."]), "a.docx")])
    document = db.session.execute(select(Document)).scalar_one()
    html = admin_client.get(f"/documents/{document.id}").data.decode()
    assert "app-thumbs" not in html and "/pages/" not in html
    assert "A section of text." in html


# --- hit words boxed on the page images ----------------------------------------------------

A4_W, A4_H = 595.28, 841.89  # reportlab's A4, in points


def _reportlab_pdf(pages: list[list[tuple[float, float, str]]]) -> bytes:
    """A PDF from reportlab with each string drawn at a known place (x, baseline y)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for strings in pages:
        pdf.setFont("Helvetica", 12)
        for x, y, text in strings:
            pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _boxes(html: str, number: int) -> list[tuple[float, float, float, float]]:
    svg = re.search(rf'<svg class="app-hits"[^>]*data-hits="{number}">(.*?)</svg>', html)
    if svg is None:
        return []
    return [tuple(float(v) for v in m) for m in re.findall(
        r'<rect class="app-hit" x="([\d.]+)%" y="([\d.]+)%" width="([\d.]+)%" '
        r'height="([\d.]+)%"></rect>', svg.group(1))]


def _expected(x: float, y: float, before: str, word: str) -> tuple[float, float, float]:
    """Where `word` drawn after `before` at (x, y) starts and ends across the page, and
    where its baseline is down it, in percent."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    start = x + stringWidth(before, "Helvetica", 12)
    end = start + stringWidth(word, "Helvetica", 12)
    return start / A4_W * 100, end / A4_W * 100, (A4_H - y) / A4_H * 100


HIT_PAGES = [
    [(72, 760, "Page one of the council file.")],
    [(72, 760, "Page two says nothing more.")],
    [(100, 500, "The director's signature is here."), (300, 200, "A second signature below.")],
]


@pytest.fixture
def hit_document(app, admin_client, inquiry):
    upload(admin_client, inquiry, [(_reportlab_pdf(HIT_PAGES), "statement.pdf")])
    return db.session.execute(select(Document)).scalar_one()


def test_hit_words_are_boxed_where_they_are_on_the_page_image(app, admin_client,
                                                               hit_document):
    html = admin_client.get(f"/documents/{hit_document.id}?q=signature&at=3").data.decode()
    assert _boxes(html, 1) == [] and _boxes(html, 2) == []
    first, second = _boxes(html, 3)
    for (x, y, w, h), (start, end, baseline) in (
            (first, _expected(100, 500, "The director's ", "signature")),
            (second, _expected(300, 200, "A second ", "signature"))):
        assert abs(x - start) < 0.5 and abs(x + w - end) < 0.5
        assert y < baseline < y + h and h < 3  # one line of 12-point text
    # The boxes are decoration for sight: the same words are marked in the text, each
    # mark has an id to go to, and the image says how many it marks.
    assert 'aria-hidden="true" focusable="false" data-hits="3"' in html
    assert '<mark id="hit-3-1">signature</mark>' in html
    assert '<mark id="hit-3-2">signature</mark>' in html
    assert "2 words matching your search marked on the image." in html
    assert 'href="#hit-3-1">2 matches' in html
    # Each image keeps its space before it loads, in its page's own shape, so a page
    # reached by a link is not pushed down as the images above it arrive.
    assert html.count(f'width="1200" height="{round(1200 * A4_H / A4_W)}"') == 3
    # Without a search there is nothing to box.
    assert "app-hits" not in admin_client.get(f"/documents/{hit_document.id}").data.decode()


def test_a_reader_of_a_redacted_release_sees_no_box_over_a_hidden_word(app, admin_client,
                                                                       hit_document):
    from tests.conftest import login, make_user

    inquiry = hit_document.inquiry
    make_user("legal1@example.org", "legal", inquiry)
    make_user("reader@example.org", "reader", inquiry)
    legal, reader = app.test_client(), app.test_client()
    login(legal, "legal1@example.org")
    login(reader, "reader@example.org")
    # A box over the lower half of page 3, which holds the second "signature".
    assert legal.post(f"/review/documents/{hit_document.id}/redactions", data={
        "page": "3", "left": "0", "top": "60", "width": "100", "height": "30",
        "reason": "pii"}).status_code == 303
    legal.post(f"/review/documents/{hit_document.id}/release", data={"release": "redacted"})
    url = f"/documents/{hit_document.id}?q=signature&at=3"
    seen = reader.get(url).data.decode()
    [box] = _boxes(seen, 3)
    assert box[1] < 60  # the first, above the redaction
    assert "1 word matching your search marked on the image." in seen
    assert "A second signature" not in seen and 'id="hit-3-2"' not in seen
    # Legal users see the original: both words boxed.
    assert len(_boxes(legal.get(url).data.decode(), 3)) == 2


def test_a_scanned_page_is_read_for_positions_only_when_a_hit_link_names_it(
        app, admin_client, inquiry):
    require(shutil.which("tesseract") is not None, "Tesseract is not installed")
    scan = samples.make_scanned_pdf([samples.text_image(["Police notebook, Hargreaves"]),
                                     samples.text_image(["Referral from Hargreaves"])])
    upload(admin_client, inquiry, [(scan, "notebook.pdf")])
    document = db.session.execute(select(Document)).scalar_one()
    html = admin_client.get(f"/documents/{document.id}?q=Hargreaves&at=2").data.decode()
    assert _boxes(html, 1) == []  # Tesseract is not run again for a page not asked for
    [(x, y, w, h)] = _boxes(html, 2)
    # The line is drawn 80 pixels from the left and the top of a 1240 x 1754 scan.
    assert 80 / 1240 * 100 < x < 60 and y == pytest.approx(80 / 1754 * 100, abs=1.5)
    assert 0 < w < 40 and 0 < h < 5
    # Once the page named is read, its positions are kept: both pages are boxed now.
    html = admin_client.get(f"/documents/{document.id}?q=Hargreaves&at=1").data.decode()
    assert len(_boxes(html, 1)) == 1 and len(_boxes(html, 2)) == 1
