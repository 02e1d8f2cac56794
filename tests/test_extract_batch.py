"""Several files to one reader child: each keeps its own limits and its own reason, and a
hostile file costs its batch nothing but a second child."""

from __future__ import annotations

import time

import pytest

from inquiry_docs import extract
from inquiry_docs.extract import ExtractionError, batch, sandbox
from inquiry_docs.extract.types import PDF
from tests import samples

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")


def _alone(kinds: list[str], cpu_seconds: int):
    def alone(number: int):
        return sandbox.run_limited(samples.act, kinds[number], cpu_seconds=cpu_seconds,
                                   memory_mb=300)
    return alone


def test_a_crash_a_loop_and_a_memory_hog_each_get_their_own_reason_and_the_rest_are_read():
    kinds = ["ok", "crash", "ok", "spin", "ok", "hog", "ok"]
    start = time.monotonic()
    results = batch.run_each(samples.act, [((k,), {}) for k in kinds], cpu_seconds=1,
                             memory_mb=300, alone=_alone(kinds, 1))
    assert time.monotonic() - start < 30
    assert [r for r in results if not isinstance(r, ExtractionError)] == ["ok"] * 4
    reasons = {k: r.reason for k, r in zip(kinds, results, strict=True)
               if isinstance(r, ExtractionError)}
    assert reasons["spin"] == "Reading the file took longer than 1 second."
    assert "300 MB" in reasons["hog"]
    assert "stopped unexpectedly" in reasons["crash"] or "memory" in reasons["crash"]


def test_each_call_gets_the_whole_cpu_allowance_again():
    # Four calls of 0.6 CPU-seconds under a 1-second limit: 2.4 s in all, each within it.
    calls = [(("burn", 0.6), {}) for _ in range(4)]
    results = batch.run_each(samples.act, calls, cpu_seconds=1,
                             alone=lambda n: (_ for _ in ()).throw(AssertionError(n)))
    assert results == ["burn"] * 4


def test_extract_many_gives_what_extract_gives_file_by_file(tmp_path):
    good = [samples.write(tmp_path, f"ok{n}.pdf", samples.make_pdf([f"page of file {n}",
                                                                   "second page"]))
            for n in range(3)]
    damaged = samples.write(tmp_path, "bad.pdf", samples.make_truncated_pdf())
    files = [(str(good[0]), PDF), (str(damaged), PDF), (str(good[1]), PDF),
             (str(good[2]), PDF)]
    many = extract.extract_many(files, cpu_seconds=10)
    for (path, mime), result in zip(files, many, strict=True):
        try:
            alone = extract.extract(path, mime, cpu_seconds=10)
        except ExtractionError as error:
            assert isinstance(result, ExtractionError) and result.reason == error.reason
        else:
            assert result.pages == alone.pages
    assert many[0].pages[0] == (1, "page of file 0")
