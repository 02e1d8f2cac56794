"""Near-duplicates: found at ingest by MinHash/LSH, listed on the document page, folded in
search results, compared word by word; never showing a document outside reach."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import func, select

from inquiry_docs.db import db
from inquiry_docs.evidence import near_duplicates as nd
from inquiry_docs.insight.compare import compare
from inquiry_docs.models import (
    AuditEvent,
    Document,
    NearDuplicate,
    SignatureBucket,
    TextSignature,
)
from tests import samples
from tests.conftest import login, make_user, upload

WORDS = [f"{a}{b}" for a in ("har", "bel", "cor", "dun", "esk", "fal", "gor", "hol")
         for b in ("ton", "by", "ley", "wick", "ham", "stead", "worth", "field", "more",
                   "dale", "ford", "well")]


def _text(seed: int, words: int = 360) -> list[str]:
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(words // 60):
        paragraphs.append(" ".join(rng.choice(WORDS) for _ in range(60)) + ".")
    return ["\n\n".join(paragraphs[:3]), "\n\n".join(paragraphs[3:])]


def _with_paragraph_changed(pages: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    first = pages[0].split("\n\n")
    first[1] = " ".join(rng.choice(WORDS) for _ in range(60)) + "."
    return ["\n\n".join(first), pages[1]]


def _with_words_changed(pages: list[str]) -> list[str]:
    words = pages[1].split(" ")
    for i in (5, 40, 77, 120):
        words[i] = "<b>changed</b>"
    return [pages[0], " ".join(words)]


def _phrase() -> str:
    """Six words only the original and its versions have, as an exact phrase."""
    return '"' + " ".join(_text(1)[0].split()[:6]) + '"'


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _upload(client, inquiry, pages, name):
    upload(client, inquiry, [(samples.make_pdf(pages), name)])
    return db.session.execute(select(Document).order_by(Document.id.desc()).limit(1)
                              ).scalar_one()


@pytest.fixture
def family(app, admin_client, inquiry):
    original = _text(1)
    docs = {
        "original": _upload(admin_client, inquiry, original, "statement.pdf"),
        "paragraph": _upload(admin_client, inquiry, _with_paragraph_changed(original, 2),
                             "statement-v2.pdf"),
        "words": _upload(admin_client, inquiry, _with_words_changed(original),
                         "statement-signed.pdf"),
        "other": _upload(admin_client, inquiry, _text(99), "unrelated.pdf"),
    }
    return docs


def test_versions_are_grouped_and_others_are_not(app, family):
    clusters = dict(db.session.execute(
        select(TextSignature.document_id, TextSignature.cluster_id)).all())
    group = {family[k].id for k in ("original", "paragraph", "words")}
    assert {clusters[d] for d in group} == {min(group)}
    assert clusters[family["other"].id] is None
    scores = {(low, high): s for low, high, s in db.session.execute(
        select(NearDuplicate.low_id, NearDuplicate.high_id, NearDuplicate.similarity))}
    words = scores[(family["original"].id, family["words"].id)]
    paragraph = scores[(family["original"].id, family["paragraph"].id)]
    assert 0.85 < words <= 1 and nd.THRESHOLD <= paragraph < words
    assert all(family["other"].id not in pair for pair in scores)
    # Each document's bands are kept, so the next one is found by lookup.
    b, _ = nd.bands()
    per_document = db.session.execute(select(func.count()).select_from(SignatureBucket)
                                      .where(SignatureBucket.document_id == family["other"].id)
                                      ).scalar_one()
    assert per_document == b
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "near_duplicates_found",
        AuditEvent.object_id == str(family["words"].id))).scalar_one()
    assert family["original"].urn in event.details


def test_documents_of_different_inquiries_never_meet(app, admin_client, family):
    from inquiry_docs.access.inquiries import create_inquiry

    other = create_inquiry("ROT", "Rotherham")
    copy = _upload(admin_client, other, _text(1), "statement.pdf")
    assert db.session.get(TextSignature, copy.id).cluster_id is None


def test_reading_again_recomputes_and_splits_a_group(app, family):
    paragraph = family["paragraph"]
    from inquiry_docs.models import Page

    db.session.execute(Page.__table__.update().where(Page.document_id == paragraph.id)
                       .values(text=" ".join(_text(500))))
    db.session.commit()
    nd.find_near_duplicates([paragraph.id])
    assert db.session.get(TextSignature, paragraph.id).cluster_id is None
    assert db.session.get(TextSignature, family["words"].id).cluster_id == \
        family["original"].id
    nd.find_near_duplicates([family["words"].id])  # alone with the original now
    assert db.session.get(TextSignature, family["original"].id).cluster_id == \
        family["original"].id


def test_the_document_page_lists_its_versions(app, admin_client, family):
    page = admin_client.get(f"/documents/{family['original'].id}").get_data(as_text=True)
    versions = page[page.index('id="versions"'):page.index("How it arrived")]
    assert family["paragraph"].urn in versions and family["words"].urn in versions
    assert family["other"].urn not in versions
    assert re.search(r"\d+%", versions)
    lonely = admin_client.get(f"/documents/{family['other'].id}").get_data(as_text=True)
    assert "No near-duplicates of this document have been found" in lonely


def test_only_versions_within_reach_appear(app, admin_client, inquiry, family):
    sensitive = family["paragraph"]
    admin_client.post(f"/documents/{sensitive.id}/marking",
                      data={"marking": "OFFICIAL-SENSITIVE"})
    reader = make_user("reader@example.org", "reader", inquiry)  # cleared for OFFICIAL
    client = app.test_client()
    login(client, reader.email)
    page = client.get(f"/documents/{family['original'].id}").get_data(as_text=True)
    assert sensitive.urn not in page and family["words"].urn in page
    compared = client.get(f"/documents/{family['original'].id}/compare?with={sensitive.urn}")
    assert compared.status_code == 400 and sensitive.urn.encode() in compared.data  # echoed
    assert b"Enter the URN of another document you can see" in compared.data
    assert b"<del" not in compared.data
    assert client.get(f"/documents/{sensitive.id}/compare").status_code == 404
    # Folding counts only what the reader may see: two of the three versions.
    folded = _plain(client.get(f"/?q={_phrase()}&collapse=yes").get_data(as_text=True))
    assert "1 document," in folded and "(1 document folded into 1 group)" in folded
    assert sensitive.urn not in folded and "Stands for 2 versions" in folded


def test_results_fold_to_one_per_group_with_counts(app, admin_client, family):
    plain = _plain(admin_client.get(f"/?q={_phrase()}").get_data(as_text=True))
    assert "3 documents" in plain and "(2 documents folded into 1 group)" in plain
    page = admin_client.get(f"/?q={_phrase()}&collapse=yes").get_data(as_text=True)
    folded = _plain(page)
    assert "1 document," in folded and "Stands for 3 versions" in folded
    assert page.count('class="app-result"') == 1
    # Paging, sorting and the filters keep the choice.
    assert "collapse=yes" in page[page.index("Export all results") - 300:][:600]


def test_the_comparison_shows_what_changed_page_by_page_escaped(app, admin_client, family):
    original, words = family["original"], family["words"]
    response = admin_client.get(f"/documents/{original.id}/compare?with={words.urn}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 words removed and 4 added" in page
    assert "Changed pages: 2." in page
    assert "&lt;b&gt;changed&lt;/b&gt;</ins>" in page and "<b>changed" not in page
    assert 'id="page-1"' not in page  # unchanged pages only with pages=all
    every = admin_client.get(f"/documents/{original.id}/compare?with={words.urn}&pages=all")
    assert 'id="page-1"' in every.get_data(as_text=True)
    events = db.session.execute(select(AuditEvent.object_id).where(
        AuditEvent.action == "document_compared")).scalars().all()
    assert sorted(int(e) for e in events[-2:]) == sorted([original.id, words.id])


def test_word_diff_follows_text_across_pages():
    left = [(1, "one two three four"), (2, "five six seven")]
    right = [(1, "zero one two three"), (2, "four five six seven"), (3, "eight")]
    result = compare(left, right)
    assert (result.removed, result.added) == (0, 2)  # "zero" and "eight": nothing else moved
    assert result.changed_pages == [1, 3]
    assert result.rows[2].left is None and "eight" in result.rows[2].right
    same = compare([(1, "a <b> c")], [(1, "a  <b>\nc")])
    assert same.identical and "&lt;b&gt;" in same.rows[0].left


def test_short_texts_get_no_signature():
    assert nd.signature("too few words to tell a version from a form") is None
    assert nd.signature(" ".join(_text(3))) is not None


def test_the_command_finds_versions_of_documents_read_before(app, runner, family):
    from sqlalchemy import delete

    pairs = db.session.execute(select(func.count()).select_from(NearDuplicate)).scalar_one()
    for table in (NearDuplicate, SignatureBucket, TextSignature):
        db.session.execute(delete(table))
    db.session.commit()
    assert len(nd.unsigned_documents()) == 4
    result = runner.invoke(args=["near-duplicates"])
    assert result.exit_code == 0, result.output
    assert "4 documents compared" in result.output
    assert f"{pairs} pairs of near-duplicates in 1 group" in result.output
    assert nd.unsigned_documents() == []
    again = runner.invoke(args=["near-duplicates", "--all"])
    assert "4 documents compared" in again.output and f"{pairs} pairs" in again.output
