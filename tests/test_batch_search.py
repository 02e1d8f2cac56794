"""Batch search: reading lists, running as the submitting user, owner-only pages, CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, BatchSearch, BatchSearchLine, Document
from inquiry_docs.search import batch as batch_search
from tests.conftest import login, make_user, upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


def add_text(client, inquiry, text: str, name: str) -> Document:
    response = upload(client, inquiry, [(text.encode(), name)])
    assert response.status_code == 303
    db.session.expire_all()
    return db.session.execute(
        select(Document).where(Document.original_filename == name)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


# --- reading the list ----------------------------------------------------------------------

def test_lines_are_cleaned_deduplicated_and_limited():
    assert batch_search.from_text("abuse\n\n  abuse \nneglect\r\nabuse\n") == \
        ["abuse", "neglect"]
    with pytest.raises(batch_search.BadInput, match="at least one"):
        batch_search.from_text("\n \n")
    with pytest.raises(batch_search.BadInput, match="Query 2 is longer than 500"):
        batch_search.from_text("ok\n" + "x" * 501)
    many = "\n".join(f"word{n}" for n in range(1001))
    with pytest.raises(batch_search.BadInput, match="more than 1,000"):
        batch_search.from_text(many)
    assert len(batch_search.from_text("\n".join(f"w{n}" for n in range(1000)) + "\nw1")) == 1000


def test_csv_column_by_heading_or_number():
    data = b"id,Search term\n1,abuse\n2,\n3,\"school, report\"\n4,abuse\n"
    assert batch_search.from_csv(data, "search term") == ["abuse", "school, report"]
    assert batch_search.from_csv(data, "2") == ["Search term", "abuse", "school, report"]
    assert batch_search.from_csv("\ufeffq\nx\n".encode(), "q") == ["x"]
    with pytest.raises(batch_search.BadInput, match="no column headed"):
        batch_search.from_csv(data, "query")
    with pytest.raises(batch_search.BadInput, match="UTF-8"):
        batch_search.from_csv(b"q\n\xff\xfe\x00", "q")
    with pytest.raises(batch_search.BadInput, match="column heading or number"):
        batch_search.from_csv(data, " ")


# --- running -------------------------------------------------------------------------------

def test_a_batch_of_five_runs_as_the_user_within_their_scope(app, admin_client, inquiry):
    mine = add_text(admin_client, inquiry, "The mandatory reporting duty was ignored.",
                    "mine.txt")
    add_text(admin_client, inquiry, "Mandatory reporting again, on a second page.",
             "mine2.txt")
    other = create_inquiry("ROT", "Rotherham")
    add_text(admin_client, other, "Zebracrossing only appears in Rotherham.", "rot.txt")
    reader = make_user("reader@example.org", "reader", inquiry)
    queries = ["mandatory reporting", "zebracrossing", "*", "((( unbalanced \"quote",
               "nothingmatchesthis"]
    batch = BatchSearch(user_id=reader.id, total=5)
    db.session.add(batch)
    db.session.flush()
    db.session.add_all(BatchSearchLine(batch_search_id=batch.id, position=n, query=q)
                       for n, q in enumerate(queries, 1))
    db.session.commit()

    assert batch_search.run_batch_search(batch.id) == "done"
    db.session.expire_all()
    assert (batch.status, batch.done, batch.total) == ("done", 5, 5)
    table = {row.query: row for row in batch_search.rows(reader, batch)}
    found = table["mandatory reporting"]
    assert (found.documents, found.pages) == (2, 2)
    assert mine.urn in [urn for _, urn in found.top]
    # Only another inquiry's document matches: the reader is told nothing of it.
    assert (table["zebracrossing"].documents, table["zebracrossing"].top) == (0, [])
    broad = table["*"]
    assert broad.documents is None and broad.error
    malformed = table["((( unbalanced \"quote"]
    assert malformed.finished and malformed.documents is not None
    assert malformed.error or malformed.notice
    assert table["nothingmatchesthis"].documents == 0
    # A second run changes nothing.
    assert batch_search.run_batch_search(batch.id) == "done"


def test_the_job_stops_when_the_user_can_no_longer_sign_in(app, inquiry):
    reader = make_user("gone@example.org", "reader", inquiry)
    batch = BatchSearch(user_id=reader.id, total=1)
    db.session.add(batch)
    db.session.flush()
    db.session.add(BatchSearchLine(batch_search_id=batch.id, position=1, query="abuse"))
    reader.active = False
    db.session.commit()
    assert batch_search.run_batch_search(batch.id) == "failed"
    db.session.expire_all()
    assert batch.status == "failed" and "can no longer sign in" in batch.error
    line = batch.lines[0]
    assert not line.finished and line.documents is None


def test_a_restricted_document_is_not_counted_or_named(app, admin, admin_client, inquiry):
    from inquiry_docs.evidence import indexing

    document = add_text(admin_client, inquiry, "Quarantined evidence about Ashworth.",
                        "r.txt")
    document.restricted = True
    db.session.commit()
    indexing.index_documents([document.id])
    reader = make_user("reader@example.org", "reader", inquiry)
    batch = batch_search.start(reader, ["ashworth"])
    db.session.expire_all()
    assert batch.status == "done"
    assert batch.lines[0].documents == 0 and json.loads(batch.lines[0].top) == []
    admin_batch = batch_search.start(admin, ["ashworth"])
    db.session.expire_all()
    assert admin_batch.lines[0].documents == 1


# --- pages ---------------------------------------------------------------------------------

def test_the_form_runs_the_list_and_shows_a_table_owner_only(app, admin_client, inquiry):
    add_text(admin_client, inquiry, "Witness spoke about the children's home.", "w.txt")
    reader = make_user("reader@example.org", "reader", inquiry)
    other = make_user("other@example.org", "reader", inquiry)
    client = app.test_client()
    login(client, reader.email)
    assert client.get("/searches/batch").status_code == 200
    response = client.post("/searches/batch", data={"queries": "children\n<b>x</b>\n"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert b"Finished: 2 of 2" in page.data
    assert b"<b>x</b>" not in page.data and b"&lt;b&gt;x&lt;/b&gt;" in page.data
    polled = client.get(response.headers["Location"], headers={"HX-Request": "true"})
    assert b"<html" not in polled.data and b"batch-search-progress" in polled.data
    started = events("batch_search_started")
    assert started and json.loads(started[-1].details)["count"] == 2

    stranger = app.test_client()
    login(stranger, other.email)
    assert stranger.get(response.headers["Location"]).status_code == 404
    assert stranger.get(response.headers["Location"] + "/results.csv").status_code == 404
    assert admin_client.get(response.headers["Location"]).status_code == 200


def test_the_form_explains_what_is_wrong(app, admin_client, inquiry):
    response = admin_client.post("/searches/batch", data={"queries": "  \n"})
    assert response.status_code == 400 and b"Enter at least one query" in response.data
    response = admin_client.post("/searches/batch", data={
        "column": "nope", "csv_file": (io.BytesIO(b"q\nabuse\n"), "list.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and b"no column headed" in response.data
    response = admin_client.post("/searches/batch", data={
        "column": "q", "csv_file": (io.BytesIO(b"q\nabuse\n"), "list.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    assert db.session.execute(select(BatchSearchLine.query)).scalars().all() == ["abuse"]


def test_csv_export_neutralises_formulas_and_is_audited(app, admin_client, inquiry):
    add_text(admin_client, inquiry, "Formula text about safeguarding.", "f.txt")
    queries = "=HYPERLINK(\"http://x\")\n+safeguarding\n-neglect\n@sum\nsafeguarding"
    response = admin_client.post("/searches/batch", data={"queries": queries})
    location = response.headers["Location"]
    download = admin_client.get(location + "/results.csv")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(download.data.decode())))
    assert table[0] == list(batch_search.CSV_HEADINGS)
    cells = [row[0] for row in table[1:]]
    assert cells == ["'=HYPERLINK(\"http://x\")", "'+safeguarding", "'-neglect", "'@sum",
                     "safeguarding"]
    assert table[-1][1] == "1" and table[-1][3].startswith("OLD")
    assert events("batch_search_exported")


def test_neutralise_covers_tab_and_carriage_return():
    assert batch_search.neutralise("\tx") == "'\tx"
    assert batch_search.neutralise("\rx") == "'\rx"
    assert batch_search.neutralise("plain") == "plain"
    assert batch_search.neutralise(None) == ""
    assert batch_search.neutralise(3) == "3"


def test_the_queue_runs_the_batch(app, admin, admin_client, inquiry):
    from inquiry_docs import queue

    task = queue.bound("run_batch_search")
    add_text(admin_client, inquiry, "Queued words about fostering.", "q.txt")
    batch = BatchSearch(user_id=admin.id, total=1)
    db.session.add(batch)
    db.session.flush()
    db.session.add(BatchSearchLine(batch_search_id=batch.id, position=1, query="fostering"))
    db.session.commit()
    task(batch.id)
    db.session.expire_all()
    assert (batch.status, batch.lines[0].documents) == ("done", 1)
