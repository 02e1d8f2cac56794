"""Deciding a file's type from its content, at upload.

The type comes from the bytes (libmagic, then a look inside where libmagic cannot tell),
never from the name; the name's extension must then agree with it, so a renamed program
or a PDF called .docx is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import magic

from . import msg
from .sniff import looks_like_email, looks_like_mbox, word_flavour
from .types import (
    DOCM,
    DOCX,
    DOTM,
    DOTX,
    EMAIL,
    IMAGES,
    JPEG,
    KNOWN,
    MBOX,
    MSG,
    PDF,
    PNG,
    TEXT,
    TIFF,
    Rejected,
)

# Plain text by another name; "text/x-*" are libmagic's guesses at programming languages.
_PLAIN_TEXT = {"text/csv", "application/csv", "text/markdown", "text/tab-separated-values"}
_EMAIL_LIKE = {EMAIL, "message/news"}

_CONTENT_WORDS = {PDF: "PDF", DOCX: "DOCX", DOTX: "a Word template (.dotx)",
                  DOCM: "a macro-enabled Word document (.docm)",
                  DOTM: "a macro-enabled Word template (.dotm)", TEXT: "plain text",
                  EMAIL: "an email message", MBOX: "a mailbox of email messages (.mbox)",
                  MSG: "an Outlook message (.msg)", PNG: "a PNG image", JPEG: "a JPEG image",
                  TIFF: "a TIFF image"}

# What libmagic reports for things people upload by mistake, in words for the message.
_DESCRIPTIONS = {
    "application/zip": "a ZIP archive",
    "application/x-dosexec": "a Windows program",
    "application/vnd.microsoft.portable-executable": "a Windows program",
    "application/x-executable": "a program",
    "application/x-pie-executable": "a program",
    "application/x-sharedlib": "a program library",
    "application/x-mach-binary": "a program",
    "application/msword": "an old-style Word document (.doc)",
    "application/cdfv2": "an Office file in the old binary format (.doc/.xls/.msg)",
    "application/vnd.ms-outlook": "an Outlook message (.msg)",
    "application/x-ole-storage": "an Office file in the old binary format",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "a PowerPoint presentation"
    ),
    "application/json": "JSON",
    "text/xml": "XML",
    "application/xml": "XML",
    "text/html": "HTML",
    "text/rtf": "RTF",
    "application/rtf": "RTF",
    "application/octet-stream": "unrecognised binary data",
    "inode/x-empty": "empty",
}


_ZIP_LIKE = {"application/zip", "application/octet-stream", "application/x-zip-compressed"}


def detect_mime(path: str) -> str:
    """The MIME type of the file's content, normalised for the supported formats."""
    mime = magic.from_file(path, mime=True)
    # libmagic can append details ("application/x-executable, no program header").
    mime = mime.split(",")[0].split(";")[0].strip().lower()
    if mime in _ZIP_LIKE or mime == DOCX:
        # libmagic calls every Word flavour DOCX: the main part's content type tells.
        return word_flavour(path) or mime
    if mime in _PLAIN_TEXT or mime.startswith("text/x-"):
        return TEXT
    return mime


def describe(mime: str) -> str:
    """Words for a MIME type, for messages."""
    if mime in _CONTENT_WORDS:
        return _CONTENT_WORDS[mime]
    if mime in _DESCRIPTIONS:
        return _DESCRIPTIONS[mime]
    if mime.startswith("image/"):
        return f"an image ({mime.split('/', 1)[1].upper()})"
    return f"data of type {mime}"


# What libmagic may call an email or a mailbox whose headers it does not know (an HTML-only
# body, GroupWise or Lotus Notes headers, an mbox "From " line first).
_MAYBE_EMAIL = {TEXT, "text/html", MBOX, "message/news", "text/rfc822-headers"}
MSG_NEEDS_EXTRA = (
    "Outlook messages (.msg) can be read only when the optional msg extra is installed "
    "on the server (pip install 'inquiry-docs[msg]'). Ask an administrator, or save the "
    "message as .eml and upload that."
)


def _reconcile(mime: str, ext: str, path: str) -> str:
    """Where content and name are both honest but libmagic is ambiguous, follow the name
    once the content agrees with it (an email by its headers, a mailbox by its first line)."""
    if ext in KNOWN[EMAIL][1] and (
        mime in _EMAIL_LIKE or (mime in _MAYBE_EMAIL and looks_like_email(path))
    ):
        return EMAIL
    if ext in KNOWN[MBOX][1] and mime in _MAYBE_EMAIL | _EMAIL_LIKE and looks_like_mbox(path):
        return MBOX
    if mime in _EMAIL_LIKE and ext in KNOWN[TEXT][1]:
        # A memo starting "From: ... To: ..." saved as .txt is still plain text.
        return TEXT
    return mime


def _extension(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return os.path.splitext(base)[1].lower()


def _expected(mime: str) -> str:
    return " or ".join(sorted(KNOWN[mime][1]))


def _refusal(mime: str, ext: str) -> str:
    """Why a file with content `mime` and extension `ext` is refused."""
    named_as_supported = any(ext in exts for _, exts in KNOWN.values())
    if named_as_supported:
        return f"The file is named {ext} but its content is {describe(mime)}."
    if mime not in KNOWN:
        return (
            f"Files of this type ({describe(mime)}) are not supported. "
            f"Supported: {accepted_summary()}."
        )
    if not ext:
        return (
            f"The file name has no extension; its content is {describe(mime)}, "
            f"so it should end in {_expected(mime)}."
        )
    return (
        f"The extension {ext} is not supported; the content is {describe(mime)}, "
        f"so the file should end in {_expected(mime)}."
    )


def check_type(path: str, filename: str) -> str:
    """The supported MIME type of the file at `path`, uploaded as `filename`.

    Raises Rejected with a reason for users when the content is not a supported type,
    or when the name's extension does not match the content.
    """
    if os.path.getsize(path) == 0:
        raise Rejected("The file is empty.")
    ext = _extension(filename)
    mime = _reconcile(detect_mime(path), ext, path)
    accepted = accepted_formats()
    if mime in accepted and ext in accepted[mime].extensions:
        return mime
    if mime == MSG and ext in KNOWN[MSG][1]:
        raise Rejected(MSG_NEEDS_EXTRA)
    raise Rejected(_refusal(mime, ext))


@dataclass(frozen=True)
class Accepted:
    """A type check_type lets through, as the upload page names it."""

    name: str
    extensions: tuple[str, ...]
    image: bool  # a picture of pages (a scan or photo): its text is read by OCR


def accepted_formats() -> dict[str, Accepted]:
    """mime -> Accepted for every type check_type accepts: the upload page and refusal
    reasons name these, so what they say cannot drift from what is let in."""
    return {mime: Accepted(name, tuple(sorted(extensions)), mime in IMAGES)
            for mime, (name, extensions) in KNOWN.items()
            if mime != MSG or msg.available()}


def accepted_summary() -> str:
    """The accepted types in one line: "PDF (.pdf), DOCX (.docx), ... PNG image (.png)"."""
    return ", ".join(f"{f.name} ({', '.join(f.extensions)})"
                     for f in accepted_formats().values())
