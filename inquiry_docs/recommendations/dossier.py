"""Dossiers: one recommendation or a whole set as a Word document (python-docx) and the
links as CSV. Only links on documents the user may see are included."""

from __future__ import annotations

import io
from collections.abc import Iterator

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


def passage(link: EvidenceLink) -> str:
    """The quoted passage, or the start of the page when no passage was chosen."""
    if link.quote:
        return link.quote
    text = db.session.execute(select(Page.text).where(
        Page.document_id == link.document_id, Page.number == link.page)).scalar() or ""
    text = " ".join(text.split())
    return text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")


def docx_bytes(user: User | None, recs: list[Recommendation], title: str) -> bytes:
    doc = Docx()
    doc.core_properties.title = title
    doc.add_heading(title, level=0)
    for rec in recs:
        _recommendation(doc, user, rec)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _recommendation(doc, user: User | None, rec: Recommendation) -> None:
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
            doc.add_paragraph(passage(link), style="Quote")
            doc.add_paragraph(f"{citation(link)}, {link.document.title} "
                              f"({link.document.inquiry.code}). Stance: {stance_label}.")
            if link.note:
                doc.add_paragraph(f"Note: {link.note}")
    if not found:
        doc.add_paragraph("No evidence has been linked yet.")
    notes = tracking.notes(rec)
    if notes:
        doc.add_heading("Notes", level=2)
        for note in notes:
            doc.add_paragraph(note.text, style="List Bullet")


def csv_rows(user: User | None, recs: list[Recommendation]) -> Iterator[list[str]]:
    yield list(CSV_HEADER)
    for rec in recs:
        for link in links.for_recommendation(user, rec):
            if not permissions.can_see(user, link.document):
                continue  # for_recommendation already filters; kept as a second guard
            yield [safe_cell(v) for v in (
                rec.set.code, rec.number, rec.title, link.stance_label, link.document.urn,
                link.page, link.document.title, link.document.inquiry.code, link.quote,
                link.note, link.created_by.email if link.created_by else "",
                link.created_at.isoformat(timespec="seconds"))]
