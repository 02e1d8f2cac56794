"""Totals and facet counts for the PostgreSQL backend: one statement over the matching
pages (access and filters already inside `compiled.where`), so counts agree with results."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..facets import YEAR_MAX, YEAR_MIN, FacetCounts
from .compile import Compiled
from .filters import CODING_FACETS, REC_REF, normal_source

FROM = "search_pages s JOIN documents d ON d.id = s.document_id"
NO_SCORE = "CAST(NULL AS REAL)"  # the score column of the rows that are counts
# Each matching document's facet values, read once (one join over the matching documents,
# then each facet groups that list: joining per facet cost eight joins).
DOCS = ("docs JOIN documents d ON d.id = docs.doc "
        "LEFT JOIN codings c ON c.document_id = d.id")
FACETS = [
    ("inquiry", "CAST(d.inquiry_id AS TEXT)"),
    ("type", "d.doc_type"),
    ("source", "d.source"),  # tidied once per source, not per document (see count)
    ("year", "CAST(CAST(EXTRACT(YEAR FROM d.document_date) AS INTEGER) AS TEXT)"),
    *CODING_FACETS.items(),
]


def count(conn: Connection, compiled: Compiled, counts: FacetCounts | None,
          ranking: tuple[str, dict] | None = None
          ) -> tuple[int, int, list[tuple[int, float, int]]]:
    """(pages, documents) matching; with `counts`, documents per facet value too; with
    `ranking` (statements over `hits` and `n`, its number of pages, ending in `best_docs`:
    doc, best, ranked), the documents it ranks, from the same evaluation of the matches."""
    hits = f"SELECT s.document_id AS doc, s.number AS page FROM {FROM} WHERE {compiled.where}"
    ctes = [f"hits AS MATERIALIZED ({hits})",
            "n AS MATERIALIZED (SELECT count(*) AS pages FROM hits)",
            "docs AS MATERIALIZED (SELECT DISTINCT doc FROM hits)"]
    params = compiled.params
    parts = [f"SELECT '#pages', NULL, pages, {NO_SCORE} FROM n",
             f"SELECT '#documents', NULL, count(*), {NO_SCORE} FROM docs"]
    if ranking is not None:
        ctes.append(ranking[0])
        params = ranking[1]
        parts.append("SELECT '#ranked', CAST(doc AS TEXT), ranked, best FROM best_docs")
    if counts is not None:
        ctes.append("info AS MATERIALIZED (SELECT "
                    + ", ".join(f"{expression} AS f{n}"
                                for n, (_, expression) in enumerate(FACETS))
                    + f" FROM {DOCS})")
        for n, (name, _) in enumerate(FACETS):
            if name == "source":  # a regular expression per document cost 2 us each
                parts.append(f"SELECT '{name}', {normal_source(f'f{n}')}, "
                             f"CAST(sum(k) AS BIGINT), {NO_SCORE} FROM (SELECT f{n}, "
                             "count(*) AS k FROM info GROUP BY 1) x GROUP BY 2")
            else:
                parts.append(f"SELECT '{name}', f{n}, count(*), {NO_SCORE} FROM info GROUP BY 2")
        parts.append(f"SELECT 'tag', CAST(dt.tag_id AS TEXT), count(*), {NO_SCORE} FROM docs "
                     "JOIN document_tags dt ON dt.document_id = docs.doc GROUP BY 2")
        parts.append(f"SELECT 'rec', {REC_REF}, count(DISTINCT h.doc), {NO_SCORE} FROM hits h "
                     "JOIN evidence_links el ON el.document_id = h.doc AND el.page = h.page "
                     "JOIN recommendations r ON r.id = el.recommendation_id "
                     "JOIN recommendation_sets rs ON rs.id = r.set_id GROUP BY 2")
    rows = conn.execute(text(
        "WITH " + ", ".join(ctes) + " "
        + " UNION ALL ".join(f"({part})" for part in parts)), params).all()
    pages = documents = 0
    ranked: list[tuple[int, float, int]] = []
    for name, value, number, best in rows:
        if name == "#pages":
            pages = number
        elif name == "#documents":
            documents = number
        elif name == "#ranked":
            ranked.append((int(value), float(best), int(number)))
        elif name == "year":
            year = int(value) if value is not None else None
            if year is None or not YEAR_MIN <= year <= YEAR_MAX:
                counts.undated += number
            else:
                counts.values["year"][year] = number
        elif name == "inquiry":
            counts.values["inquiry"][int(value)] = number
        elif value not in ("", None):
            counts.values[name][value] = number
    ranked.sort(key=lambda row: (-row[1], row[0]))
    return int(pages), int(documents), ranked
