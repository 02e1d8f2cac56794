"""Word files as Word writes them: every flavour, content controls, text boxes, notes and
comments in reading order, embedded objects, missing parts. Built on the fly
(tests/samples_office.py) and read by the real reader, inline and in the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from inquiry_docs import extract
from inquiry_docs.extract import ExtractionError, Rejected, ZipLimits, check_type
from inquiry_docs.extract.types import DOCM, DOCX, DOTM, DOTX
from inquiry_docs.extract.zipcheck import check_zip
from tests import samples
from tests import samples_office as office
from tests.samples_office import WordParts, p

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")

FLAVOURS = [(DOCX, ".docx"), (DOTX, ".dotx"), (DOCM, ".docm"), (DOTM, ".dotm")]


@pytest.fixture
def put(tmp_path: Path):
    def put(name: str, data: bytes) -> str:
        return str(samples.write(tmp_path, name, data))

    return put


def text_of(result: extract.Extracted) -> str:
    return "\n".join(text for _, text in result.pages)


@pytest.mark.parametrize(("mime", "ext"), FLAVOURS)
def test_every_word_flavour_is_accepted_by_its_extension_and_read(put, mime, ext):
    made_by_python_docx = office.as_flavour(
        samples.make_docx(["Template paragraph."], header="Letterhead"), mime)
    path = put(f"upload{ext}", made_by_python_docx)
    assert check_type(path, f"form{ext}") == mime
    result = extract.extract(path, mime)
    assert text_of(result) == "Letterhead\nTemplate paragraph."
    hand_made = put(f"hand{ext}", office.make_word(WordParts(body=p("Hand made.")), mime))
    assert check_type(hand_made, f"hand{ext}") == mime
    assert extract.extract_inline(hand_made, mime).pages == [(1, "Hand made.")]


def test_a_word_flavour_under_another_flavours_extension_is_refused_in_words(put):
    path = put("upload", office.make_word(WordParts(body=p("Macros.")), DOCM))
    with pytest.raises(Rejected) as caught:
        check_type(path, "letter.docx")
    assert caught.value.reason == ("The file is named .docx but its content is a "
                                   "macro-enabled Word document (.docm).")


def test_content_controls_give_their_text_but_not_their_prompts(put):
    body = (office.content_control(p("Block control text."), block=True)
            + p("Name: ", office.content_control(office.run("Jane Roe"), block=False))
            + office.content_control(p("Click or tap here to enter text."), block=True,
                                     placeholder=True)
            + office.table([["Date", "Event"], ["1998", "Referral made"]], control_row=1))
    result = extract.extract_inline(put("c.docx", office.make_word(WordParts(body=body))),
                                    DOCX)
    assert result.pages == [(1, "Block control text.\nName: Jane Roe\nDate | Event\n"
                                "1998 | Referral made")]


def test_text_boxes_are_read_where_they_stand_and_once(put):
    body = (p("Before the box.") + p(office.text_box(["Boxed quotation", "second line"]))
            + p("Between.") + p(office.text_box(["Old VML box"], vml_only=True))
            + p("After."))
    result = extract.extract_inline(put("t.docx", office.make_word(WordParts(body=body))),
                                    DOCX)
    # The DrawingML box and Word's VML copy of it (the fallback) count once.
    assert result.pages == [(1, "Before the box.\nBoxed quotation\nsecond line\nBetween.\n"
                                "Old VML box\nAfter.")]


def test_notes_and_comments_are_labelled_at_the_end_of_their_page(put):
    body = (p("The head teacher was told", office.footnote_ref(7), ".")
            + p(office.commented(3, "No action was taken.")) + office.page_break()
            + p("The second page cites", office.footnote_ref(9), office.endnote_ref(2), "."))
    parts = WordParts(body=body, footnotes={7: "Statement of W3, para 4.", 9: "Exhibit 12."},
                      endnotes={2: "See the chronology."},
                      comments={3: ("A. Counsel", "Check the date."), 4: ("B", "Unanchored.")},
                      footer="Footer line")
    result = extract.extract_inline(put("n.docx", office.make_word(parts)), DOCX)
    assert result.page_label == "page"
    assert result.pages == [
        (1, "The head teacher was told.\nNo action was taken.\n"
            "[Footnote 1: Statement of W3, para 4.]\n[Comment by A. Counsel: Check the date.]"),
        (2, "The second page cites.\n[Footnote 2: Exhibit 12.]\n"
            "[Endnote 1: See the chronology.]\n[Comment by B: Unanchored.]\nFooter line"),
    ]


def test_without_page_breaks_notes_go_at_the_end_of_the_document(put):
    body = p("Opening", office.footnote_ref(1)) + p(office.commented(1, "Middle.")) + p("End.")
    parts = WordParts(body=body, footnotes={1: "A note."}, comments={1: ("", "Unsigned.")})
    result = extract.extract_inline(put("s.docx", office.make_word(parts)), DOCX)
    assert result.page_label == "section"
    assert text_of(result) == "Opening\nMiddle.\nEnd.\n[Footnote 1: A note.]\n" \
                              "[Comment: Unsigned.]"


def test_embedded_objects_that_compress_well_are_not_called_a_bomb(put):
    path = put("e.docx", office.make_docx_with_embedded_objects("The report is attached."))
    check_zip(path)  # 90 MB of blank embedded objects, each thousands of times compressed
    assert text_of(extract.extract(path, DOCX)) == "The report is attached."
    # The total still counts every part, embedded or not.
    with pytest.raises(ExtractionError, match=r"expands to 9\d MB"):
        check_zip(path, ZipLimits(max_uncompressed_bytes=50 * 2**20))


def test_an_xml_part_that_expands_too_far_is_still_a_bomb(put):
    path = put("x.docx", samples.make_ratio_bomb_docx())
    with pytest.raises(ExtractionError) as caught:
        extract.extract(path, DOCX)
    assert "a part that expands" in caught.value.reason
    assert "decompression bomb" in caught.value.reason


def test_a_missing_picture_part_leaves_the_text(put):
    path = put("m.docx", office.make_docx_missing_picture("The photograph shows the gate."))
    assert text_of(extract.extract(path, DOCX)) == ("The photograph shows the gate.\n"
                                                   "After the picture.")
    # python-docx's own file, its picture part then lost, reads the same way.
    import docx as python_docx
    from PIL import Image

    picture = Path(path).with_suffix(".png")
    Image.new("RGB", (8, 8)).save(picture)
    document = python_docx.Document()
    document.add_paragraph("Caption text.")
    document.add_picture(str(picture))
    lost = put("lost.docx", b"")
    document.save(lost)
    data = office.with_parts(Path(lost).read_bytes(), {}, drop=["word/media/image1.png"])
    assert text_of(extract.extract(put("lost.docx", data), DOCX)) == "Caption text."


def test_a_missing_header_part_is_left_out_and_noted_for_admins(put):
    data = office.make_word(WordParts(body=p("Body text."), header="Lost header"))
    path = put("h.docx", office.with_parts(data, {}, drop=["word/header1.xml"]))
    result = extract.extract_inline(path, DOCX)
    assert result.pages == [(1, "Body text.")]
    assert result.detail == "missing part word/header1.xml"


def test_a_word_file_without_its_main_part_is_damaged_in_plain_words(put):
    data = office.with_parts(office.make_word(WordParts(body=p("x"))), {},
                             drop=["word/document.xml"])
    with pytest.raises(ExtractionError) as caught:
        extract.extract(put("d.docx", data), DOCX)
    assert caught.value.reason == "The Word document is damaged and could not be read."
    assert "no main document part" in caught.value.detail
