"""Email as it arrives: recognised by its headers whatever libmagic calls it, mailboxes
split into messages, and Outlook .msg through the optional extract-msg package."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inquiry_docs import extract
from inquiry_docs.extract import Rejected, check_type
from inquiry_docs.extract import msg as msg_reader
from inquiry_docs.extract.checks import MSG_NEEDS_EXTRA
from inquiry_docs.extract.types import EMAIL, MBOX, MSG, TEXT
from tests import samples
from tests import samples_mail as mail
from tests.conftest import require

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")

HTML = ("<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
        "<body><p>Dear&nbsp;panel &amp; counsel,</p><p>The minutes &lt;attached&gt;.</p>"
        "</body></html>")


@pytest.fixture
def put(tmp_path: Path):
    def put(name: str, data: bytes) -> str:
        return str(samples.write(tmp_path, name, data))

    return put


def needs_extract_msg() -> None:
    require(importlib.util.find_spec("extract_msg") is not None,
            "extract-msg (the msg extra) is not installed")


def body_of(result: extract.Extracted) -> str:
    return result.pages[0][1].split("\n\n", 1)[1]


@pytest.mark.parametrize("builder", [
    lambda: mail.make_eml_with_mbox_line(subject="Saved from a mailbox"),
    lambda: mail.make_html_only_eml(HTML),
    lambda: mail.make_groupwise_eml("GroupWise body."),
    lambda: mail.make_notes_eml("<p>Notes body.</p>"),
    lambda: b"X-Mozilla-Status: 0001\nFrom: a@example.org\nSubject: Thunderbird\n\nBody\n",
    lambda: b"\r\nReturn-Path: <a@example.org>\r\nSubject : old gateway\r\n\r\nBody\r\n",
], ids=["mbox-line", "html-only", "groupwise", "lotus-notes", "thunderbird", "blank-first"])
def test_email_is_recognised_by_its_headers(put, builder):
    assert check_type(put("upload", builder()), "message.eml") == EMAIL


@pytest.mark.parametrize(("name", "data", "message"), [
    ("page.eml", b"<!DOCTYPE html><html><body><p>Hello</p></body></html>",
     "named .eml but its content is HTML"),
    ("notes.eml", b"Meeting notes, 3 March.\nNo headers here.\n",
     "named .eml but its content is plain text"),
])
def test_html_or_text_named_eml_without_email_headers_is_refused(put, name, data, message):
    with pytest.raises(Rejected, match=message):
        check_type(put("upload", data), name)


def test_a_memo_with_email_like_lines_saved_as_txt_stays_text(put):
    path = put("upload", mail.make_eml_with_mbox_line())
    assert check_type(path, "memo.txt") == TEXT


def test_an_mbox_line_first_is_the_envelope_not_the_text(put):
    path = put("m.eml", mail.make_eml_with_mbox_line(subject="Envelope", body="Body."))
    result = extract.extract(path, EMAIL)
    assert result.title == "Envelope"
    assert result.pages[0][1].startswith("From: Solicitor <solicitor@example.org>\n")
    assert "Thu Mar  4" not in result.pages[0][1]


def test_an_html_only_body_is_text_without_scripts_or_styles(put):
    result = extract.extract(put("h.eml", mail.make_html_only_eml(HTML)), EMAIL)
    assert body_of(result) == "Dear panel & counsel,\nThe minutes <attached>."


def test_groupwise_and_lotus_notes_messages_are_read(put):
    groupwise = extract.extract(put("g.eml", mail.make_groupwise_eml("Case notes.")), EMAIL)
    assert groupwise.author == '"Smith, John" <JSmith@example.gov.uk>'
    assert groupwise.created == datetime(2010, 1, 12, 10, 15, tzinfo=UTC)
    assert groupwise.pages[0][1].endswith("Case notes.")
    notes = extract.extract(put("n.eml", mail.make_notes_eml("<p>Referral <b>made</b>.</p>")),
                            EMAIL)
    assert (notes.title, body_of(notes)) == ("Referral", "Referral made.")
    assert "Date: 12/01/2010 10:15" in notes.pages[0][1]  # shown as written, not parsed
    assert notes.created is None


def test_a_mailbox_is_split_into_messages(put):
    box = mail.make_mbox([
        samples.make_eml(subject="First", body="From the start of a line.\nSecond line."),
        samples.make_eml(subject="Second", attachments=[("note.txt", b"attached")]),
        mail.make_html_only_eml("<p>Third</p>", subject="Third"),
    ])
    path = put("box.mbox", box)
    assert check_type(path, "exported.mbox") == MBOX
    result = extract.extract(path, MBOX)
    assert [a.filename for a in result.attachments] == [
        "message-00001.eml", "message-00002.eml", "message-00003.eml"]
    assert result.pages[0][1].startswith("Mailbox of 3 messages")
    assert "Message 2: Thu, 04 Mar 2021 09:30:00 +0000 | Solicitor <solicitor@example.org> " \
           "| Second" in result.pages[0][1]
    first = result.attachments[0].data
    assert b"\nFrom the start of a line." in first and b">From" not in first
    for index, attachment in enumerate(result.attachments, 1):  # each an email of its own
        assert check_type(put(f"m{index}", attachment.data), attachment.filename) == EMAIL


def test_a_file_named_mbox_without_messages_is_refused(put):
    with pytest.raises(Rejected, match=r"named \.mbox but its content is plain text"):
        check_type(put("upload", b"Just some notes.\n"), "notes.mbox")


def test_outlook_message_body_headers_and_attachments(put):
    needs_extract_msg()
    data = mail.make_msg(subject="Bundle for the panel", body="Please see attached.",
                         attachments=[("index.txt", b"List of exhibits"),
                                      ("statement.pdf", samples.make_pdf(["Statement"]))])
    path = put("m.msg", data)
    assert check_type(path, "Bundle.msg") == MSG
    result = extract.extract(path, MSG)
    first = result.pages[0][1]
    assert first.startswith("From: Solicitor <solicitor@example.org>\n")
    assert "Subject: Bundle for the panel" in first and first.endswith("Please see attached.")
    assert "Attachment: statement.pdf" in first
    assert (result.title, result.created) == ("Bundle for the panel",
                                              datetime(2021, 3, 4, 9, 30, tzinfo=UTC))
    assert [(a.filename, a.data[:4]) for a in result.attachments] == [
        ("index.txt", b"List"), ("statement.pdf", b"%PDF")]


def test_an_html_only_outlook_message_is_read(put):
    needs_extract_msg()
    path = put("h.msg", mail.make_msg(subject="HTML", html=HTML))
    assert body_of(extract.extract(path, MSG)) == "Dear panel & counsel,\nThe minutes <attached>."


def test_a_damaged_outlook_message_fails_in_plain_words(put):
    needs_extract_msg()
    data = mail.make_msg()
    path = put("d.msg", data[:1536] + bytes(len(data) - 1536))
    with pytest.raises(extract.ExtractionError) as caught:
        extract.extract(path, MSG)
    assert caught.value.reason in (msg_reader.DAMAGED, msg_reader.NOT_A_MESSAGE)
    assert caught.value.detail  # extract-msg's own words, for admins


def test_without_the_msg_extra_a_msg_is_refused_naming_it(put, monkeypatch):
    needs_extract_msg()  # to build the file
    path = put("m.msg", mail.make_msg())
    monkeypatch.setattr(msg_reader, "available", lambda: False)
    with pytest.raises(Rejected) as caught:
        check_type(path, "m.msg")
    assert caught.value.reason == MSG_NEEDS_EXTRA
    assert "inquiry-docs[msg]" in caught.value.reason
