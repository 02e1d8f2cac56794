"""What only the tantivy backend has: counting past its exact limit (an estimate, said so),
labels read from the database (a tag, coding or link change writes nothing to the index),
and marks made by the index's own analysers. The shared search tests (test_query.py,
test_results.py and others) run on tantivy too, through conftest.search_app."""

from __future__ import annotations

import io
import json
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.access.permissions import Grant, Scope, scope_for
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest, metadata
from inquiry_docs.models import Document, Status
from inquiry_docs.recommendations import ensure_default_set, links
from inquiry_docs.review import coding, tags
from inquiry_docs.search import backend
from inquiry_docs.search import query as ql
from inquiry_docs.search.facets import Filters
from inquiry_docs.search.snippets import match_spans, snippet
from inquiry_docs.search.tantivy import collect
from inquiry_docs.search.tantivy.compile import build, exact_words, stems
from tests import samples
from tests.conftest import index_folder, login, make_user

pytestmark = pytest.mark.parametrize("app", ["tantivy"], indirect=True)


def _text(inquiry, name: str, pages: list[str]) -> Document:
    outcome = ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(pages)),
                                             f"{name}.pdf", inquiry))
    return db.session.get(Document, outcome.document.id)


@pytest.fixture
def world(app, admin):
    """Harbour documents in reach of the reader, and others out of its reach: a SECRET
    one, one under a restriction order, and one of another inquiry."""
    mine, other = create_inquiry("OLD", "Oldham"), create_inquiry("ROT", "Rotherham")
    docs = {n: _text(mine, n, [f"harbour {n} page one", f"harbour {n} page two",
                                "quiet"]) for n in ("a", "b", "c")}
    docs["secret"] = _text(mine, "secret", ["harbour secret hideaway"])
    docs["restricted"] = _text(mine, "restricted", ["harbour restricted hideaway"])
    docs["other"] = _text(other, "other", ["harbour elsewhere hideaway"])
    metadata.set_marking(docs["secret"],
                         metadata.Marking("OFFICIAL-SENSITIVE", False, "", ""), admin)
    metadata.set_marking(docs["restricted"],
                         metadata.Marking("OFFICIAL", True, "RO-1", "names"), admin)
    reader = make_user("reader@example.org", "reader", mine)
    assert {d.status for d in docs.values()} == {Status.INDEXED}
    return docs, reader


OUT_OF_REACH = ("secret", "restricted", "other")


# How the documents are counted: every page read (the pool holds them all), a terms
# aggregation (exact), or an estimate past the exact limit.
PATHS = {"pool": (collect.EXACT_LIMIT, 200, 50), "aggregation": (collect.EXACT_LIMIT, 1, 1),
         "estimate": (1, 1, 1)}


@pytest.mark.parametrize("path", list(PATHS))
def test_out_of_reach_documents_never_appear_in_counts_facets_or_results(app, world, admin,
                                                                         monkeypatch, path):
    docs, reader = world
    search = backend()
    exact_limit, pool, limit = PATHS[path]
    search.exact_limit = exact_limit
    monkeypatch.setattr(collect, "POOL_MIN", pool)
    monkeypatch.setattr(collect, "POOL_PER_DOCUMENT", 1)
    monkeypatch.setattr(collect, "SAMPLE_POOL", pool)
    scope = scope_for(reader)
    hidden = {docs[n].id for n in OUT_OF_REACH}
    for query in ("harbour", "harbo*", "harbuor~1", "-zzzz", "hideaway", '"harbour page"~3'):
        results = search.search(query, scope, facets=True, limit=limit)
        shown = {d.document_id for d in results.documents}
        assert not shown & hidden, query
        assert results.estimated == (path == "estimate" and results.total_pages > 1), query
        if query != "hideaway":
            assert shown <= {docs[n].id for n in "abc"} and len(shown) == min(3, limit), query
            assert results.total_documents == 3, query  # an estimate of 3 is exact
        assert set(results.facets.values["inquiry"]) <= {docs["a"].inquiry_id}, query
        assert results.facets.values["restricted"].get("yes", 0) == 0, query
        counted = sum(results.facets.values["inquiry"].values())
        assert counted == results.facet_documents <= results.total_documents, query
        _, rows = search.all_hits(query, scope)
        assert not {doc for doc, *_ in rows} & hidden, query
    for name in OUT_OF_REACH:
        assert search.matching_pages("harbour", scope, docs[name].id) == []
        assert search.page_scores("harbour", scope, docs[name].id) == {}
    like = search.more_like("harbour hideaway secret restricted elsewhere", scope,
                            exclude=docs["a"].id)
    assert {d.document_id for d in like.documents} <= {docs["b"].id, docs["c"].id}
    # An admin sees them all; nobody at all sees nothing.
    assert search.search("hideaway", scope_for(admin)).total_documents == 3
    assert search.search("harbour", Scope({})).total_documents == 0
    assert search.search("harbour", Scope({docs["a"].inquiry_id: Grant("OFFICIAL")})
                         ).total_documents == 3


