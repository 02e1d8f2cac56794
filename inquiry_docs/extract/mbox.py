"""Mailboxes (.mbox): the file split into its messages, each handed back like an email's
attachment, so each becomes a document of its own (and its attachments, children of it).

The mailbox's own pages list the messages (date, sender, subject) in file order. Messages
are separated by lines starting "From "; a body line that started so was written as
">From " and is given back as it was (mboxrd).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesHeaderParser

from .text import paginate
from .types import Attachment, Extracted, ExtractionError, clean_meta

MAX_MESSAGES = 10_000
_QUOTED_FROM = re.compile(rb"^>(>*From )")
NOT_A_MAILBOX = "The mailbox has no messages: no line starting \"From \" was found."


def messages(path: str) -> Iterator[bytes]:
    """Each message's bytes, without its "From " separator line."""
    current: list[bytes] = []
    started = False
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b"From "):
                if started:
                    yield b"".join(current)
                current, started = [], True
                continue
            if started:
                current.append(_QUOTED_FROM.sub(rb"\1", line))
    if started:
        yield b"".join(current)


def _summary(index: int, data: bytes) -> str:
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
    parts = [clean_meta(headers.get(name)) for name in ("Date", "From", "Subject")]
    return f"Message {index}: " + " | ".join(p or "-" for p in parts)


def extract(path: str) -> Extracted:
    attachments: list[Attachment] = []
    listing: list[str] = []
    count = 0
    for count, data in enumerate(messages(path), 1):
        if count > MAX_MESSAGES:
            listing.append(f"(more than {MAX_MESSAGES:,} messages; the rest were not kept: "
                           "split the mailbox and upload the parts)")
            break
        attachments.append(Attachment(filename=f"message-{count:05d}.eml", data=data))
        listing.append(_summary(count, data))
    if not attachments:
        raise ExtractionError(NOT_A_MAILBOX)
    kept = len(attachments)
    intro = (f"Mailbox of {kept:,} message{'s' if kept != 1 else ''}; each message is a "
             "document of its own.")
    return Extracted(pages=paginate("\n".join([intro, "", *listing])), page_label="page",
                     attachments=attachments)
