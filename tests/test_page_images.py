"""Page images: rendered once in the sandbox, cached under the upload folder, served only
to those who may see the document, never cached by browsers or proxies."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, Document, Membership
from tests import samples
from tests.conftest import login, make_user, upload


def _document(admin_client, inquiry, data: bytes, name: str) -> Document:
    upload(admin_client, inquiry, [(data, name)])
    db.session.expire_all()
    return db.session.execute(select(Document).order_by(Document.id.desc())).scalars().first()


def test_pdf_pages_render_at_two_sizes_and_are_cached(app, admin_client, inquiry):
    document = _document(admin_client, inquiry,
                         samples.make_pdf(["First page.", "Second page."]), "s.pdf")
    url = f"/documents/{document.id}/pages/2/thumb.png"
    response = admin_client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, no-store"
    thumb = Image.open(io.BytesIO(response.data))
    assert thumb.width == 160 and thumb.height > thumb.width  # an A4 page, upright
    cached = list((Path(app.config["UPLOAD_DIR"]) / "pages").rglob("*.png"))
    assert [p.name for p in cached] == ["2-thumb.png"]
    assert document.sha256 in str(cached[0])
    before = cached[0].stat().st_mtime_ns
    assert admin_client.get(url).data == response.data
    assert cached[0].stat().st_mtime_ns == before  # served from the cache, not re-rendered
    read = admin_client.get(f"/documents/{document.id}/pages/1/read.png")
    assert Image.open(io.BytesIO(read.data)).width == 1200
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "page_image_viewed")).scalar_one()
    assert '"page": 1' in event.details


def test_image_files_and_tiff_frames_have_page_images(app, admin_client, inquiry):
    frames = [samples.text_image([word], (400, 300), font_size=30) for word in ("one", "two")]
    document = _document(admin_client, inquiry, samples.make_image_file(frames), "b.tif")
    assert document.page_count == 2
    second = admin_client.get(f"/documents/{document.id}/pages/2/thumb.png")
    assert second.status_code == 200
    assert Image.open(io.BytesIO(second.data)).size == (160, 120)


def test_missing_pages_sizes_and_formats_are_not_found(app, admin_client, inquiry):
    pdf = _document(admin_client, inquiry, samples.make_pdf(["One page."]), "a.pdf")
    docx = _document(admin_client, inquiry, samples.make_docx(["A section."]), "b.docx")
    for url in (f"/documents/{pdf.id}/pages/2/thumb.png", f"/documents/{pdf.id}/pages/0/read.png",
                f"/documents/{pdf.id}/pages/1/huge.png", f"/documents/{docx.id}/pages/1/thumb.png",
                "/documents/999/pages/1/thumb.png"):
        assert admin_client.get(url).status_code == 404, url


def test_images_of_a_restricted_document_are_refused_like_the_document(app, client,
                                                                      admin_client, inquiry):
    document = _document(admin_client, inquiry, samples.make_pdf(["Names a victim."]), "r.pdf")
    document.restricted, document.restriction_ref = True, "RO-9"
    db.session.commit()
    make_user("reader@example.org", "reader", inquiry, clearance="OFFICIAL-SENSITIVE")
    admin_client.post("/auth/logout")
    login(client, "reader@example.org")
    image = client.get(f"/documents/{document.id}/pages/1/read.png")
    page = client.get(f"/documents/{document.id}")
    assert image.status_code == page.status_code == 404
    assert image.data == page.data
    assert not (Path(app.config["UPLOAD_DIR"]) / "pages").exists()  # nothing was rendered
    refused = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "document_refused")).scalars().all()
    assert any("pages/1/read.png" in e.details for e in refused)
    db.session.execute(select(Membership)).scalar_one().restricted_access = True
    db.session.commit()
    assert client.get(f"/documents/{document.id}/pages/1/read.png").status_code == 200
