"""Ranking quality on a small labelled set, so a change that breaks ranking fails here.

tests/relevance/corpus.json holds ~20 short fictional documents and queries, each with the
documents that should come in its first five results (and, for most, the one that must come
first). The documents go through the real pipeline (upload, extraction, indexing, with the
queue in immediate mode) and are searched as an administrator through the search backend.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from tests import samples
from tests.conftest import (
    SEARCH_BACKEND_PARAMS,
    build_app,
    login,
    make_user,
    search_backend_config,
    upload,
)

CORPUS = json.loads((Path(__file__).parent / "relevance" / "corpus.json").read_text())
QUERIES = CORPUS["queries"]
K = 5
# Mean precision at 5 measured on this set when it was written: 0.810 (10 of 14 queries
# perfect). The losses are documents labelled relevant that lack one of the query's words
# (every word must match), not ranking errors. The margin of 0.06 allows about one relevant
# document to drop out of one query's top five; more than that fails.
MIN_MEAN_PRECISION = 0.75


def precision_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    """Share of the first k results that are relevant, out of the most that could be.

    The denominator is min(k, number relevant), so a perfect ranking scores 1.0 even when a
    query has fewer than k relevant documents.
    """
    if not relevant:
        return 0.0
    hits = sum(1 for key in ranked[:k] if key in relevant)
    return hits / min(k, len(relevant))


def test_precision_at_k_definition() -> None:
    assert precision_at_k(["a", "b", "x", "y", "z"], {"a", "b"}) == 1.0
    assert precision_at_k(["x", "a", "y", "z", "w", "b"], {"a", "b"}) == 0.5
    assert precision_at_k(list("abcdef"), set("abcdefg")) == 1.0


@pytest.fixture(scope="module", params=SEARCH_BACKEND_PARAMS)
def ranked(request, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each query's results as document keys, best first (built once per search backend)."""
    for overrides in search_backend_config(request, request.param):
        return _ranked(tmp_path_factory, overrides)
    raise AssertionError("unreachable")


def _ranked(tmp_path_factory: pytest.TempPathFactory, overrides: dict) -> dict[str, list[str]]:
    from sqlalchemy import select

    from inquiry_docs.access import permissions
    from inquiry_docs.access.inquiries import create_inquiry
    from inquiry_docs.db import db
    from inquiry_docs.models import Document, Status
    from inquiry_docs.search import backend

    app: Flask = build_app(tmp_path_factory.mktemp("relevance"), **overrides)
    with app.app_context():
        inquiry = create_inquiry("REL", "Relevance inquiry")
        admin = make_user("relevance-admin@example.org", "admin")
        client = app.test_client()
        login(client, admin.email)
        for doc in CORPUS["documents"]:
            pdf = samples.make_pdf(doc["pages"], title=doc["title"])
            response = upload(
                client,
                inquiry,
                [(pdf, f"{doc['key']}.pdf")],
                doc_type=doc["doc_type"],
                source=doc["source"],
            )
            assert response.status_code in (200, 302, 303), response.data[:500]
        rows = db.session.execute(
            select(Document.original_filename, Document.id, Document.status, Document.title)
        ).all()
        assert len(rows) == len(CORPUS["documents"])
        assert all(status == Status.INDEXED for _, _, status, _ in rows), rows
        titles = {Path(name).stem: title for name, _, _, title in rows}
        assert titles["reporting-policy"] == "Mandatory reporting policy for school staff"
        key_of = {doc_id: Path(name).stem for name, doc_id, _, _ in rows}
        scope = permissions.scope_for(admin)
        out = {}
        for item in QUERIES:
            results = backend().search(item["query"], scope, limit=20)
            out[item["query"]] = [key_of[d.document_id] for d in results.documents]
        db.session.remove()
        db.engine.dispose()
    return out


def test_mean_precision_at_5(ranked: dict[str, list[str]]) -> None:
    scores = {q["query"]: precision_at_k(ranked[q["query"]], set(q["relevant"])) for q in QUERIES}
    mean = sum(scores.values()) / len(scores)
    report = "\n".join(
        f"{score:.2f}  {query!r}: {ranked[query][:K]}" for query, score in scores.items()
    )
    assert mean >= MIN_MEAN_PRECISION, f"mean P@{K} {mean:.3f}\n{report}"


@pytest.mark.parametrize("item", [q for q in QUERIES if "first" in q], ids=lambda q: q["query"])
def test_strong_match_ranks_first(ranked: dict[str, list[str]], item: dict) -> None:
    assert ranked[item["query"]][:1] == [item["first"]], ranked[item["query"]][:K]


def test_title_match_beats_passing_mention(ranked: dict[str, list[str]]) -> None:
    """The policy titled "Mandatory reporting" outranks a statement that mentions it once."""
    order = ranked["mandatory reporting"]
    assert "teacher-statement" in order  # it does match...
    assert order.index("reporting-policy") < order.index("teacher-statement")  # ...but lower


def test_off_topic_documents_stay_out(ranked: dict[str, list[str]]) -> None:
    """Documents that share only common words with a query do not reach its top five."""
    assert "highways" not in ranked["complaint police officer"][:K]
    assert "trip-email" not in ranked["allegation against teacher"][:K]
    assert "sports-day" not in ranked["police investigation abuse residential home"][:K]
