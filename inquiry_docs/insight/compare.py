"""What changed between two versions, word by word, shown page by page side by side.

The two texts are compared as whole sequences of words (difflib), so a paragraph added on
page 1 that pushes the rest along shows as one addition, not as changes on every later
page; each word keeps the page it is on, and the result is laid out by page number. Every
word is escaped before it is wrapped in <del> or <ins>.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

MAX_WORDS = 200_000  # per side: beyond this the comparison is refused, not attempted
EXACT_WORDS = 20_000  # below this every word is an anchor; above, common ones are not
_WORD = re.compile(r"\S+")
EQUAL, REMOVED, ADDED = "equal", "removed", "added"


class TooLong(Exception):
    """The texts are too long to compare here."""


@dataclass
class PageRow:
    number: int
    left: Markup | None  # None: the first document has no such page
    right: Markup | None
    removed: int = 0
    added: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added) or (self.left is None) != (self.right is None)


@dataclass
class Comparison:
    rows: list[PageRow]
    removed: int
    added: int
    same: int

    @property
    def changed_pages(self) -> list[int]:
        return [row.number for row in self.rows if row.changed]

    @property
    def identical(self) -> bool:
        return not self.removed and not self.added and not self.changed_pages


def _words(pages: list[tuple[int, str]]) -> tuple[list[str], dict[int, tuple[int, int]]]:
    """Every word in order, and where each page's words start and end."""
    words: list[str] = []
    spans: dict[int, tuple[int, int]] = {}
    for number, text in pages:
        start = len(words)
        words.extend(_WORD.findall(text or ""))
        spans[number] = (start, len(words))
    return words, spans


def compare(left: list[tuple[int, str]], right: list[tuple[int, str]]) -> Comparison:
    """Compare two documents' pages ((number, text) in order); raises TooLong."""
    a, a_pages = _words(left)
    b, b_pages = _words(right)
    if len(a) > MAX_WORDS or len(b) > MAX_WORDS:
        raise TooLong(f"These documents have more than {MAX_WORDS:,} words; compare them "
                      "a part at a time from their original files.")
    matcher = difflib.SequenceMatcher(None, a, b,
                                      autojunk=max(len(a), len(b)) > EXACT_WORDS)
    a_kind = [EQUAL] * len(a)
    b_kind = [EQUAL] * len(b)
    same = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            same += i2 - i1
            continue
        a_kind[i1:i2] = [REMOVED] * (i2 - i1)
        b_kind[j1:j2] = [ADDED] * (j2 - j1)
    rows = []
    for number in sorted(set(a_pages) | set(b_pages)):
        left_span, right_span = a_pages.get(number), b_pages.get(number)
        rows.append(PageRow(
            number,
            _render(a, a_kind, *left_span) if left_span else None,
            _render(b, b_kind, *right_span) if right_span else None,
            a_kind[slice(*left_span)].count(REMOVED) if left_span else 0,
            b_kind[slice(*right_span)].count(ADDED) if right_span else 0))
    return Comparison(rows, a_kind.count(REMOVED), b_kind.count(ADDED), same)


def _render(words: list[str], kinds: list[str], start: int, end: int) -> Markup:
    """One page's words, escaped, with runs of removed or added words marked."""
    out: list[str] = []
    i = start
    while i < end:
        kind, j = kinds[i], i
        while j < end and kinds[j] == kind:
            j += 1
        text = str(escape(" ".join(words[i:j])))
        if kind == REMOVED:
            text = ('<del class="app-diff__removed"><span class="govuk-visually-hidden">'
                    f"removed: </span>{text}</del>")
        elif kind == ADDED:
            text = ('<ins class="app-diff__added"><span class="govuk-visually-hidden">'
                    f"added: </span>{text}</ins>")
        out.append(text)
        i = j
    return Markup(" ".join(out))  # noqa: S704 - every piece was escaped above
