"""Tags: named, coloured labels per inquiry, put on one document or a whole selection."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from ..access import audit, permissions
from ..db import db
from ..evidence.metadata import commit_labels
from ..models import TAG_COLOURS, Document, DocumentTag, Tag, User
from .selection import Outcome

MAX_NAME = 60


def validate(name: str, colour: str, description: str, inquiry_id: int | None,
             exclude: int | None = None) -> dict[str, str]:
    errors = {}
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        errors["name"] = f"Enter a tag name of up to {MAX_NAME} characters"
    elif inquiry_id is not None and find(inquiry_id, name, exclude) is not None:
        errors["name"] = "This inquiry already has a tag with that name"
    if colour not in TAG_COLOURS:
        errors["colour"] = "Choose a colour"
    if len(description) > 1000:
        errors["description"] = "Enter a description of up to 1,000 characters"
    return errors


def find(inquiry_id: int, name: str, exclude: int | None = None) -> Tag | None:
    """The inquiry's tag of this name, whatever its case."""
    query = select(Tag).where(Tag.inquiry_id == inquiry_id,
                              func.lower(Tag.name) == " ".join(name.split()).lower())
    if exclude is not None:
        query = query.where(Tag.id != exclude)
    return db.session.execute(query).scalars().first()


def create(user: User, inquiry_id: int, name: str, colour: str = "grey",
           description: str = "") -> Tag:
    tag = Tag(inquiry_id=inquiry_id, name=" ".join(name.split()), colour=colour,
              description=description.strip())
    db.session.add(tag)
    db.session.flush()
    audit.record("tag_created", user=user, object_type="tag", object_id=tag.id,
                 inquiry_id=inquiry_id, name=tag.name, colour=colour)
    db.session.commit()
    return tag


def find_or_create(user: User, inquiry_id: int, name: str, colour: str = "grey"
                   ) -> tuple[Tag | None, str]:
    """The inquiry's tag of this name, created now when it has none, for tagging where the
    user is (a document, a search result); or None and what is wrong with the name. The
    same rule as the tags page: only someone who may tag in the inquiry creates its tags."""
    if not permissions.can(user, "tag", inquiry_id):
        raise PermissionError("may not create tags in this inquiry")
    name = " ".join(name.split())
    if not name:
        return None, "Enter a name for the new tag"
    if len(name) > MAX_NAME:
        return None, f"The tag name must be {MAX_NAME} characters or fewer"
    if colour not in TAG_COLOURS:
        return None, "Choose a colour for the new tag"
    existing = find(inquiry_id, name)
    if existing is not None:
        return existing, ""
    return create(user, inquiry_id, name, colour), ""


def update(user: User, tag: Tag, name: str, colour: str, description: str) -> dict:
    """Rename or recolour; the index holds tag ids, so nothing needs re-indexing."""
    diff = {}
    for field, after in (("name", " ".join(name.split())), ("colour", colour),
                         ("description", description.strip())):
        if getattr(tag, field) != after:
            diff[field] = [getattr(tag, field), after]
            setattr(tag, field, after)
    if diff:
        audit.record("tag_changed", user=user, object_type="tag", object_id=tag.id,
                     inquiry_id=tag.inquiry_id, changes=diff)
    db.session.commit()
    return diff


def merge(user: User, source: Tag, target: Tag) -> int:
    """Move every document of `source` to `target` and delete `source`; how many of the
    moved documents this user may see (the others are moved too, but not counted aloud)."""
    if source.inquiry_id != target.inquiry_id or source.id == target.id:
        raise ValueError("Tags can only be merged into another tag of the same inquiry")
    ids = set(db.session.execute(select(DocumentTag.document_id)
                                 .where(DocumentTag.tag_id == source.id)).scalars())
    already = set(db.session.execute(select(DocumentTag.document_id)
                                     .where(DocumentTag.tag_id == target.id)).scalars())
    docs = db.session.execute(select(Document).where(Document.id.in_(ids))).scalars().all()
    for document in docs:
        if document.id not in already:
            db.session.add(DocumentTag(document_id=document.id, tag_id=target.id))
        _record(user, "tag_removed", document, source.name)
        if document.id not in already:
            _record(user, "tag_added", document, target.name)
    db.session.execute(delete(DocumentTag).where(DocumentTag.tag_id == source.id))
    audit.record("tags_merged", user=user, object_type="tag", object_id=target.id,
                 inquiry_id=target.inquiry_id, merged=source.name, into=target.name,
                 documents=len(docs))
    db.session.delete(source)
    commit_labels(*docs)
    return sum(1 for d in docs if permissions.can_see(user, d))


