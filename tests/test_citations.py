"""Citation links: found when text is written, kept in a table, shown as links only to
documents the reader may see, and listed as "cited by" on the cited document."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import citations
from inquiry_docs.models import Citation, Document, User
from inquiry_docs.recommendations import ensure_default_set, links, tracking
from inquiry_docs.review import coding, notes
from tests import samples
from tests.conftest import login, make_user, upload


def test_the_citation_forms_are_found_and_others_are_not():
    text = ("See OLD000123 p. 4, OLD000124/7 and OLD000125_0004; OLD000126 too. "
            "Also OLD000127, page 12 and OLD000128 pp.3-4. Not xOLD000123, OLD0001234, "
            "OLD000129abc or old000130. ROT000001 p.0 has no page.")
    found = [(f.urn, f.page, text[f.start:f.end]) for f in citations.find(text)]
    assert found == [
        ("OLD000123", 4, "OLD000123 p. 4"), ("OLD000124", 7, "OLD000124/7"),
        ("OLD000125", 4, "OLD000125_0004"), ("OLD000126", None, "OLD000126"),
        ("OLD000127", 12, "OLD000127, page 12"), ("OLD000128", 3, "OLD000128 pp.3"),
        ("ROT000001", None, "ROT000001 p.0"),
    ]


@pytest.fixture
def world(app, admin_client, inquiry):
    """OLD000001 (3 pages) cited by OLD000002's page text; ROT000001 restricted to ROT."""
    upload(admin_client, inquiry, [(samples.make_pdf(["First.", "Second.", "Third."]),
                                    "cited.pdf")])
    rot = create_inquiry("ROT", "Rotherham")
    upload(admin_client, rot, [(samples.make_pdf(["Rotherham file."]), "rot.pdf")])
    upload(admin_client, inquiry, [(samples.make_pdf([
        "Nothing here.", "As OLD000001 p. 2 shows, and ROT000001/1 <b>too</b>; see OLD000001."
    ]), "citing.pdf")])
    docs = {d.urn: d for d in db.session.execute(select(Document)).scalars()}
    make_user("reader@example.org", "reader", inquiry)
    make_user("legal@example.org", "legal", inquiry)
    make_user("researcher@example.org", "researcher", inquiry)
    return docs


def _client(app, email):
    client = app.test_client()
    login(client, email)
    return client


def _user(email):
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def test_page_text_citations_are_stored_when_the_text_is_saved(app, world):
    rows = db.session.execute(select(Citation).order_by(Citation.id)).scalars().all()
    assert [(r.source_type, r.document_id, r.page, r.target_urn, r.target_page)
            for r in rows] == [
        ("page", world["OLD000002"].id, 2, "OLD000001", 2),
        ("page", world["OLD000002"].id, 2, "ROT000001", 1),
        ("page", world["OLD000002"].id, 2, "OLD000001", None),
    ]


def test_links_only_to_what_the_reader_may_see_and_no_hint_of_the_rest(app, world):
    citing, cited = world["OLD000002"], world["OLD000001"]
    html = _client(app, "reader@example.org").get(f"/documents/{citing.id}").data.decode()
    assert (f'<a class="govuk-link" href="/documents/{cited.id}?page=1#page-2">'
            "OLD000001 p. 2</a>") in html
    assert f'<a class="govuk-link" href="/documents/{cited.id}">OLD000001</a>.' in html
    # ROT000001 is beyond this reader's reach: plain text exactly as written, escaped.
    assert "ROT000001/1 &lt;b&gt;too&lt;/b&gt;" in html
    assert f"/documents/{world['ROT000001'].id}" not in html
    admin = _client(app, "admin@example.org").get(f"/documents/{citing.id}").data.decode()
    assert f'href="/documents/{world["ROT000001"].id}?page=1#page-1">ROT000001/1</a>' in admin


