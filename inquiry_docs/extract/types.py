"""The extraction result types, and deciding a file's type from its content.

The type comes from the bytes (libmagic), never from the name; the name's extension
must then agree with it, so a renamed program or a PDF called .docx is refused.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

import magic

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
EMAIL = "message/rfc822"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
IMAGES = frozenset({PNG, JPEG, TIFF})
# Formats whose pages can be shown as images (and read by OCR when they carry no text).
PAGED = IMAGES | {PDF}

# mime -> (display name, accepted extensions); __init__ binds an extractor to each.
KNOWN: dict[str, tuple[str, frozenset[str]]] = {
    PDF: ("PDF", frozenset({".pdf"})),
    DOCX: ("DOCX", frozenset({".docx"})),
    TEXT: ("text", frozenset({".txt", ".text", ".md", ".csv"})),
    EMAIL: ("email", frozenset({".eml"})),
    PNG: ("PNG image", frozenset({".png"})),
    JPEG: ("JPEG image", frozenset({".jpg", ".jpeg"})),
    TIFF: ("TIFF image", frozenset({".tif", ".tiff"})),
}

# Plain text by another name; "text/x-*" are libmagic's guesses at programming languages.
_PLAIN_TEXT = {"text/csv", "application/csv", "text/markdown", "text/tab-separated-values"}
_EMAIL_LIKE = {EMAIL, "message/news"}

_CONTENT_WORDS = {PDF: "PDF", DOCX: "DOCX", TEXT: "plain text", EMAIL: "an email message",
                  PNG: "a PNG image", JPEG: "a JPEG image", TIFF: "a TIFF image"}

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


@dataclass
class Attachment:
    filename: str  # as given in the email: untrusted, never use as a path
    data: bytes


@dataclass
class Extracted:
    pages: list[tuple[int, str]]  # (1-based number, text)
    page_label: str  # "page" or "section"
    title: str | None = None
    author: str | None = None
    created: datetime | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # Pages whose text came from OCR: number -> mean word confidence (0-100).
    ocr: dict[int, float | None] = field(default_factory=dict)


class ExtractionError(Exception):
    """A file passed validation but its text could not be read; `reason` is for users."""

    def __init__(self, reason: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable

    def __reduce__(self):  # keep `retryable` across pickling
        return (type(self), (self.reason, self.retryable))


class Rejected(Exception):
    """The file's type is not supported or its name contradicts its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_text(text: str) -> str:
    """Text safe to store: no NULs (PostgreSQL refuses them), no lone surrogates,
    and "" when there is nothing but whitespace."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text if text.strip() else ""


def clean_meta(value: object) -> str | None:
    """A metadata string, or None when missing or blank."""
    if value is None:
        return None
    text = clean_text(str(value)).strip()
    return text or None


def _is_docx_zip(path: str) -> bool:
    # Reads only the central directory, never inflates anything.
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def detect_mime(path: str) -> str:
    """The MIME type of the file's content, normalised for the supported formats."""
    mime = magic.from_file(path, mime=True)
    # libmagic can append details ("application/x-executable, no program header").
    mime = mime.split(",")[0].split(";")[0].strip().lower()
    if mime in {"application/zip", "application/octet-stream", "application/x-zip-compressed"}:
        return DOCX if _is_docx_zip(path) else mime
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


def _looks_like_email(path: str) -> bool:
    # An .eml that libmagic calls text: accept it if it opens with a header line.
    with open(path, "rb") as fh:
        head = fh.read(1024).lstrip()
    name, sep, _ = head.partition(b":")
    return bool(sep) and 0 < len(name) < 80 and all(33 <= c <= 126 for c in name)


def _reconcile(mime: str, ext: str, path: str) -> str:
    """Where content and name are both honest but libmagic is ambiguous, follow the name."""
    if ext in KNOWN[EMAIL][1] and (
        mime in _EMAIL_LIKE or (mime == TEXT and _looks_like_email(path))
    ):
        return EMAIL
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
            "Supported: PDF, DOCX, plain text, email (.eml) and scanned images "
            "(PNG, JPEG, TIFF)."
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
    if mime in KNOWN and ext in KNOWN[mime][1]:
        return mime
    raise Rejected(_refusal(mime, ext))
