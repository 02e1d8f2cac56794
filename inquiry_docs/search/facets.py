"""Result filters and facet counts: what the user narrowed to, and how many documents each
value holds within the (access-restricted, filtered) result set.

Filters become a Whoosh query that the backend And-s with the access filter; they are
never written into the user's query text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from whoosh import query as wq

from ..db import MAX_INT

MAX_VALUES = 50  # values per filter parameter; more is not a filter a person chose
MAX_VALUE_LENGTH = 200
YEAR_MIN, YEAR_MAX = 1000, 9999
SORTS = {
    "relevance": "Relevance",
    "date_desc": "Date (newest first)",
    "date_asc": "Date (oldest first)",
    "urn": "URN",
}
FACET_NAMES = ("inquiry", "type", "source", "year", "tag", "rec", "relevance", "privilege",
               "review", "reviewer", "redaction", "restricted")
# Filters held as plain terms in the index (tag ids, links, coding values).
TERM_FILTERS = ("tag", "rec", "relevance", "privilege", "review", "reviewer", "redaction",
                "restricted")
# Facets counted from the index's postings rather than from columns.
POSTING_FACETS = ("tag", "rec", "relevance", "privilege", "review", "reviewer", "redaction",
                  "restricted")


@dataclass(frozen=True)
class Filters:
    """What the results are narrowed to, beyond the user's words and reach."""

    inquiry: tuple[int, ...] = ()
    type: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    rec: tuple[str, ...] = ()
    relevance: tuple[str, ...] = ()
    privilege: tuple[str, ...] = ()
    review: tuple[str, ...] = ()
    reviewer: tuple[str, ...] = ()
    redaction: tuple[str, ...] = ()
    restricted: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    month: str | None = None  # "2012-05": documents dated in that month (the timeline's)

    def __bool__(self) -> bool:
        return any((self.inquiry, self.type, self.source,
                    *(getattr(self, name) for name in TERM_FILTERS),
                    self.year_from is not None, self.year_to is not None, self.month))

    def month_bounds(self) -> tuple[datetime, datetime] | None:
        """The month filter as [first moment, first moment of the next month)."""
        if not self.month:
            return None
        year, month = (int(part) for part in self.month.split("-"))
        start = datetime(year, month, 1)
        return start, (start + timedelta(days=32)).replace(day=1)

    def args(self) -> dict[str, object]:
        """As query-string arguments (lists repeat the parameter), for links and forms."""
        out: dict[str, object] = {}
        for name in ("inquiry", "type", "source", *TERM_FILTERS):
            values = getattr(self, name)
            if values:
                out[name] = list(values)
        if self.year_from is not None:
            out["year_from"] = self.year_from
        if self.year_to is not None:
            out["year_to"] = self.year_to
        if self.month:
            out["month"] = self.month
        return out

    def query(self) -> wq.Query | None:
        """The filters as one Whoosh query (None when nothing is filtered)."""
        parts: list[wq.Query] = []
        if self.inquiry:
            parts.append(wq.Or([wq.Term("inquiry", i) for i in self.inquiry]))
        if self.type:
            parts.append(wq.Or([wq.Term("type", t) for t in self.type]))
        if self.source:
            parts.append(wq.Or([wq.Term("src", s) for s in self.source]))
        for name in TERM_FILTERS:
            values = getattr(self, name)
            if values:
                parts.append(wq.Or([wq.Term(name, v) for v in values]))
        if self.year_from is not None or self.year_to is not None:
            parts.append(wq.NumericRange("year", self.year_from, self.year_to))
        bounds = self.month_bounds()
        if bounds is not None:
            parts.append(wq.DateRange("date", bounds[0], bounds[1] - timedelta(microseconds=1)))
        return wq.And(parts) if parts else None


def normalise_source(source: str | None) -> str:
    """How a source is held in the index for filtering: whitespace collapsed."""
    return " ".join((source or "").split())[:MAX_VALUE_LENGTH]


def _strings(values: Iterable[str], lower: bool = False) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        value = normalise_source(value)
        value = value.lower() if lower else value
        if value and value not in out:
            out.append(value)
    return tuple(out[:MAX_VALUES])


def _year(value: str | None) -> int | None:
    try:
        year = int((value or "").strip())
    except ValueError:
        return None
    return year if YEAR_MIN <= year <= YEAR_MAX else None


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _month(value: str | None) -> str | None:
    found = _MONTH.fullmatch((value or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    return found.group(0) if YEAR_MIN <= int(found.group(1)) <= YEAR_MAX else None


def parse_filters(args: Mapping) -> Filters:
    """Filters from query-string arguments (a MultiDict); anything malformed is dropped."""
    def getlist(name: str) -> list[str]:
        return list(args.getlist(name)) if hasattr(args, "getlist") else \
            list(args.get(name) or [])

    inquiries: list[int] = []
    for value in getlist("inquiry"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number <= MAX_INT and number not in inquiries:
            inquiries.append(number)
    year_from, year_to = _year(args.get("year_from")), _year(args.get("year_to"))
    if year_from is not None and year_to is not None and year_from > year_to:
        year_from, year_to = year_to, year_from
    return Filters(
        inquiry=tuple(inquiries[:MAX_VALUES]),
        type=_strings(getlist("type")),
        source=_strings(getlist("source")),
        **{name: _strings(getlist(name), lower=True) for name in TERM_FILTERS},
        year_from=year_from,
        year_to=year_to,
        month=_month(args.get("month")),
    )


def parse_sort(value: str | None) -> str:
    return value if value in SORTS else "relevance"


@dataclass
class FacetCounts:
    """Documents per value for each facet, over the whole filtered result set."""

    values: dict[str, dict[object, int]] = field(
        default_factory=lambda: {name: {} for name in FACET_NAMES})
    undated: int = 0

    def add(self, name: str, value: object) -> None:
        counts = self.values[name]
        counts[value] = counts.get(value, 0) + 1

    def sorted(self, name: str) -> list[tuple[object, int]]:
        """Values by count (largest first), then by value; years newest first."""
        items = self.values.get(name, {}).items()
        if name == "year":
            return sorted(items, key=lambda kv: -int(kv[0]))  # type: ignore[call-overload]
        return sorted(items, key=lambda kv: (-kv[1], str(kv[0]).lower()))
