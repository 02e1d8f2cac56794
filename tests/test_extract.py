"""Extraction of each format, type checks, and the defences against hostile files.

Files are built on the fly by tests.samples and read by the real parsers.
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx as python_docx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inquiry_docs import extract
from inquiry_docs.extract import ExtractionError, Rejected, ZipLimits, check_type
from inquiry_docs.extract import docx as docx_extractor
from inquiry_docs.extract.pdf import BOMB, DAMAGED, ENCRYPTED
from inquiry_docs.extract.text import pack
from inquiry_docs.extract.types import (
    DOCM,
    DOCX,
    DOTM,
    DOTX,
    EMAIL,
    JPEG,
    MBOX,
    MSG,
    PDF,
    PNG,
    TEXT,
    TIFF,
)
from inquiry_docs.extract.zipcheck import DOCTYPE, check_zip
from tests import samples

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")


@pytest.fixture
def put(tmp_path: Path):
    """Write bytes to a temp file and return its path as a string."""

    def put(name: str, data: bytes) -> str:
        return str(samples.write(tmp_path, name, data))

    return put


def full_text(result: extract.Extracted) -> str:
    return "\n".join(text for _, text in result.pages)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_pages_and_metadata(put):
    created = datetime(2019, 6, 3, 14, 5, 9, tzinfo=UTC)
    path = put(
        "s.pdf",
        samples.make_pdf(
            ["The witness attended the school.", "", "Third page."],
            title="Statement of W1",
            author="Counsel to the Inquiry",
            created=created,
        ),
    )
    result = extract.extract_inline(path, PDF)
    assert result.page_label == "page"
    assert [n for n, _ in result.pages] == [1, 2, 3]
    assert "witness attended" in result.pages[0][1]
    assert result.pages[1][1] == ""  # a blank page stays, as empty text
    assert result.pages[2][1] == "Third page."
    assert (result.title, result.author, result.created) == (
        "Statement of W1",
        "Counsel to the Inquiry",
        created,
    )


@pytest.mark.parametrize("reader", ["pdfium", "pypdf"])
def test_both_pdf_readers_give_the_same_pages_and_metadata(put, reader):
    created = datetime(2019, 6, 3, 14, 5, 9, tzinfo=UTC)
    path = put("s.pdf", samples.make_pdf(["The witness attended the school.", "", "End."],
                                         title="Statement of W1", author="Counsel",
                                         created=created))
    result = extract.PDF_READERS[reader](path)
    assert [(n, " ".join(t.split())) for n, t in result.pages] == [
        (1, "The witness attended the school."), (2, ""), (3, "End.")]
    assert (result.title, result.author, result.created) == ("Statement of W1", "Counsel",
                                                             created)


def test_either_reader_first_reads_a_damaged_header_and_names_encryption(put):
    data = samples.make_pdf(["Recovered by the other reader."])
    path = put("s.pdf", b"%PDF-1.3\n%garbage" + data[data.index(b"\n") + 1:])
    assert "Recovered" in extract.read_pdf(path, "pdfium").pages[0][1]
    assert "Recovered" in extract.read_pdf(path, "pypdf").pages[0][1]
    encrypted = put("e.pdf", samples.make_encrypted_pdf())
    with pytest.raises(ExtractionError, match="encrypted"):
        extract.read_pdf(encrypted, "pdfium")


def test_a_bomb_is_named_by_pypdf_after_pdfium_meets_the_memory_limit(put):
    path = put("bomb.pdf", samples.make_bomb_pdf())
    with pytest.raises(ExtractionError) as caught:
        extract.extract(path, PDF, cpu_seconds=20, pdf_text="pdfium")
    assert caught.value.reason == BOMB


def test_pdf_with_non_latin_text_is_built_and_read(put):
    path = put("s.pdf", samples.make_pdf(["Name: 证据 Zoë"]))
    assert "Zoë" in extract.extract_inline(path, PDF).pages[0][1]


def test_image_only_pdf_has_empty_text(put):
    result = extract.extract_inline(put("scan.pdf", samples.make_image_only_pdf()), PDF)
    assert result.pages == [(1, "")]


@pytest.mark.parametrize(
    ("builder", "reason"),
    [
        (samples.make_encrypted_pdf, ENCRYPTED),
        (samples.make_truncated_pdf, DAMAGED),
        (samples.make_bomb_pdf, BOMB),
        (samples.make_xobject_bomb_pdf, BOMB),
    ],
    ids=["encrypted", "truncated", "bomb", "xobject-bomb"],
)
def test_bad_pdfs_fail_with_a_reason_in_the_sandbox(put, builder, reason):
    path = put("bad.pdf", builder())
    start = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        extract.extract(path, PDF, cpu_seconds=20)
    assert caught.value.reason == reason
    assert time.monotonic() - start < 10


def test_bomb_is_an_error_inline_too(put):
    # With pypdf, whose stream caps need no sandbox (PDFium relies on the child's limit).
    with pytest.raises(ExtractionError, match="decompression bomb"):
        extract.extract_inline(put("x.pdf", samples.make_xobject_bomb_pdf()), PDF,
                               pdf_text="pypdf")


def test_pdf_with_empty_user_password_opens(put):
    path = put("s.pdf", samples.make_pdf(["Owner-locked only."], password=""))
    assert extract.extract_inline(path, PDF).pages[0][1] == "Owner-locked only."


# --- DOCX --------------------------------------------------------------------------------


def test_docx_reading_order_with_table_header_and_footer(put):
    path = put(
        "s.docx",
        samples.make_docx(
            ["Introduction.", [["Name", "Role"], ["A. Smith", "Head teacher"]], "Conclusion."],
            header="OFFICIAL SENSITIVE",
            footer="Page footer text",
        ),
    )
    result = extract.extract_inline(path, DOCX)
    assert result.page_label == "section"
    assert result.pages == [
        (
            1,
            "\n".join(
                [
                    "OFFICIAL SENSITIVE",
                    "Introduction.",
                    "Name | Role",
                    "A. Smith | Head teacher",
                    "Conclusion.",
                    "Page footer text",
                ]
            ),
        )
    ]


def test_docx_hard_page_breaks_make_pages(put):
    path = put(
        "s.docx",
        samples.make_docx(
            ["First page.", "Second page.", "Third page."],
            page_breaks=True,
            header="H",
            footer="F",
        ),
    )
    result = extract.extract_inline(path, DOCX)
    assert result.page_label == "page"
    assert result.pages == [(1, "H\nFirst page."), (2, "Second page."), (3, "Third page.\nF")]


def test_docx_rendered_and_before_breaks_count_once(put):
    body = (
        '<w:p><w:r><w:t>One</w:t></w:r><w:r><w:br w:type="page"/></w:r></w:p>'
        "<w:p><w:r><w:lastRenderedPageBreak/><w:t>Two</w:t></w:r></w:p>"
        "<w:p><w:pPr><w:pageBreakBefore/></w:pPr><w:r><w:t>Three</w:t></w:r></w:p>"
        '<w:p><w:pPr><w:pageBreakBefore w:val="0"/></w:pPr><w:r><w:t>Still three</w:t></w:r></w:p>'
        "<w:p><w:r><w:t>Kept</w:t></w:r><w:del><w:r><w:delText>deleted</w:delText></w:r></w:del>"
        "<w:r><w:tab/><w:t>after tab</w:t></w:r></w:p>"
    )
    result = extract.extract_inline(put("s.docx", samples.make_docx_xml(body)), DOCX)
    assert result.pages == [(1, "One"), (2, "Two"), (3, "Three\nStill three\nKept\tafter tab")]


def test_docx_without_breaks_is_cut_into_sections(put):
    paragraphs = [f"Paragraph {n}. " + "word " * 200 for n in range(12)]
    result = extract.extract_inline(put("s.docx", samples.make_docx(paragraphs)), DOCX)
    assert result.page_label == "section"
    assert len(result.pages) > 3
    assert all(len(text) <= 3000 for _, text in result.pages)
    assert full_text(result).split() == "\n".join(paragraphs).split()


def test_docx_metadata(put):
    created = datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC)
    path = put("s.docx", samples.make_docx(["x"], title="Report", author="DCI Y", created=created))
    result = extract.extract_inline(path, DOCX)
    assert (result.title, result.author, result.created) == ("Report", "DCI Y", created)


def test_docx_external_entity_is_refused_and_never_read(put):
    path = put("xxe.docx", samples.make_xxe_docx())
    with pytest.raises(ExtractionError) as caught:
        extract.extract(path, DOCX)
    assert caught.value.reason == DOCTYPE
    # And python-docx alone would not have expanded it either (defence in depth).
    document = python_docx.Document(path)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "root:" not in text and "Before" in text


def test_zip_bomb_is_refused_before_any_part_is_parsed(put, monkeypatch):
    path = put("bomb.docx", samples.make_zip_bomb_docx())

    def must_not_open(*args, **kwargs):
        raise AssertionError("the Word reader was asked to open a zip bomb")

    monkeypatch.setattr(docx_extractor, "Package", must_not_open)
    with pytest.raises(ExtractionError, match="decompression bomb"):
        extract.extract_inline(path, DOCX)
    # With the ratio check out of the way, the total size still stops it.
    with pytest.raises(ExtractionError, match=r"expands to 1,04\d MB \(the limit is 200 MB\)"):
        extract.extract_inline(path, DOCX, zip_limits=ZipLimits(max_ratio=10**6))


def test_zip_bomb_in_the_sandbox(put):
    path = put("bomb.docx", samples.make_zip_bomb_docx())
    with pytest.raises(ExtractionError, match="decompression bomb"):
        extract.extract(path, DOCX)


@pytest.mark.parametrize(
    ("docx_bytes", "limits", "message"),
    [
        (lambda: samples.make_ratio_bomb_docx(), ZipLimits(), "expands 1,0"),
        (
            lambda: samples.make_docx_with_entries([f"x/{n}" for n in range(30)]),
            ZipLimits(max_entries=40),
            "has 47 parts",
        ),
        (lambda: samples.make_docx_with_entries(["../evil.xml"]), ZipLimits(), "unsafe path"),
        (lambda: samples.make_docx_with_entries(["/etc/cron.d/x"]), ZipLimits(), "unsafe path"),
        (lambda: samples.make_docx(), ZipLimits(max_uncompressed_bytes=100_000), "expands to"),
    ],
    ids=["ratio", "entries", "dotdot", "absolute", "total"],
)
def test_zipcheck_limits(put, docx_bytes, limits, message):
    with pytest.raises(ExtractionError, match=message):
        check_zip(put("x.docx", docx_bytes()), limits)


def test_zipcheck_passes_an_ordinary_docx(put):
    check_zip(put("x.docx", samples.make_docx(["Fine."], header="H")))


def test_damaged_docx(put):
    data = samples.make_docx(["x"])
    with pytest.raises(ExtractionError, match="damaged"):
        extract.extract_inline(put("x.docx", data[: len(data) // 2]), DOCX)


def test_doctype_hidden_in_a_part_declared_xml_by_content_types(put):
    base = samples.make_docx(["x"])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>", b'<Default Extension="dat" ContentType="application/xml"/></Types>'
                )
            dst.writestr(info.filename, body)
        dst.writestr(
            "word/custom.dat",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e '
            b'SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        )
        dst.writestr(
            "word/media/picture.svg",
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
        )
    with pytest.raises(ExtractionError, match="DOCTYPE"):
        check_zip(put("x.docx", out.getvalue()))


# --- text and email ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffCafé notes".encode(), "Café notes"),
        ("Café notes \u2013 draft".encode("cp1252"), "Café notes \u2013 draft"),
        (b"Notes\x00 with NUL", "Notes with NUL"),
        ("UTF-16 notes".encode("utf-16"), "UTF-16 notes"),
        (b"name,role\nA,teacher\n", "name,role\nA,teacher"),
        (b"  \n\t\n", ""),
    ],
)
def test_text_decoding(put, data, expected):
    assert extract.extract_inline(put("n.txt", data), TEXT).pages == [(1, expected)]


def test_text_pages_break_at_lines(put):
    lines = [f"Line {n:04d} " + "x" * 60 for n in range(200)]
    result = extract.extract_inline(put("n.txt", "\n".join(lines).encode()), TEXT)
    assert len(result.pages) >= 5
    assert all(len(text) <= 3000 for _, text in result.pages)
    assert all(text.startswith("Line ") for _, text in result.pages)
    assert full_text(result).split("\n") == lines


@given(st.lists(st.text(max_size=400), max_size=40), st.integers(min_value=50, max_value=500))
def test_pack_keeps_every_character_and_the_size(units, size):
    chunks = pack(units, size)
    assert "".join(chunks) == "".join(units)
    assert all(len(chunk) <= size for chunk in chunks)


def test_email_headers_body_and_attachments(put):
    sent = datetime(2020, 2, 3, 4, 5, tzinfo=UTC)
    path = put(
        "m.eml",
        samples.make_eml(
            subject="Re: disclosure",
            body="Body of the message.",
            cc="Clerk <c@example.org>",
            date=sent,
            attachments=[("statement.pdf", b"%PDF-1.4 x"), ("notes.txt", b"hello")],
        ),
    )
    result = extract.extract_inline(path, EMAIL)
    first = result.pages[0][1]
    assert first.startswith("From: Solicitor <solicitor@example.org>\nTo: ")
    assert "Cc: Clerk <c@example.org>" in first and "Subject: Re: disclosure" in first
    assert "Attachment: statement.pdf" in first and first.endswith("Body of the message.")
    assert (result.title, result.created) == ("Re: disclosure", sent)
    assert result.author == "Solicitor <solicitor@example.org>"
    assert [(a.filename, a.data) for a in result.attachments] == [
        ("statement.pdf", b"%PDF-1.4 x"),
        ("notes.txt", b"hello"),
    ]


def test_email_html_body_is_text_without_tags_or_scripts(put):
    html = (
        "<html><head><style>p{}</style></head><body><p>Dear &amp; <b>respected</b> "
        "panel</p><script>alert(1)</script><p>Second</p></body></html>"
    )
    result = extract.extract_inline(put("m.eml", samples.make_eml(html=html)), EMAIL)
    body = result.pages[0][1].split("\n\n", 1)[1]
    assert body == "Dear & respected panel\nSecond"


def test_email_long_body_runs_over_pages_and_attachments_are_capped(put):
    attachments = [(f"a{n}.txt", b"x") for n in range(55)]
    path = put("m.eml", samples.make_eml(body="para\n" * 2000, attachments=attachments))
    result = extract.extract_inline(path, EMAIL)
    assert len(result.pages) > 1
    assert len(result.attachments) == 50
    assert "more than 50 attachments" in result.pages[0][1]


# --- check_type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "builder", "mime"),
    [
        ("a.pdf", lambda: samples.make_pdf(["x"]), PDF),
        ("A.PDF", lambda: samples.make_pdf(["x"]), PDF),
        ("a.docx", lambda: samples.make_docx(["x"]), DOCX),
        ("a.eml", lambda: samples.make_eml(), EMAIL),
        ("a.eml", lambda: b"X-Mailer: old\nSubject: hi\n\nbody\n", EMAIL),
        ("a.txt", lambda: b"Plain notes.\n", TEXT),
        ("a.md", lambda: b"# Heading\n\nText.\n", TEXT),
        ("a.csv", lambda: b"name,age\nA,1\nB,2\n", TEXT),
        ("a.txt", lambda: b"int main() { return 0; }\n", TEXT),
        ("memo.txt", lambda: b"From: A\nTo: B\nSubject: memo\n\nHello\n", TEXT),
    ],
)
def test_check_type_accepts(put, name, builder, mime):
    assert check_type(put("upload", builder()), name) == mime


@pytest.mark.parametrize(
    ("name", "builder", "message"),
    [
        (
            "a.docx",
            lambda: samples.make_pdf(["x"]),
            "The file is named .docx but its content is PDF.",
        ),
        (
            "a.pdf",
            lambda: samples.make_random_bytes(),
            "The file is named .pdf but its content is unrecognised binary data.",
        ),
        ("a.pdf", samples.make_elf, "The file is named .pdf but its content is a program."),
        (
            "a.pdf",
            samples.make_windows_exe,
            "The file is named .pdf but its content is a Windows program.",
        ),
        (
            "a.exe",
            samples.make_windows_exe,
            "Files of this type (a Windows program) are not supported.",
        ),
        ("a.xyz", lambda: samples.make_pdf(["x"]), "The extension .xyz is not supported"),
        ("noextension", lambda: samples.make_pdf(["x"]), "has no extension"),
        ("a.pdf", lambda: b"", "The file is empty."),
        ("a.txt", lambda: samples.make_docx(["x"]), "named .txt but its content is DOCX"),
    ],
)
def test_check_type_rejects(put, name, builder, message):
    with pytest.raises(Rejected) as caught:
        check_type(put("upload", builder()), name)
    assert message in caught.value.reason


def test_registry_matches_the_contract():
    # .msg is registered only with the optional extra (installed for the tests).
    assert set(extract.SUPPORTED) == {PDF, DOCX, DOTX, DOCM, DOTM, TEXT, EMAIL, MBOX, MSG,
                                      PNG, JPEG, TIFF}
    assert extract.SUPPORTED[PDF].name == "PDF"
    assert extract.SUPPORTED[TEXT].extensions == frozenset({".txt", ".text", ".md", ".csv"})
    assert all(callable(fmt.extractor) for fmt in extract.SUPPORTED.values())
