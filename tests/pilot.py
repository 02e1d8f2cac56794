"""A small installation with a bit of everything, for tests that move or copy one whole."""

from __future__ import annotations

import io

from inquiry_docs import recommendations
from inquiry_docs.access import signin as auth
from inquiry_docs.access import tokens
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest
from inquiry_docs.recommendations import links
from inquiry_docs.review import coding, notes, tags
from tests import samples
from tests.conftest import make_user


def fill() -> None:
    """Read documents (PDF, DOCX, an email and its attachment), review work, users,
    a token, a session and their audit events (inside an app context, immediate queue)."""
    rset = recommendations.ensure_default_set()
    inquiry = create_inquiry("OLD", "Oldham local inquiry")
    admin = make_user("admin@example.org", "admin")
    reader = make_user("reader@example.org", "reader", inquiry)
    files = [
        (samples.make_pdf(["Safeguarding referral made by the school",
                           "Police disclosure on page two"]), "referral.pdf"),
        (samples.make_docx(["Witness statement about the referral", "Second paragraph"]),
         "statement.docx"),
        (samples.make_eml("Disclosure", "Covering letter about the referral",
                          [("attached.pdf", samples.make_pdf(["Attached council minutes"]))]),
         "letter.eml"),
    ]
    received = [ingest.receive(ingest.Incoming(io.BytesIO(data), name, inquiry)).document
                for data, name in files]
    first = received[0]
    tag = tags.create(admin, inquiry.id, "Operation Fern", "blue", "Police operation")
    tags.apply(admin, tag, received)
    notes.add(admin, first, 1, "Contradicts the earlier account", quote="referral")
    coding.save(first, coding.Change("relevant", "none", True, "2", "victim", "done", None),
                admin)
    links.add(admin, rset.recommendations[0], first, links.LinkInput(1, "supports"), None)
    tokens.create(reader, "laptop")
    auth.start_session(reader)
    db.session.commit()
