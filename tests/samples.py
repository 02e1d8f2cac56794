"""Builders for test documents, made on the fly so no binary fixtures live in the repo.

Every builder returns the file's bytes; `write(tmp_path, name, data)` puts them on disk.
The hostile samples (bomb PDF, zip-bomb DOCX, XXE DOCX) are real, well-formed files:
the defences must catch them by what they are, not by a parse error.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import docx
from docx.enum.text import WD_BREAK
from fpdf import FPDF

PAGE_BREAK = object()  # marker in make_docx blocks: an explicit page break here

Rows = Sequence[Sequence[str]]
Block = str | Rows | object

_CACHE_DIR = Path(tempfile.gettempdir()) / "inquiry-docs-test-samples"


def _cached(name: str, build: Callable[[], bytes]) -> bytes:
    """Build once per machine; written atomically so parallel test runs never see half."""
    path = _CACHE_DIR / name
    if path.exists():
        return path.read_bytes()
    data = build()
    _CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return data


def write(directory: Path | str, name: str, data: bytes) -> Path:
    """Write `data` to `directory/name` and return the path."""
    path = Path(directory) / name
    path.write_bytes(data)
    return path


# --- PDF ---------------------------------------------------------------------------------


def _latin1(text: str) -> str:
    # The core fonts only cover latin-1; anything else becomes "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def _new_pdf(title: str | None, author: str | None, created: datetime | None) -> FPDF:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    if title is not None:
        pdf.set_title(_latin1(title))
    if author is not None:
        pdf.set_author(_latin1(author))
    if created is not None:
        pdf.set_creation_date(created)
    return pdf


def make_pdf(
    pages: Sequence[str],
    title: str | None = None,
    author: str | None = None,
    created: datetime | None = None,
    *,
    password: str | None = None,
) -> bytes:
    """A PDF with one page per string (long strings wrap; they stay on their page if short)."""
    pdf = _new_pdf(title, author, created)
    if password is not None:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 5, _latin1(text))
    return bytes(pdf.output())


def make_encrypted_pdf(password: str = "s3cret") -> bytes:
    """A PDF that needs a real user password to open."""
    return make_pdf(["Confidential witness statement."], password=password)


def make_truncated_pdf() -> bytes:
    """A PDF cut off half way, as an interrupted upload would leave it."""
    data = make_pdf([f"Page {n} of a statement that was cut short." for n in range(1, 6)])
    return data[: len(data) // 2]


def make_image_only_pdf() -> bytes:
    """A page with a drawing and no text at all, like a scan awaiting OCR."""
    pdf = _new_pdf(None, None, None)
    pdf.add_page()
    pdf.set_fill_color(90, 90, 90)
    pdf.rect(20, 20, 120, 80, style="F")
    return bytes(pdf.output())


def _deflate_bomb(prefix: bytes, size: int, *, raw: bool) -> tuple[bytes, int, int]:
    """Deflate data of `size` spaces after `prefix`, in about size/1000 bytes, fast.

    After a full flush the compressor's history is empty, so the same 16 MB chunk
    compresses to the same bytes every time: compress it once and repeat it.
    Returns (compressed, crc32 and length of the uncompressed data).
    """
    chunk = b" " * (16 * 2**20)
    count = max(1, size // len(chunk))
    wbits = -15 if raw else 15
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, adler = zlib.crc32(prefix), zlib.adler32(prefix)
    for _ in range(count):
        if raw:
            crc = zlib.crc32(chunk, crc)
        else:
            adler = zlib.adler32(chunk, adler)
    final_empty_block = b"\x03\x00"
    trailer = b"" if raw else struct.pack(">I", adler)
    length = len(prefix) + count * len(chunk)
    return head + body * count + final_empty_block + trailer, crc, length


def _pdf_from_objects(objects: Sequence[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def make_bomb_pdf(size: int = 2**30 + 2**24) -> bytes:
    """A valid one-page PDF whose content stream inflates to over 1 GB (~1 MB on disk).

    Cached under the temp dir: building it costs about a second.
    """

    def build() -> bytes:
        stream, _, _ = _deflate_bomb(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n", size, raw=False)
        return _pdf_from_objects(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
                b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
                % (len(stream), stream),
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            ]
        )

    return _cached(f"bomb-{size}.pdf", build)


def make_xobject_bomb_pdf(size: int = 2**30 + 2**24) -> bytes:
    """Like make_bomb_pdf, but the bomb is a form XObject drawn by an innocent page.

    pypdf swallows the limit error for XObjects and returns the rest of the text.
    """

    def build() -> bytes:
        stream, _, _ = _deflate_bomb(b"BT /F1 12 Tf 72 720 Td (Bomb) Tj ET\n", size, raw=False)
        page = b"BT /F1 12 Tf 72 700 Td (Visible) Tj ET /X1 Do"
        return _pdf_from_objects(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources"
                b" << /Font << /F1 5 0 R >> /XObject << /X1 4 0 R >> >> /Contents 6 0 R >>",
                b"<< /Length %d /Filter /FlateDecode /Type /XObject /Subtype /Form"
                b" /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> >>"
                b"\nstream\n%s\nendstream" % (len(stream), stream),
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                b"<< /Length %d >>\nstream\n%s\nendstream" % (len(page), page),
            ]
        )

    return _cached(f"xobject-bomb-{size}.pdf", build)


# --- DOCX --------------------------------------------------------------------------------


def _add_table(document: docx.document.Document, rows: Rows) -> None:
    width = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


def _add_block(document: docx.document.Document, block: Block) -> None:
    if block is PAGE_BREAK:
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    elif isinstance(block, str):
        document.add_paragraph(block)
    else:
        _add_table(document, block)  # type: ignore[arg-type]


def make_docx(
    blocks: Sequence[Block] = ("Statement of the witness.",),
    *,
    page_breaks: bool = False,
    table: Rows | None = None,
    header: str | None = None,
    footer: str | None = None,
    title: str | None = None,
    author: str | None = None,
    created: datetime | None = None,
) -> bytes:
    """A DOCX built with python-docx.

    `blocks`: a str is a paragraph, a list of rows is a table, PAGE_BREAK is a hard page
    break. `page_breaks=True` puts a hard page break between consecutive blocks.
    `table` is appended after the blocks. `header`/`footer` go in the first section.
    """
    document = docx.Document()
    for index, block in enumerate(blocks):
        if page_breaks and index:
            _add_block(document, PAGE_BREAK)
        _add_block(document, block)
    if table is not None:
        _add_table(document, table)
    section = document.sections[0]
    if header is not None:
        section.header.paragraphs[0].text = header
    if footer is not None:
        section.footer.paragraphs[0].text = footer
    props = document.core_properties
    props.title = title or ""
    props.author = author or ""
    if created is not None:
        props.created = created
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rewrite_zip(data: bytes, replace: dict[str, bytes], extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = replace.get(info.filename, src.read(info.filename))
            dst.writestr(info.filename, body, zipfile.ZIP_DEFLATED)
        for name, body in extra.items():
            dst.writestr(name, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def make_xxe_docx(target: str = "file:///etc/passwd") -> bytes:
    """A DOCX whose document.xml declares an external entity and uses it in the text."""
    base = make_docx(["Before &xxe; after"])
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    head, _, rest = xml.partition("?>")
    doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target}">]>'
    # python-docx escaped the "&" when saving; unescape so the entity is really referenced.
    rest = rest.replace("&amp;xxe;", "&xxe;")
    evil = (head + "?>" + doctype + rest).encode("utf-8")
    return _rewrite_zip(base, {"word/document.xml": evil}, {})


def make_docx_xml(body: str) -> bytes:
    """A DOCX whose body is the given WordprocessingML (w: prefix, no <w:body> wrapper),
    for structures python-docx can't write, such as rendered page breaks."""
    base = make_docx(["placeholder"])
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    start = xml.index("<w:body>") + len("<w:body>")
    end = xml.index("<w:sectPr")
    return _rewrite_zip(base, {"word/document.xml": (xml[:start] + body + xml[end:]).encode()}, {})


