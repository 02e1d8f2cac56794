"""Totals and facet counts for the PostgreSQL backend: one statement over the matching
pages (access and filters already inside `compiled.where`), so counts agree with results."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .facets import YEAR_MAX, YEAR_MIN, FacetCounts
from .pg_query import CODING_FACETS, NORMAL_SOURCE, REC_REF, Compiled

FROM = "search_pages s JOIN documents d ON d.id = s.document_id"
# Each matching document's facet values, read once (one join over the matching documents,
# then each facet groups that list: joining per facet cost eight joins).
DOCS = ("docs JOIN documents d ON d.id = docs.doc "
        "LEFT JOIN codings c ON c.document_id = d.id")
FACETS = [
    ("inquiry", "CAST(d.inquiry_id AS TEXT)"),
    ("type", "d.doc_type"),
    ("source", NORMAL_SOURCE),
    ("year", "CAST(CAST(EXTRACT(YEAR FROM d.document_date) AS INTEGER) AS TEXT)"),
    *CODING_FACETS.items(),
]


def count(conn: Connection, compiled: Compiled, counts: FacetCounts | None) -> tuple[int, int]:
    """(pages, documents) matching; with `counts`, documents per facet value too."""
    hits = f"SELECT s.document_id AS doc, s.number AS page FROM {FROM} WHERE {compiled.where}"
    if counts is None:
        row = conn.execute(text(
            f"SELECT count(*), count(DISTINCT doc) FROM ({hits}) h"), compiled.params).one()
        return int(row[0]), int(row[1])
    parts = ["SELECT '#pages', NULL, count(*) FROM hits",
             "SELECT '#documents', NULL, count(*) FROM docs"]
    for n, (name, _) in enumerate(FACETS):
        parts.append(f"SELECT '{name}', f{n}, count(*) FROM info GROUP BY 2")
    parts.append("SELECT 'tag', CAST(dt.tag_id AS TEXT), count(*) FROM docs "
                 "JOIN document_tags dt ON dt.document_id = docs.doc GROUP BY 2")
    parts.append(f"SELECT 'rec', {REC_REF}, count(DISTINCT h.doc) FROM hits h "
                 "JOIN evidence_links el ON el.document_id = h.doc AND el.page = h.page "
                 "JOIN recommendations r ON r.id = el.recommendation_id "
                 "JOIN recommendation_sets rs ON rs.id = r.set_id GROUP BY 2")
    rows = conn.execute(text(
        f"WITH hits AS MATERIALIZED ({hits}), "
        "docs AS MATERIALIZED (SELECT DISTINCT doc FROM hits), "
        "info AS MATERIALIZED (SELECT "
        + ", ".join(f"{expression} AS f{n}" for n, (_, expression) in enumerate(FACETS))
        + f" FROM {DOCS}) "
        + " UNION ALL ".join(parts)), compiled.params).all()
    pages = documents = 0
    for name, value, number in rows:
        if name == "#pages":
            pages = number
        elif name == "#documents":
            documents = number
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
    return int(pages), int(documents)
