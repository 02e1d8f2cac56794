"""GET /healthz and the admin status page, against the real database, queue and index."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from inquiry_docs.db import db
from inquiry_docs.operations import backup
from tests import samples
from tests.conftest import upload


def test_healthz_is_ok_and_says_nothing_else(client, app, admin_client, inquiry):
    upload(admin_client, inquiry, [(samples.make_pdf(["secret witness name"]), "w.pdf")])
    anonymous = app.test_client()
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"status": "ok", "checks": {"database": "ok", "queue": "ok", "index": "ok",
                                               "disk": "ok"}}
    raw = response.get_data(as_text=True)
    for leak in ("witness", "OLD", app.config["UPLOAD_DIR"], "w.pdf"):
        assert leak not in raw
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_disk_is_low(client, app):
    app.config["MIN_FREE_DISK_MB"] = 10**12  # more than any disk here has free
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["disk"] == "down"
    assert response.get_json()["status"] == "down"


def test_healthz_is_503_when_the_search_index_is_damaged(search_app):
    app = search_app
    if app.config["SEARCH_BACKEND"] == "postgres":
        # The search rows' table gone, as a half-done restore or migration could leave it.
        db.session.execute(text("ALTER TABLE search_pages RENAME TO search_pages_gone"))
        db.session.commit()
    else:
        app.extensions["search"].ping()  # create the index
        index_dir = Path(app.config["INDEX_DIR"])
        # Whoosh's table of contents, or tantivy's list of segments.
        for path in [*index_dir.glob("_MAIN_*.toc"), *index_dir.glob("tantivy/meta.json")]:
            path.write_bytes(b"garbage")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["index"] == "down" and checks["database"] == "ok"
    for leak in ("garbage", "search_pages"):
        assert leak not in response.get_data(as_text=True)


def test_status_page_shows_queue_failures_disks_and_the_last_backup(app, admin_client,
                                                                    inquiry, tmp_path):
    upload(admin_client, inquiry, [(samples.make_pdf(["readable"]), "ok.pdf"),
                                   (samples.make_encrypted_pdf(), "locked.pdf")])
    page = admin_client.get("/admin/status").get_data(as_text=True)
    assert "Queue depth" in page and "1 document could not be read" in page
    assert "No backup has been made" in page
    assert "Originals" in page and "MB" in page
    report = backup.create_backup(tmp_path / "nightly")
    assert report.ok
    page = admin_client.get("/admin/status").get_data(as_text=True)
    assert str(tmp_path / "nightly") in page and "No backup has been made" not in page
    assert f"{report.files} files" in page
    json.loads((tmp_path / "nightly" / "manifest.json").read_text())


def test_status_page_is_for_administrators_only(app, client, inquiry):
    from tests.conftest import login, make_user

    make_user("legal@example.org", "legal", inquiry)
    login(client, "legal@example.org")
    assert client.get("/admin/status").status_code == 403