_ZIP_COMMON = "HHHIIIHH"  # the fields local and central zip headers share


def _zip_with_raw_entry(base: bytes, name: str, raw: bytes, crc: int, size: int) -> bytes:
    """Append an already-deflated entry to a zip (zipfile can't write pre-compressed data)."""
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        entries = [(i, zf.read(i.filename)) for i in zf.infolist()]
    result = io.BytesIO()
    central = io.BytesIO()
    items = [(i.filename, zlib.crc32(b), len(b), _raw_deflate(b)) for i, b in entries]
    items.append((name, crc, size, raw))
    for filename, item_crc, item_size, item_raw in items:
        encoded = filename.encode("utf-8")
        offset = result.tell()
        # method (deflate), time, date, crc, sizes, name length, extra length
        common = (8, 0, 0x21, item_crc, len(item_raw), item_size, len(encoded), 0)
        result.write(struct.pack("<IHH" + _ZIP_COMMON, 0x04034B50, 20, 0, *common))
        result.write(encoded + item_raw)
        central.write(
            struct.pack(
                "<IHHH" + _ZIP_COMMON + "HHHII", 0x02014B50, 20, 20, 0, *common, 0, 0, 0, 0, offset
            )
        )
        central.write(encoded)
    cd_offset = result.tell()
    cd = central.getvalue()
    result.write(cd)
    result.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(items), len(items), len(cd), cd_offset, 0)
    )
    return result.getvalue()


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def make_zip_bomb_docx(size: int = 2**30 + 2**24) -> bytes:
    """A valid DOCX with an extra entry that really inflates to over 1 GB (~1 MB on disk)."""

    def build() -> bytes:
        raw, crc, length = _deflate_bomb(b"", size, raw=True)
        return _zip_with_raw_entry(make_docx(), "word/media/padding.bin", raw, crc, length)

    return _cached(f"zip-bomb-{size}.docx", build)


