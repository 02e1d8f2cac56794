"""Recommendations: the IICSA set loaded by init, import and admin edit, evidence links
(audited, indexed for `rec:` and the facet), tracking, coverage, dossiers, and that a user
never sees a link, count or suggestion on a document beyond their reach."""

from __future__ import annotations

import io
import json

import docx
import pytest
from sqlalchemy import func, select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import metadata
from inquiry_docs.models import (
    AuditEvent,
    Document,
    EvidenceLink,
    Page,
    Recommendation,
    RecommendationSet,
    User,
)
from inquiry_docs.recommendations import IICSA_FINAL, ensure_default_set
from tests import samples
from tests.conftest import login, make_user, on_tantivy_too, upload

STATEMENT = [
    "Witness statement of the head teacher, taken in 2021.",
    "I was not told about any duty to report abuse. Mandatory reporting of child sexual "
    "abuse would have made staff tell the police at once.",
    "The council's records of my time at the school were lost.",
]


def _rec(number: str, code: str = "iicsa") -> Recommendation:
    return db.session.execute(
        select(Recommendation).join(RecommendationSet)
        .where(RecommendationSet.code == code, Recommendation.number == number)).scalar_one()


def _document(urn: str) -> Document:
    return db.session.execute(select(Document).where(Document.urn == urn)).scalar_one()


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def world(app, admin_client, inquiry):
    """The IICSA set, a searchable statement (OLD000001), and a researcher's client."""
    ensure_default_set()
    upload(admin_client, inquiry, [(samples.make_pdf(STATEMENT, title="Head teacher"),
                                    "statement.pdf")])
    make_user("researcher@example.org", "researcher", inquiry)
    researcher = app.test_client()
    login(researcher, "researcher@example.org")
    return researcher, _document("OLD000001")


def test_init_loads_the_twenty_iicsa_recommendations_once(runner):
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
    recs = db.session.execute(select(Recommendation).order_by(Recommendation.position)
                              ).scalars().all()
    assert len(recs) == 20
    assert [(r.number, r.title, r.part, r.addressee) for r in recs] == IICSA_FINAL
    thirteen = _rec("13")
    assert thirteen.title == "Mandatory reporting of child sexual abuse"
    assert (thirteen.part, thirteen.addressee, thirteen.text) == ("Part F",
                                                                  "UK and Welsh governments", "")
    assert _rec("17").title == "Access to records about child sexual abuse"
    assert db.session.execute(select(RecommendationSet)).scalar_one().inquiry_id is None


def _import(client, filename: str, content: bytes, **form: str):
    data = {**form, "file": (io.BytesIO(content), filename)}
    return client.post("/recommendations/sets/import", data=data,
                       content_type="multipart/form-data")


def test_admin_imports_csv_and_json_and_edits_a_set(app, admin_client, inquiry):
    ensure_default_set()
    csv_file = (b"number,title,part,addressee,keywords\n"
                b"1,Police data on group-based exploitation,,Home Office,\"ethnicity, data\"\n"
                b"2,National inquiry into grooming gangs,,UK government,\n")
    response = _import(admin_client, "audit.csv", csv_file, code="gbe2025",
                       name="National audit on group-based CSE (2025)", inquiry=str(inquiry.id))
    assert response.status_code == 302, response.data[:2000]
    gbe = db.session.execute(select(RecommendationSet).where(
        RecommendationSet.code == "gbe2025")).scalar_one()
    assert gbe.inquiry_id == inquiry.id and len(gbe.recommendations) == 2
    assert _rec("1", "gbe2025").keywords == "ethnicity, data"
    # The official text is filled by import; our titles stay when the title is left empty.
    official = json.dumps({"recommendations": [
        {"number": "13", "text": "The UK government and Welsh Government introduce "
                                 "legislation which places certain individuals under a "
                                 "statutory duty to report child sexual abuse."}]})
    iicsa = db.session.execute(select(RecommendationSet).where(
        RecommendationSet.code == "iicsa")).scalar_one()
    response = _import(admin_client, "final.json", official.encode(), set=str(iicsa.id))
    assert response.status_code == 302
    assert "statutory duty to report" in _rec("13").text
    assert _rec("13").title == "Mandatory reporting of child sexual abuse"
    bad = _import(admin_client, "bad.csv", b"title\nno number column\n", code="bad1",
                  name="Bad")
    assert bad.status_code == 400 and b"number and title" in bad.data
    # Admin edit of a set and of one recommendation, both audited.
    response = admin_client.post(f"/recommendations/sets/{gbe.id}/edit",
                                 data={"name": "GBE audit", "description": "", "inquiry": ""})
    assert response.status_code == 302
    db.session.refresh(gbe)
    assert gbe.name == "GBE audit" and gbe.inquiry_id is None
    response = admin_client.post(f"/recommendations/{_rec('13').id}/edit", data={
        "title": "Mandatory reporting", "part": "Part F", "addressee": "UK government",
        "text": "x", "keywords": "duty to report"})
    assert response.status_code == 302 and _rec("13").title == "Mandatory reporting"
    assert {"recommendations_imported", "recommendation_set_changed",
            "recommendation_changed"} <= set(_actions())


