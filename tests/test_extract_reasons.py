"""Every reason in plain words: no reason the extractors give names an exception or quotes
a library. The reasons are collected from the code (constants and the first argument of
every ExtractionError, Rejected and bomb call in extract/), and the extractors are fed
broken files of every kind that can be made here; the technical detail is kept apart."""

from __future__ import annotations

import ast
import builtins
import importlib
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inquiry_docs import extract
from inquiry_docs.extract import sandbox
from inquiry_docs.extract.types import (
    DOCM,
    DOCX,
    EMAIL,
    JPEG,
    MBOX,
    MSG,
    PDF,
    PNG,
    TEXT,
    TIFF,
)
from tests import samples
from tests import samples_mail as mail
from tests import samples_office as office

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")

EXTRACT = Path(extract.__file__).parent
_EXCEPTION_NAMES = {name for name in dir(builtins) if name.endswith(("Error", "Exception",
                                                                     "Warning"))}
_LIBRARY_WORDS = re.compile(
    r"\b\w+(Error|Exception|Warning)\b|Traceback|Errno|<path>|PDFium:|Invalid key size|"
    r"There is no item named|object has no attribute|codec can't|invalid literal|"
    r"index out of range|NoneType|unexpected keyword|\bline \d+, column|Bad CRC|"
    r"exceeds defined limit|Declared size|Failed to load|BadZipFile|KeyError|"
    r"DeprecationError|\bat 0x[0-9a-f]+")
_CALLS = {"ExtractionError", "Rejected", "_bomb", "plain_failures"}


def plain(reason: str) -> bool:
    """A sentence (or sentences) for people: no exception name or library message."""
    words = set(re.findall(r"[A-Za-z_]+", reason))
    return (not _LIBRARY_WORDS.search(reason) and not words & _EXCEPTION_NAMES
            and reason[:1].isupper() and reason.rstrip().endswith("."))


def test_the_rule_catches_what_users_were_shown():
    for seen in ("The file could not be read: PdfiumError: Failed to load document "
                 "(PDFium: Data format error).", "The file could not be read: ValueError: "
                 "Invalid key size (40) for AES.", "DeprecationError reading the file.",
                 "The file could not be read: KeyError: \"There is no item named "
                 "'word/media/image1.png' in the archive\"."):
        assert not plain(seen)
    assert plain("The PDF is damaged or incomplete and could not be read.")


# --- reasons in the code -----------------------------------------------------------------


def _render(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The text of a reason expression, placeholders standing for formatted values."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_render(v, constants) or "3" if not isinstance(v, ast.FormattedValue)
                       else "3" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _render(node.left, constants), _render(node.right, constants)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute):
        return constants.get(node.attr)
    return None


def _constants() -> dict[str, str]:
    """Every module-level UPPER_CASE string in extract/, by name (imports resolve)."""
    out: dict[str, str] = {}
    for path in EXTRACT.glob("*.py"):
        module = importlib.import_module(f"inquiry_docs.extract.{path.stem}"
                                         if path.stem != "__init__" else "inquiry_docs.extract")
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str):
                out[name] = value
    return out


