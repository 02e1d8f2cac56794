"""Builders for email as it arrives: an mbox "From " line first, HTML-only bodies,
GroupWise and Lotus Notes header shapes, mailboxes (.mbox) and Outlook messages (.msg).

Outlook messages are written with extract-msg's own compound-file writer (the optional
`msg` extra, installed for the tests): the MAPI property streams Outlook writes for a
subject, body, transport headers and attachments by value.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from tests.samples import make_eml

MBOX_FROM = b"From secretariat@example.org Thu Mar  4 09:30:00 2021\n"


def make_eml_with_mbox_line(**kwargs: object) -> bytes:
    """An .eml saved from a mailbox, keeping the "From " separator as its first line."""
    return MBOX_FROM + make_eml(**kwargs)  # type: ignore[arg-type]


def make_html_only_eml(html: str, subject: str = "Minutes") -> bytes:
    """A message whose only body is HTML, with the headers most clients write."""
    return (
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n"
        "From: Clerk <clerk@example.org>\r\n"
        "To: Panel <panel@example.org>\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 01 Feb 2021 10:00:00 +0000\r\n\r\n" + html
    ).encode()


def make_groupwise_eml(body: str, subject: str = "Case conference") -> bytes:
    """A message as Novell GroupWise's Internet Agent writes it: Message-Id and X-Mailer
    first, "Mime-Version" spelt its way, and GroupWise's boundary shape."""
    boundary = "=__Part8B1F2E3A.1__="
    return (
        "Message-Id: <60A7C2E3020000A1000F4D2B@gw.example.gov.uk>\r\n"
        "X-Mailer: Novell GroupWise Internet Agent 14.2.2\r\n"
        "Date: Tue, 12 Jan 2010 10:15:00 +0000\r\n"
        'From: "Smith, John" <JSmith@example.gov.uk>\r\n'
        'To: "Inquiry Team" <team@example.org>\r\n'
        f"Subject: {subject}\r\n"
        "Mime-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        "This is a MIME message. If you are reading this text, you may want to \r\n"
        "consider changing to a mail reader or gateway that understands how to \r\n"
        "properly handle MIME multipart messages.\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=US-ASCII\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Disposition: inline\r\n\r\n"
        f"{body}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def make_notes_eml(html: str, subject: str = "Referral") -> bytes:
    """A message as Lotus Notes sends it: X-MIMETrack and X-KeepSent headers, addresses
    in Notes' hierarchical form, a date Notes' way, and an HTML-only alternative part."""
    return (
        "X-MIMETrack: Serialize by Router on MAIL01/ACME(Release 8.5.3FP6|November 21, "
        "2013) at 12/01/2010 10:15:34\r\n"
        "To: John Smith/ACME@ACME\r\n"
        f"Subject: {subject}\r\n"
        "X-KeepSent: 1234ABCD:5678EF00-00257A7B:0035C8C5; type=4; name=$KeepSent\r\n"
        "X-Mailer: Lotus Notes Release 8.5.3 September 15, 2011\r\n"
        "From: Jane Doe/ACME@ACME\r\n"
        "Date: 12/01/2010 10:15\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-type: multipart/alternative; Boundary="0__=4EBBF0DFDFF2A5C18f9e8a93df93"\r\n'
        "\r\n--0__=4EBBF0DFDFF2A5C18f9e8a93df93\r\n"
        "Content-type: text/html; charset=US-ASCII\r\n"
        "Content-Disposition: inline\r\n\r\n"
        f"{html}\r\n"
        "--0__=4EBBF0DFDFF2A5C18f9e8a93df93--\r\n"
    ).encode()


def make_mbox(messages: Sequence[bytes]) -> bytes:
    """Messages in one mailbox, body lines starting "From " quoted as ">From " (mboxrd)."""
    out = []
    for index, message in enumerate(messages):
        lines = message.replace(b"\r\n", b"\n").split(b"\n")
        quoted = [b">" + line if line.lstrip(b">").startswith(b"From ") else line
                  for line in lines]
        stamp = f"From sender{index}@example.org Thu Mar  4 09:{index % 60:02d}:00 2021\n"
        out.append(stamp.encode() + b"\n".join(quoted).rstrip(b"\n") + b"\n\n")
    return b"".join(out)


# --- Outlook .msg ------------------------------------------------------------------------

_STRING, _BINARY, _INT, _TIME = 0x001F, 0x0102, 0x0003, 0x0040
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def _stream(prop: int, kind: int) -> str:
    return f"__substg1.0_{prop:04X}{kind:04X}"


def _properties(header: bytes, variable: dict[tuple[int, int], bytes],
                fixed: dict[tuple[int, int], int]) -> bytes:
    out = bytearray(header)
    for (prop, kind), data in variable.items():
        size = len(data) + (2 if kind == _STRING else 0)
        out += struct.pack("<IIII", (prop << 16) | kind, 0x6, size, 0)
    for (prop, kind), value in fixed.items():
        out += struct.pack("<IIQ", (prop << 16) | kind, 0x6, value)
    return bytes(out)


def make_msg(subject: str = "Disclosure", body: str = "Please find the bundle attached.",
             *, sender: str = "Solicitor <solicitor@example.org>",
             to: str = "Inquiry Secretariat <secretariat@example.org>",
             date: datetime | None = None,
             attachments: Sequence[tuple[str, bytes]] = (),
             html: str | None = None) -> bytes:
    """An Outlook message: subject, plain (or HTML) body, transport headers, attachments."""
    from extract_msg.ole_writer import OleWriter

    sent = date or datetime(2021, 3, 4, 9, 30, tzinfo=UTC)
    headers = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
               f"Date: {format_datetime(sent)}\r\nMIME-Version: 1.0\r\n\r\n")
    submitted = int((sent - _FILETIME_EPOCH).total_seconds() * 10**7)
    variable: dict[tuple[int, int], bytes] = {
        (0x001A, _STRING): "IPM.Note".encode("utf-16-le"),
        (0x0037, _STRING): subject.encode("utf-16-le"),
        (0x007D, _STRING): headers.encode("utf-16-le"),
        (0x0C1A, _STRING): sender.split("<")[0].strip().encode("utf-16-le"),
        (0x0E04, _STRING): to.encode("utf-16-le"),
    }
    if html is not None:
        variable[(0x1013, _BINARY)] = html.encode("utf-8")
    else:
        variable[(0x1000, _STRING)] = body.encode("utf-16-le")
    writer = OleWriter()
    for (prop, kind), data in variable.items():
        writer.addEntry(_stream(prop, kind), data)
    header = struct.pack("<8sIIII8s", bytes(8), 0, len(attachments), 0, len(attachments),
                         bytes(8))
    writer.addEntry("__properties_version1.0",
                    _properties(header, variable, {(0x0039, _TIME): submitted}))
    writer.addEntry("__nameid_version1.0", storage=True)
    for number in (2, 3, 4):
        writer.addEntry(f"__nameid_version1.0/{_stream(number, _BINARY)}", b"")
    for index, (name, data) in enumerate(attachments):
        folder = f"__attach_version1.0_#{index:08X}"
        writer.addEntry(folder, storage=True)
        parts = {(0x3707, _STRING): name.encode("utf-16-le"),
                 (0x3704, _STRING): name[:12].encode("utf-16-le"),
                 (0x3701, _BINARY): data}
        for (prop, kind), value in parts.items():
            writer.addEntry(f"{folder}/{_stream(prop, kind)}", value)
        writer.addEntry(f"{folder}/__properties_version1.0",
                        _properties(bytes(8), parts, {(0x3705, _INT): 1, (0x0E21, _INT): index}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
