"""`search`: the search language from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..models import User
from ..search.find import run_search
from ..search.query import QueryTooBroad
from .setup import inquiry_by_code


@click.command("search")
@click.argument("query")
@click.option("--inquiry", "code")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def search_cmd(query: str, code: str | None, as_json: bool, limit: int) -> None:
    """Search from the command line (sees every inquiry, as an administrator would)."""
    inquiry_id = inquiry_by_code(code).id if code else None
    admin = User(is_admin=True, active=True)
    try:
        results, rows = run_search(admin, query, inquiry_id, 0, limit)
    except QueryTooBroad as error:
        raise click.ClickException(f"{error.message} {error.advice}") from None
    hits = [
        {"urn": d.urn, "page": p.number, "score": round(p.score, 3), "snippet": str(p.snippet),
         "title": rows[d.document_id].title}
        for d in results.documents for p in d.pages
    ]
    if as_json:
        click.echo(json.dumps({"query": query, "documents": results.total_documents,
                               "estimated": results.estimated,
                               "pages": results.total_pages, "notice": results.notice,
                               "hits": hits}, indent=2))
        return
    if results.notice:
        click.echo(results.notice)
    if results.estimated:  # the pages are counted exactly, the documents estimated
        click.echo(f"{results.total_pages} pages in about {results.total_documents} documents")
    else:
        click.echo(f"{results.total_documents} documents, {results.total_pages} pages")
    for hit in hits:
        click.echo(f"{hit['urn']}  p.{hit['page']}  {hit['score']:.3f}  {hit['snippet']}")
