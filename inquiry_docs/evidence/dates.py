"""A document's own date: from the file's metadata, else from the text of its first page,
else from a person; with where it came from, so a date never stands without a source.

Metadata often carries a tool's default instead of a date anyone chose: python-docx's own
template says 23 December 2013, converters write the Unix or ZIP epoch (1970-01-01,
1980-01-01) or ReportLab's fixed 2000-01-01. Such dates, dates before 1900 and dates after
the upload are not taken. A date written on the first page is taken as written (a letter
of 1 January 1970 is real); only the range rules apply to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

METADATA, TEXT, MANUAL = "metadata", "text", "manual"
SOURCES = {
    METADATA: "From the file's metadata",
    TEXT: "Found in the text of the first page",
    MANUAL: "Entered by hand",
}
EARLIEST = datetime(1900, 1, 1)
# Metadata dates without a time zone may be local time anywhere: allow a day's slack.
LATE_SLACK = timedelta(days=1)
FIRST_PAGE_CHARS = 4000  # of the first page, where a letter or statement is dated

# Exact instants (UTC) that tools write when nobody set a date.
DEFAULT_INSTANTS = {
    datetime(2013, 12, 23, 23, 15): "python-docx's default template",
    datetime(2000, 1, 1, 0, 0): "ReportLab's fixed date (invariant mode)",
}
# Epochs written as "no date", on whatever day a time zone turns them into.
DEFAULT_DAYS = {
    date(1970, 1, 1): "the Unix epoch (LibreOffice and converters writing time 0)",
    date(1980, 1, 1): "the ZIP/DOS epoch",
    date(1904, 1, 1): "the Mac and spreadsheet 1904 epoch",
}

MONTHS = {name: n for n, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), 1) for name in names}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
PATTERNS = [
    # 27 March 2014, 27th Mar. 2014, 27 March, 2014
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?(?P<m>{_MONTH})\.?,?\s+(?P<y>\d{{4}})\b", re.I),
    # March 27, 2014
    re.compile(rf"\b(?P<m>{_MONTH})\.?\s+{_DAY},?\s+(?P<y>\d{{4}})\b", re.I),
    # 2014-03-27
    re.compile(r"\b(?P<y>\d{4})-(?P<mn>[01]?\d)-(?P<d>[0-3]?\d)\b"),
    # 27/03/2014, 27.03.2014, 27-03-2014: day first, as in the UK
    re.compile(r"\b(?P<d>[0-3]?\d)[/.-](?P<mn>[01]?\d)[/.-](?P<y>\d{4})\b"),
]
_LABELLED = re.compile(r"\b(?:date[d]?|signed(?:\s+on)?)\b\s*[:\-]?\s*", re.I)


@dataclass(frozen=True)
class Chosen:
    value: datetime
    source: str


def tool_default(value: datetime) -> str | None:
    """Why a metadata date is a tool's default rather than a date, or None."""
    utc = _utc(value)
    if utc.replace(second=0, microsecond=0) in DEFAULT_INSTANTS:
        return DEFAULT_INSTANTS[utc.replace(second=0, microsecond=0)]
    for day, why in DEFAULT_DAYS.items():
        if abs((utc.date() - day).days) <= 1:
            return why
    return None


def credible(value: datetime, uploaded_at: datetime | None) -> bool:
    """Not before 1900 and not after the upload (a day's slack for time zones)."""
    utc = _utc(value)
    if utc < EARLIEST:
        return False
    return uploaded_at is None or utc <= uploaded_at + LATE_SLACK


def from_metadata(value: datetime | None, uploaded_at: datetime | None) -> datetime | None:
    """The metadata date as a naive UTC datetime, or None if it is no real date."""
    if value is None or tool_default(value) or not credible(value, uploaded_at):
        return None
    return _utc(value)


def from_text(text: str, uploaded_at: datetime | None) -> datetime | None:
    """The date a first page is dated with: one labelled "Date:"/"Dated"/"Signed" first,
    else the first date written on it; None when there is none that is credible."""
    text = (text or "")[:FIRST_PAGE_CHARS]
    found = [(m.start(), value) for pattern in PATTERNS for m in pattern.finditer(text)
             if (value := _value(m)) is not None and credible(value, uploaded_at)]
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    labels = [m.end() for m in _LABELLED.finditer(text)]
    for start, value in found:
        if any(0 <= start - end <= 3 for end in labels):
            return value
    return found[0][1]


def choose(metadata: datetime | None, first_page: str,
           uploaded_at: datetime | None) -> Chosen | None:
    """The document's date and its source: metadata first, then the first page."""
    value = from_metadata(metadata, uploaded_at)
    if value is not None:
        return Chosen(value, METADATA)
    value = from_text(first_page, uploaded_at)
    if value is not None:
        return Chosen(value, TEXT)
    return None


def settle(document, metadata: datetime | None, first_page: str) -> None:
    """Set a document's date from what its file says (in the caller's transaction). A date
    entered by hand is kept; a date read before is read again (OCR may find one now)."""
    if document.date_source == MANUAL:
        return
    chosen = choose(metadata, first_page, document.uploaded_at or datetime.now(UTC)
                    .replace(tzinfo=None))
    document.document_date = chosen.value if chosen else None
    document.date_source = chosen.source if chosen else None


def source_label(source: str | None) -> str:
    return SOURCES.get(source or "", "")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _value(match: re.Match) -> datetime | None:
    parts = match.groupdict()
    month = MONTHS.get((parts.get("m") or "").lower().rstrip(".")) if parts.get("m") \
        else int(parts["mn"])
    try:
        return datetime(int(parts["y"]), int(month or 0), int(parts["d"]))
    except ValueError:
        return None
