"""The house rules of the package, read from its source: no circle of imports, imports run
downwards (web and cli -> domain packages -> search and evidence -> extract and the base),
no module much over 500 lines, and every package says what it holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack_free("reads the package's source")

PACKAGE = Path(__file__).resolve().parent.parent / "inquiry_docs"
NAME = "inquiry_docs"
MAX_LINES = 520  # "about 500": a module past this is asking to be split by meaning

# Which area may import which. Each area imports itself and everything in BASE; the app
# factory (`inquiry_docs/__init__.py`) may import anything.
BASE = {"config", "db", "models", "queue", "faults", "translation"}
MAY_IMPORT = {
    "extract": set(),
    "access": set(),
    "search": {"access"},
    "evidence": {"access", "extract", "search"},
    "review": {"access", "evidence", "search"},
    "recommendations": {"access", "evidence", "search"},
    "operations": {"access", "evidence", "extract", "search"},
    "insight": {"access", "evidence", "search"},
    "web": {"access", "evidence", "extract", "search", "review", "recommendations",
            "operations", "insight"},
    "cli": {"access", "evidence", "extract", "search", "review", "recommendations",
            "operations", "web", "insight"},
}
# The base layer's own order: models use db; queue uses db; nothing in it imports an area.
BASE_MAY_IMPORT = {"config": set(), "faults": set(), "db": set(), "models": {"db"},
                   "queue": {"db"}, "translation": set()}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Imports under `if TYPE_CHECKING:` never run, so they cannot make a circle."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(module: str) -> set[str]:
    """Every module of the package this one imports, at the top or inside a function."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == NAME)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != NAME:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    found.discard(module)
    return {m for m in found if m in MODULES}


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports, as the modules around it, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == GREY:
                return [*stack[stack.index(nxt):], nxt]
            if colour[nxt] == WHITE and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = BLACK
        return None

    for start in sorted(graph):
        if colour[start] == WHITE and (found := visit(start)):
            return found
    return None


def area_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_circle_finder_finds_a_circle():
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _circle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_itself_round_a_circle():
    graph = {module: imports_of(module) for module in MODULES}
    circle = _circle(graph)
    assert circle is None, "a circle of imports: " + " -> ".join(circle or ())


def test_imports_run_downwards_only():
    wrong = []
    for module in MODULES:
        area = area_of(module)
        if not area:
            continue  # the app factory
        allowed = BASE_MAY_IMPORT.get(area, MAY_IMPORT.get(area, set()) | BASE)
        for target in imports_of(module):
            other = area_of(target)
            if other and other != area and other not in allowed:
                wrong.append(f"{module} imports {target}")
            if not other and module != f"{NAME}.cli.main":  # the console script builds the app
                wrong.append(f"{module} imports the app factory")
    assert not wrong, "\n".join(wrong)


def test_every_area_is_known_to_the_rules():
    areas = {area_of(m) for m in MODULES} - {""}
    assert areas <= set(MAY_IMPORT) | BASE, areas - set(MAY_IMPORT) - BASE


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by meaning"


@pytest.mark.parametrize("module", sorted(m for m, p in MODULES.items() if p.name == "__init__.py"))
def test_every_package_says_what_it_holds(module):
    doc = ast.get_docstring(ast.parse(MODULES[module].read_text()))
    assert doc and len(doc) > 40, f"{module} opens without a docstring saying what it holds"