def test_only_admins_import_or_edit(app, world):
    researcher, _ = world
    rec = _rec("13")
    assert _import(researcher, "x.csv", b"number,title\n1,x\n", code="xx",
                   name="X").status_code == 403
    assert researcher.post(f"/recommendations/{rec.id}/edit",
                           data={"title": "hijacked"}).status_code == 403
    assert _rec("13").title == "Mandatory reporting of child sexual abuse"


def _link(client, document, rec, **form):
    data = {"recommendation": str(rec.id), "page": "2", "stance": "supports", **form}
    return client.post(f"/recommendations/documents/{document.id}/links", data=data)


@on_tantivy_too
def test_a_passage_linked_from_the_document_page_is_audited_and_searchable(app, world,
                                                                          runner):
    researcher, document = world
    rec = _rec("13")
    response = _link(researcher, document, rec, note="Head teacher <b>unaware</b>",
                     quote="Mandatory reporting of child\nsexual abuse would have")
    assert response.status_code == 302, response.data[:2000]
    link = db.session.execute(select(EvidenceLink)).scalar_one()
    # The quote as shown (white space joined), at its place in the page text.
    assert link.quote == "Mandatory reporting of child sexual abuse would have"
    page_text = db.session.execute(select(Page.text).where(
        Page.document_id == document.id, Page.number == 2)).scalar_one()
    assert " ".join(page_text[link.quote_start:link.quote_end].split()) == link.quote
    assert link.quote_start is not None and link.quote_end > link.quote_start
    assert "evidence_linked" in _actions()
    # Indexed: rec:13 finds the page; the facet names the recommendation.
    found = researcher.get("/?q=rec%3A13")
    assert b"OLD000001" in found.data and b"0 documents" not in found.data
    faceted = researcher.get("/?q=teacher")
    assert b'name="rec" type="checkbox" value="13"' in faceted.data
    assert b"13. Mandatory reporting" in faceted.data
    assert b"OLD000001" in researcher.get("/?q=teacher&rec=13").data
    assert b"0 documents" in researcher.get("/?q=teacher&rec=12").data
    # The index is derived data: a rebuild from the database keeps the links.
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert b"0 documents" not in researcher.get("/?q=rec%3A13").data
    link = db.session.execute(select(EvidenceLink)).scalar_one()
    # Shown, escaped, on the document page and the recommendation page.
    shown = researcher.get(f"/documents/{document.id}")
    assert b"Head teacher &lt;b&gt;unaware&lt;/b&gt;" in shown.data
    page = researcher.get(f"/recommendations/{rec.id}")
    assert b"OLD000001 p. 2" in page.data and b"Mandatory reporting of child sexual" in page.data
    # Edit, then remove: both audited; rec:13 stops matching.
    response = researcher.post(f"/recommendations/links/{link.id}/edit",
                               data={"page": "2", "stance": "context", "note": "", "quote": ""})
    assert response.status_code == 302
    db.session.refresh(link)
    assert (link.stance, link.quote, link.quote_start) == ("context", "", None)
    assert researcher.post(f"/recommendations/links/{link.id}/delete").status_code == 302
    assert db.session.execute(select(EvidenceLink)).first() is None
    assert b"0 documents" in researcher.get("/?q=rec%3A13").data
    assert {"evidence_link_changed", "evidence_unlinked"} <= set(_actions())


def test_link_errors_and_the_recommendation_page_form(app, world):
    researcher, document = world
    rec = _rec("13")
    wrong = _link(researcher, document, rec, quote="words that are nowhere")
    assert wrong.status_code == 400 and b"The quoted text is not on page 2" in wrong.data
    assert _link(researcher, document, rec, stance="").status_code == 400
    assert _link(researcher, document, rec, page="99").status_code == 400
    by_urn = researcher.post(f"/recommendations/{rec.id}/links", data={
        "urn": "old000001", "page": "3", "stance": "challenges", "note": "records lost"})
    assert by_urn.status_code == 302
    unknown = researcher.post(f"/recommendations/{rec.id}/links", data={
        "urn": "OLD999999", "page": "1", "stance": "supports"})
    assert unknown.status_code == 400
    assert db.session.execute(select(func.count(EvidenceLink.id))).scalar() == 1
    reader_client = app.test_client()
    make_user("reader@example.org", "reader", document.inquiry)
    login(reader_client, "reader@example.org")
    assert _link(reader_client, document, rec).status_code == 403
    assert db.session.execute(select(func.count(EvidenceLink.id))).scalar() == 1


