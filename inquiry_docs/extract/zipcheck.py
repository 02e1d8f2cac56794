"""Checks on a ZIP container (a Word file) before any XML parser sees it.

A parser reads an XML part whole, so a small file can demand gigabytes. The central
directory's declared sizes are trustworthy limits: zipfile stops reading an entry at its
declared size (and fails its CRC check), so an entry cannot inflate past what it declares.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

from .reasons import technical
from .types import ExtractionError

MB = 2**20
_SMALL = MB  # below this, a high ratio is harmless (short, repetitive XML)
_CHUNK = MB
# Any DOCTYPE (and so any entity declaration), in the encodings an XML part may use.
_DOCTYPE_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_DRIVE = re.compile(r"^[A-Za-z]:")

_CONTENT_TYPES = "[Content_Types].xml"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"

DOCTYPE = "The document contains a DOCTYPE / external entity, which is not allowed."
BROKEN_ZIP = "The Word document is damaged (its ZIP structure is broken)."
BROKEN_PART = "The Word document is damaged (a part cannot be decompressed)."


@dataclass
class ZipLimits:
    max_uncompressed_bytes: int = 200 * MB
    max_ratio: int = 100
    max_entries: int = 10000


def _bomb(detail: str) -> ExtractionError:
    return ExtractionError(f"The Word document {detail}; it may be a decompression bomb.")


def _unsafe_name(name: str) -> bool:
    normal = name.replace("\\", "/")
    return normal.startswith("/") or bool(_DRIVE.match(normal)) or ".." in normal.split("/")


def _check_entries(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Count, names, encryption and the uncompressed total, over every part."""
    if len(infos) > limits.max_entries:
        raise _bomb(f"has {len(infos):,} parts (the limit is {limits.max_entries:,})")
    total = 0
    for info in infos:
        if _unsafe_name(info.filename):
            raise ExtractionError("The Word document contains a part with an unsafe path.")
        if info.flag_bits & 0x1:
            raise ExtractionError(
                "The Word document contains encrypted parts and cannot be read.")
        total += info.file_size
    if total > limits.max_uncompressed_bytes:
        raise _bomb(
            f"expands to {total / MB:,.0f} MB (the limit is "
            f"{limits.max_uncompressed_bytes / MB:,.0f} MB)"
        )


def _check_ratios(xml: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Ratios of the parts a parser reads. An embedded PDF, picture or spreadsheet is
    never parsed, and one often compresses far better than text: it counts only towards
    the total, so a report with an embedded blank page is not called a bomb."""
    total = compressed = 0
    for info in xml:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _SMALL and ratio > limits.max_ratio:
            raise _bomb(
                f"has a part that expands {ratio:,.0f} times (the limit is {limits.max_ratio})"
            )
        total += info.file_size
        compressed += info.compress_size
    if total > _SMALL and total / max(compressed, 1) > limits.max_ratio:
        raise _bomb(f"expands {total / max(compressed, 1):,.0f} times overall")


def _has_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    # Streamed with an overlap, so a marker split across chunks is still found.
    tail = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            if any(marker in window for marker in _DOCTYPE_MARKERS):
                return True
            tail = window[-32:]
    return False


def _is_xml_type(content_type: str) -> bool:
    # SVG images are XML too, but no parser of ours reads them (and they often have DOCTYPEs).
    return "xml" in content_type.lower() and "svg" not in content_type.lower()


def _xml_parts(zf: zipfile.ZipFile, names: set[str]) -> set[str]:
    """Parts an XML parser may read: by name, or declared XML in [Content_Types].xml."""
    xml = {n for n in names if n.lower().endswith((".xml", ".rels"))}
    if _CONTENT_TYPES not in names:
        return xml
    if _has_doctype(zf, zf.getinfo(_CONTENT_TYPES)):
        raise ExtractionError(DOCTYPE)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(zf.read(_CONTENT_TYPES), parser)
    except etree.XMLSyntaxError:
        return xml  # the reader will find the package damaged
    xml_exts = {
        d.get("Extension", "").lower()
        for d in root.iter(f"{_CT_NS}Default")
        if _is_xml_type(d.get("ContentType", ""))
    }
    xml |= {n for n in names if n.rsplit(".", 1)[-1].lower() in xml_exts}
    for override in root.iter(f"{_CT_NS}Override"):
        part = override.get("PartName", "").lstrip("/")
        if part in names and _is_xml_type(override.get("ContentType", "")):
            xml.add(part)
    return xml


def check_zip(path: str, limits: ZipLimits | None = None) -> None:
    """Raise ExtractionError unless the archive is safe to hand to the XML parser."""
    limits = limits or ZipLimits()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_entries(infos, limits)
            names = {info.filename for info in infos if not info.is_dir()}
            xml = sorted(_xml_parts(zf, names))
            _check_ratios([zf.getinfo(name) for name in xml], limits)
            for name in xml:
                if _has_doctype(zf, zf.getinfo(name)):
                    raise ExtractionError(DOCTYPE)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ExtractionError(BROKEN_ZIP, detail=technical(exc)) from exc
    except (zlib.error, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
        raise ExtractionError(BROKEN_PART, detail=technical(exc)) from exc
