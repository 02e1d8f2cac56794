"""Search results: filters with counts, sorting, "more pages", hit navigation, escaping."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.access.permissions import scope_for
from inquiry_docs.db import db
from inquiry_docs.evidence import metadata
from inquiry_docs.models import Document, User
from inquiry_docs.search import backend
from inquiry_docs.search.facets import Filters, parse_filters
from tests import samples
from tests.conftest import login, make_user, upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> javascript:alert(3)'


def _add(client, inquiry, name, pages, doc_type="other", source="", date=None, title=None):
    upload(client, inquiry, [(samples.make_pdf(pages), name)], doc_type=doc_type,
           source=source)
    document = db.session.execute(
        select(Document).order_by(Document.id.desc()).limit(1)).scalar_one()
    if date or title:
        admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
        metadata.apply(document, metadata.Changes(title or document.title, doc_type, source,
                                                  date), admin)
    return document


@pytest.fixture
def corpus(app, admin_client, inquiry):
    other = create_inquiry("ROT", "Rotherham")
    docs = {
        "a": _add(admin_client, inquiry, "a.pdf", ["harbour report one", "nothing",
                                                   "harbour again"],
                  "report", "Police", datetime(2004, 3, 1)),
        "b": _add(admin_client, inquiry, "b.pdf", ["harbour witness"], "witness_statement",
                  "Council", datetime(2010, 6, 1)),
        "c": _add(admin_client, inquiry, "c.pdf", ["harbour undated"], "report", "Police",
                  title="Undated"),
        "secret": _add(admin_client, other, "s.pdf", ["harbour secret"], "exhibit",
                       "Secret source", datetime(1999, 1, 1)),
    }
    reader = make_user("reader@example.org", "reader", inquiry)
    return docs, reader


def _search(user, query="harbour", **kw):
    return backend().search(query, scope_for(user), limit=100, facets=True, **kw)


def test_facet_counts_agree_with_filtered_results_and_never_leak(app, corpus):
    docs, reader = corpus
    results = _search(reader)
    assert results.total_documents == 3
    counts = results.facets.values
    assert counts["type"] == {"report": 2, "witness_statement": 1}
    assert counts["source"] == {"Police": 2, "Council": 1}
    assert counts["year"] == {2004: 1, 2010: 1} and results.facets.undated == 1
    assert set(counts["inquiry"]) == {docs["a"].inquiry_id}
    # Nothing of the other inquiry, anywhere.
    flat = {str(v) for facet in counts.values() for v in facet}
    assert "exhibit" not in flat and "Secret source" not in flat and "1999" not in flat
    for name, field in (("type", "type"), ("source", "source"), ("inquiry", "inquiry")):
        for value, count in counts[name].items():
            narrowed = _search(reader, filters=Filters(**{field: (value,)}))
            assert narrowed.total_documents == count, (name, value)
    for year, count in counts["year"].items():
        narrowed = _search(reader, filters=Filters(year_from=year, year_to=year))
        assert narrowed.total_documents == count
    # Filters combine, and asking for another inquiry's values gives nothing.
    both = _search(reader, filters=Filters(type=("report",), source=("Police",),
                                           year_from=2000, year_to=2005))
    assert [d.document_id for d in both.documents] == [docs["a"].id]
    assert _search(reader, filters=Filters(type=("exhibit",))).total_documents == 0
    assert _search(reader, filters=Filters(
        inquiry=(docs["secret"].inquiry_id,))).total_documents == 0


def test_filters_are_parsed_from_the_query_string_and_never_into_the_query_text(app):
    from werkzeug.datastructures import MultiDict

    f = parse_filters(MultiDict([("type", "report"), ("type", "report"), ("inquiry", "x"),
                                 ("inquiry", "3"), ("source", ' a  "b" OR c '),
                                 ("year_from", "2012"), ("year_to", "2001")]))
    assert f == Filters(inquiry=(3,), type=("report",), source=('a "b" OR c',),
                        year_from=2001, year_to=2012)
    assert not parse_filters(MultiDict([("year_from", "99999"), ("tag", "")]))


def test_sort_by_date_both_ways_undated_last_and_by_urn(app, corpus):
    docs, reader = corpus
    ids = lambda r: [d.document_id for d in r.documents]  # noqa: E731
    assert ids(_search(reader, sort="date_desc")) == [docs["b"].id, docs["a"].id,
                                                      docs["c"].id]
    assert ids(_search(reader, sort="date_asc")) == [docs["a"].id, docs["b"].id,
                                                     docs["c"].id]
    by_urn = _search(reader, sort="urn")
    assert [d.urn for d in by_urn.documents] == sorted(d.urn for d in by_urn.documents)


def test_results_page_filters_sort_expand_and_export_link(app, corpus):
    docs, reader = corpus
    client = app.test_client()
    login(client, reader.email)
    page = client.get("/?q=harbour").get_data(as_text=True)
    assert "3 documents, 4 pages" in page
    assert "Apply filters" in page and "Export all results (CSV)" in page
    assert "Secret source" not in page and "ROT" not in page
    page = client.get("/?q=harbour&type=witness_statement").get_data(as_text=True)
    assert "1 document, 1 page" in page and "Clear filters" in page
    page = client.get("/?q=harbour&sort=date_asc").get_data(as_text=True)
    assert page.index(docs["a"].urn) < page.index(docs["b"].urn) < page.index(docs["c"].urn)


def test_more_pages_expands_without_and_with_htmx(app, admin_client, inquiry):
    pages = [f"lighthouse {n}" for n in range(1, 8)]
    document = _add(admin_client, inquiry, "long.pdf", pages)
    page = admin_client.get("/?q=lighthouse").get_data(as_text=True)
    assert "4 more pages" in page
    assert f"expand={document.id}" in page
    expanded = admin_client.get(f"/?q=lighthouse&expand={document.id}").get_data(as_text=True)
    assert "more pages" not in expanded and expanded.count("#page-") >= 7
    fragment = admin_client.get(f"/?q=lighthouse&expand={document.id}",
                                headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith("<div id=\"pages-") and "<html" not in fragment
    assert fragment.count("#page-") == 7


def test_hit_navigation_across_views(app, admin_client, inquiry):
    pages = ["plain"] * 45
    for n in (2, 19, 25, 44):
        pages[n - 1] = "beacon here"
    document = _add(admin_client, inquiry, "nav.pdf", pages)
    url = f"/documents/{document.id}?q=beacon"
    page = admin_client.get(url).get_data(as_text=True)
    assert "Hit 1 of 4" in page and "Previous hit" not in page
    assert re.search(r'href="[^"]*page=1[^"]*at=19[^"]*#page-19"[^>]*>Next hit', page) \
        or ("at=19" in page and "Next hit" in page)
    page = admin_client.get(url + "&page=1&at=19").get_data(as_text=True)
    assert "Hit 2 of 4" in page and "#page-2" in page and "#page-25" in page
    page = admin_client.get(url + "&page=2&at=25").get_data(as_text=True)
    assert "Hit 3 of 4" in page and "page=3" in page and "#page-44" in page
    page = admin_client.get(url + "&page=3&at=44").get_data(as_text=True)
    assert "Hit 4 of 4" in page and "Next hit" not in page


def test_hit_navigation_stays_in_scope(app, corpus):
    docs, reader = corpus
    assert backend().matching_pages("harbour", scope_for(reader), docs["secret"].id) == []
    assert backend().matching_pages("harbour", scope_for(reader), docs["a"].id) == [1, 3]


def test_hostile_text_titles_and_filenames_show_as_text(app, admin_client, inquiry):
    document = _add(admin_client, inquiry, "<img src=x onerror=alert(9)>.pdf",
                    [f"zephyr {HOSTILE} zephyr"], source=HOSTILE[:100],
                    title=f"zephyr {HOSTILE}")
    for url in ("/?q=zephyr", f"/?q=zephyr&source={HOSTILE[:100]}",
                f"/documents/{document.id}?q=zephyr"):
        page = admin_client.get(url).get_data(as_text=True)
        assert "zephyr" in page
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
        assert 'href="javascript:' not in page and "onerror=alert(2)>" not in page


def test_a_reach_with_nothing_in_it_finds_nothing_even_after_other_searches(app, corpus):
    # The access filter's page set is remembered per searcher; an empty set must never be
    # taken for "no filter" (Whoosh's own reading of an empty allow-set).
    _, reader = corpus
    empty = create_inquiry("EMP", "Nothing yet")
    newcomer = make_user("newcomer@example.org", "reader", empty)
    for _ in range(2):
        assert _search(reader).total_documents == 3
        nothing = _search(newcomer)
        assert (nothing.total_documents, nothing.total_pages) == (0, 0)
        assert nothing.facets.values["inquiry"] == {}


def test_undated_and_dated_documents_in_separate_segments_sort_and_count(app, admin_client,
                                                                          inquiry):
    # Each upload is its own index commit: segments of only undated text files have no
    # year or date column, which must not shift the other segments' values.
    upload(admin_client, inquiry, [(b"Merlin note one.\n", "one.txt")])
    dated = _add(admin_client, inquiry, "d.pdf", ["Merlin dated report"],
                 date=datetime(2011, 5, 1))
    upload(admin_client, inquiry, [(b"Merlin note two.\n", "two.txt")])
    page = admin_client.get("/", query_string={"q": "merlin", "sort": "date_desc"})
    assert page.status_code == 200
    text = page.data.decode()
    assert "3 documents" in text and text.index(dated.urn) < text.index("OLD000001")
    assert "2011</a> (1" in text and "Not dated (2" in text
