"""Email (.eml): headers and body as text, attachments handed back for separate ingest.

An mbox "From " line first is skipped (the parser keeps it as the envelope); an HTML-only
body becomes text without scripts, styles or tags, entities decoded. Lotus Notes items
that stand for the usual headers (SendTo, CopyTo, PostedDate, INetFrom) are read as them.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

from .text import paginate
from .types import Attachment, Extracted, clean_meta

MAX_ATTACHMENTS = 50
MAX_ATTACHMENT_BYTES = 200 * 2**20
# Each header shown, and the names other mail systems give it (first found wins).
_HEADERS = {"From": ("From", "INetFrom", "Principal"), "To": ("To", "SendTo"),
            "Cc": ("Cc", "CopyTo"), "Date": ("Date", "PostedDate", "DeliveredDate"),
            "Subject": ("Subject",)}
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr"}
_BLOCK_TAGS |= {"section", "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_TAGS |= {"td", "th", "dd", "dt"}
_HIDDEN_TAGS = {"script", "style", "head", "title", "template", "xml"}


class _HTMLText(HTMLParser):
    """Visible text of an HTML body; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return parser.text()


def _one_header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message[name]
    except (ValueError, TypeError, IndexError, AttributeError):  # beyond the policy's model
        raw = (v for k, v in message.raw_items() if k.lower() == name.lower())
        value = next(raw, None)
    return clean_meta(value)


def _header(message: EmailMessage, name: str) -> str | None:
    for alias in _HEADERS.get(name, (name,)):
        value = _one_header(message, alias)
        if value:
            return value
    return None


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message["Date"]
        return getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError, AttributeError):
        return None  # Notes writes dates like "12/01/2010 10:15": shown, not parsed


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AttributeError):
        # An unknown charset: fall back to UTF-8 with replacement.
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_subtype() == "html" else content


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:  # e.g. a text part marked inline with a file name
        part = next((p for p in message.walk() if p.get_content_maintype() == "text"
                     and not p.is_multipart()), None)
    return _part_text(part) if part is not None else ""


def _attachment(part: EmailMessage, index: int) -> Attachment:
    name = part.get_filename()
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        default_ext = ".eml"
    else:
        data = part.get_payload(decode=True) or b""
        default_ext = mimetypes.guess_extension(part.get_content_type()) or ""
    name = (name or "").replace("\x00", "").strip()
    return Attachment(filename=name or f"attachment-{index}{default_ext}", data=data)


def _attachments(message: EmailMessage) -> tuple[list[Attachment], list[str]]:
    """The attachments kept, and lines listing all of them (noting any left out)."""
    kept: list[Attachment] = []
    listing: list[str] = []
    for index, part in enumerate(message.iter_attachments(), 1):
        if index > MAX_ATTACHMENTS:
            listing.append(f"(more than {MAX_ATTACHMENTS} attachments; the rest were not kept)")
            break
        item = _attachment(part, index)
        if len(item.data) > MAX_ATTACHMENT_BYTES:
            listing.append(f"Attachment: {item.filename} (not kept: larger than 200 MB)")
            continue
        kept.append(item)
        listing.append(f"Attachment: {item.filename}")
    return kept, listing


def extract(path: str) -> Extracted:
    with open(path, "rb") as fh:
        # Blank lines before the headers (some exports) would make them all body.
        message = BytesParser(policy=policy.default).parsebytes(fh.read().lstrip())
    headers = [f"{name}: {value}" for name in _HEADERS if (value := _header(message, name))]
    attachments, listing = _attachments(message)
    text = "\n".join([*headers, *listing, "", _body(message)])
    return Extracted(
        pages=paginate(text),
        page_label="page",
        title=_header(message, "Subject"),
        author=_header(message, "From"),
        created=_date(message),
        attachments=attachments,
    )
