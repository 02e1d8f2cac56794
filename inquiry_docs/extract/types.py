"""The supported types, the extraction result and the errors (checks.py decides a file's
type from its content)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    # Labelled text added on top of a page's own (form fields, annotations), which is also
    # at the end of that page's text: number -> text. A page holding only this still has
    # no text layer, so OCR still reads it (a scan with a sticky note on it).
    added: dict[int, str] = field(default_factory=dict)

    def without_layer(self) -> list[int]:
        """Pages without a text layer of their own (at most added labels)."""
        return [n for n, text in self.pages
                if not text.replace(self.added.get(n, ""), "").strip()]

    def with_added(self, number: int, text: str) -> str:
        """`text` (e.g. what OCR read) for page `number`, with the page's added labels."""
        return "\n".join(part for part in (text.rstrip(), self.added.get(number, "")) if part)

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
