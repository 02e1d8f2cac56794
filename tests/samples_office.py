"""Builders for Word files as Word writes them, and PDFs as people fill them in.

Word: a package written part by part (the XML Word itself writes for content controls,
text boxes, footnotes, endnotes and comments), any Word file turned into a template or a
macro-enabled file (another content type for the same XML), files with embedded objects
that compress far better than text, and files missing a picture's part.
PDF: forms filled in (reportlab's AcroForm), annotations (fpdf2), text in two columns,
a page PDFium cannot load, and a tiny stream that trips one of pypdf's sanity limits.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from fpdf import FPDF

from inquiry_docs.extract.types import DOCM, DOCX, DOTM, DOTX
from tests.samples import _pdf_from_objects, make_docx

_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
    'mc:Ignorable="wps"'
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_TYPES = {
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    DOTX: "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    DOCM: "application/vnd.ms-word.document.macroEnabled.main+xml",
    DOTM: "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
}
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml"


# --- WordprocessingML snippets, as Word writes them --------------------------------------


def p(*runs: str, page_break_before: bool = False) -> str:
    """A paragraph of runs (plain strings become text runs)."""
    props = "<w:pPr><w:pageBreakBefore/></w:pPr>" if page_break_before else ""
    body = "".join(r if r.startswith("<") else run(r) for r in runs)
    return f"<w:p>{props}{body}</w:p>"


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def page_break() -> str:
    return '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'


def footnote_ref(note_id: int) -> str:
    return (f'<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr>'
            f'<w:footnoteReference w:id="{note_id}"/></w:r>')


def endnote_ref(note_id: int) -> str:
    return f'<w:r><w:endnoteReference w:id="{note_id}"/></w:r>'


def commented(comment_id: int, text: str) -> str:
    """Runs of `text` with comment `comment_id` anchored on them."""
    return (f'<w:commentRangeStart w:id="{comment_id}"/>{run(text)}'
            f'<w:commentRangeEnd w:id="{comment_id}"/>'
            f'<w:r><w:commentReference w:id="{comment_id}"/></w:r>')


def content_control(inner: str, *, block: bool, tag: str = "field",
                    placeholder: bool = False) -> str:
    """A content control (w:sdt) around paragraphs (block) or runs (inline)."""
    props = f'<w:sdtPr><w:alias w:val="{tag}"/><w:tag w:val="{tag}"/>'
    props += "<w:showingPlcHdr/>" if placeholder else ""
    props += "</w:sdtPr>"
    return f"<w:sdt>{props}<w:sdtContent>{inner}</w:sdtContent></w:sdt>"


def text_box(paragraphs: Sequence[str], *, vml_only: bool = False) -> str:
    """A run holding a text box: DrawingML with Word's VML fallback, or VML alone."""
    inner = "".join(p(text) for text in paragraphs)
    vml = (f'<w:pict><v:shape style="width:200pt;height:60pt"><v:textbox>'
           f"<w:txbxContent>{inner}</w:txbxContent></v:textbox></v:shape></w:pict>")
    if vml_only:
        return f"<w:r>{vml}</w:r>"
    drawing = (
        '<w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" '
        'relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:extent cx="2540000" cy="762000"/>'
        '<wp:docPr id="1" name="Text Box 1"/><a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:wsp><wps:txbx><w:txbxContent>{inner}</w:txbxContent></wps:txbx>"
        "<wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
    )
    return (f'<w:r><mc:AlternateContent><mc:Choice Requires="wps">{drawing}</mc:Choice>'
            f"<mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent></w:r>")


def table(rows: Sequence[Sequence[str]], *, control_row: int | None = None) -> str:
    """A table; `control_row` puts that row inside a (repeating section) content control."""
    out = []
    for index, cells in enumerate(rows):
        row = "<w:tr>" + "".join(f"<w:tc>{p(c)}</w:tc>" for c in cells) + "</w:tr>"
        out.append(content_control(row, block=True, tag="row") if index == control_row
                   else row)
    return "<w:tbl><w:tblPr/>" + "".join(out) + "</w:tbl>"


