"""The `cite` filter: citations in shown text become links to the cited page.

The text is escaped first (a Markup value, such as page text with search words marked, is
taken as already safe); links are added after, between tags only. A citation becomes a
link only when the reader may see the cited document; any other stays plain text, exactly
as written, so nothing hints that it exists. Which documents the reader may see is asked
once per request for the URNs met so far, not once per citation.
"""

from __future__ import annotations

import re

from flask import has_request_context, request, url_for
from markupsafe import Markup, escape

from ..evidence import citations
from . import guard
from .viewing import page_url

_TAG = re.compile(r"(<[^>]*>)")


def _visible(urns: set[str]) -> dict[str, tuple[int, int]]:
    # Kept on the request, not on `g`: an app context can outlive one request.
    known: dict[str, tuple[int, int] | None] = request.environ.setdefault(
        "inquiry_docs.cited_documents", {})
    missing = urns - known.keys()
    if missing:
        found = citations.visible_urns(guard.user(), missing)
        known.update({urn: found.get(urn) for urn in missing})
    return {urn: known[urn] for urn in urns if known.get(urn) is not None}  # type: ignore[misc]


def _link(found: citations.Found, text: str, document: tuple[int, int]) -> str:
    document_id, page_count = document
    if found.page is not None and found.page <= page_count:
        href = page_url(document_id, found.page)
    else:
        href = url_for("documents.show", document_id=document_id)
    return f'<a class="govuk-link" href="{href}">{text}</a>'


def cite(value: object) -> Markup:
    """`value` escaped, with each citation of a document the reader may see as a link."""
    html = str(value if isinstance(value, Markup) else escape("" if value is None else value))
    if not has_request_context() or not citations.CITATION.search(html):
        return Markup(html)  # noqa: S704 - escaped above, or Markup already
    parts = _TAG.split(html)
    texts = [(i, citations.find(part)) for i, part in enumerate(parts) if i % 2 == 0]
    visible = _visible({f.urn for _, found in texts for f in found})
    if not visible:
        return Markup(html)  # noqa: S704 - escaped above, or Markup already
    for index, found in texts:
        part, out, at = parts[index], [], 0
        for f in found:
            if f.urn in visible:
                out.append(part[at:f.start])
                out.append(_link(f, part[f.start:f.end], visible[f.urn]))
                at = f.end
        out.append(part[at:])
        parts[index] = "".join(out)
    return Markup("".join(parts))  # noqa: S704 - escaped text, and links built from ids
