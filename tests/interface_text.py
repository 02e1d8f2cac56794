"""Finds interface text that is not marked for translation (tests/test_translations.py).

Templates: text between tags and the display attributes (alt, title, aria-label,
placeholder) must come from `_()`, `ngettext()` or a `{% trans %}` block; so must the
string constants a template prints or hands to a macro. Python: a sentence-like string
literal in the package must be inside a gettext call (`_`, `_l`, `N_`, `ngettext` ...),
unless it is a docstring, a log or audit line, or its line says `# not interface text`.
Neither check can prove a string is shown; both err towards asking for a mark.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes
from jinja2.ext import i18n

ROOT = Path(__file__).resolve().parent.parent
GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext", "_l",
           "lazy_ngettext", "N_"}
# Names, not words: the service's name, each language in its own name, and codes.
NOT_TRANSLATED = {"Inquiry Docs", "English", "Cymraeg", "IICSA"}
DISPLAY_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-description",
                      "aria-roledescription", "data-label"}
LETTER = re.compile(r"[^\W\d_]")
# Class lists, endpoints, keys, paths, formats: lower-case tokens without sentences.
IDENTIFIER = re.compile(r"^[a-z0-9_.:/#%*?=&@+\-\[\]{}()<>'\"|,$]*$")
ACRONYM = re.compile(r"^[A-Z0-9.&/\-]+$")


def _words(text: str) -> bool:
    """Text a reader would read: letters, and not only names, codes or acronyms."""
    text = " ".join(text.split())
    if not LETTER.search(text) or text in NOT_TRANSLATED:
        return False
    tokens = [t.strip(".,;:()[]\u2013\u2014-·|/") for t in text.split()]
    return not all(not t or ACRONYM.match(t) or not LETTER.search(t) for t in tokens)


def _shown(text: str) -> bool:
    """A string constant in code that looks like something a person reads."""
    if not _words(text):
        return False
    return not all(IDENTIFIER.match(token) for token in text.split())


# ---- templates ---------------------------------------------------------------------

_TRANS = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
_COMMENT = re.compile(r"{#.*?#}", re.S)
_JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.S)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in DISPLAY_ATTRIBUTES and value and _words(value.replace("\x00", " ")):
                self.found.append((self.getpos()[0], f'{name}="{value}"'))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = data.replace("\x00", " ")
        if not self._skip and _words(text):
            self.found.append((self.getpos()[0], " ".join(text.split())))


def _blank(match: re.Match[str]) -> str:
    """Jinja syntax as a letterless stand-in that keeps the line numbers."""
    return "\x00" + "\n" * match.group(0).count("\n")


def template_text(path: Path) -> list[tuple[int, str]]:
    """Unmarked text in one template's HTML."""
    source = path.read_text(encoding="utf-8")
    for pattern in (_TRANS, _COMMENT, _JINJA):
        source = pattern.sub(_blank, source)
    parser = _Text()
    parser.feed(source)
    parser.close()
    return parser.found


def _constants(node: nodes.Node, found: list[tuple[int, str]]) -> None:
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) \
            and node.node.name in GETTEXT:
        return
    if isinstance(node, nodes.Compare | nodes.Test | nodes.Getitem | nodes.Getattr):
        return  # compared, tested or looked up: not shown
    if isinstance(node, nodes.Pair):
        _constants(node.value, found)
        return
    if isinstance(node, nodes.Const) and isinstance(node.value, str) and _shown(node.value):
        found.append((node.lineno, node.value))
    for child in node.iter_child_nodes():
        _constants(child, found)


def template_constants(path: Path, env: Environment) -> list[tuple[int, str]]:
    """String constants in one template's expressions that read as text."""
    found: list[tuple[int, str]] = []
    _constants(env.parse(path.read_text(encoding="utf-8")), found)
    return found


def templates() -> dict[str, list[tuple[int, str]]]:
    env = Environment(extensions=[i18n], autoescape=True)  # parsed, never rendered
    result = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        found = template_text(path) + template_constants(path, env)
        if found:
            result[str(path.relative_to(ROOT))] = sorted(found)
    return result


# ---- Python --------------------------------------------------------------------------

_SENTENCE = re.compile(r"^[\W\d]*[A-Z][\w'\u2019]*[ ,]")  # "Enter your email", "Page 3, ..."
_QUIET_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "record",
                "getLogger", "execute", "text", "echo", "secho", "ClickException",
                "BadParameter", "option", "argument", "command", "group", "UsageError"}


class _Literals(ast.NodeVisitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.found: list[tuple[int, str]] = []

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else "")
        if name in GETTEXT or name in _QUIET_CALLS:
            return
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id in CONTENT for t in node.targets):
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name) and node.target.id in CONTENT:
            return
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # a docstring or a bare string
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _SENTENCE.match(node.value) \
                and _shown(node.value) and "not interface text" not in self._line(node):
            self.found.append((node.lineno, node.value))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = "".join(v.value if isinstance(v, ast.Constant) else "\x00"
                       for v in node.values)
        if _SENTENCE.match(text) and _shown(text.replace("\x00", "1")) \
                and "not interface text" not in self._line(node):
            self.found.append((node.lineno, text.replace("\x00", "{…}")))

    def _line(self, node: ast.AST) -> str:
        end = getattr(node, "end_lineno", node.lineno)  # type: ignore[attr-defined]
        return " ".join(self.lines[node.lineno - 1:end])  # type: ignore[attr-defined]


# Data stored as content (the IICSA set's name and its recommendations' titles), not interface.
CONTENT = {"IICSA_NAME", "IICSA_FINAL"}
# The command line speaks to administrators in English; technical detail stays as read.
PYTHON_EXEMPT = ("cli/", "config.py")


def python() -> dict[str, list[tuple[int, str]]]:
    result = {}
    package = ROOT / "inquiry_docs"
    for path in sorted(package.rglob("*.py")):
        relative = str(path.relative_to(package))
        if relative.startswith(PYTHON_EXEMPT):
            continue
        source = path.read_text(encoding="utf-8")
        visitor = _Literals(source.splitlines())
        visitor.visit(ast.parse(source))
        if visitor.found:
            result[f"inquiry_docs/{relative}"] = visitor.found
    return result


if __name__ == "__main__":  # a list to work from: python -m tests.interface_text
    for kind, found in (("template", templates()), ("python", python())):
        for file, items in found.items():
            for line, text in items:
                print(f"{kind}\t{file}:{line}\t{text[:100]}")