def test_counts_are_exact_up_to_the_exact_limit_and_estimated_past_it(app, world,
                                                                      monkeypatch):
    _, reader = world
    search = backend()
    exact = search.search("harbour", scope_for(reader), facets=True)
    assert not exact.estimated and not exact.facets_sampled
    assert (exact.total_documents, exact.total_pages, exact.facet_documents) == (3, 6, 3)
    monkeypatch.setattr(collect, "POOL_MIN", 1)  # the pool grows from 1 page
    monkeypatch.setattr(collect, "POOL_PER_DOCUMENT", 1)
    monkeypatch.setattr(collect, "SAMPLE_POOL", 1)
    search.exact_limit = 6  # 6 matching pages: at the limit, counted by the aggregation
    counted = search.search("harbour", scope_for(reader), limit=1)
    assert not counted.estimated and (counted.total_documents, counted.total_pages) == (3, 6)
    search.exact_limit = 5  # past it
    results = search.search("harbour", scope_for(reader), facets=True, limit=1)
    assert results.estimated and results.total_pages == 6  # the pages are always exact
    assert results.total_documents == 3  # the estimate is exact at this size
    (first,) = results.documents
    assert first.total_pages == 2 and len(first.pages) == 2  # every matching page found
    ordered = search.search("harbour", scope_for(reader), sort="urn", limit=3)
    assert [d.urn for d in ordered.documents] == sorted(d.urn for d in ordered.documents)
    assert all(p.score > 0 for d in ordered.documents for p in d.pages)  # scored all the same
    # The results page asks for 20 documents, which a pool of all 6 pages holds: read
    # only one page at a time, so that it stays past the limit.
    monkeypatch.setattr(collect, "MAX_HITS", 1)
    monkeypatch.setattr(backend(), "exact_limit", 5)
    client = app.test_client()
    login(client, reader.email)
    page = client.get("/?q=harbour").get_data(as_text=True)
    assert "6 pages in about 3 documents" in page and 'id="documents-estimated"' in page


def test_facets_past_the_facet_limit_count_the_best_documents_and_say_so(app, world,
                                                                         monkeypatch):
    from inquiry_docs.search.tantivy import backend as tantivy_backend

    _, reader = world
    monkeypatch.setattr(tantivy_backend, "FACET_LIMIT", 2)
    monkeypatch.setattr(collect, "POOL_MIN", 1)
    monkeypatch.setattr(collect, "POOL_PER_DOCUMENT", 1)
    monkeypatch.setattr(collect, "SAMPLE_POOL", 2)
    results = backend().search("harbour", scope_for(reader), facets=True, limit=1)
    assert results.facets_sampled and not results.estimated
    assert results.facet_documents == 2 and results.total_documents == 3
    assert sum(results.facets.values["type"].values()) == 2
    monkeypatch.setattr(collect, "MAX_HITS", 1)  # the page's 20 would read them all
    client = app.test_client()
    login(client, reader.email)
    page = client.get("/?q=harbour").get_data(as_text=True)
    assert "3 documents, 6 pages" in page and 'id="documents-estimated"' not in page
    assert 'id="facets-sampled"' in page and "the counts below are of its best" in page


