"""How text that is not the body is labelled in a page: notes, comments, annotations and
form fields, in square brackets so a reader (and a search) can tell them apart."""

from __future__ import annotations


def _one_line(text: str) -> str:
    return " ".join(text.split())


def note(kind: str, number: int, text: str) -> str:
    """"[Footnote 1: text]" or "[Endnote 2: text]"."""
    return f"[{kind} {number}: {_one_line(text)}]"


def comment(text: str, author: str = "") -> str:
    """"[Comment by A. Smith: text]", or "[Comment: text]" without an author."""
    by = f" by {_one_line(author)}" if author.strip() else ""
    return f"[Comment{by}: {_one_line(text)}]"


def annotation(text: str, author: str = "", kind: str = "Annotation") -> str:
    """A PDF annotation's text: "[Annotation by J. Doe: text]"."""
    by = f" by {_one_line(author)}" if author.strip() else ""
    return f"[{kind}{by}: {_one_line(text)}]"


def form_field(name: str, value: str) -> str:
    """A filled-in PDF form field: "[Form field Surname: Smith]"."""
    label = _one_line(name) or "unnamed"
    return f"[Form field {label}: {_one_line(value)}]"
