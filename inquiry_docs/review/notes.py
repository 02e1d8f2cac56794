"""Notes on a page of a document: visible to whoever may see the document, editable only
by their author, with every earlier wording kept."""

from __future__ import annotations

from sqlalchemy import or_, select

from ..access import audit, permissions
from ..db import db
from ..evidence import citations
from ..models import Document, Note, NoteRevision, User, utcnow

MAX_BODY = 5000
MAX_QUOTE = 1000
PER_PAGE = 50


def validate(document: Document, page: str, body: str, quote: str) -> dict[str, str]:
    errors = {}
    if not page.strip().isdigit() or not 1 <= int(page) <= max(document.page_count, 1):
        errors["page"] = f"Enter a page number between 1 and {max(document.page_count, 1)}"
    if not body.strip() or len(body) > MAX_BODY:
        errors["body"] = f"Enter a note of up to {MAX_BODY:,} characters"
    if len(quote) > MAX_QUOTE:
        errors["quote"] = f"Quote up to {MAX_QUOTE:,} characters"
    return errors


def add(user: User, document: Document, page: int, body: str, quote: str = "") -> Note:
    note = Note(document_id=document.id, page=page, body=body.strip(), quote=quote.strip(),
                author_id=user.id)
    db.session.add(note)
    db.session.flush()
    audit.record("note_added", user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, note=note.id, page=page,
                 changes={"note": [None, note.body]})
    citations.record("note", note.id, f"{note.body}\n{note.quote}", document_id=document.id,
                     page=page)
    db.session.commit()
    return note


def edit(user: User, note: Note, body: str, quote: str) -> bool:
    """The author's new wording; the old one is kept as a revision."""
    if note.author_id != user.id:
        raise PermissionError("Only the author may edit a note")
    body, quote = body.strip(), quote.strip()
    if (body, quote) == (note.body, note.quote):
        return False
    db.session.add(NoteRevision(note_id=note.id, body=note.body, quote=note.quote,
                                written_at=note.updated_at))
    document = note.document
    audit.record("note_edited", user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, note=note.id,
                 page=note.page, changes={"note": [note.body, body]})
    note.body, note.quote, note.updated_at = body, quote, utcnow()
    citations.record("note", note.id, f"{body}\n{quote}", document_id=document.id,
                     page=note.page)
    db.session.commit()
    return True


def of_document(document_id: int) -> list[Note]:
    return list(db.session.execute(
        select(Note).where(Note.document_id == document_id).order_by(Note.page, Note.id)
    ).scalars())


def get_visible(user: User | None, note_id: int) -> Note | None:
    """The note when the user may see its document; None either way otherwise."""
    note = db.session.get(Note, note_id)
    if note is None or not permissions.can_see(user, note.document):
        return None
    return note


def search(user: User | None, words: str, page: int = 1) -> tuple[int, list[Note]]:
    """Notes whose text or quote holds every word, on documents the user may see."""
    visible = permissions.visible_documents(user).with_only_columns(Document.id)
    query = select(Note).where(Note.document_id.in_(visible))
    for word in words.split()[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Note.body.ilike(pattern, escape="\\"),
                                Note.quote.ilike(pattern, escape="\\")))
    total = db.session.execute(select(db.func.count()).select_from(query.subquery())).scalar()
    rows = db.session.execute(query.order_by(Note.updated_at.desc(), Note.id.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).scalars().all()
    return total or 0, list(rows)