def test_snippets_of_the_shown_pages_are_escaped_and_marked(app, admin):
    inquiry = create_inquiry("OLD", "Oldham")
    hostile = ("<script>alert('x')</script> The children's & \"carers\" <b>safeguarding</b>"
               " report; dying words, " + "filler " * 80 + "a Children SAFEGUARDED note.")
    doc = _text(inquiry, "hostile", [hostile])
    search = backend()
    from inquiry_docs.search.find import page_texts

    for query, marked in (("children safeguard*", ["children", "safeguarding"]),
                          ('"the children"', ["The", "children"]), ("die", ["dying"]),
                          ("carer", ["carers"])):
        results = search.search(query, scope_for(admin), snippet_text=page_texts)
        (hit,) = results.documents
        assert hit.document_id == doc.id
        html = str(hit.pages[0].snippet)
        assert "<script>" not in html and "<b>" not in html, query
        assert "&lt;b&gt;" in html or "&lt;script&gt;" in html, query
        for word in marked:
            assert f"<mark>{word}</mark>" in html, (query, html)
        # The same snippet as analysing the whole page in Python gives.
        assert hit.pages[0].snippet == snippet(hostile, search.terms_for(query),
                                               search.tokenizer()), query


def _meta(app) -> str:
    return (index_folder(app) / "meta.json").read_text()


def test_labels_are_read_at_search_time_and_need_no_index_write(app, world, admin):
    docs, reader = world
    search = backend()
    scope = scope_for(reader)
    before = _meta(app)
    tag = tags.create(admin, docs["a"].inquiry_id, "Operation Fern", "blue", "")
    tags.apply(admin, tag, [docs["a"], docs["b"]])
    coding.save(docs["b"], coding.Change("relevant", "none", True, "1", "names", "done",
                                         reader.id), admin)
    rec = ensure_default_set().recommendations[0]
    links.add(admin, rec, docs["c"], links.LinkInput(2, "supports"), None)
    db.session.expire_all()
    assert _meta(app) == before  # nothing was written to the index
    assert {db.session.get(Document, docs[n].id).status for n in "abc"} == {Status.INDEXED}

    def ids(query: str = "harbour", **filters) -> set[str]:
        found = search.search(query, scope, filters=Filters(**filters), limit=50)
        return {d.urn for d in found.documents}

    a, b, c = (docs[n].urn for n in "abc")
    assert ids(f"tag:{tag.id}") == {a, b} == ids(tag=(str(tag.id),))
    assert ids(relevance=("relevant",)) == {b}
    assert ids(relevance=("not_reviewed",)) == {a, c}  # uncoded documents hold the default
    assert ids(relevance=("not_reviewed", "relevant")) == {a, b, c}
    assert ids(review=("done",)) == {b} and ids(review=("to_do",)) == {a, c}
    assert ids(reviewer=(str(reader.id),)) == {b}
    assert ids(reviewer=("none",)) == {a, c} and ids(redaction=("yes",)) == {b}
    assert ids(f"rec:{rec.ref}") == {c} == ids(rec=(rec.ref,))
    # rec: is page-level: page 2 of c is linked, page 1 is not.
    assert search.matching_pages(f"harbour rec:{rec.ref}", scope, docs["c"].id) == [2]
    facets = search.search("harbour", scope, facets=True).facets.values
    assert facets["tag"] == {str(tag.id): 2} and facets["rec"] == {rec.ref: 1}
    assert facets["relevance"] == {"relevant": 1, "not_reviewed": 2}
    assert facets["reviewer"] == {str(reader.id): 1, "none": 2}
    assert facets["redaction"] == {"yes": 1, "no": 2}
    assert ids("harbour page one", rec=(rec.ref,)) == set()  # the linked page is page two
    # A marking is in the index: changing it re-indexes the document.
    metadata.set_marking(docs["a"], metadata.Marking("OFFICIAL-SENSITIVE", False, "", ""),
                         admin)
    assert _meta(app) != before and a not in ids()