def reasons_in_code() -> Iterator[tuple[str, str]]:
    constants = _constants()
    for path in sorted(EXTRACT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in _CALLS:
                continue
            text = _render(node.args[0], constants)
            if text is not None:
                where = f"{path.name}:{node.lineno}"
                yield where, (f"The Word document {text}; it may be a decompression bomb."
                              if name == "_bomb" else text)


def test_every_reason_written_in_the_extractors_is_plain():
    found = list(reasons_in_code())
    assert len(found) > 40  # the collection works (each reader raises several)
    assert [(where, text) for where, text in found if not plain(text)] == []


def test_the_sandboxs_own_reasons_are_plain():
    for reason in (sandbox.memory_reason(1024), sandbox.time_reason(120),
                   sandbox.time_reason(1), sandbox._died(-9, 120, 1024).reason,
                   sandbox._died(-11, 120, 1024).reason, sandbox._died(3, 120, 1024).reason):
        assert plain(reason), reason


# --- broken inputs -----------------------------------------------------------------------


def _flips(data: bytes, seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        mutable = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            at = rng.randrange(len(mutable))
            mutable[at] = rng.randrange(256)
        yield bytes(mutable)


def _cuts(data: bytes) -> Iterator[bytes]:
    for share in (0.05, 0.2, 0.4, 0.6, 0.8, 0.95):
        yield data[: max(1, int(len(data) * share))]


def _variants(data: bytes, seed: int) -> list[bytes]:
    return [*_cuts(data), *_flips(data, seed, 12), data[:16] + bytes(len(data) - 16)]


def _word_damage() -> Iterator[bytes]:
    base = office.make_word(office.WordParts(
        body=office.p("Text", office.footnote_ref(1)), footnotes={1: "Note."}, header="H"))
    yield office.with_parts(base, {"word/document.xml": b"<w:document><w:body><w:p>"})
    yield office.with_parts(base, {"word/document.xml": bytes(range(256)) * 4})
    yield office.with_parts(base, {"word/_rels/document.xml.rels": b"<Relationships"})
    yield office.with_parts(base, {"[Content_Types].xml": b"not xml"})
    yield office.with_parts(base, {"_rels/.rels": b"<Relationships/>"})
    yield office.with_parts(base, {"word/footnotes.xml": b"\xff\xfe\x00garbage"})
    yield office.with_parts(base, {}, drop=["word/document.xml", "_rels/.rels"])
    yield office.with_parts(base, {"word/document.xml": b'<?xml version="1.0"?><!DOCTYPE x '
                                   b'[<!ENTITY e "e">]><x>&e;</x>'})
    yield from _variants(base, 3)


def _pdf_damage() -> Iterator[bytes]:
    forms = office.make_form_pdf({"Name": "A"}, checked=["Box"])
    notes = office.make_annotated_pdf([("Text", [("note", "N"), ("freetext", "F")])])
    yield from _variants(forms, 5)
    yield from _variants(notes, 7)
    yield from _variants(samples.make_pdf(["One", "Two"]), 9)
    yield office.make_pdf_with_bad_page(texts=(), bad=1)
    yield office.make_pdf_tripping_pypdf_limit()
    yield samples.make_truncated_pdf()
    yield samples.make_encrypted_pdf()
    encrypted = samples.make_pdf(["Secret"], password="pw")
    yield encrypted.replace(b"/Length 128", b"/Length 40").replace(b"/V 2", b"/V 5")
    yield encrypted.replace(b"/Filter /Standard", b"/Filter /Unknown")
    yield b"%PDF-1.7\n" + samples.make_random_bytes(4000, seed=2)


def _mail_damage() -> Iterator[tuple[str, bytes]]:
    eml = samples.make_eml(attachments=[("a.pdf", samples.make_pdf(["x"]))])
    for data in _variants(eml, 11):
        yield EMAIL, data
    yield EMAIL, b"Content-Type: text/plain; charset=no-such-charset\n\n\xff\xfe body"
    yield EMAIL, (b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: "
                  b"message/rfc822\n\n\x00\x01\n--b--\n")
    yield EMAIL, (b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: "
                  b"application/pdf\nContent-Transfer-Encoding: base64\n\n!!!!\n--b--\n")
    yield EMAIL, b"Date: not a date at all, 99 Foo 10000 25:61\nSubject: =?bad?q?x?=\n\nx"
    box = mail.make_mbox([eml, eml])
    for data in [*_cuts(box), b"No separator here\n", b"From \n"]:
        yield MBOX, data


def _msg_damage() -> Iterator[bytes]:
    if importlib.util.find_spec("extract_msg") is None:
        return
    data = mail.make_msg(attachments=[("a.txt", b"hello")])
    yield from _variants(data, 13)
    import io

    from extract_msg.ole_writer import OleWriter
    writer, out = OleWriter(), io.BytesIO()
    writer.addEntry("WordDocument", b"\x00" * 600)  # an OLE file, but no message
    writer.write(out)
    yield out.getvalue()


def broken_inputs() -> Iterator[tuple[str, str, bytes]]:
    for data in _word_damage():
        yield "docx", DOCX, data
    yield "docm", DOCM, office.with_parts(office.make_word(office.WordParts(
        body=office.p("x")), DOCM), {"word/document.xml": b"<broken"})
    for data in _pdf_damage():
        yield "pdf", PDF, data
    for mime, data in _mail_damage():
        yield "mail", mime, data
    for data in _msg_damage():
        yield "msg", MSG, data
    picture = samples.text_image(["Scanned line"], (300, 200))
    png = samples.make_image_file([picture], "PNG")
    for mime, data in ((PNG, png), (JPEG, samples.make_image_file([picture], "JPEG")),
                       (TIFF, samples.make_image_file([picture, picture], "TIFF"))):
        for variant in _cuts(data):
            yield "image", mime, variant
    yield "text", TEXT, samples.make_random_bytes(2000, seed=4)
    # Each kind of file handed to the other readers, as a misjudged type would be.
    others = [samples.make_pdf(["x"]), samples.make_docx(["x"]), samples.make_eml(), png]
    for data in others:
        for mime in (PDF, DOCX, EMAIL, MBOX, PNG, MSG):
            yield "crossed", mime, data


def _outcomes(tmp_path: Path, run: Callable[[str, str], object]) -> Iterator[tuple[str, str]]:
    for index, (kind, mime, data) in enumerate(broken_inputs()):
        path = samples.write(tmp_path, f"case{index}", data)
        try:
            result = run(str(path), mime)
        except extract.ExtractionError as error:
            yield f"{index} {kind}", str(error.reason)
        else:
            assert isinstance(result, extract.Extracted)
            if result.unread_reason:
                yield f"{index} {kind}", result.unread_reason


def test_broken_files_of_every_kind_fail_in_plain_words(tmp_path):
    seen = list(_outcomes(tmp_path, lambda path, mime: extract.extract_inline(path, mime)))
    assert len(seen) > 100  # most broken files are refused, with a reason
    assert [(case, reason) for case, reason in seen if not plain(reason)] == []


@pytest.mark.slow
def test_broken_files_in_the_sandbox_fail_in_plain_words_with_the_detail_kept(tmp_path):
    files = []
    for index, (_, mime, data) in enumerate(broken_inputs()):
        if index % 4 == 0:  # a quarter of them, several to a child as ingest reads them
            files.append((str(samples.write(tmp_path, f"case{index}", data)), mime))
    results = extract.extract_many(files, cpu_seconds=20, memory_mb=768)
    errors = [r for r in results if isinstance(r, extract.ExtractionError)]
    assert len(errors) > 20
    assert [e.reason for e in errors if not plain(e.reason)] == []
    # The technical cause crossed from the child with the reason, apart from it.
    assert sum(1 for e in errors if e.detail) > len(errors) // 2
    assert all(e.detail not in e.reason for e in errors if e.detail)
