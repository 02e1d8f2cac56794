"""Reasons in plain words: what a user reads never names an exception or quotes a library.

A reader that fails on something unforeseen raises whatever its library raises; the entry
points that run in the sandbox (`extract_inline`, OCR, page rendering) turn that into a
sentence for users, and keep the exception's name and message as the technical detail
(`ExtractionError.detail`), which goes to the log and the admin's status page.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from .types import ExtractionError

F = TypeVar("F", bound=Callable)

_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"]+){2,}[\\/]?")
_DETAIL_CHARS = 500

UNREADABLE = "The file could not be read: it is damaged, or uses a feature that cannot be read."
PAGE_UNREADABLE = "The page is damaged and could not be read."
RENDER_FAILED = "The page could not be shown as an image: it is damaged."


def unreadable(what: str) -> str:
    """The reason for an unforeseen failure in reading a `what` (e.g. "PDF", "email")."""
    return f"The {what} could not be read: it is damaged, or uses a feature that cannot be read."


def technical(exc: BaseException) -> str:
    """"KeyError: 'word/media/image1.png'" (and its cause), without file paths."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 3:
        seen.add(id(current))
        message = " ".join(_PATHLIKE.sub("<path>", str(current)).split())
        name = type(current).__name__
        parts.append(f"{name}: {message}" if message else name)
        current = current.__cause__ or current.__context__
    detail = "; caused by ".join(parts)
    return detail if len(detail) <= _DETAIL_CHARS else detail[: _DETAIL_CHARS - 3] + "..."


def joined(*details: str) -> str:
    """Several details as one, each once, in order."""
    out: list[str] = []
    for detail in details:
        if detail and detail not in out:
            out.append(detail)
    return " | ".join(out)


def plain_failures(reason: str) -> Callable[[F], F]:
    """Turn any exception but ExtractionError and MemoryError (which the sandbox reports
    as the memory limit) into ExtractionError(reason), the exception kept as detail."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except (ExtractionError, MemoryError):
                raise
            except Exception as exc:
                raise ExtractionError(reason, detail=technical(exc)) from exc

        return wrapper  # type: ignore[return-value]

    return decorate
