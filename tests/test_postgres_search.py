"""The PostgreSQL search backend's own promises: rows written with the pages in one
transaction, escaped ts_headline snippets, access inside the SQL, the exact and stemmed
vectors, the fuzzy notice, the statement time limit, and RUM or GIN indexes alike.
(The shared search tests run on both backends through conftest.search_app.)"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import select, text

from inquiry_docs.access import audit
from inquiry_docs.access.permissions import Grant, Scope, scope_for
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest, metadata
from inquiry_docs.models import Document, Status, User
from inquiry_docs.search import backend
from inquiry_docs.search import query as ql
from inquiry_docs.search.facets import Filters
from inquiry_docs.search.find import page_texts
from inquiry_docs.search.postgres import compile as pg_query
from inquiry_docs.search.postgres.backend import RANK_ALL, RANK_LIMIT, RUM_ORDER_LIMIT
from inquiry_docs.search.postgres.compile import compile_tree
from inquiry_docs.search.query import QueryTooBroad
from tests import samples
from tests.conftest import build_app, login, make_user, postgres_database, require, upload
from tests.test_query_fuzz import QUERY_TEXT

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> javascript:alert(3)'


@pytest.fixture
def app(request, tmp_path):
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    with postgres_database(server, template) as url:
        app = build_app(tmp_path, DATABASE_URL=url, SEARCH_BACKEND="postgres")
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


def _add(client, inquiry, name: str, pages: list[str], title: str | None = None,
         **form: str) -> Document:
    upload(client, inquiry, [(samples.make_pdf(pages, title=title), name)], **form)
    db.session.expire_all()
    return db.session.execute(select(Document).order_by(Document.id.desc()).limit(1)
                              ).scalar_one()


def _rows(document_id: int | None = None) -> int:
    sql = "SELECT count(*) FROM search_pages"
    if document_id is not None:
        sql += f" WHERE document_id = {int(document_id)}"
    return db.session.execute(text(sql)).scalar_one()


def _urns(results) -> list[str]:
    return [d.urn for d in results.documents]


def test_postgres_needs_a_postgres_database(tmp_path):
    with pytest.raises(ValueError, match="DATABASE_URL must be PostgreSQL"):
        build_app(tmp_path, SEARCH_BACKEND="postgres",
                  DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite")
    with pytest.raises(ValueError, match="is not known"):
        build_app(tmp_path, SEARCH_BACKEND="elastic")


def test_pages_are_searchable_when_committed_with_no_index_job(app, admin_client, inquiry,
                                                                 monkeypatch):

    def no_job() -> None:
        raise AssertionError("no index job is needed")

    monkeypatch.setattr(ingest, "enqueue_index", no_job)
    document = _add(admin_client, inquiry, "a.pdf", ["The lighthouse keeper", "nothing"])
    assert document.status == Status.INDEXED
    assert _rows(document.id) == 2
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    results = backend().search("lighthouse", scope_for(admin))
    assert _urns(results) == [document.urn] and results.total_pages == 1
    assert backend().indexed_page_counts() == {document.id: 2}


def test_a_rolled_back_extraction_leaves_no_search_rows(app, admin_client, inquiry,
                                                        monkeypatch):
    document = _add(admin_client, inquiry, "a.pdf", ["first words"])
    document.status = Status.RECEIVED
    db.session.commit()
    real = audit.record

    def fail_on_extracted(action, **kw):
        if action == "text_extracted":
            raise RuntimeError("the database went away")
        return real(action, **kw)

    monkeypatch.setattr(audit, "record", fail_on_extracted)
    monkeypatch.setattr(ingest.extract, "extract", lambda *a, **k: ingest.extract.Extracted(
        pages=[(1, "replacement quokka text")], page_label="page"))
    with pytest.raises(RuntimeError):
        ingest.process(document.id)
    db.session.rollback()
    # The first extraction's rows are still there; the failed one wrote nothing.
    assert db.session.execute(text(
        "SELECT count(*) FROM search_pages WHERE words @@ 'quokka'")).scalar_one() == 0
    assert _rows(document.id) == 1


def test_title_changes_rewrite_rows_and_tags_need_no_reindex(app, admin_client, inquiry):
    from inquiry_docs.review import tags

    document = _add(admin_client, inquiry, "a.pdf", ["page about harbours"], title="Old name")
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    scope = scope_for(admin)
    metadata.apply(document, metadata.Changes("Gazetteer of ports", document.doc_type,
                                              document.source, document.document_date), admin)
    assert document.status == Status.INDEXED  # nothing waits for an index job
    assert _urns(backend().search("title:gazetteer", scope)) == [document.urn]
    assert _urns(backend().search("title:old", scope)) == []
    tag = tags.create(admin, inquiry.id, "Key")
    tags.apply(admin, tag, [document])
    found = backend().search("harbour", scope, filters=Filters(tag=(str(tag.id),)),
                             facets=True)
    assert _urns(found) == [document.urn]
    assert found.facets.values["tag"] == {str(tag.id): 1}


def test_snippets_are_escaped_in_text_title_and_source(app, admin_client, inquiry):
    document = _add(admin_client, inquiry, '<img src=x onerror=alert(9)>.pdf',
                    [f"zephyr {HOSTILE} zephyr & more"], title=f"zephyr {HOSTILE}",
                    source=HOSTILE[:100])
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    for query in ("zephyr", '"zephyr"', "zeph*", "javascript", "title:zephyr", "onerror"):
        results = backend().search(query, scope_for(admin), snippet_text=page_texts)
        assert _urns(results) == [document.urn], query
        snippet = str(results.documents[0].pages[0].snippet)
        assert "<mark>" in snippet, (query, snippet)
        without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and '"' not in without_marks, (query, snippet)
        assert "&lt;script&gt;" in snippet or "&lt;img" in snippet, (query, snippet)
    page = admin_client.get("/?q=zephyr").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'href="javascript:' not in page


def test_source_facet_tidies_each_source_once_and_counts_documents(app, admin_client,
                                                                   inquiry):
    docs = [_add(admin_client, inquiry, f"{n}.pdf", [f"heron page {n}"]) for n in range(3)]
    for document, source in zip(docs, ("Northshire  Police", " Northshire Police ",
                                       "Council"), strict=True):
        document.source = source
    db.session.commit()
    scope = scope_for(db.session.execute(select(User).where(User.is_admin)).scalar_one())
    counts = backend().search("heron", scope, facets=True).facets.values["source"]
    assert counts == {"Northshire Police": 2, "Council": 1}
    assert all(type(n) is int for n in counts.values())
    assert backend().search("heron source:northshire", scope).total_documents == 2


def test_nobody_uncleared_sees_a_count_facet_or_snippet(app, admin_client, inquiry):
    secret = _add(admin_client, inquiry, "s.pdf", ["the wombat dossier"])
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    metadata.set_marking(secret, metadata.Marking("OFFICIAL-SENSITIVE", False, "", ""), admin)
    open_doc = _add(admin_client, inquiry, "o.pdf", ["an open page"])
    reader = make_user("reader@example.org", "reader", inquiry)  # OFFICIAL only
    scope = scope_for(reader)
    for query in ("wombat", "wombat OR open", "-zzzz", "womb*", '"wombat dossier"'):
        results = backend().search(query, scope, facets=True, snippet_text=page_texts)
        assert secret.urn not in _urns(results), query
        assert results.total_documents == (1 if open_doc.urn in _urns(results) else 0)
        flat = [v for facet in results.facets.values.values() for v in facet]
        assert flat.count(secret.inquiry_id) <= 1 and "OFFICIAL-SENSITIVE" not in flat
    assert backend().search("wombat", scope, facets=True).facets.values["type"] == {}
    assert backend().matching_pages("wombat", scope, secret.id) == []
    assert backend().page_scores("wombat", scope, secret.id) == {}
    assert backend().all_hits("wombat", scope)[1] == []
    similar = backend().more_like("wombat dossier", scope, exclude=open_doc.id)
    assert similar.total_documents == 0
    client = app.test_client()
    login(client, reader.email)
    assert "wombat" not in client.get("/?q=wombat").get_data(as_text=True).split(
        "</form>")[-1]
    # Granted, the same search finds it.
    cleared = Scope({inquiry.id: Grant("OFFICIAL-SENSITIVE")})
    assert _urns(backend().search("wombat", cleared)) == [secret.urn]


def test_phrases_are_exact_and_words_are_stemmed(app, admin_client, inquiry):
    abused = _add(admin_client, inquiry, "a.pdf", ["The boy was abused at the school."])
    abuse = _add(admin_client, inquiry, "b.pdf", ["Allegations of abuse were noted."])
    scope = scope_for(db.session.execute(select(User).where(User.is_admin)).scalar_one())
    assert set(_urns(backend().search("abuses", scope))) == {abused.urn, abuse.urn}
    assert _urns(backend().search('"abused"', scope)) == [abused.urn]
    assert _urns(backend().search('"boy was abused"', scope)) == [abused.urn]
    assert _urns(backend().search('"abused boy"', scope)) == []
    assert _urns(backend().search('"boy school"~5', scope)) == [abused.urn]  # 5 apart
    assert _urns(backend().search('"school boy"~5', scope)) == [abused.urn]  # either order
    assert _urns(backend().search('"boy school"~4', scope)) == []
    assert set(_urns(backend().search("abus*", scope))) == {abused.urn, abuse.urn}
    assert _urns(backend().search("allegat*", scope)) == [abuse.urn]
    results = backend().search("abuze~1", scope)
    assert results.total_documents == 0 and "not supported by this back end" in results.notice
    terms = backend().terms_for("abuse allegat*")
    spans = [t.text for t in backend().tokenizer()("Abused allegations") if t.text in terms]
    assert len(spans) == 2


def test_phrases_with_common_words_and_searches_on_both_vectors_stay_exact(
        app, admin_client, inquiry, monkeypatch):
    exact = _add(admin_client, inquiry, "a.pdf", ["He held a position of trust at the club."])
    near = _add(admin_client, inquiry, "b.pdf", ["A position in trust law, with a council."])
    other = _add(admin_client, inquiry, "c.pdf", ["Trust of position; recommendations made."])
    scope = scope_for(db.session.execute(select(User).where(User.is_admin)).scalar_one())
    compiled = compile_tree(ql.parse('"position of trust"').node, db.session.connection(),
                            scope, None)
    assert "ts_match_vq" in compiled.where  # the index asked without "of"
    assert _urns(backend().search('"position of trust"', scope)) == [exact.urn]
    assert _urns(backend().search('"a position of trust at the"', scope)) == [exact.urn]
    assert set(_urns(backend().search('-"position of trust" trust', scope))) == \
        {near.urn, other.urn}
    assert _urns(backend().search('"position of trust" club', scope)) == [exact.urn]
    assert set(_urns(backend().search('"position of trust" OR recommend*', scope))) == \
        {exact.urn, other.urn}
    # A prefix (as written) and a stemmed word: two vectors, each asked of its index.
    assert _urns(backend().search("recomm* position", scope)) == [other.urn]
    assert _urns(backend().search("posit* council", scope)) == [near.urn]
    assert _urns(backend().search('"trust law" council posit*', scope)) == [near.urn]
    assert backend().matching_pages("posit* council", scope, near.id) == [1]
    assert backend().matching_pages("posit* council", scope, exact.id) == []
    # Fields alone, AND-ed: no text condition at all.
    assert backend().search(f"urn:{near.urn} type:report", scope).total_documents == 0
    assert _urns(backend().search(f"urn:{near.urn} -type:report", scope)) == [near.urn]
    # Both on many pages (as the planner expects): the second vector's words are looked
    # up by key among the pages its index finds; the answers do not change.
    monkeypatch.setattr(pg_query, "MANY_PAGES", 0)
    compiled = compile_tree(ql.parse("posit* council").node, db.session.connection(),
                            scope, None)
    assert "IN (SELECT document_id, number FROM search_pages s" in compiled.where
    assert _urns(backend().search("posit* council", scope)) == [near.urn]
    assert _urns(backend().search("recomm* position", scope)) == [other.urn]
    assert set(_urns(backend().search("-(posit* council) trust", scope))) == {exact.urn, other.urn}
    assert backend().matching_pages("posit* council", scope, near.id) == [1]


@pytest.fixture
def two_documents(app, admin_client, inquiry):
    _add(admin_client, inquiry, "a.pdf", ["The boy was abused at the school in a position "
                                          "of trust.", "Mandatory reporting was ignored."])
    _add(admin_client, inquiry, "b.pdf", ["Minutes: abuse noted, recommendations made."])
    return scope_for(db.session.execute(select(User).where(User.is_admin)).scalar_one())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUERY_TEXT)
@example(text="date:2012 type:report")  # fields alone, AND-ed
@example(text='urn:X source:"a b" -date:..1990')
@example(text='"a position of trust" -recomm* abuse')  # common words; both vectors
@example(text='("of the boy" OR "abuse noted"~3) school*')
def test_searching_any_text_is_answered_or_refused_with_a_reason(two_documents, text):
    try:
        backend().search(text, two_documents, facets=True, snippet_text=page_texts)
        backend().search(text, two_documents)
    except QueryTooBroad as refused:
        assert refused.message
    db.session.rollback()


def test_the_time_limit_stops_a_search_and_keeps_the_session_usable(app, admin_client,
                                                                   inquiry):
    document = _add(admin_client, inquiry, "a.pdf", ["timing words"])
    scope = scope_for(db.session.execute(select(User).where(User.is_admin)).scalar_one())
    search = backend()
    search.time_limit = 0.0
    try:
        with pytest.raises(QueryTooBroad, match="took longer than"):
            search.search("timing", scope)
    finally:
        search.time_limit = 5.0
    assert db.session.get(Document, document.id).urn == document.urn  # still usable
    assert db.session.execute(text("SHOW statement_timeout")).scalar() == "0"


@pytest.mark.parametrize("method", ["gin", "rum"])
def test_gin_and_rum_indexes_answer_alike(app, admin_client, inquiry, method):
    if method == "rum" and not db.session.execute(text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).first():
        require(False, "the rum extension is not installed (Debian: postgresql-15-rum)")
    docs = [_add(admin_client, inquiry, f"{n}.pdf", [f"common word {'rare ' * n}" + "x" * n,
                                                       "common again"],
                 title=f"Document {n}") for n in range(1, 6)]
    docs[0].document_date = datetime(2001, 1, 1)
    db.session.commit()
    search = backend()
    assert search.rebuild((Status.INDEXED,), method=method) == 5
    assert search.uses_rum() == (method == "rum")
    scope = scope_for(db.session.execute(select(User).where(User.is_admin)).scalar_one())
    ranked = search.search("rare", scope)
    assert _urns(ranked)[0] == docs[-1].urn  # the most mentions first
    # Ranked in one evaluation (no facets) or after the facet counts: the same order.
    assert _urns(search.search("rare common", scope, facets=True)) == \
        _urns(search.search("rare common", scope))
    search.rank_limit = search.rank_all = 3  # fewer pages ranked than match: exact counts
    try:
        broad = search.search("common", scope, facets=True)
        assert (broad.total_documents, broad.total_pages) == (5, 10)
        assert len(broad.documents) == 5 and broad.facets.values["year"][2001] == 1
        assert ("chosen among the first" in broad.notice) == (method == "gin")
        deep = search.search("common", scope, offset=4, limit=2)
        assert len(deep.documents) == 1
        # Past the matches a RUM index orders, the first found are ranked, as with GIN.
        search.rum_order_limit = 5
        for facets in (False, True):
            for limit in (2, 20):  # within the ranked documents, and past them
                broad = search.search("common", scope, facets=facets, limit=limit)
                assert "chosen among the first" in broad.notice
                assert (broad.total_documents, len(broad.documents)) == (5, min(limit, 5))
    finally:
        search.rank_limit, search.rank_all = RANK_LIMIT, RANK_ALL
        search.rum_order_limit = RUM_ORDER_LIMIT
    assert search.indexed_page_counts() == {d.id: 2 for d in docs}


def test_init_makes_the_text_indexes_the_kind_the_setting_names(app, admin_client, inquiry):
    if not db.session.execute(text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).first():
        require(False, "the rum extension is not installed (Debian: postgresql-15-rum)")
    document = _add(admin_client, inquiry, "a.pdf", ["The lighthouse keeper", "logbook"])
    search = backend()
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    for kind in ("rum", "gin", "gin"):  # the second gin finds nothing to change
        search.text_index = kind
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert search.uses_rum() == (kind == "rum")
        assert _urns(search.search("lighthouse", scope_for(admin))) == [document.urn]
    search.text_index = "gin"
