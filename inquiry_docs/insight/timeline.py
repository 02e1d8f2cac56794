"""Documents by month: how many a search (or every document, with no words) holds in each
month of its documents' dates, by document type, by source and by where the date came
from; the same as CSV rows.

Only dates with a source count (evidence/dates.py: a date never stands without one); the
documents come from `overview.matching`, so the reader's reach and every filter are
applied inside the search.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ..evidence.dates import SOURCES
from ..models import DOC_TYPES, Document
from ..search.export import safe_cell
from ..search.facets import normalise_source
from . import overview

NOT_RECORDED = "Not recorded"


@dataclass
class Month:
    key: str  # "2012-05", as the month filter takes it
    start: datetime
    documents: int = 0
    by_type: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)
    by_date_source: Counter = field(default_factory=Counter)

    @property
    def label(self) -> str:
        return self.start.strftime("%B %Y")

    @property
    def short_label(self) -> str:
        return self.start.strftime("%b %Y")


@dataclass
class Timeline:
    months: list[Month]
    undated: int
    documents: int
    type_totals: list[tuple[str, int]]  # every matching document, dated or not, by type
    source_totals: list[tuple[str, int]]  # and by source, most documents first

    @property
    def dated(self) -> int:
        return self.documents - self.undated

    @property
    def types(self) -> list[str]:
        return [t for t, _ in self.type_totals]

    @property
    def sources(self) -> list[str]:
        return [s for s, _ in self.source_totals]

    def series(self) -> list[Month]:
        """Every month from the first to the last (empty ones too), for a chart."""
        if not self.months:
            return []
        by_key = {m.key: m for m in self.months}
        out = []
        year, month = self.months[0].start.year, self.months[0].start.month
        last = (self.months[-1].start.year, self.months[-1].start.month)
        while (year, month) <= last:
            key = f"{year:04d}-{month:02d}"
            out.append(by_key.get(key) or Month(key, datetime(year, month, 1)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def build(user, query: str, filters=None, found: overview.Matching | None = None) -> Timeline:
    """The timeline of the documents matching `query` and `filters` within reach."""
    if found is None:
        found = overview.matching(user, query, filters)
    return from_rows(overview.rows(found.order, Document.document_date, Document.doc_type,
                                   Document.source, Document.date_source))


def from_rows(rows: list[tuple]) -> Timeline:
    """(id, date, type, source, date source) rows -> the timeline."""
    months: dict[str, Month] = {}
    undated = 0
    types: Counter = Counter()
    sources: Counter = Counter()
    for _, when, doc_type, source, date_source in rows:
        source = normalise_source(source) or NOT_RECORDED
        types[doc_type] += 1
        sources[source] += 1
        if when is None or not date_source:
            undated += 1
            continue
        key = f"{when.year:04d}-{when.month:02d}"
        month = months.get(key) or months.setdefault(
            key, Month(key, datetime(when.year, when.month, 1)))
        month.documents += 1
        month.by_type[doc_type] += 1
        month.by_source[source] += 1
        month.by_date_source[date_source] += 1
    order = list(DOC_TYPES)
    return Timeline(
        [months[k] for k in sorted(months)], undated, len(rows),
        sorted(types.items(), key=lambda kv: (-kv[1], order.index(kv[0])
                                              if kv[0] in order else len(order), kv[0])),
        sorted(sources.items(), key=lambda kv: (-kv[1], kv[0].lower())))


def csv_rows(timeline: Timeline) -> list[list[str]]:
    """Header, one row a month, then the undated: month, documents, a column per type,
    per date source and per source (names neutralised against spreadsheet formulas)."""
    header = ["Month", "Documents",
              *(f"Type: {DOC_TYPES.get(t, t)}" for t in timeline.types),
              *(f"Date: {label}" for label in SOURCES.values()),
              *(f"Source: {s}" for s in timeline.sources)]
    out = [header]
    for month in timeline.months:
        out.append([month.key, str(month.documents),
                    *(str(month.by_type.get(t, 0)) for t in timeline.types),
                    *(str(month.by_date_source.get(s, 0)) for s in SOURCES),
                    *(str(month.by_source.get(s, 0)) for s in timeline.sources)])
    if timeline.undated:
        out.append(["Not dated", str(timeline.undated)])
    return [[safe_cell(cell) for cell in row] for row in out]

