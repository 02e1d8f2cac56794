"""What each stack runs (tests/stack.py): between them, every search, access and fault test
runs on each of the three search backends, and a `stack_free` test reaches no stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests import stack
from tests.conftest import BACKEND_STACK, SEARCH_BACKENDS

ROOT = Path(__file__).resolve().parent.parent
# What the `stack` parameter of on_tantivy_too means on each stack.
STACK_BACKEND = {"sqlite": "whoosh", "postgres": "postgres"}


# The modules the split concerns: those with backend parameters or marked stack_free.
SPLIT_WORDS = ("search_app", "backend_params", "SEARCH_BACKEND_PARAMS", "on_tantivy_too",
               "with_embedded", "with_whoosh", "EMBEDDED", "pytest.mark.stack_free(")


def _modules() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").glob("test_*.py")
                  if path.name != Path(__file__).name
                  and any(word in path.read_text(encoding="utf-8") for word in SPLIT_WORDS))


@pytest.fixture(scope="module")
def collected() -> dict[str, list[str]]:
    """Each stack's collection of those modules (test ids, deselected ones left out)."""
    found = {}
    for name in stack.STACKS:
        env = {**os.environ, "INQUIRY_DOCS_TEST_STACK": name}
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                               "-p", "no:cacheprovider", *_modules()],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        found[name] = [line for line in done.stdout.splitlines() if "::" in line]
    return found


def _by_backend(nodeids: list[str], name: str) -> dict[str, list[str]]:
    """Each backend-parametrised test (its id without the backend) -> the backends it runs
    on in this stack's collection; the `stack` parameter is the stack's own backend."""
    found: dict[str, list[str]] = defaultdict(list)
    for nodeid in nodeids:
        match = re.fullmatch(r"(.*)\[(.*)\]", nodeid)
        if not match or "test_crash.py" in nodeid:  # test_crash's `search` runs on both
            continue
        parts = match.group(2).split("-")
        named = [part for part in parts if part in (*SEARCH_BACKENDS, "stack")]
        if len(named) != 1:
            continue
        rest = "-".join(part for part in parts if part not in named)
        backend = STACK_BACKEND[name] if named[0] == "stack" else named[0]
        found[f"{match.group(1)}[{rest}]"].append(backend)
    return found


@pytest.mark.stack("sqlite")  # it collects both stacks itself
@pytest.mark.slow
def test_every_search_test_runs_on_every_backend_once_between_the_stacks(collected):
    runs: dict[str, list[tuple[str, str]]] = defaultdict(list)  # test -> (stack, backend)
    for name, nodeids in collected.items():
        for test, backends in _by_backend(nodeids, name).items():
            runs[test] += [(name, backend) for backend in backends]
    # A test that runs on PostgreSQL search is a search test of every backend; the rest
    # are tests of an embedded index's own files (with_whoosh, with_embedded), kept on both.
    search = {test: found for test, found in runs.items()
              if any(backend == "postgres" for _, backend in found)}
    assert len(search) > 100, "the search tests were not found"
    wrong = {}
    for test, found in search.items():
        backends = sorted(backend for _, backend in found)
        on_its_stack = all(BACKEND_STACK[backend] == name for name, backend in found)
        # Once each: on its own stack, never again on the other.
        if not on_its_stack or sorted(SEARCH_BACKENDS) != backends:
            wrong[test] = found
    assert wrong == {}
    embedded = {test for test, found in runs.items() if test not in search}
    for test in embedded:
        assert {backend for _, backend in runs[test]} <= {"whoosh", "tantivy"}, test


@pytest.mark.stack("sqlite")
@pytest.mark.slow
def test_stack_free_modules_run_on_one_stack(collected):
    free = {path.name for path in (ROOT / "tests").glob("test_*.py")
            if path.name != Path(__file__).name
            and "pytest.mark.stack_free(" in path.read_text(encoding="utf-8")}
    assert len(free) >= 15
    for name, nodeids in collected.items():
        present = {nodeid.split("::")[0].split("/")[-1] for nodeid in nodeids}
        assert present & free == (free if name == stack.STACK_FREE_ON else set()), name


@pytest.mark.stack_free("it checks that the stack is out of reach")
def test_a_stack_free_test_cannot_reach_the_stack(tmp_path):
    from tests.conftest import build_app

    with pytest.raises(AssertionError, match="marked stack_free"):
        stack.settings(tmp_path)
    with pytest.raises(AssertionError, match="marked stack_free"):
        build_app(tmp_path)
    assert not (tmp_path / "db.sqlite").exists()
