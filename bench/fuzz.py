"""Fuzz the extractors: mutated PDFs and DOCX files through the sandboxed parsers.

    .venv/bin/python bench/fuzz.py                          # 1,000 cases, about 2 minutes
    .venv/bin/python bench/fuzz.py --iterations 6 --no-write # a smoke run

Each case is a seed file (built here with fpdf2 and python-docx) mutated at random: bytes
flipped, inserted, deleted or repeated, the file cut short, numbers in the PDF syntax
replaced by extreme ones, or (DOCX) the document XML mutated and zipped again. Each goes
through `inquiry_docs.extract.extract`, the same child process with CPU, memory and
wall-clock limits that uploads use. Outcomes:

- ok: text came out;  handled: the parser refused the file with a reason for the user;
- crash: the child died (a signal, not one of our limits) or the sandbox itself raised;
- hang: the time limit stopped it;  memory: the memory limit stopped it (a blow-up).

Crash, hang and memory cases are saved to --save for replay. The section is appended to
docs/benchmarks.md unless --no-write.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import re
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for _path in (ROOT, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from inquiry_docs import extract  # noqa: E402
from inquiry_docs.extract.sandbox import memory_reason, time_reason  # noqa: E402

OUTCOMES = ("ok", "handled", "crash", "hang", "memory")
NUMBER = re.compile(rb"\b\d{1,9}\b")
EXTREMES = [b"0", b"-1", b"4294967295", b"99999999999", b"1e308", b"2147483648",
            b"-0"]
WORDS = ["inquiry", "evidence", "statement", "police", "council", "referral", "safeguarding",
         "witness"]


def seed_pdf(rng: random.Random) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for _ in range(rng.randint(1, 3)):
        pdf.add_page()
        pdf.multi_cell(0, 5, " ".join(rng.choices(WORDS, k=rng.randint(20, 200))))
    return bytes(pdf.output())


def seed_docx(rng: random.Random) -> bytes:
    import docx

    document = docx.Document()
    for _ in range(rng.randint(1, 6)):
        document.add_paragraph(" ".join(rng.choices(WORDS, k=rng.randint(5, 60))))
    if rng.random() < 0.5:
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = rng.choice(WORDS)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        kind = rng.choice(("flip", "insert", "delete", "repeat", "truncate", "number"))
        at = rng.randrange(max(1, len(buf)))
        if kind == "flip" and buf:
            buf[at] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == "delete":
            del buf[at:at + rng.randint(1, 256)]
        elif kind == "repeat":
            chunk = bytes(buf[at:at + rng.randint(1, 512)])
            buf[at:at] = chunk * rng.randint(2, 50)
        elif kind == "truncate" and rng.random() < 0.3:
            del buf[rng.randrange(max(1, len(buf))):]
        elif kind == "number":
            numbers = list(NUMBER.finditer(buf))
            if numbers:
                match = rng.choice(numbers)
                buf[match.start():match.end()] = rng.choice(EXTREMES)
    return bytes(buf)


def mutate_docx(data: bytes, rng: random.Random) -> bytes:
    """Mutate the XML inside, then zip it again, so the zip layer lets the parser see it."""
    if rng.random() < 0.3:
        return mutate_bytes(data, rng)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    name = rng.choice([n for n in parts if n.endswith(".xml") or n.endswith(".rels")])
    parts[name] = mutate_bytes(parts[name], rng)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part, body in parts.items():
            target.writestr(part, body)
    return out.getvalue()


def classify(path: str, mime: str, args: argparse.Namespace) -> tuple[str, str]:
    try:
        extract.extract(path, mime, cpu_seconds=args.cpu, memory_mb=args.memory,
                        wall_seconds=args.wall)
    except extract.ExtractionError as error:
        reason = error.reason
        if reason == memory_reason(args.memory):
            return "memory", reason
        if reason in (time_reason(args.cpu), time_reason(args.wall)):
            return "hang", reason
        if "stopped unexpectedly" in reason:
            return "crash", reason
        return "handled", reason
    except Exception as error:
        return "crash", f"{type(error).__name__}: {error}"
    return "ok", ""


def render(args: argparse.Namespace, counts: dict[str, dict[str, int]], seconds: float,
           notable: list[str]) -> str:
    lines = [
        f"## Extractor fuzzing, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`bench/fuzz.py --iterations {args.iterations} --seed {args.seed}` on "
        f"{platform.node() or 'this machine'} ({os.cpu_count()} cores): mutated files through "
        f"the sandboxed extractors (limits {args.cpu} CPU-s, {args.memory} MB, "
        f"{args.wall:g} s wall), {seconds:.0f} s in all.",
        "",
        "| Format | Cases | " + " | ".join(OUTCOMES) + " |",
        "|---|---|" + "---|" * len(OUTCOMES),
    ]
    for fmt, row in counts.items():
        lines.append(f"| {fmt} | {sum(row.values())} | "
                     + " | ".join(str(row[o]) for o in OUTCOMES) + " |")
    bad = sum(row[o] for row in counts.values() for o in ("crash", "hang", "memory"))
    lines += ["", f"Crashes, hangs and memory blow-ups: {bad}."]
    if notable:
        lines += ["", "Saved for replay:", ""] + [f"- {n}" for n in notable[:20]]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=10, help="CPU seconds per case")
    parser.add_argument("--memory", type=int, default=512, help="MB of address space per case")
    parser.add_argument("--wall", type=float, default=30.0, help="wall-clock seconds per case")
    parser.add_argument("--save", type=Path, default=None,
                        help="folder for crash/hang/memory cases (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    save = args.save or Path(tempfile.mkdtemp(prefix="inquiry-fuzz-"))
    save.mkdir(parents=True, exist_ok=True)
    formats = {"PDF": (extract.PDF, seed_pdf, mutate_bytes, ".pdf"),
               "DOCX": (extract.DOCX, seed_docx, mutate_docx, ".docx")}
    seeds = {fmt: [build(rng) for _ in range(4)] for fmt, (_, build, _, _) in formats.items()}
    counts = {fmt: dict.fromkeys(OUTCOMES, 0) for fmt in formats}
    notable: list[str] = []
    extract.warm_up()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        for n in range(args.iterations):
            fmt = list(formats)[n % len(formats)]
            mime, _, mutate, suffix = formats[fmt]
            data = mutate(rng.choice(seeds[fmt]), rng)
            path = Path(work) / f"case{suffix}"
            path.write_bytes(data)
            outcome, reason = classify(str(path), mime, args)
            counts[fmt][outcome] += 1
            if outcome in ("crash", "hang", "memory"):
                kept = save / f"{outcome}-{n:05d}{suffix}"
                kept.write_bytes(data)
                notable.append(f"{kept}: {reason}")
            if (n + 1) % 100 == 0:
                print(f"  {n + 1}/{args.iterations} cases", file=sys.stderr)
    section = render(args, counts, time.monotonic() - started, notable)
    print(section)
    if not args.no_write:
        from search import append  # bench/search.py: creates the file with its heading

        append(args.out, section)
        print(f"Appended to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