def test_an_older_index_asks_for_reindex_then_works(app, world, runner):
    _, reader = world
    (index_folder(app) / "inquiry-docs-schema").write_text("0\n")
    backend().reopen()
    client = app.test_client()
    login(client, reader.email)
    response = client.get("/", query_string={"q": "harbour"})
    assert response.status_code == 503 and b"inquiry-docs reindex" in response.data
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert b"3 documents" in client.get("/", query_string={"q": "harbour"}).data
    assert json.loads((index_folder(app) / "meta.json").read_text())["segments"]


# --- marks agree with what matched --------------------------------------------------

WORD = st.one_of(
    st.sampled_from(["the", "and", "a", "I", "abuse", "Abused", "ABUSES", "child's",
                     "U.S.A", "e-mail", "co-operation", "x.y", "1990s", "Café", "naïve",
                     "ab_c", "ﬁrst", "straße"]),
    st.text(alphabet=string.ascii_letters + string.digits + "éß_.'-", min_size=1,
            max_size=8))
TEXT = st.lists(WORD, min_size=1, max_size=25).map(
    lambda words: " ".join(words).replace(" .", "."))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=TEXT, pick=st.integers(min_value=0), phrase=st.booleans())
def test_marks_are_exactly_the_words_the_query_matched(app, text, pick, phrase):
    import tantivy

    from inquiry_docs.search.tantivy.schema import make_schema, register

    index = tantivy.Index(make_schema())  # in memory: one page per example
    register(index)
    writer = index.writer(16_000_000, 1)
    document = tantivy.Document()
    document.add_unsigned("doc", 1)
    document.add_text("text", text)
    document.add_text("exact", text)
    writer.add_document(document)
    writer.commit()
    index.reload()
    searcher = index.searcher()
    words = exact_words(text)
    if not words:
        return
    word = words[pick % len(words)]
    node = ql.Phrase(word) if phrase else ql.Word(word)
    try:
        compiled = build(node, index.schema, searcher, None)  # type: ignore[arg-type]
    except ql.QueryTooBroad:  # a quoted stop word alone ("the") is refused on purpose
        assume(False)
    matched = not compiled.nothing and searcher.search(compiled.query, 1).count > 0
    tokenize = backend().tokenizer()
    spans = match_spans(text, compiled.terms, tokenize)
    # The one-pass shortcut and the plain token stream agree.
    assert spans == sorted({(m.startchar, m.endchar) for m in tokenize(text)
                            if m.text in compiled.terms})
    assert bool(spans) == matched, (text, word, compiled.terms)
    wanted = exact_words(word) if phrase else stems(word)
    for start, end in spans:
        written = text[start:end]
        assert (exact_words(written) if phrase else stems(written)) == wanted, written


def test_terms_for_marks_stems_and_exact_words(app, world):
    search = backend()
    assert "harbour" in search.terms_for("harbours")
    assert {t for t in search.terms_for('"harbour page"') if t.startswith(ql.EXACT_MARK)} \
        == {ql.EXACT_MARK + "harbour", ql.EXACT_MARK + "page"}
    assert search.terms_for("harbour -quiet") == search.terms_for("harbour")
    assert db.session.execute(select(Document).where(Document.status != Status.INDEXED)
                              ).first() is None


QUERY_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(
        ['"', "(", ")", "*", "~", "-", ":", "..", " OR ", " AND ", " NOT ", "title:", "date:",
         "urn:", "type:", "source:", "tag:", "rec:", "[", "]", "~2", "harb", "page", "2012",
         "-01", " "]), st.text(max_size=3)), max_size=60).map("".join),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUERY_TEXT)
def test_any_search_text_is_answered_or_refused_with_a_reason(app, world, caplog, text):
    _, reader = world
    scope = scope_for(reader)
    caplog.clear()
    try:
        results = backend().search(text, scope, facets=True)
    except ql.QueryTooBroad as error:
        assert error.message and error.advice
        return
    assert results.total_documents <= 3
    # Compiled as written: tantivy refused none of it (which would fall back to words).
    assert not [r for r in caplog.records if "tantivy refused" in r.getMessage()], text
