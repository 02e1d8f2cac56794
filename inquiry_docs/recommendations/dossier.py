"""Dossiers: one recommendation or a whole set as a Word document (python-docx) and the
links as CSV. Only links on documents the user may see are included.

A reader of a redacted release is never shown a quote from a page with redactions (it may
hold words under a box): the caller passes `redacted`, which gives the start of the page's
redacted text for such a reader and None otherwise (review/released.py's `passage`, bound to
the user: this package may not import review)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

from docx import Document as Docx
from sqlalchemy import select

from ..access import permissions
from ..db import db
from ..models import RAG, RESPONSES, STANCES, EvidenceLink, Page, Recommendation, User
from ..search.export import safe_cell
from . import label, links, tracking

EXCERPT = 300
CSV_HEADER = ("Set", "Number", "Recommendation", "Stance", "URN", "Page", "Document",
              "Inquiry", "Quote", "Note", "Linked by", "Linked at")


def citation(link: EvidenceLink) -> str:
    return f"{link.document.urn} p. {link.page}"


Redacted = Callable[[EvidenceLink], "str | None"]
REDACTED_LABEL = "the start of the page's redacted text"  # what is shown instead of a quote


def passage(link: EvidenceLink, redacted: Redacted) -> tuple[str, bool]:
    """The passage shown of a link, and whether it is the page's redacted text: the quote,
    or the start of the page when no passage was chosen; for a reader of a redacted release
    whose page has redactions, the start of the redacted text instead."""
    text = redacted(link)
    if text is not None:
        return text, True
    if link.quote:
        return link.quote, False
    text = db.session.execute(select(Page.text).where(
        Page.document_id == link.document_id, Page.number == link.page)).scalar() or ""
    text = " ".join(text.split())
    return text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""), False


def docx_bytes(user: User | None, recs: list[Recommendation], title: str, *,
               redacted: Redacted) -> bytes:
    doc = Docx()
    doc.core_properties.title = title
    doc.add_heading(title, level=0)
    for rec in recs:
        _recommendation(doc, user, rec, redacted)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _recommendation(doc, user: User | None, rec: Recommendation, redacted: Redacted) -> None:
    doc.add_heading(f"Recommendation {label(rec)}", level=1)
    addressee = rec.addressee or "not recorded"
    doc.add_paragraph(f"{rec.set.name}. {rec.part}. Addressed to: {addressee}.")
    doc.add_paragraph(rec.text or "The official text has not been imported.")
    doc.add_paragraph(f"Government response: {RESPONSES.get(rec.response, rec.response)}. "
                      f"Status: {RAG.get(rec.rag, rec.rag)}.")
    events = tracking.trail(rec)
    if events:
        doc.add_heading("Implementation trail", level=2)
        for event in events:
            cited = tracking.cited(user, event)
            doc.add_paragraph(f"{event.happened_on:%-d %B %Y}: {event.what}"
                              + (f" ({cited.urn})" if cited else ""), style="List Bullet")
    found = links.for_recommendation(user, rec)
    for stance, stance_label in STANCES.items():
        chosen = [link for link in found if link.stance == stance]
        if not chosen:
            continue
        doc.add_heading(f"Evidence: {stance_label.lower()} ({len(chosen)})", level=2)
        for link in chosen:
            text, from_redacted = passage(link, redacted)
            doc.add_paragraph(text, style="Quote")
            doc.add_paragraph(f"{citation(link)}, {link.document.title} "
                              f"({link.document.inquiry.code}). Stance: {stance_label}."
                              + (f" Shown: {REDACTED_LABEL}." if from_redacted else ""))
            if link.note:
                doc.add_paragraph(f"Note: {link.note}")
    if not found:
        doc.add_paragraph("No evidence has been linked yet.")
    notes = tracking.notes(rec)
    if notes:
        doc.add_heading("Notes", level=2)
        for note in notes:
            doc.add_paragraph(note.text, style="List Bullet")


def _quote_cell(link: EvidenceLink, redacted: Redacted) -> str:
    """The quote, or for a reader of a redacted release whose page has redactions, the
    start of the page's redacted text, said as such."""
    if not link.quote:
        return ""
    text = redacted(link)
    return link.quote if text is None else f"{REDACTED_LABEL.capitalize()}: {text}"


def csv_rows(user: User | None, recs: list[Recommendation], *, redacted: Redacted
             ) -> Iterator[list[str]]:
    yield list(CSV_HEADER)
    for rec in recs:
        for link in links.for_recommendation(user, rec):
            if not permissions.can_see(user, link.document):
                continue  # for_recommendation already filters; kept as a second guard
            yield [safe_cell(v) for v in (
                rec.set.code, rec.number, rec.title, link.stance_label, link.document.urn,
                link.page, link.document.title, link.document.inquiry.code,
                _quote_cell(link, redacted),
                link.note, link.created_by.email if link.created_by else "",
                link.created_at.isoformat(timespec="seconds"))]