def picture(rel_id: str) -> str:
    """A run showing the picture of relationship `rel_id`."""
    return (
        '<w:r><w:drawing><wp:inline><wp:extent cx="952500" cy="952500"/>'
        '<wp:docPr id="2" name="Picture 2"/><a:graphic><a:graphicData '
        'uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
        f'<pic:blipFill><a:blip r:embed="{rel_id}"/></pic:blipFill></pic:pic>'
        "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )


# --- the package ------------------------------------------------------------------------


@dataclass
class WordParts:
    body: str
    footnotes: dict[int, str] = field(default_factory=dict)
    endnotes: dict[int, str] = field(default_factory=dict)
    comments: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (author, text)
    header: str | None = None
    footer: str | None = None
    title: str = ""
    author: str = ""
    # Extra parts: name -> (content type or None for a Default by extension, bytes).
    extra: dict[str, bytes] = field(default_factory=dict)
    extra_rels: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (type, target)


def _notes(tag: str, notes: dict[int, str]) -> bytes:
    separators = (f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r>'
                  f'</w:p></w:{tag}><w:{tag} w:type="continuationSeparator" w:id="0"><w:p>'
                  f"<w:r><w:continuationSeparator/></w:r></w:p></w:{tag}>")
    items = "".join(f'<w:{tag} w:id="{n}">{p(text)}</w:{tag}>' for n, text in notes.items())
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{tag}s {_NS}>' \
        f"{separators}{items}</w:{tag}s>".encode()


def make_word(parts: WordParts, mime: str = DOCX) -> bytes:
    """A Word package of the given flavour, written part by part."""
    overrides = {"/word/document.xml": _MAIN_TYPES[mime],
                 "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml"}
    rels: dict[str, tuple[str, str]] = {}
    files: dict[str, bytes] = {}
    sect = ""
    if parts.footnotes:
        files["word/footnotes.xml"] = _notes("footnote", parts.footnotes)
        rels["rIdFn"] = (f"{_REL}/footnotes", "footnotes.xml")
        overrides["/word/footnotes.xml"] = f"{_WML}.footnotes+xml"
    if parts.endnotes:
        files["word/endnotes.xml"] = _notes("endnote", parts.endnotes)
        rels["rIdEn"] = (f"{_REL}/endnotes", "endnotes.xml")
        overrides["/word/endnotes.xml"] = f"{_WML}.endnotes+xml"
    if parts.comments:
        items = "".join(f'<w:comment w:id="{n}" w:author="{escape(a)}">{p(t)}</w:comment>'
                        for n, (a, t) in parts.comments.items())
        files["word/comments.xml"] = f"<w:comments {_NS}>{items}</w:comments>".encode()
        rels["rIdCm"] = (f"{_REL}/comments", "comments.xml")
        overrides["/word/comments.xml"] = f"{_WML}.comments+xml"
    for kind, text in (("header", parts.header), ("footer", parts.footer)):
        if text is not None:
            root = {"header": "hdr", "footer": "ftr"}[kind]
            files[f"word/{kind}1.xml"] = f"<w:{root} {_NS}>{p(text)}</w:{root}>".encode()
            rels[f"rId{kind}"] = (f"{_REL}/{kind}", f"{kind}1.xml")
            overrides[f"/word/{kind}1.xml"] = f"{_WML}.{kind}+xml"
            sect += f'<w:{kind}Reference w:type="default" r:id="rId{kind}"/>'
    rels.update(parts.extra_rels)
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_NS}>'
                f"<w:body>{parts.body}<w:sectPr>{sect}</w:sectPr></w:body></w:document>")
    files["word/document.xml"] = document.encode()
    files["word/_rels/document.xml.rels"] = _rels(rels)
    files["_rels/.rels"] = _rels({"rId1": (f"{_REL}/officeDocument", "word/document.xml"),
                                  "rId2": ("http://schemas.openxmlformats.org/package/2006/"
                                           "relationships/metadata/core-properties",
                                           "docProps/core.xml")})
    files["docProps/core.xml"] = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(parts.title)}</dc:title><dc:creator>{escape(parts.author)}"
        '</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2021-05-04T10:00:00Z'
        "</dcterms:created></cp:coreProperties>").encode()
    files.update(parts.extra)
    if mime in (DOCM, DOTM):
        files["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + bytes(2044)  # never read
    types = "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items())
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://'
        'schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="png" ContentType="image/png"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        '<Default Extension="emf" ContentType="image/x-emf"/>'
        '<Default Extension="pdf" ContentType="application/pdf"/>'
        '<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.sheet"/>{types}</Types>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def _rels(rels: dict[str, tuple[str, str]]) -> bytes:
    items = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{escape(target)}"/>'
                    for i, (t, target) in rels.items())
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
            f'"http://schemas.openxmlformats.org/package/2006/relationships">{items}'
            "</Relationships>").encode()


def as_flavour(data: bytes, mime: str) -> bytes:
    """Any Word file (python-docx's too) as a template or macro-enabled file: the main
    part's content type changed, a macro project added for .docm/.dotm, nothing else."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = body.replace(_MAIN_TYPES[DOCX].encode(), _MAIN_TYPES[mime].encode())
            dst.writestr(info.filename, body)
        if mime in (DOCM, DOTM):
            dst.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(2044))
    return out.getvalue()


def with_parts(data: bytes, extra: dict[str, bytes], drop: Sequence[str] = ()) -> bytes:
    """A copy of a ZIP with parts added (deflated) and some left out."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in drop and info.filename not in extra:
                dst.writestr(info.filename, src.read(info.filename))
        for name, body in extra.items():
            dst.writestr(name, body)
    return out.getvalue()


