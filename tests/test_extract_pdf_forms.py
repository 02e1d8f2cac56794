"""PDFs as people fill them in: form fields and annotations read and labelled on their
page by both readers, a page that cannot be read left out (and named), and what the
fallback reader's own limits do and do not mean. Real PDFs built on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest

from inquiry_docs import extract
from inquiry_docs.extract import ExtractionError
from inquiry_docs.extract.pdf import BOMB, DAMAGED
from inquiry_docs.extract.types import PDF
from tests import samples
from tests import samples_office as office

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")

READERS = ["pdfium", "pypdf"]


@pytest.fixture
def put(tmp_path: Path):
    def put(name: str, data: bytes) -> str:
        return str(samples.write(tmp_path, name, data))

    return put


@pytest.mark.parametrize("reader", READERS)
def test_filled_in_form_fields_are_read_and_labelled(put, reader):
    path = put("form.pdf", office.make_form_pdf(
        {"Surname": "Okonkwo", "Address": "12 Mill Lane, Oldham"}, checked=["Consent"],
        choices={"Role": ("Teacher", ["Teacher", "Parent", "Social worker"])}))
    text = extract.PDF_READERS[reader](path).pages[0][1]
    assert "[Form field Surname: Okonkwo]" in text
    assert "[Form field Address: 12 Mill Lane, Oldham]" in text
    assert "[Form field Role: Teacher]" in text
    assert "[Form field Consent: " in text  # ticked: its state's name (e.g. Yes)
    assert text.index("Application form") < text.index("[Form field")  # page text first


@pytest.mark.parametrize("reader", READERS)
def test_annotations_are_read_on_their_page_and_labelled(put, reader):
    path = put("notes.pdf", office.make_annotated_pdf([
        ("First page of the statement.", [("note", "Ask about the 1998 referral"),
                                          ("freetext", "Redact the name here")]),
        ("Second page.", [("highlight", "Contradicts exhibit 4")]),
    ]))
    pages = extract.PDF_READERS[reader](path).pages
    assert "[Note by Reviewer: Ask about the 1998 referral]" in pages[0][1]
    assert "[Annotation: Redact the name here]" in pages[0][1]
    assert "[Annotation by Counsel: Contradicts exhibit 4]" in pages[1][1]
    assert "Contradicts" not in pages[0][1]


def test_text_in_columns_keeps_every_word(put):
    words = [f"word{n:03d}" for n in range(300)]
    result = extract.extract(put("cols.pdf", office.make_columns_pdf(" ".join(words))), PDF)
    assert sorted(" ".join(t for _, t in result.pages).split()) == sorted(words)


def test_one_page_that_cannot_be_read_fails_that_page_only(put):
    path = put("bad.pdf", office.make_pdf_with_bad_page())
    result = extract.extract(path, PDF)
    assert result.pages == [(1, "First page text"), (2, ""), (3, "Third page text")]
    assert result.unread == {2: "The page is damaged and could not be read."}
    assert result.unread_reason == ("Page 2 could not be read and was left without text; "
                                    "the rest was read.")
    assert "Failed to load page" in result.detail  # PDFium's words, for admins only


def test_a_pdf_whose_every_page_is_unreadable_is_damaged(put):
    path = put("all-bad.pdf", office.make_pdf_with_bad_page(texts=(), bad=1))
    with pytest.raises(ExtractionError) as caught:
        extract.extract(path, PDF)
    assert caught.value.reason == DAMAGED


@pytest.mark.parametrize("first", READERS)
def test_a_tiny_stream_tripping_pypdfs_sanity_limit_is_no_text_not_a_bomb(put, first):
    path = put("trip.pdf", office.make_pdf_tripping_pypdf_limit())
    with pytest.raises(ExtractionError) as caught:  # pypdf alone: damage, not a bomb
        extract.PDF_READERS["pypdf"](path)
    assert caught.value.reason == DAMAGED
    assert "LimitReachedError: Declared size 4000000" in caught.value.detail
    # With PDFium reading it without trouble and finding no text, that is the outcome.
    result = extract.extract(path, PDF, pdf_text=first)
    assert result.pages == [(1, "")]


def test_when_pdfium_fails_the_fallbacks_limit_does_not_become_the_reason(put, monkeypatch):
    path = put("trip.pdf", office.make_pdf_tripping_pypdf_limit())

    def pdfium_refuses(path: str) -> extract.Extracted:
        raise ExtractionError(DAMAGED, detail="PdfiumError: Failed to load document")

    monkeypatch.setitem(extract.PDF_READERS, "pdfium", pdfium_refuses)
    with pytest.raises(ExtractionError) as caught:
        extract.read_pdf(path, "pdfium")
    assert caught.value.reason == DAMAGED
    assert "pdfium: PdfiumError" in caught.value.detail and "pypdf:" in caught.value.detail


def test_a_real_bomb_is_still_named_by_pypdf(put):
    with pytest.raises(ExtractionError) as caught:
        extract.extract_inline(put("x.pdf", samples.make_xobject_bomb_pdf()), PDF,
                               pdf_text="pypdf")
    assert caught.value.reason == BOMB
