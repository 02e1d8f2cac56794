"""The JSON API (/api/v1): search, document metadata and page text, by personal token.

Only `Authorization: Bearer <token>` authenticates here: a browser's session cookie is
ignored, so the API needs no CSRF protection and cookies cannot be used to reach it. Every
access question goes to permissions.py; a document the caller may not see gets the same
404 as one that does not exist. Every read of evidence is audited with channel "api".
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from markupsafe import escape
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ..access import audit, permissions, tokens
from ..db import db
from ..models import Document, Inquiry, Page, User
from ..review import redacted, released
from ..search.find import find, shown_documents
from ..search.query import QueryTooBroad
from .security import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens only, never cookies: there is nothing for a forged request to ride on.
csrf.exempt(bp)

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_QUERY = 1000
RATE_LIMIT = "300 per minute"
URN = re.compile(r"[A-Z]{3}\d{6}")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

MESSAGES = {
    400: "Bad request",
    401: "Authentication required: send Authorization: Bearer <token>",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    429: "Too many requests: slow down and try again in a minute",
    500: "Internal server error",
}
REFUSALS = {
    "unknown": "Invalid token",
    "revoked": "Invalid token",
    "inactive": "Invalid token",
    "password_changed": "Invalid token",
}


class ApiError(HTTPException):
    """An error whose message is meant for the caller."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _rate_key() -> str:
    """Per token when one is presented (hashed: the secret never reaches the limiter's
    storage), per address otherwise."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


# One count per token across every endpoint of the API.
limiter.shared_limit(RATE_LIMIT, scope="api", key_func=_rate_key)(bp)


def error_response(code: int, message: str | None = None) -> Response:
    response = jsonify(error=message or MESSAGES.get(code, "Error"))
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="inquiry-docs"'
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    code = error.code or 500
    message = error.message if isinstance(error, ApiError) else None
    response = error_response(code, message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429:
        response.headers["Retry-After"] = "60"  # the limit counts per minute
    return response


# ---- authentication ----


@bp.before_request
def _authenticate() -> Response | None:
    g.api_user = None
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        return error_response(401)
    verdict = tokens.authenticate(presented)
    if verdict.refusal == "must_change":
        return error_response(403, "Change your password (sign in on the web) before using the API")
    if not verdict.ok:
        token = verdict.token
        audit.record(
            "api_token_refused",
            user=token.user if token is not None else None,
            actor="" if token is not None else "anonymous",
            object_type="api_token",
            object_id=token.id if token is not None else "",
            reason=verdict.refusal,
            path=request.path[:300],
        )
        db.session.commit()
        return error_response(401, REFUSALS.get(verdict.refusal, "Invalid token"))
    if request.content_length or request.headers.get("Transfer-Encoding"):
        raise ApiError(400, "Requests to this API take no body")
    g.api_user = verdict.user
    return None


def _user() -> User:
    user = g.get("api_user")
    if user is None:  # cannot happen behind _authenticate; refuse rather than assume
        raise ApiError(401, MESSAGES[401])
    return user


def _only_params(*allowed: str) -> None:
    """Refuse parameters this endpoint does not take, e.g. an id that disagrees with the path."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise ApiError(400, f"Unknown parameter: {unknown[0][:40]}")


