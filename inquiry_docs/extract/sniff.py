"""Looking inside a file where libmagic cannot tell: which Word flavour a package is, and
whether text is an email (by its headers) or a mailbox.

Runs in the web process at upload, before any sandbox: it reads at most a few kilobytes
of the file (or of one ZIP entry, however large it claims to be) and parses nothing.
"""

from __future__ import annotations

import re
import zipfile

from .types import DOCM, DOCX, DOTM, DOTX

_MAIN_TYPES = {
    b"wordprocessingml.document.main+xml": DOCX,
    b"wordprocessingml.template.main+xml": DOTX,
    b"ms-word.document.macroEnabled.main+xml": DOCM,
    b"ms-word.template.macroEnabledTemplate.main+xml": DOTM,
}
_CONTENT_TYPES_BYTES = 256 * 1024
_HEAD_BYTES = 16 * 1024

# A header field: printable ASCII name, optional spaces (the obsolete "Subject :" form
# that some gateways still write), a colon.
_FIELD = re.compile(rb"^([!-9;-~]{1,76})[ \t]*:")
_MBOX_FROM = re.compile(rb"^From \S+")
# Headers that mail systems write (RFC 5322/2045 and the common X- ones of Outlook,
# GroupWise, Lotus Notes and Thunderbird); two of them make a header block an email's.
MAIL_HEADERS = frozenset({
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "received", "return-path",
    "reply-to", "sender", "in-reply-to", "references", "mime-version", "content-type",
    "delivered-to", "x-mailer", "user-agent", "importance", "x-priority", "thread-topic",
    "thread-index", "x-mimetrack", "x-keepsent", "x-gwtype", "x-mozilla-status",
    "sensitivity", "disposition-notification-to", "x-originating-ip", "authentication-results",
    "sendto", "copyto", "posteddate", "inetfrom", "principal",
})


def word_flavour(path: str) -> str | None:
    """DOCX, DOTX, DOCM or DOTM by the main part's content type; None if not Word."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "word/document.xml" not in names and not any(
                    n.startswith("word/") for n in names):
                return None
            if "[Content_Types].xml" not in names:
                return DOCX  # the reader will say what is wrong with it
            with zf.open("[Content_Types].xml") as fh:
                head = fh.read(_CONTENT_TYPES_BYTES)
    # zipfile raises RuntimeError for an encrypted entry and NotImplementedError for an
    # unknown compression method: either way not a Word file this check can recognise.
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None
    except Exception:  # a damaged entry (zlib.error, EOFError): not for this check to judge
        return DOCX
    for marker, mime in _MAIN_TYPES.items():
        if marker in head:
            return mime
    return DOCX


def _head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(_HEAD_BYTES)


def _header_names(head: bytes) -> list[str] | None:
    """The field names of the header block at the start, or None if it is not one."""
    lines = head.lstrip(b"\r\n").splitlines()
    if lines and _MBOX_FROM.match(lines[0]) and not _FIELD.match(lines[0]):
        lines = lines[1:]  # an mbox "From " separator line
    names: list[str] = []
    for line in lines[:-1] if len(head) == _HEAD_BYTES else lines:  # last may be cut
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            if not names:
                return None
            continue  # a folded continuation
        match = _FIELD.match(line)
        if match is None:
            return None
        names.append(match.group(1).decode("ascii").lower())
    return names


def looks_like_email(path: str) -> bool:
    """Does the file open with an email's header block (after an optional mbox line)?"""
    names = _header_names(_head(path))
    if not names:
        return False
    known = {n for n in names if n in MAIL_HEADERS or n.startswith(("x-gw", "x-ms-"))}
    return len(known) >= 2


def looks_like_mbox(path: str) -> bool:
    """An mbox: a "From " separator line, then an email's headers."""
    head = _head(path).lstrip(b"\r\n")
    return bool(_MBOX_FROM.match(head)) and looks_like_email(path)
