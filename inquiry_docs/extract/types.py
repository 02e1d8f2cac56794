"""The extraction result types, and deciding a file's type from its content.

The type comes from the bytes (libmagic), never from the name; the name's extension
must then agree with it, so a renamed program or a PDF called .docx is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

import magic

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Word's other flavours: the same XML, another content type for the main part.
DOTX = "application/vnd.openxmlformats-officedocument.wordprocessingml.template"
DOCM = "application/vnd.ms-word.document.macroEnabled.12"
DOTM = "application/vnd.ms-word.template.macroEnabled.12"
WORD = frozenset({DOCX, DOTX, DOCM, DOTM})
TEXT = "text/plain"
EMAIL = "message/rfc822"
MBOX = "application/mbox"
MSG = "application/vnd.ms-outlook"
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
    DOTX: ("Word template", frozenset({".dotx"})),
    DOCM: ("macro-enabled Word document", frozenset({".docm"})),
    DOTM: ("macro-enabled Word template", frozenset({".dotm"})),
    TEXT: ("text", frozenset({".txt", ".text", ".md", ".csv"})),
    EMAIL: ("email", frozenset({".eml"})),
    MBOX: ("mailbox", frozenset({".mbox"})),
    MSG: ("Outlook message", frozenset({".msg"})),
    PNG: ("PNG image", frozenset({".png"})),
    JPEG: ("JPEG image", frozenset({".jpg", ".jpeg"})),
    TIFF: ("TIFF image", frozenset({".tif", ".tiff"})),
}

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
    # Pages that could not be read (their text is ""): number -> reason for users.
    unread: dict[int, str] = field(default_factory=dict)
    # What went wrong in technical terms (library messages), for the log and admins only.
    detail: str = ""

    @property
    def unread_reason(self) -> str:
        """A sentence naming the pages that could not be read, or ""."""
        numbers = sorted(self.unread)
        if not numbers:
            return ""
        label = self.page_label.capitalize()
        if len(numbers) == 1:
            return (f"{label} {numbers[0]} could not be read and was left without text; "
                    "the rest was read.")
        shown = [str(n) for n in numbers[:20]]
        rest = f" and {len(numbers) - 20:,} more" if len(numbers) > 20 else ""
        named = (", ".join(shown) + rest) if rest else ", ".join(shown[:-1]) + " and " + shown[-1]
        return f"{label}s {named} could not be read and were left without text; the rest was read."


class Reason(str):
    """A reason for users that carries its technical detail (for the log and admins).

    The sandbox sends only a failure's `reason` and `retryable` back from its child, so the
    detail travels on the reason itself; it is never part of the text users see."""

    detail: str

    def __new__(cls, text: str, detail: str = "") -> Reason:
        self = super().__new__(cls, text)
        self.detail = detail
        return self

    def __reduce__(self):
        return (Reason, (str(self), self.detail))


class ExtractionError(Exception):
    """A file passed validation but its text could not be read; `reason` is for users,
    in plain words; `detail` (exception names, library messages) is for admins."""

    def __init__(self, reason: str, retryable: bool = False, detail: str | None = None) -> None:
        if detail is None:
            detail = getattr(reason, "detail", "")
        super().__init__(str(reason))
        self.reason = Reason(reason, detail)
        self.retryable = retryable

    @property
    def detail(self) -> str:
        return self.reason.detail

    def __reduce__(self):  # keep `retryable` and `detail` across pickling
        return (type(self), (str(self.reason), self.retryable, self.detail))


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


_ZIP_LIKE = {"application/zip", "application/octet-stream", "application/x-zip-compressed"}


def detect_mime(path: str) -> str:
    """The MIME type of the file's content, normalised for the supported formats."""
    from .sniff import word_flavour

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
    from .sniff import looks_like_email, looks_like_mbox

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
            "Supported: PDF, Word (.docx, .docm, .dotx, .dotm), plain text, email "
            "(.eml, .mbox, .msg) and scanned images (PNG, JPEG, TIFF)."
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
        if mime == MSG:
            from .msg import available

            if not available():
                raise Rejected(MSG_NEEDS_EXTRA)
        return mime
    raise Rejected(_refusal(mime, ext))
