"""The child-process sandbox: limits end hostile work with a clear reason, and the
parent (a job consumer) carries on."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

import pytest

from inquiry_docs import extract
from inquiry_docs.extract import ExtractionError, sandbox
from inquiry_docs.extract.types import PDF
from tests import samples

pytestmark = pytest.mark.stack_free(
    "bytes to pages in the sandbox: no database, queue or search index")


def test_memory_hog_is_stopped():
    with pytest.raises(ExtractionError) as caught:
        sandbox.run_limited(samples.hog_memory, memory_mb=300, cpu_seconds=10)
    assert caught.value.reason == (
        "The file needs more memory to read than allowed (300 MB); it may be a decompression bomb."
    )


def test_cpu_loop_is_stopped_by_the_cpu_limit():
    start = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        sandbox.run_limited(samples.spin_cpu, cpu_seconds=1, wall_seconds=30)
    assert caught.value.reason == "Reading the file took longer than 1 second."
    assert time.monotonic() - start < 10


def test_a_hang_is_stopped_by_the_wall_clock():
    start = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        sandbox.run_limited(samples.sleep_long, cpu_seconds=5, wall_seconds=1)
    assert caught.value.reason == "Reading the file took longer than 1 second."
    assert caught.value.retryable
    assert time.monotonic() - start < 5


def test_a_crash_is_reported_and_the_parent_survives(tmp_path):
    with pytest.raises(ExtractionError, match=r"memory|stopped unexpectedly"):
        sandbox.run_limited(samples.crash, cpu_seconds=5)
    # The parent still works, and so does the next child.
    path = samples.write(tmp_path, "ok.pdf", samples.make_pdf(["Still working."]))
    assert extract.extract(str(path), PDF).pages == [(1, "Still working.")]


def test_other_exceptions_become_a_reason_without_paths():
    with pytest.raises(ExtractionError) as caught:
        sandbox.run_limited(samples.fail_with_path, "/srv/uploads/ab/cd/secret.pdf")
    reason = caught.value.reason
    assert reason.startswith("The file could not be read: KeyError: ")
    assert "/srv" not in reason and "secret" not in reason


def test_sandboxed_result_equals_inline(tmp_path):
    path = str(
        samples.write(
            tmp_path,
            "m.eml",
            samples.make_eml(
                attachments=[("a.pdf", samples.make_pdf(["attached"]))],
            ),
        )
    )
    assert extract.extract(path, "message/rfc822") == extract.extract_inline(path, "message/rfc822")


def test_large_results_come_back_whole(tmp_path):
    # ~30 MB of text: more than any pipe buffer, so the parent must read while the child writes.
    line = "evidence " * 10 + "\n"
    path = samples.write(tmp_path, "big.txt", (line * 300_000).encode())
    result = extract.extract(str(path), "text/plain")
    assert sum(len(text) for _, text in result.pages) > 25_000_000


def test_per_file_overhead_is_small(tmp_path):
    path = str(samples.write(tmp_path, "small.pdf", samples.make_pdf(["A short page."])))
    extract.extract(path, PDF)  # the forkserver starts once

    def median_seconds(run) -> float:
        times = []
        for _ in range(15):
            start = time.perf_counter()
            run(path, PDF)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    overhead = median_seconds(extract.extract) - median_seconds(extract.extract_inline)
    assert overhead < 0.1, f"{overhead * 1000:.0f} ms per file"


def test_children_do_not_outlive_the_call():
    sandbox.run_limited(os.getpid)
    children = multiprocessing.active_children()
    assert not [p for p in children if p.name == sandbox.CHILD_NAME]
