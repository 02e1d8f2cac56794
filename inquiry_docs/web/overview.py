"""What the search page and the timeline show beside the results: charts by month, source
and type, and the results collapsed to one per group of near-duplicates. Both come from
every document the search matches within the reader's reach (insight.overview)."""

from __future__ import annotations

from dataclasses import dataclass

from ..insight import overview, timeline
from ..models import DOC_TYPES, STANCES
from . import charts

CHART_BARS = 12  # sources and types charted; the table beside lists them all


def month_chart(chart_id: str, line: timeline.Timeline):
    series = line.series()
    if len(series) > 120:  # ten years and more read better by year
        years: dict[str, int] = {}
        for month in series:
            key = str(month.start.year)
            years[key] = years.get(key, 0) + month.documents
        return charts.column_chart(chart_id, "Dated documents by year",
                                   [charts.Bar(y, n) for y, n in years.items()])
    return charts.column_chart(chart_id, "Dated documents by month",
                               [charts.Bar(m.short_label, m.documents) for m in series])


def _totals(line: timeline.Timeline, name: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for month in line.months:
        for key, n in getattr(month, name).items():
            counts[key] = counts.get(key, 0) + n
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]).lower()))


def result_charts(line: timeline.Timeline, prefix: str) -> dict[str, object]:
    """Charts of a set of results by month, source and type, with their figures."""
    by_source = [charts.Bar(s, n) for s, n in line.source_totals]
    by_type = [charts.Bar(DOC_TYPES.get(t, t), n) for t, n in line.type_totals]
    return {
        "month": month_chart(f"{prefix}-month", line),
        "source": charts.bar_chart(f"{prefix}-source", "Documents by source",
                                   by_source[:CHART_BARS]),
        "type": charts.bar_chart(f"{prefix}-type", "Documents by type", by_type[:CHART_BARS]),
        "month_rows": [(m.label, m.documents) for m in line.months]
        + ([("Not dated", line.undated)] if line.undated else []),
        "source_rows": [(b.label, b.value) for b in by_source],
        "type_rows": [(b.label, b.value) for b in by_type],
    }


@dataclass
class Extras:
    line: timeline.Timeline
    charts: dict[str, object]
    folded: overview.Collapsed
    collapsed: bool


def for_results(who, query: str, filters, sort: str, results, offset: int, limit: int,
                collapse: bool, expand: int | None = None):
    """(results, extras): the results collapsed if asked, and the charts beside them."""
    found = overview.matching(who, query, filters, sort)
    folded = overview.collapse(found)
    if collapse:
        results = overview.collapsed_results(found, folded, results, offset, limit, expand)
    line = timeline.build(who, query, filters, found)
    return results, Extras(line, result_charts(line, "results"), folded, collapse)


def stance_chart(rows) -> dict | None:
    """The dashboard's chart of each recommendation's linked pages by stance, with its
    figures (rows from recommendations.coverage.dashboard: visible links only)."""
    if not rows:
        return None
    segments = [charts.Segment(key, label) for key, label in STANCES.items()]
    labelled = [(f"{row.recommendation.number}. {row.recommendation.title}", row)
                for row in rows]
    return {
        "svg": charts.stacked_chart(
            "dashboard-stances", "Linked pages you can see, per recommendation, by stance",
            [(label, row.pages_by_stance) for label, row in labelled], segments),
        "header": ["Recommendation", *STANCES.values(), "All linked pages"],
        "rows": [[label, *(row.pages_by_stance.get(k, 0) for k in STANCES), row.pages]
                 for label, row in labelled],
    }
