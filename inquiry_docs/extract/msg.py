"""Outlook messages (.msg) through the optional `msg` extra (extract-msg, GPL-3).

Installed only on request (`pip install 'inquiry-docs[msg]'`); without it a .msg is
refused at upload with a reason naming the extra (extract/types.py). With it: headers and
body as for an .eml, and attachments (embedded messages as .msg) as child documents.
"""

from __future__ import annotations

import importlib.util
import logging

from .email import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, html_to_text
from .reasons import technical
from .text import paginate
from .types import Attachment, Extracted, ExtractionError, clean_meta

DAMAGED = "The Outlook message (.msg) is damaged and could not be read."
NOT_A_MESSAGE = "The file is an Office file in the old binary format, not an Outlook message."


def available() -> bool:
    """Is the optional extract-msg package installed? (A lookup: nothing is imported.)"""
    return importlib.util.find_spec("extract_msg") is not None


def _attachment(item: object, index: int) -> Attachment | None:
    data = getattr(item, "data", None)
    name = (getattr(item, "longFilename", None) or getattr(item, "shortFilename", None)
            or "").replace("\x00", "").strip()
    if hasattr(data, "exportBytes"):  # an embedded message
        data = data.exportBytes()
        name = name or f"attachment-{index}.msg"
        if not name.lower().endswith(".msg"):
            name += ".msg"
    if not isinstance(data, bytes):
        return None  # a link to a web resource, or an attachment that is broken
    return Attachment(filename=name or f"attachment-{index}", data=data)


def _attachments(message: object) -> tuple[list[Attachment], list[str]]:
    kept: list[Attachment] = []
    listing: list[str] = []
    for index, item in enumerate(getattr(message, "attachments", None) or [], 1):
        if index > MAX_ATTACHMENTS:
            listing.append(f"(more than {MAX_ATTACHMENTS} attachments; the rest were not kept)")
            break
        attachment = _attachment(item, index)
        if attachment is None:
            listing.append(f"Attachment {index} (not kept: it is a link or cannot be read)")
        elif len(attachment.data) > MAX_ATTACHMENT_BYTES:
            listing.append(f"Attachment: {attachment.filename} (not kept: larger than 200 MB)")
        else:
            kept.append(attachment)
            listing.append(f"Attachment: {attachment.filename}")
    return kept, listing


def _body(message: object) -> str:
    body = getattr(message, "body", None)
    if body and body.strip():
        return body.replace("\r\n", "\n")
    html = getattr(message, "htmlBody", None)
    if html:
        return html_to_text(html.decode("utf-8", "replace") if isinstance(html, bytes) else html)
    return ""


def extract(path: str) -> Extracted:
    import extract_msg
    from extract_msg.exceptions import ExMsgBaseException

    logging.getLogger("extract_msg").setLevel(logging.ERROR)  # it warns on every quirk
    try:
        message = extract_msg.openMsg(path, strict=False, delayAttachments=False)
    except ExMsgBaseException as exc:
        raise ExtractionError(NOT_A_MESSAGE if "not an MSG" in str(exc) else DAMAGED,
                              detail=technical(exc)) from exc
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ExtractionError(DAMAGED, detail=technical(exc)) from exc
    try:
        values = {name: clean_meta(getattr(message, attr, None)) for name, attr in (
            ("From", "sender"), ("To", "to"), ("Cc", "cc"), ("Subject", "subject"))}
        date = getattr(message, "date", None)
        values["Date"] = clean_meta(date.strftime("%a, %d %b %Y %H:%M:%S %z").strip()
                                    if date else None)
        attachments, listing = _attachments(message)
        body = _body(message)
    except Exception as exc:  # a property stream the library trips on: the file is damaged
        raise ExtractionError(DAMAGED, detail=technical(exc)) from exc
    finally:
        message.close()
    headers = [f"{name}: {values[name]}" for name in ("From", "To", "Cc", "Date", "Subject")
               if values[name]]
    text = "\n".join([*headers, *listing, "", body])
    return Extracted(pages=paginate(text), page_label="page", title=values["Subject"],
                     author=values["From"], created=date, attachments=attachments)