def _int_param(name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise ApiError(400, f"{name} must be a whole number {bounds}")
    return value


# ---- search ----


@bp.get("/search")
def search():
    who = _user()
    _only_params("q", "inquiry", "page", "per_page")
    query = request.args.get("q", "").strip()
    if not query:
        raise ApiError(400, "Enter words to search for in q")
    if len(query) > MAX_QUERY:
        raise ApiError(400, f"q must be {MAX_QUERY} characters or fewer")
    page = _int_param("page", 1, 1)
    per_page = _int_param("per_page", PER_PAGE, 1, MAX_PER_PAGE)
    code = request.args.get("inquiry", "").strip().upper() or None
    inquiry_id = _inquiry_id(code) if code else None
    try:
        results = find(who, query, inquiry_id, (page - 1) * per_page, per_page)
    except QueryTooBroad as error:
        audit.record(
            "search",
            user=who,
            object_type="search",
            query=query,
            inquiry=inquiry_id,
            documents=0,
            refused=error.message,
            channel="api",
        )
        db.session.commit()
        raise ApiError(400, f"{error.message} {error.advice}".strip()) from error
    audit.record(
        "search",
        user=who,
        object_type="search",
        query=query,
        inquiry=inquiry_id,
        documents=results.total_documents,
        channel="api",
    )
    db.session.commit()
    released.redact_snippets(who, results, query)
    rows = shown_documents(results)
    scope = permissions.scope_for(who)
    documents = []
    for hit in results.documents:
        row = rows.get(hit.document_id)
        if row is None or not scope.allows(row.inquiry_id, row.marking, row.restricted):
            continue  # the filter inside the search already excluded it; never show it
        documents.append(
            {
                "urn": row.urn,
                "title": row.title,
                "type": row.doc_type,
                "date": _date(row),
                "source": row.source,
                "status": row.status,
                "score": round(hit.score, 4),
                "pages": [
                    {
                        "number": p.number,
                        "score": round(p.score, 4),
                        "snippet_html": str(p.snippet),
                        "snippet_text": escape(p.snippet).striptags(),
                    }
                    for p in hit.pages
                ],
                "matching_pages": hit.total_pages,
                "more_pages": max(0, hit.total_pages - len(hit.pages)),
            }
        )
    return jsonify(
        query=query,
        inquiry=code,
        notice=results.notice,
        total_documents=results.total_documents,
        total_documents_estimated=results.estimated,  # an estimate (very broad searches)
        total_pages=results.total_pages,
        page=page,
        per_page=per_page,
        documents=documents,
    )


def _inquiry_id(code: str) -> int:
    """The inquiry's id; an unknown code gives an id no one holds, so nothing matches
    (never None, which would mean "every inquiry")."""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ApiError(400, "inquiry must be a 3-letter inquiry code")
    found = db.session.execute(select(Inquiry.id).where(Inquiry.code == code)).scalar()
    return found if found is not None else -1


# ---- documents ----


def _document(urn: str) -> Document:
    """The document if the caller may see it; the same 404 otherwise, and the attempt
    audited."""
    who = _user()
    urn = urn.upper()
    document = None
    if URN.fullmatch(urn):
        document = db.session.execute(select(Document).where(Document.urn == urn)).scalar()
    if document is None or not permissions.can_see(who, document):
        audit.record(
            "document_refused",
            user=who,
            object_type="document",
            object_id=document.id if document is not None else urn[:60],
            path=request.path[:300],
            channel="api",
        )
        db.session.commit()
        raise NotFound()
    return document


def _date(document: Document) -> str | None:
    return document.document_date.date().isoformat() if document.document_date else None


def _when(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


@bp.get("/documents/<urn>")
def document(urn: str):
    who = _user()
    _only_params()
    doc = _document(urn)
    parent = doc.parent if doc.parent is not None and permissions.can_see(who, doc.parent) else None
    body: dict[str, Any] = {
        "urn": doc.urn,
        "title": doc.title,
        "type": doc.doc_type,
        "inquiry": doc.inquiry.code,
        "source": doc.source,
        "date": _date(doc),
        "author": doc.author,
        "original_filename": doc.original_filename,
        "mime": doc.mime,
        "size": doc.size,
        "sha256": doc.sha256,
        "page_count": doc.page_count,
        "page_label": doc.page_label,
        "status": doc.status,
        "reason": doc.reason,
        "marking": doc.marking,
        "restricted": doc.restricted,
        "restriction_ref": doc.restriction_ref if doc.restricted else "",
        "parent": parent.urn if parent is not None else None,
        "children": [c.urn for c in doc.children if permissions.can_see(who, c)],
        "received": [
            {
                "filename": r.filename,
                "when": _when(r.received_at),
                "by": r.received_by.email if r.received_by is not None else None,
                "channel": r.channel,
                "duplicate": r.duplicate,
            }
            for r in doc.receipts
        ],
    }
    audit.record(
        "document_viewed",
        user=who,
        object_type="document",
        object_id=doc.id,
        inquiry_id=doc.inquiry_id,
        urn=doc.urn,
        pages="",
        channel="api",
    )
    db.session.commit()
    return jsonify(body)


@bp.get("/documents/<urn>/pages/<int:number>")
def page(urn: str, number: int):
    who = _user()
    _only_params()
    doc = _document(urn)
    row = db.session.execute(
        select(Page).where(Page.document_id == doc.id, Page.number == number)
    ).scalar()
    if row is None or not 1 <= number <= doc.page_count:
        raise ApiError(404, MESSAGES[404])
    audit.record(
        "page_viewed",
        user=who,
        object_type="document",
        object_id=doc.id,
        inquiry_id=doc.inquiry_id,
        urn=doc.urn,
        page=number,
        channel="api",
    )
    db.session.commit()
    return jsonify(
        urn=doc.urn, number=number, label=f"{doc.page_label.capitalize()} {number}",
        text=redacted.texts_for(who, doc, [number]).get(number, row.text),
    )


# ---- everything else under /api/v1 answers in JSON too ----


@bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS)
@bp.route("/<path:rest>", methods=ALL_METHODS)
def not_found(rest: str):
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(method="GET")
    except HTTPException:
        endpoint = None
    if endpoint not in (None, "api.not_found") and request.method != "GET":
        raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
    raise NotFound()
