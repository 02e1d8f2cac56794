"""Productions: redacted PDFs stamped with production numbers, a load file and a manifest in
one ZIP, built by the job (immediate mode here), reach re-checked, and the same bytes when
built again."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile

import pypdf
import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, Document, Membership, Production, User
from inquiry_docs.review import productions
from tests import samples
from tests.conftest import login, make_user, require, upload


@pytest.fixture
def world(app, admin_client, inquiry):
    """Three documents in OLD (one with a title a spreadsheet would run), two legal users."""
    files = [
        (samples.make_pdf(["Witness Jane Roe saw the van.", "Page two of the statement."]),
         "a.pdf"),
        (samples.make_pdf(["Council minutes naming Jane Roe."]), "b.pdf"),
        (samples.make_pdf(["Police log about the van."]), "c.pdf"),
    ]
    upload(admin_client, inquiry, files)
    docs = db.session.execute(select(Document).order_by(Document.id)).scalars().all()
    docs[1].title = "=HYPERLINK(\"http://x\")"
    docs[2].marking = "OFFICIAL-SENSITIVE"
    db.session.commit()
    make_user("legal1@example.org", "legal", inquiry, clearance="OFFICIAL-SENSITIVE")
    make_user("legal2@example.org", "legal", inquiry, clearance="OFFICIAL-SENSITIVE")
    return docs


def _client(app, email):
    client = app.test_client()
    login(client, email)
    return client


def _redact_and_approve(app, document, words):
    first, second = _client(app, "legal1@example.org"), _client(app, "legal2@example.org")
    assert first.post(f"/review/documents/{document.id}/redactions/words", data={
        "page": "1", "words": words, "reason": "pii"}).status_code == 303
    assert second.post(f"/review/documents/{document.id}/redactions/approve"
                       ).status_code == 303


def _start(client, docs, **form):
    data = {"doc": [d.id for d in docs], "name": "Core participants tranche 1",
            "recipient": "Core participants", "prefix": "OLD", "start": "123", **form}
    return client.post("/review/productions/new", data=data)


def _zip(client, production_id) -> bytes:
    response = client.get(f"/review/productions/{production_id}/production.zip")
    assert response.status_code == 200
    return response.data


def test_a_production_is_built_stamped_and_described(app, world):
    _redact_and_approve(app, world[0], "Jane Roe")
    legal = _client(app, "legal1@example.org")
    preview = legal.get("/review/productions/new", query_string={"doc": [d.id for d in world]})
    assert b"3 documents can be produced." in preview.data
    response = _start(legal, world)
    assert response.status_code == 303
    production = db.session.execute(select(Production)).scalar_one()
    page = legal.get(response.headers["Location"]).data.decode()
    assert "Ready: 3 of 3 documents produced." in page and "OLD000123_0001" in page
    assert production.pages == 4
    archive = zipfile.ZipFile(io.BytesIO(_zip(legal, production.id)))
    names = archive.namelist()
    assert names == ["documents/OLD000123.pdf", "documents/OLD000124.pdf",
                     "documents/OLD000125.pdf", "loadfile.csv", "manifest.txt"]
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    manifest = dict(line.split("  ")[::-1]
                    for line in archive.read("manifest.txt").decode().splitlines())
    assert set(manifest) == set(names) - {"manifest.txt"}
    for name, digest in manifest.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    rows = list(csv.reader(io.StringIO(archive.read("loadfile.csv").decode())))
    assert rows[0][:8] == ["Production number from", "Production number to", "URN",
                           "Title", "Date", "Pages", "Marking", "Redactions"]
    assert rows[1][:3] == ["OLD000123_0001", "OLD000123_0002", world[0].urn]
    personal = rows[0].index("Redactions: Personal data of a third party")
    assert rows[1][7] == "1" and rows[1][personal] == "1" and rows[2][7] == "0"
    assert rows[2][3] == "'=HYPERLINK(\"http://x\")"  # a formula cell, neutralised
    assert rows[3][6] == "OFFICIAL-SENSITIVE"
    # Each page carries its number and the marking; the hidden words are gone.
    first = pypdf.PdfReader(io.BytesIO(archive.read("documents/OLD000123.pdf")))
    texts = [p.extract_text() for p in first.pages]
    assert "OLD000123_0001" in texts[0] and "OLD000123_0002" in texts[1]
    assert "OFFICIAL" in texts[0] and "Jane" not in texts[0] and "van" in texts[0]
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    poppler = subprocess.run(["pdftotext", "-", "-"], input=archive.read(
        "documents/OLD000125.pdf"), capture_output=True, check=True).stdout.decode()
    assert "OFFICIAL-SENSITIVE" in poppler and "OLD000125_0001" in poppler
    actions = [e.action for e in db.session.execute(select(AuditEvent)).scalars()]
    for action in ("production_requested", "production_built", "production_downloaded"):
        assert action in actions


def test_the_same_production_built_twice_gives_the_same_bytes(app, world):
    _redact_and_approve(app, world[1], "Jane Roe")
    legal = _client(app, "legal1@example.org")
    _start(legal, world[:2])
    production = db.session.execute(select(Production)).scalar_one()
    first = _zip(legal, production.id)
    assert legal.post(f"/review/productions/{production.id}/rebuild").status_code == 303
    db.session.refresh(production)
    assert production.status == "done"
    second = _zip(legal, production.id)
    assert first == second and production.sha256 == hashlib.sha256(second).hexdigest()
    # A second production of the same documents and numbering is byte for byte the same.
    _start(legal, world[:2])
    other = db.session.execute(select(Production).order_by(Production.id.desc())).scalars(
        ).first()
    assert other.id != production.id and _zip(legal, other.id) == first


def test_documents_with_redactions_to_approve_are_left_out(app, world):
    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{world[0].id}/redactions/words", data={
        "page": "1", "words": "Jane Roe", "reason": "pii"})
    preview = legal.get("/review/productions/new", query_string={"doc": [d.id for d in world]})
    assert b"2 documents can be produced; 1 left out: redactions waiting for approval " \
           b"(OLD000001)" in preview.data
    _start(legal, world)
    production = db.session.execute(select(Production)).scalar_one()
    assert json.loads(production.document_ids) == [world[1].id, world[2].id]
    names = zipfile.ZipFile(io.BytesIO(_zip(legal, production.id))).namelist()
    assert names[:2] == ["documents/OLD000123.pdf", "documents/OLD000124.pdf"]


def test_reach_is_checked_again_when_the_job_runs(app, world):
    legal = db.session.execute(select(User).where(User.email == "legal1@example.org")
                               ).scalar_one()
    production, found = productions.start(legal, world, productions.Request(
        "Late", "Publication", "PUB", "1"))
    assert production is not None and len(found.allowed) == 3
    production.status = "queued"
    membership = db.session.execute(select(Membership).where(
        Membership.user_id == legal.id)).scalar_one()
    membership.clearance = "OFFICIAL"  # the sensitive document is now beyond reach
    db.session.commit()
    productions.build_production(production.id)
    db.session.refresh(production)
    assert production.status == "done"
    assert production.left_out == f"{world[2].urn}: no longer within your reach"
    archive = zipfile.ZipFile(productions.path_of(production))
    assert archive.namelist()[:2] == ["documents/PUB000001.pdf", "documents/PUB000002.pdf"]
    assert len([n for n in archive.namelist() if n.startswith("documents/")]) == 2


@pytest.mark.parametrize(("form", "message"), [
    ({"prefix": "old"}, b"Enter a prefix of 1 to 10 capital letters"),
    ({"prefix": "1AB"}, b"Enter a prefix of 1 to 10 capital letters"),
    ({"start": "0"}, b"Enter the first number, from 1 to 999,999"),
    ({"start": "x"}, b"Enter the first number"),
    ({"name": ""}, b"Enter a name of up to 100 characters"),
    ({"recipient": ""}, b"Enter who receives it"),
])
def test_bad_production_details_get_a_clear_message(app, world, form, message):
    legal = _client(app, "legal1@example.org")
    response = _start(legal, world, **form)
    # A lower-case prefix is taken in capitals, so "old" is fine: only the others fail.
    if form == {"prefix": "old"}:
        assert response.status_code == 303
        return
    assert response.status_code == 400 and message in response.data
    assert b"There is a problem" in response.data


def test_productions_are_their_requesters_alone_and_for_legal_users(app, world, inquiry):
    legal = _client(app, "legal1@example.org")
    _start(legal, world[:1])
    production = db.session.execute(select(Production)).scalar_one()
    other = _client(app, "legal2@example.org")
    assert other.get(f"/review/productions/{production.id}").status_code == 404
    assert other.get(f"/review/productions/{production.id}/production.zip").status_code == 404
    assert other.post(f"/review/productions/{production.id}/rebuild").status_code == 404
    make_user("reader@example.org", "reader", inquiry)
    reader = _client(app, "reader@example.org")
    assert reader.get("/review/productions/").status_code == 403
    assert _start(reader, world).status_code == 403
    assert db.session.execute(select(Production)).scalars().all() == [production]