def _record(user: User, action: str, document: Document, name: str) -> None:
    before, after = (None, name) if action == "tag_added" else (name, None)
    audit.record(action, user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn,
                 changes={"tag": [before, after]})


def may_tag(user: User | None, tag: Tag, document: Document) -> bool:
    """A tag goes only on documents of its own inquiry, by someone who may tag there."""
    return (document.inquiry_id == tag.inquiry_id and permissions.can_see(user, document)
            and permissions.can(user, "tag", document.inquiry_id))


def apply(user: User, tag: Tag, docs: list[Document], add: bool = True,
          skipped: int = 0, dry_run: bool = False) -> Outcome:
    """Add or remove the tag on every document the user may tag; the rest are skipped
    and left exactly as they were. With dry_run, only count (for the confirm page)."""
    outcome = Outcome(skipped=skipped)
    allowed = [d for d in docs if may_tag(user, tag, d)]
    outcome.skipped += len(docs) - len(allowed)
    having = set(db.session.execute(
        select(DocumentTag.document_id).where(DocumentTag.tag_id == tag.id)).scalars())
    changed = []
    for document in allowed:
        if (document.id in having) == add:
            outcome.unchanged += 1
            continue
        if dry_run:
            changed.append(document)
            continue
        if add:
            db.session.add(DocumentTag(document_id=document.id, tag_id=tag.id))
        else:
            db.session.execute(delete(DocumentTag).where(
                DocumentTag.tag_id == tag.id, DocumentTag.document_id == document.id))
        _record(user, "tag_added" if add else "tag_removed", document, tag.name)
        changed.append(document)
    outcome.changed = len(changed)
    if not dry_run:
        commit_labels(*changed)
    return outcome


def of_document(document_id: int) -> list[Tag]:
    return list(db.session.execute(
        select(Tag).join(DocumentTag, DocumentTag.tag_id == Tag.id)
        .where(DocumentTag.document_id == document_id).order_by(func.lower(Tag.name))
    ).scalars())


def of_documents(ids: list[int]) -> dict[int, list[Tag]]:
    """Tags of several documents at once, for a page of results."""
    out: dict[int, list[Tag]] = {i: [] for i in ids}
    for document_id, tag in db.session.execute(
            select(DocumentTag.document_id, Tag).join(Tag, DocumentTag.tag_id == Tag.id)
            .where(DocumentTag.document_id.in_(ids)).order_by(func.lower(Tag.name))):
        out[document_id].append(tag)
    return out


def for_inquiries(inquiry_ids: list[int]) -> list[Tag]:
    return list(db.session.execute(
        select(Tag).where(Tag.inquiry_id.in_(inquiry_ids))
        .order_by(Tag.inquiry_id, func.lower(Tag.name))).scalars())


def counts(user: User | None, tag_ids: list[int]) -> dict[int, int]:
    """Documents per tag, counting only documents this user may see."""
    visible = permissions.visible_documents(user).with_only_columns(Document.id).subquery()
    rows = db.session.execute(
        select(DocumentTag.tag_id, func.count()).join(visible,
                                                      visible.c.id == DocumentTag.document_id)
        .where(DocumentTag.tag_id.in_(tag_ids)).group_by(DocumentTag.tag_id))
    return {row[0]: row[1] for row in rows}


def get_visible(user: User | None, tag_id: int) -> Tag | None:
    """The tag when the user belongs to its inquiry; None either way otherwise."""
    tag = db.session.get(Tag, tag_id)
    if tag is None or tag.inquiry_id not in permissions.scope_for(user).grants:
        return None
    return tag
