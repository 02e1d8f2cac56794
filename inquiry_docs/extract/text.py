"""Plain text (.txt, .md, .csv): decode, then cut into pages of about 3,000 characters."""

from __future__ import annotations

import codecs
from collections.abc import Iterable

from .types import Extracted, clean_text

PAGE_CHARS = 3000

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> str:
    """UTF-8 (BOM aware), else Windows-1252, else Latin-1 (which never fails)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _split_long(unit: str, size: int) -> list[str]:
    """Cut a unit longer than `size`, preferring a space near the limit."""
    parts = []
    while len(unit) > size:
        cut = unit.rfind(" ", size // 2, size)
        cut = cut + 1 if cut > 0 else size
        parts.append(unit[:cut])
        unit = unit[cut:]
    parts.append(unit)
    return parts


def pack(units: Iterable[str], size: int = PAGE_CHARS) -> list[str]:
    """Join units (lines or paragraphs, separators included) into chunks of at most
    about `size` characters, cutting only between units unless one is too long."""
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for unit in units:
        for piece in _split_long(unit, size) if len(unit) > size else (unit,):
            if current and length + len(piece) > size:
                chunks.append("".join(current))
                current, length = [], 0
            current.append(piece)
            length += len(piece)
    if current:
        chunks.append("".join(current))
    return chunks


def paginate(text: str, size: int = PAGE_CHARS) -> list[tuple[int, str]]:
    """Numbered pages of about `size` characters, cut at line boundaries."""
    chunks = pack(text.splitlines(keepends=True), size) or [""]
    return [(number, clean_text(chunk.rstrip())) for number, chunk in enumerate(chunks, 1)]


def extract(path: str) -> Extracted:
    with open(path, "rb") as fh:
        text = decode(fh.read()).replace("\x00", "")
    return Extracted(pages=paginate(text), page_label="page")