@on_tantivy_too
def test_links_on_documents_beyond_reach_are_absent_everywhere(app, admin_client, world):
    researcher, statement = world
    upload(admin_client, statement.inquiry, [(samples.make_pdf(
        ["Restricted: a victim named here describes mandatory reporting failures."]),
        "restricted.pdf")])
    hidden = _document("OLD000002")
    admin_user = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    metadata.set_marking(hidden, metadata.Marking("OFFICIAL", True, "RO-7", "victim"),
                         admin_user)
    rec = _rec("13")
    assert _link(admin_client, hidden, rec, page="1", quote="victim named here").status_code \
        == 302
    link = db.session.execute(select(EvidenceLink)).scalar_one()
    rset = rec.set
    # The researcher may not see restricted material: no trace of the link.
    page = researcher.get(f"/recommendations/{rec.id}").data
    assert b"OLD000002" not in page and b"victim named here" not in page
    assert b"Linked evidence (0)" in page
    viewed = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "recommendation_viewed")).scalars().all()
    assert viewed and all("OLD000002" not in event.details for event in viewed)
    dashboard = researcher.get("/recommendations/").data.decode()
    row = dashboard.split('id="rec-13"')[1].split("</tr>")[0]
    assert 'data-stance="supports">0<' in row and 'data-count="pages">0<' in row
    matrix = researcher.get(f"/recommendations/sets/{rset.id}/matrix").data
    assert b"pages for 13" not in matrix
    assert b"OLD000002" not in researcher.get(f"/recommendations/{rec.id}/dossier.csv").data
    assert b"OLD000002" not in researcher.get("/?q=rec%3A13").data
    assert researcher.get(f"/recommendations/links/{link.id}/edit").status_code == 404
    assert researcher.post(f"/recommendations/links/{link.id}/delete").status_code == 404
    suggested = researcher.get(f"/recommendations/{rec.id}").data
    assert b"suggestion-%d-" % hidden.id not in suggested
    # The admin sees it, with its count.
    assert b"OLD000002 p. 1" in admin_client.get(f"/recommendations/{rec.id}").data
    last = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "recommendation_viewed").order_by(AuditEvent.id.desc())).scalar()
    assert "OLD000002 p. 1" in last.details and last.actor == admin_user.email
    admin_dash = admin_client.get("/recommendations/").data.decode()
    assert 'data-stance="supports">1<' in admin_dash.split('id="rec-13"')[1].split("</tr>")[0]
    assert b"OLD000002" in admin_client.get(f"/recommendations/{rec.id}/dossier.csv").data


def test_suggestions_accept_and_reject(app, world):
    researcher, document = world
    rec = _rec("13")
    page = researcher.get(f"/recommendations/{rec.id}").data
    assert f'id="suggestion-{document.id}-2"'.encode() in page
    response = researcher.post(f"/recommendations/{rec.id}/suggestions/accept",
                               data={"document_id": document.id, "page": 2,
                                     "stance": "supports"})
    assert response.status_code == 302
    link = db.session.execute(select(EvidenceLink)).scalar_one()
    assert (link.page, link.stance) == (2, "supports")
    rec17 = _rec("17")
    page17 = researcher.get(f"/recommendations/{rec17.id}").data
    assert f'id="suggestion-{document.id}-3"'.encode() in page17
    response = researcher.post(f"/recommendations/{rec17.id}/suggestions/reject",
                               data={"document_id": document.id, "page": 3})
    assert response.status_code == 302
    again = researcher.get(f"/recommendations/{rec17.id}").data
    assert f'id="suggestion-{document.id}-3"'.encode() not in again
    assert {"evidence_linked", "suggestion_rejected"} <= set(_actions())
    likely = researcher.get(f"/recommendations/documents/{document.id}").data.decode()
    assert "13. Mandatory reporting" in likely.split('id="likely"')[1]


def test_implementation_tracking_and_notes(app, world):
    researcher, document = world
    rec = _rec("13")
    assert researcher.post(f"/recommendations/{rec.id}/status", data={
        "response": "accepted_in_part", "rag": "amber"}).status_code == 302
    assert researcher.post(f"/recommendations/{rec.id}/trail", data={
        "day": "22", "month": "5", "year": "2023", "what": "Government response published",
        "trail_urn": document.urn}).status_code == 302
    assert researcher.post(f"/recommendations/{rec.id}/trail", data={
        "day": "31", "month": "2", "year": "2023", "what": "x"}).status_code == 400
    assert researcher.post(f"/recommendations/{rec.id}/notes", data={
        "note_text": "Ask the Home Office for the consultation"}).status_code == 302
    page = researcher.get(f"/recommendations/{rec.id}").data
    assert b"22 May 2023" in page and b"Government response published" in page
    assert b"Accepted in part" in page and b"Amber" in page
    assert b"Ask the Home Office" in page
    dashboard = researcher.get("/recommendations/").data.decode()
    row = dashboard.split('id="rec-13"')[1].split("</tr>")[0]
    assert "Accepted in part" in row and "Amber" in row and "None" not in row
    reader = app.test_client()
    make_user("reader@example.org", "reader", document.inquiry)
    login(reader, "reader@example.org")
    assert reader.post(f"/recommendations/{rec.id}/status", data={
        "response": "rejected", "rag": "red"}).status_code == 403
    assert {"recommendation_status_changed", "trail_event_added",
            "recommendation_note_added"} <= set(_actions())


