"""Suggested evidence: pages nobody has linked yet that the search backend ranks highest
for a recommendation's keywords, title and text, within the user's reach (the access
filter is applied inside the search, as for any search)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select

from ..access import audit, permissions
from ..db import db
from ..models import Document, EvidenceLink, Page, Recommendation, RejectedSuggestion, User
from ..search import backend
from ..search.query import MAX_CLAUSES, MAX_QUERY_CHARS, QueryTooBroad
from ..search.snippets import snippet
from . import keywords_of, ref

WORD = re.compile(r"[A-Za-z0-9]+")
MAX_TERMS = MAX_CLAUSES - 10
CANDIDATES = 500  # matching pages read before linked and rejected ones are set aside
STOP_WORDS = """a an and are as at be by for from in into is it its of on or our the
their them they this to was were which with who whom will would should shall must may not
all any each other those these than that there such been being has have had do does did
under over between about against across after before during within without so if also
more most less least only very can could use used using upon"""
STOP = frozenset(STOP_WORDS.split())


@dataclass
class Suggestion:
    document: Document
    page: int
    score: float
    snippet: Markup


def query_for(rec: Recommendation) -> str:
    """The recommendation as an OR query: curated keywords (phrases kept whole) first, then
    the distinctive words of its title and text."""
    parts: list[str] = []
    seen: set[str] = set()
    for keyword in keywords_of(rec):
        words = WORD.findall(keyword)
        part = f'"{" ".join(words)}"' if len(words) > 1 else (words[0] if words else "")
        if part and part.lower() not in seen:
            seen.add(part.lower())
            parts.append(part)
    for word in WORD.findall(f"{rec.title} {rec.text}"):
        lower = word.lower()
        if len(lower) >= 3 and lower not in STOP and not lower.isdigit() and lower not in seen:
            seen.add(lower)
            parts.append(lower)
    query = ""
    for part in parts[:MAX_TERMS]:  # within the search's clause and length limits
        longer = f"{query} OR {part}" if query else part
        if len(longer) > MAX_QUERY_CHARS:
            break
        query = longer
    return query


def _scope(user: User | None, rec: Recommendation) -> permissions.Scope:
    return permissions.scope_for(user).only(rec.set.inquiry_id)


def _taken(rec: Recommendation) -> set[tuple[int, int]]:
    """Pages already linked to, or rejected for, this recommendation."""
    linked = db.session.execute(select(EvidenceLink.document_id, EvidenceLink.page)
                                .where(EvidenceLink.recommendation_id == rec.id)).all()
    rejected = db.session.execute(select(RejectedSuggestion.document_id,
                                         RejectedSuggestion.page)
                                  .where(RejectedSuggestion.recommendation_id == rec.id)).all()
    return {tuple(row) for row in linked} | {tuple(row) for row in rejected}


def for_recommendation(user: User | None, rec: Recommendation, limit: int = 10
                       ) -> list[Suggestion]:
    """The best unlinked, unrejected pages, best first, each with a marked snippet."""
    query = query_for(rec)
    if not query:
        return []
    search = backend()
    try:
        terms, hits = search.all_hits(query, _scope(user, rec), limit=CANDIDATES)
    except QueryTooBroad:
        return []
    taken = _taken(rec)
    best = sorted((h for h in hits if (h[0], h[2]) not in taken), key=lambda h: -h[3])[:limit]
    if not best:
        return []
    ids = {h[0] for h in best}
    documents = {d.id: d for d in db.session.execute(
        select(Document).where(Document.id.in_(ids))).scalars()}
    texts = {(d, n): t for d, n, t in db.session.execute(
        select(Page.document_id, Page.number, Page.text).where(Page.document_id.in_(ids)))}
    tokenize = search.tokenizer()
    return [Suggestion(documents[d], n, score, snippet(texts.get((d, n), ""), terms, tokenize))
            for d, _, n, score in best if d in documents]


def reject(user: User, rec: Recommendation, document: Document, page: int) -> None:
    """Hide this page from the recommendation's suggestions, for everyone, from now on."""
    exists = db.session.execute(select(RejectedSuggestion.id).where(
        RejectedSuggestion.recommendation_id == rec.id,
        RejectedSuggestion.document_id == document.id,
        RejectedSuggestion.page == page)).first()
    if exists:
        return
    db.session.add(RejectedSuggestion(recommendation_id=rec.id, document_id=document.id,
                                      page=page, user_id=user.id))
    audit.record("suggestion_rejected", user=user, object_type="recommendation",
                 object_id=rec.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 page=page, recommendation=ref(rec))
    db.session.commit()


@dataclass
class Likely:
    recommendation: Recommendation
    page: int
    score: float


def for_document(user: User | None, document: Document, recs: list[Recommendation],
                 limit: int = 5) -> list[Likely]:
    """The recommendations this document most likely bears on, with its best page for each."""
    search = backend()
    scope = permissions.scope_for(user)
    found: list[Likely] = []
    for rec in recs:
        query = query_for(rec)
        if not query:
            continue
        try:
            scores = search.page_scores(query, scope, document.id)
        except QueryTooBroad:
            continue
        if scores:
            page, score = max(scores.items(), key=lambda kv: kv[1])
            found.append(Likely(rec, page, score))
    return sorted(found, key=lambda item: -item.score)[:limit]
