"""An Office Open XML package (a Word file) read part by part, without python-docx.

Only the XML parts that hold text are parsed, each when it is needed; images, embedded
objects and macros are never read. A part that is missing or damaged is noted and left
out, unless it is the main document. The ZIP has passed extract/zipcheck.py first.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from datetime import UTC, datetime

from lxml import etree

from .reasons import technical

# ISO 29500 Strict files name the same elements in other namespaces: read them as
# Transitional by rewriting the two namespaces the readers use.
_STRICT = (
    (b"http://purl.oclc.org/ooxml/wordprocessingml/main",
     b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"),
)
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CORE = {"dc": "http://purl.org/dc/elements/1.1/", "dcterms": "http://purl.org/dc/terms/",
         "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"}


def _parser() -> etree.XMLParser:
    # No entities, no DTD, no network; DOCTYPEs were refused by the zip check already.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           remove_comments=True, remove_pis=True)


class PartMissing(Exception):
    """The main document part is missing or cannot be parsed."""


class Package:
    """The parts of an open ZIP; `notes` collects what was left out, for the detail."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.names = {info.filename for info in zf.infolist()}
        self.notes: list[str] = []

    def xml(self, name: str) -> etree._Element | None:
        """The parsed part, or None (noted) when it is missing or damaged."""
        if name not in self.names:
            self.notes.append(f"missing part {name}")
            return None
        try:
            data = self.zf.read(name)
            for strict, transitional in _STRICT:
                data = data.replace(strict, transitional)
            return etree.fromstring(data, _parser())
        except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, ValueError,
                OSError) as exc:
            self.notes.append(f"part {name} left out: {technical(exc)}")
            return None

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """{id: (type, target part name)} of `part` ("" for the package), internal ones."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
        if rels_name not in self.names:
            return {}
        root = self.xml(rels_name)
        out: dict[str, tuple[str, str]] = {}
        for rel in root.iter(f"{_RELS_NS}Relationship") if root is not None else ():
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External" or not target:
                continue
            if target.startswith("/"):
                name = target.lstrip("/")
            else:
                name = posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id", "")] = (rel.get("Type", ""), name)
        return out

    def by_type(self, part: str, suffix: str) -> list[str]:
        """Targets of `part`'s relationships whose type ends in `/suffix`, in file order."""
        return [name for kind, name in self.relationships(part).values()
                if kind.endswith(f"/{suffix}")]

    def main_part(self) -> str:
        found = self.by_type("", "officeDocument")
        for name in [*found, "word/document.xml"]:
            if name in self.names:
                return name
        raise PartMissing("no main document part")


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None  # dates in the wild are often malformed
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def core_properties(package: Package) -> tuple[str | None, str | None, datetime | None]:
    """Title, author and creation date from docProps/core.xml, where present."""
    names = package.by_type("", "core-properties") or ["docProps/core.xml"]
    if names[0] not in package.names:
        return None, None, None
    root = package.xml(names[0])
    if root is None:
        return None, None, None

    def text(path: str) -> str | None:
        element = root.find(path, _CORE)
        return element.text if element is not None else None

    return text("dc:title"), text("dc:creator"), _date(text("dcterms:created"))