def test_coverage_matrix_by_inquiry_type_and_source_with_csv(app, admin_client, world):
    researcher, document = world
    create_inquiry("ROT", "Rotherham inquiry")
    rec = _rec("13")
    _link(researcher, document, rec)
    _link(researcher, document, rec, page="3", stance="context")
    rset = rec.set
    matrix = admin_client.get(f"/recommendations/sets/{rset.id}/matrix").data.decode()
    row = matrix.split("13. Mandatory reporting")[1].split("</tr>")[0]
    assert ">2<span" in row  # two pages from OLD
    assert "ROT" in matrix  # a column with nothing yet
    by_type = admin_client.get(f"/recommendations/sets/{rset.id}/matrix?by=type").data
    assert b"Witness statement" in by_type
    csv_text = admin_client.get(f"/recommendations/sets/{rset.id}/matrix.csv").data.decode()
    assert csv_text.splitlines()[0].startswith("Number,Recommendation,OLD")
    assert "13,Mandatory reporting of child sexual abuse,2,0" in csv_text
    cell = admin_client.get(f"/recommendations/{rec.id}?inquiry={document.inquiry_id}").data
    assert b"Showing evidence from OLD" in cell and b"OLD000001 p. 3" in cell


def test_dossier_docx_and_csv(app, world):
    researcher, document = world
    rec = _rec("13")
    _link(researcher, document, rec, quote="Mandatory reporting of child sexual abuse",
          note="=HYPERLINK(\"http://x\")")
    researcher.post(f"/recommendations/{rec.id}/trail", data={
        "day": "1", "month": "4", "year": "2023", "what": "Consultation opened"})
    response = researcher.get(f"/recommendations/{rec.id}/dossier.docx")
    assert response.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    assert "Recommendation 13. Mandatory reporting of child sexual abuse" in text
    assert "Mandatory reporting of child sexual abuse" in text
    assert "OLD000001 p. 2" in text and "Stance: Supports" in text
    assert "1 April 2023: Consultation opened" in text
    csv_text = researcher.get(f"/recommendations/{rec.id}/dossier.csv").data.decode()
    assert "'=HYPERLINK" in csv_text and "OLD000001" in csv_text
    whole = researcher.get(f"/recommendations/sets/{rec.set_id}/dossier.docx")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(whole.data)).paragraphs]
    assert sum(p.startswith("Recommendation ") for p in paragraphs) == 20
    assert _actions().count("dossier_exported") == 3


@on_tantivy_too
def test_an_inquiry_set_is_seen_by_its_members_and_other_sets_search_by_code(app, admin_client,
                                                                            world):
    researcher, document = world
    rot = create_inquiry("ROT", "Rotherham inquiry")
    rows = b"number,title\n1,Ethnicity data in police records\n"
    assert _import(admin_client, "r.csv", rows, code="rot", name="Rotherham's own",
                   inquiry=str(rot.id)).status_code == 302
    assert _import(admin_client, "g.csv", rows, code="gbe2025",
                   name="National audit").status_code == 302
    own = _rec("1", "rot")
    assert researcher.get(f"/recommendations/{own.id}").status_code == 404
    assert b"Rotherham&#39;s own" not in researcher.get("/recommendations/").data
    assert _link(researcher, document, own).status_code == 400  # not offered, not linkable
    national = _rec("1", "gbe2025")
    assert _link(researcher, document, national).status_code == 302
    found = researcher.get("/?q=rec%3Agbe2025-1").data
    assert b"OLD000001" in found and b"gbe2025 1. Ethnicity data" in found
    assert b"0 documents" in researcher.get("/?q=rec%3A1").data


def test_the_migrations_build_the_tables_the_models_describe(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from inquiry_docs.search.postgres.rows import SCHEMA_OBJECTS

    def models_only(obj, name, type_, reflected, compare_to) -> bool:
        # The PostgreSQL search's own tables and index (migration 0009) are not models.
        return not (reflected and compare_to is None and name in SCHEMA_OBJECTS)

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": models_only})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