def test_the_cited_document_lists_what_cites_it_within_reach(app, world, inquiry):
    cited = world["OLD000001"]
    html = _client(app, "reader@example.org").get(f"/documents/{cited.id}").data.decode()
    section = html.split('id="cited-by"')[1].split("</ul>")[0]
    assert "OLD000002" in section and "#page-2" in section and "page text" in section
    assert "citing page 2" in section
    # The same citation in a restricted document is not listed to those who may not see it.
    citing = world["OLD000002"]
    citing.restricted, citing.restriction_ref = True, "RO 1"
    db.session.commit()
    html = _client(app, "reader@example.org").get(f"/documents/{cited.id}").data.decode()
    assert "OLD000002" not in html and "No other document or recommendation you can see" \
        in html


def test_notes_links_trail_recommendation_notes_and_coding_comments_cite(app, world):
    cited, citing = world["OLD000001"], world["OLD000002"]
    legal, researcher = _user("legal@example.org"), _user("researcher@example.org")
    note = notes.add(legal, citing, 1, "Compare OLD000001 p. 3 <script>x</script>")
    rec = ensure_default_set().recommendations[12]
    link = links.add(researcher, rec, citing, links.LinkInput(1, "supports",
                                                               "Backed by OLD000001/1"), None)
    tracking.add_event(researcher, rec, datetime(2024, 1, 2), "Response cites OLD000001_0002",
                       None)
    tracking.add_note(researcher, rec, "Follow up OLD000001")
    change = coding.Change("relevant", "none", False, "", "", "done", None,
                           comment="Duplicates OLD000001 p. 1")
    coding.save(citing, change, legal)
    kinds = {r.source_type for r in db.session.execute(
        select(Citation).where(Citation.target_urn == "OLD000001")).scalars()}
    assert kinds == {"page", "note", "link", "trail", "rec_note", "coding"}
    reader = _client(app, "reader@example.org")
    shown = reader.get(f"/documents/{citing.id}").data.decode()
    assert f'href="/documents/{cited.id}?page=1#page-3">OLD000001 p. 3</a>' in shown
    assert "&lt;script&gt;x&lt;/script&gt;" in shown and "<script>x" not in shown
    assert f'href="/documents/{cited.id}?page=1#page-1">OLD000001 p. 1</a>' in shown
    rec_page = reader.get(f"/recommendations/{rec.id}").data.decode()
    assert f'href="/documents/{cited.id}?page=1#page-2">OLD000001_0002</a>' in rec_page
    assert f'href="/documents/{cited.id}">OLD000001</a>' in rec_page
    assert f'href="/documents/{cited.id}?page=1#page-1">OLD000001/1</a>' in rec_page
    listed = reader.get(f"/documents/{cited.id}").data.decode().split('id="cited-by"')[1]
    assert "Recommendation 13" in listed.split("</ul>")[0]
    # Editing or removing the source replaces what it cites.
    notes.edit(legal, note, "No citation now", "")
    links.remove(researcher, link)
    kinds = {r.source_type for r in db.session.execute(
        select(Citation).where(Citation.target_urn == "OLD000001")).scalars()}
    assert kinds == {"page", "trail", "rec_note", "coding"}


def test_reading_a_document_again_replaces_its_page_citations(app, world):
    citing = world["OLD000002"]
    citations.record_pages(citing.id, [(1, "Now OLD000003 only.")])
    db.session.commit()
    rows = db.session.execute(select(Citation.target_urn).where(
        Citation.source_type == "page", Citation.document_id == citing.id)).scalars().all()
    assert rows == ["OLD000003"]


def test_the_citations_command_finds_them_all_again(app, world, runner):
    from sqlalchemy import delete

    legal = _user("legal@example.org")
    notes.add(legal, world["OLD000002"], 1, "See OLD000001/3")
    db.session.execute(delete(Citation))
    db.session.commit()
    result = runner.invoke(args=["citations"])
    assert result.exit_code == 0 and "4 citations found." in result.output
    kinds = sorted(r.source_type for r in db.session.execute(select(Citation)).scalars())
    assert kinds == ["note", "page", "page", "page"]
