"""The user's reach and the result filters as SQL conditions on a page's document, its
coding, tags and evidence links: read from their tables at search time, so a change to
any of them needs no re-index. Values are bound parameters, never user text in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...models import DEFAULT_SET

if TYPE_CHECKING:
    from ...access.permissions import Scope
    from ..facets import Filters


def scope_sql(scope: Scope, params: dict[str, object]) -> str:
    """The user's reach as a condition on `d`, the document (never built from user text)."""
    parts = []
    for n, inquiry_id in enumerate(scope.inquiry_ids):
        params[f"sc_i{n}"] = inquiry_id
        params[f"sc_m{n}"] = list(scope.markings_for(inquiry_id))
        part = f"(d.inquiry_id = :sc_i{n} AND d.marking = ANY(:sc_m{n})"
        if not scope.sees_restricted(inquiry_id):
            part += " AND NOT d.restricted"
        parts.append(part + ")")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def normal_source(column: str) -> str:
    """A source as its facet shows it (spaces tidied, 200 characters at most)."""
    return f"left(regexp_replace(btrim({column}), '\\s+', ' ', 'g'), 200)"


NORMAL_SOURCE = normal_source("d.source")
# Facet/filter name -> its value for a document `d` with its coding row `c` (LEFT JOINed:
# the defaults stand for a document nobody has coded yet).
CODING_FACETS = {
    "relevance": "COALESCE(c.relevance, 'not_reviewed')",
    "privilege": "COALESCE(c.privilege, 'none')",
    "review": "COALESCE(c.review_status, 'to_do')",
    "reviewer": "COALESCE(CAST(c.reviewer_id AS TEXT), 'none')",
    "redaction": "CASE WHEN COALESCE(c.redaction_needed, FALSE) THEN 'yes' ELSE 'no' END",
    "restricted": "CASE WHEN d.restricted THEN 'yes' ELSE 'no' END",
}
# How search names a recommendation (`rec:13`, `rec:gbe2025-3`), as recommendations.ref.
REC_REF = (f"lower(CASE WHEN rs.code = '{DEFAULT_SET}' THEN r.number "
           "ELSE rs.code || '-' || r.number END)")
REC_LINKS = ("SELECT 1 FROM evidence_links el JOIN recommendations r ON r.id = "
             "el.recommendation_id JOIN recommendation_sets rs ON rs.id = r.set_id "
             "WHERE el.document_id = s.document_id AND el.page = s.number")


def filters_sql(filters: Filters | None, params: dict[str, object]) -> str:
    """The result filters as conditions on the page's document, its tags and links."""
    if not filters:
        return "TRUE"
    parts = []
    if filters.inquiry:
        params["f_inquiry"] = list(filters.inquiry)
        parts.append("d.inquiry_id = ANY(:f_inquiry)")
    if filters.type:
        params["f_type"] = list(filters.type)
        parts.append("d.doc_type = ANY(:f_type)")
    if filters.source:
        params["f_source"] = list(filters.source)
        parts.append(f"{NORMAL_SOURCE} = ANY(:f_source)")
    if filters.tag:
        params["f_tag"] = list(filters.tag)
        parts.append("EXISTS (SELECT 1 FROM document_tags dt WHERE dt.document_id = d.id "
                     "AND CAST(dt.tag_id AS TEXT) = ANY(:f_tag))")
    if filters.rec:
        params["f_rec"] = list(filters.rec)
        parts.append(f"EXISTS ({REC_LINKS} AND {REC_REF} = ANY(:f_rec))")
    for name, expression in CODING_FACETS.items():
        values = getattr(filters, name)
        if values:
            params[f"f_{name}"] = list(values)
            parts.append(f"(SELECT {expression} FROM (SELECT 1) AS one LEFT JOIN codings c "
                         f"ON c.document_id = d.id) = ANY(:f_{name})")
    if filters.year_from is not None:
        params["f_year_from"] = filters.year_from
        parts.append("EXTRACT(YEAR FROM d.document_date) >= :f_year_from")
    if filters.year_to is not None:
        params["f_year_to"] = filters.year_to
        parts.append("EXTRACT(YEAR FROM d.document_date) <= :f_year_to")
    bounds = filters.month_bounds()
    if bounds is not None:
        params["f_month_start"], params["f_month_end"] = bounds
        parts.append("d.document_date >= :f_month_start AND d.document_date < :f_month_end")
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"