def embedded_objects(megabytes: int = 30) -> dict[str, bytes]:
    """An embedded OLE object, a picture and a PDF as Word stores them: binary parts
    that compress thousands of times over (blank pages, empty cells)."""
    pdf = make_form_pdf({"Name": "Embedded"})  # any real PDF, padded like scans often are
    return {"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + bytes(megabytes * 2**20),
            "word/media/image9.emf": b"\x01\x00\x00\x00" * (megabytes * 2**18),
            "word/embeddings/report.pdf": pdf + b"\n%" + b" " * (megabytes * 2**20)}


def make_docx_with_embedded_objects(text: str = "The report is embedded below.") -> bytes:
    return with_parts(make_docx([text]), embedded_objects())


def make_docx_missing_picture(text: str = "The photograph shows the entrance.") -> bytes:
    """A Word file whose picture's relationship names a part that is not in the ZIP."""
    parts = WordParts(body=p(text) + p(picture("rIdPic")) + p("After the picture."),
                      extra_rels={"rIdPic": (f"{_REL}/image", "media/image1.png")})
    return make_word(parts)


# --- PDF ---------------------------------------------------------------------------------


def make_form_pdf(fields: dict[str, str], *, checked: Sequence[str] = (),
                  choices: dict[str, tuple[str, list[str]]] | None = None,
                  page_text: str = "Application form") -> bytes:
    """A PDF form filled in with reportlab's AcroForm: text fields, ticked boxes, and
    choice fields (name -> (value, options))."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(72, 780, page_text)
    y = 720
    for name, value in fields.items():
        pdf.drawString(72, y + 10, f"{name}:")
        pdf.acroForm.textfield(name=name, value=value, x=200, y=y, width=300, height=24)
        y -= 40
    for name in checked:
        pdf.acroForm.checkbox(name=name, checked=True, x=200, y=y, size=16)
        y -= 40
    for name, (value, options) in (choices or {}).items():
        pdf.acroForm.choice(name=name, value=value, options=options, x=200, y=y,
                            width=200, height=24)
        y -= 40
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def make_annotated_pdf(pages: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> bytes:
    """Pages of text with annotations: (page text, [(kind, text)]) where kind is
    "note" (a sticky note), "freetext" (a text box) or "highlight" (a comment on text)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text, notes in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
        for index, (kind, note) in enumerate(notes):
            y = 150 + 20 * index
            if kind == "note":
                pdf.text_annotation(20, y, note, title="Reviewer")
            elif kind == "freetext":
                pdf.free_text_annotation(note, x=20, y=y, w=120, h=15)
            else:
                pdf.set_xy(20, y)
                with pdf.highlight(note, title="Counsel"):
                    pdf.cell(0, 8, "marked passage")
    return bytes(pdf.output())


def make_columns_pdf(text: str, ncols: int = 2) -> bytes:
    """Text set in `ncols` columns, as newsletters and reports are."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    with pdf.text_columns(ncols=ncols, balance=True) as columns:
        columns.write(text)
    return bytes(pdf.output())


def _text_stream(text: str, extra: bytes = b"") -> bytes:
    data = f"BT /F1 12 Tf 10 100 Td ({text}) Tj ET".encode()
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def make_pdf_with_bad_page(texts: Sequence[str] = ("First page text", "Third page text"),
                           bad: int = 2) -> bytes:
    """Pages of text with page `bad` an object PDFium cannot load (not a dictionary)."""
    count = len(texts) + 1
    first_page = 3
    kids = " ".join(f"{first_page + i} 0 R" for i in range(count))
    font = first_page + 2 * count
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode()]
    pages, streams = [], []
    good = iter(texts)
    for index in range(count):
        if index + 1 == bad:
            pages.append(b"42")
            streams.append(_text_stream("never shown"))
            continue
        content = first_page + count + index
        pages.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents "
                     f"{content} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        streams.append(_text_stream(next(good)))
    objects += pages + streams + [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    return _pdf_from_objects(objects)


def make_pdf_tripping_pypdf_limit() -> bytes:
    """A one-page PDF (about 300 bytes) with no text on its page, whose cross-reference
    table declares four million entries: PDFium reads it, pypdf stops at its limit on a
    table larger than the file could hold ("Declared size ... exceeds allowed limit")."""
    data = _pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] >>",
    ])
    return data.replace(b"xref\n0 4\n", b"xref\n0 4000000\n")


def with_sticky_notes(data: bytes, notes: dict[int, str]) -> bytes:
    """A copy of a PDF with a sticky note (a Text annotation) on some pages (1-based)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Text

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for number, text in notes.items():
        writer.add_annotation(number - 1, Text(text=text, rect=(20, 20, 40, 40)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
