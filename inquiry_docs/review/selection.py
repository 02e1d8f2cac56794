"""Which documents a bulk action is about: ticked ones, or every result of a search.

Only documents the user may see are ever returned; a document the user may see but not
change is counted as skipped by the action, never changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from ..access import permissions
from ..db import MAX_INT, db
from ..models import Document, User
from ..search import backend
from ..search.facets import Filters

MAX_SELECTED = 100_000


@dataclass(frozen=True)
class Selection:
    """Ticked document ids, or (when none are ticked) every result of query + filters."""

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"
    ids: tuple[int, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.ids and bool(self.query)


@dataclass
class Outcome:
    """What a bulk action did: changed, already so, and skipped for want of rights."""

    changed: int = 0
    unchanged: int = 0
    skipped: int = 0

    def message(self, verb: str) -> str:
        parts = [f"{self.changed} document{'s' if self.changed != 1 else ''} {verb}"]
        if self.unchanged:
            parts.append(f"{self.unchanged} already so")
        if self.skipped:
            parts.append(f"{self.skipped} skipped because you may not change "
                         f"{'them' if self.skipped != 1 else 'it'}")
        return ", ".join(parts) + "."


def resolve(user: User | None, selection: Selection) -> tuple[list[int], int]:
    """The selected documents the user may see, in order, and how many ids were not seen.

    For a whole result set the search itself applies the user's reach (inside the query),
    so every matching document is included, not only the page on screen.
    """
    if selection.everything:
        _, hits = backend().all_hits(selection.query, permissions.scope_for(user),
                                     filters=selection.filters, sort=selection.sort)
        ordered = list(dict.fromkeys(document_id for document_id, _, _, _ in hits))
        return ordered[:MAX_SELECTED], 0
    wanted = list(dict.fromkeys(selection.ids))[:MAX_SELECTED]
    seen = visible_ids(user, wanted)
    return [i for i in wanted if i in seen], len(wanted) - len(seen)


def visible_ids(user: User | None, ids: Iterable[int], chunk: int = 500) -> set[int]:
    """Which of these documents the user may see, asked in bounded batches."""
    wanted = sorted(set(ids))
    seen: set[int] = set()
    base = permissions.visible_documents(user).with_only_columns(Document.id)
    for start in range(0, len(wanted), chunk):
        seen.update(db.session.execute(base.where(Document.id.in_(wanted[start:start + chunk])))
                    .scalars())
    return seen


def documents(ids: list[int], chunk: int = 500) -> list[Document]:
    """The rows for these ids, in the same order."""
    rows: dict[int, Document] = {}
    for start in range(0, len(ids), chunk):
        rows.update((d.id, d) for d in db.session.execute(
            select(Document).where(Document.id.in_(ids[start:start + chunk]))).scalars())
    return [rows[i] for i in ids if i in rows]


def parse_ids(values: Iterable[str]) -> tuple[int, ...]:
    out: list[int] = []
    for value in values:
        if str(value).isdigit() and 0 < int(value) <= MAX_INT:
            out.append(int(value))
    return tuple(dict.fromkeys(out))[:MAX_SELECTED]