def make_ratio_bomb_docx(megabytes: int = 20) -> bytes:
    """A small DOCX with one XML part (which a parser reads) compressed about 1000:1,
    under any size limit."""
    padding = b"<x/>" * (megabytes * 2**18)
    return _rewrite_zip(make_docx(), {}, {"customXml/item9.xml": b"<r>" + padding + b"</r>"})


def make_docx_with_entries(names: Sequence[str]) -> bytes:
    """A DOCX with extra (tiny) entries, for entry-count and path checks."""
    return _rewrite_zip(make_docx(), {}, dict.fromkeys(names, b"x"))


# --- email -------------------------------------------------------------------------------


def make_eml(
    subject: str = "Disclosure bundle",
    body: str = "Please find the documents attached.",
    attachments: Sequence[tuple[str, bytes]] = (),
    *,
    sender: str = "Solicitor <solicitor@example.org>",
    to: str = "Inquiry Secretariat <secretariat@example.org>",
    cc: str | None = None,
    date: datetime | None = None,
    html: str | None = None,
) -> bytes:
    """An RFC 822 message; `html` replaces the plain body with an HTML-only body."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime(2021, 3, 4, 9, 30).astimezone())
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


# --- other content -----------------------------------------------------------------------


def make_elf() -> bytes:
    """The start of a 64-bit Linux executable."""
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 0x3E, 1)
    return header + bytes(4096 - len(header))


def make_windows_exe() -> bytes:
    """A minimal MZ/PE header, as a renamed .exe would start."""
    dos = bytearray(128)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x80)
    pe = b"PE\x00\x00" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x102)
    return bytes(dos) + pe + bytes(4096)


def make_random_bytes(size: int = 4096, seed: int = 7) -> bytes:
    """Incompressible bytes with no recognisable signature."""
    import random

    return random.Random(seed).randbytes(size)


# --- hostile sandbox targets (module-level so a child process can import them) ----------


def hog_memory() -> None:
    """Allocate until the address-space limit stops it."""
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))


def spin_cpu() -> None:
    """Loop forever on the CPU."""
    n = 0
    while True:
        n += 1


def sleep_long(seconds: float = 600) -> None:
    """Block without using CPU (a hung read)."""
    import time

    time.sleep(seconds)


def crash() -> None:
    """Die of a segmentation fault, as a broken C parser would."""
    import ctypes

    ctypes.string_at(0)


def fail_with_path(path: str) -> None:
    """Raise an ordinary exception that mentions a server path."""
    raise KeyError(f"no /Root object in {path}")


# --- scans ---------------------------------------------------------------------------------


def text_image(lines: Sequence[str], size: tuple[int, int] = (1240, 1754), *,
               rotate: int = 0, font_size: int = 40):
    """A page scanned at 150 dpi (A4 by default): black text on white, turned by `rotate`
    degrees anticlockwise as a sheet fed in sideways would be."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    y = font_size * 2
    for line in lines:
        draw.text((font_size * 2, y), line, fill=0, font=font)
        y += int(font_size * 1.6)
    return image.rotate(rotate, expand=True, fillcolor=255) if rotate else image


def make_scanned_pdf(pages: Sequence[object]) -> bytes:
    """A PDF of page images (no text layer), like a scanner's output. Each entry is a PIL
    image, or a str for a page with a real text layer (a mixed document)."""
    pdf = _new_pdf(None, None, None)
    for page in pages:
        if isinstance(page, str):
            pdf.add_page(format="A4")
            pdf.multi_cell(0, 6, _latin1(page))
        else:  # the page is the size of the picture scanned at 150 dpi
            width, height = (px * 25.4 / 150 for px in page.size)
            pdf.add_page(format=(width, height))
            pdf.image(page, x=0, y=0, w=width, h=height)
    return bytes(pdf.output())


def make_image_file(images: Sequence[object], fmt: str = "PNG") -> bytes:
    """Image bytes; several images make a multi-page TIFF."""
    out = io.BytesIO()
    first, *rest = images
    if rest:
        first.save(out, "TIFF", save_all=True, append_images=rest, compression="tiff_lzw")
    else:
        first.save(out, fmt)
    return out.getvalue()


def act(kind: str, seconds: float = 0.0) -> str:
    """One call of a batch: behave as `kind` says (ok, crash, spin, hog, burn)."""
    if kind == "crash":
        crash()
    if kind == "spin":
        spin_cpu()
    if kind == "hog":
        hog_memory()
    if kind == "burn":  # use this much CPU (user and system), then answer
        import time

        start = time.process_time()
        while time.process_time() - start < seconds:
            pass
    return kind
