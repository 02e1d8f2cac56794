"""Extraction fidelity: how much of what was put into a file comes back out.

    python bench/fidelity.py                  # 330 files (33 of each of 10 kinds), seed 1
    python bench/fidelity.py --files 22 --no-write

Builds a corpus of varied files with the test tools (fpdf2 and reportlab PDFs with text
pages, columns, filled-in forms and annotations; python-docx files with tables, headers,
footers and comments; Word's own XML with content controls, text boxes, footnotes and
endnotes; templates and macro-enabled files; email as .eml in every shape, mailboxes and
Outlook .msg), checks each file's type as an upload would, reads it with the real
extractors in the sandbox (`extract.extract_many`, the attachments and a mailbox's
messages too, as ingest receives them), and reports per kind the share of files read and
the word recall against the text that was put in (target: 99% read, recall 0.98).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from inquiry_docs import extract  # noqa: E402
from inquiry_docs.extract.types import DOCM, DOTM, DOTX  # noqa: E402

WORDS = re.compile(r"[A-Za-z0-9]+")
_VOCABULARY = (
    "inquiry witness statement council police referral school teacher social worker "
    "safeguarding report meeting minutes evidence exhibit disclosure record notebook "
    "officer interview complaint investigation review panel counsel chronology parent "
    "child family home visit letter telephone concern strategy conference decision "
    "manager director hospital doctor nurse clinic housing officer probation court "
    "hearing transcript bundle redaction restriction order allegation response action "
    "training policy procedure guidance audit register file note date office church "
    "youth club volunteer coach camp residential care placement foster agency board"
)
VOCABULARY = _VOCABULARY.split()
TARGET_READ, TARGET_RECALL = 0.99, 0.98


@dataclass
class Case:
    kind: str
    name: str  # the upload name (its extension decides what the type must be)
    data: bytes
    source: str  # every word put in


@dataclass
class Figures:
    files: int = 0
    read: int = 0
    recalls: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def sentence(rng: random.Random, low: int = 6, high: int = 14) -> str:
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(low, high))]
    words.append(str(rng.randint(1, 9999)))  # a reference number: digits must survive too
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def paragraphs(rng: random.Random, count: int) -> list[str]:
    return [" ".join(sentence(rng) for _ in range(rng.randint(1, 4))) for _ in range(count)]


def _words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in WORDS.findall(text))


def recall(source: str, read: str) -> float:
    want, got = _words(source), _words(read)
    total = sum(want.values())
    return sum(min(n, got[w]) for w, n in want.items()) / total if total else 1.0


# --- the corpus --------------------------------------------------------------------------


def pdf_text(rng: random.Random) -> Case:
    from tests import samples

    pages = paragraphs(rng, rng.randint(1, 4))
    return Case("PDF: text pages (fpdf2)", "statement.pdf", samples.make_pdf(pages),
                "\n".join(pages))


def pdf_columns(rng: random.Random) -> Case:
    from tests import samples_office as office

    text = " ".join(paragraphs(rng, rng.randint(3, 8)))
    return Case("PDF: two and three columns (fpdf2)", "newsletter.pdf",
                office.make_columns_pdf(text, rng.choice([2, 3])), text)


def pdf_form(rng: random.Random) -> Case:
    from tests import samples_office as office

    fields = {f"Field{n}": " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 5)))
              for n in range(rng.randint(2, 6))}
    role = rng.choice(VOCABULARY)
    data = office.make_form_pdf(fields, choices={"Role": (role, sorted({role, "parent"}))},
                                page_text="Application form")
    return Case("PDF: filled-in form (reportlab)", "form.pdf", data,
                " ".join(["Application form", *fields.values(), role]))


def pdf_annotated(rng: random.Random) -> Case:
    from tests import samples_office as office

    pages, source = [], []
    for _ in range(rng.randint(1, 3)):
        text = " ".join(paragraphs(rng, 1))
        notes = [(rng.choice(["note", "freetext", "highlight"]), sentence(rng, 3, 8))
                 for _ in range(rng.randint(1, 3))]
        pages.append((text, notes))
        source += [text, *(note for _, note in notes)]
    return Case("PDF: annotations (fpdf2)", "annotated.pdf", office.make_annotated_pdf(pages),
                "\n".join(source))


def _python_docx(rng: random.Random) -> tuple[bytes, str]:
    import io

    import docx

    document = docx.Document()
    source = []
    header, footer = sentence(rng, 2, 4), sentence(rng, 2, 4)
    document.sections[0].header.paragraphs[0].text = header
    document.sections[0].footer.paragraphs[0].text = footer
    source += [header, footer]
    for text in paragraphs(rng, rng.randint(2, 6)):
        paragraph = document.add_paragraph(text)
        source.append(text)
        if rng.random() < 0.5:
            comment = sentence(rng, 3, 6)
            document.add_comment(paragraph.runs, text=comment, author="Reviewer")
            source.append(comment)
    rows = [[rng.choice(VOCABULARY) for _ in range(3)] for _ in range(rng.randint(2, 5))]
    table = document.add_table(rows=len(rows), cols=3)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    source += [" ".join(row) for row in rows]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), "\n".join(source)


def docx_python_docx(rng: random.Random) -> Case:
    data, source = _python_docx(rng)
    return Case("DOCX: tables, headers, comments (python-docx)", "report.docx", data, source)


def _word_xml(rng: random.Random) -> tuple[object, str]:
    from tests import samples_office as office

    body, source = [], []
    footnotes, endnotes, comments = {}, {}, {}
    for index in range(rng.randint(3, 7)):
        text = sentence(rng)
        source.append(text)
        shape = rng.choice(["plain", "footnote", "endnote", "comment", "control", "inline",
                            "box", "vml", "row", "break"])
        if shape == "footnote":
            footnotes[index + 1] = sentence(rng, 3, 8)
            body.append(office.p(text, office.footnote_ref(index + 1)))
            source.append(footnotes[index + 1])
        elif shape == "endnote":
            endnotes[index + 1] = sentence(rng, 3, 8)
            body.append(office.p(text, office.endnote_ref(index + 1)))
            source.append(endnotes[index + 1])
        elif shape == "comment":
            comments[index] = ("Counsel", sentence(rng, 3, 8))
            body.append(office.p(office.commented(index, text)))
            source.append(comments[index][1])
        elif shape == "control":
            body.append(office.content_control(office.p(text), block=True))
        elif shape == "inline":
            body.append(office.p("Name:", office.content_control(office.run(text),
                                                                 block=False)))
            source.append("Name")
        elif shape in ("box", "vml"):
            body.append(office.p(office.text_box([text], vml_only=shape == "vml")))
        elif shape == "row":
            cells = text.split(" ", 1)
            body.append(office.table([cells, ["Row", "two"]], control_row=0))
            source.append("Row two")
        elif shape == "break":
            body.append(office.page_break() + office.p(text))
        else:
            body.append(office.p(text))
    parts = office.WordParts(body="".join(body), footnotes=footnotes, endnotes=endnotes,
                             comments=comments)
    return parts, "\n".join(source)


def docx_word_xml(rng: random.Random) -> Case:
    from tests import samples_office as office

    parts, source = _word_xml(rng)
    return Case("DOCX: content controls, text boxes, notes (Word XML)", "minutes.docx",
                office.make_word(parts), source)


def word_flavours(rng: random.Random) -> Case:
    from tests import samples_office as office

    mime, ext = rng.choice([(DOTX, ".dotx"), (DOCM, ".docm"), (DOTM, ".dotm")])
    if rng.random() < 0.5:
        data, source = _python_docx(rng)
        data = office.as_flavour(data, mime)
    else:
        parts, source = _word_xml(rng)
        data = office.make_word(parts, mime)
    return Case("Word templates and macro-enabled files", f"form{ext}", data, source)


def eml(rng: random.Random) -> Case:
    from tests import samples
    from tests import samples_mail as mail

    subject = sentence(rng, 2, 5)[:-1]
    body = "\n".join(paragraphs(rng, rng.randint(1, 4)))
    shape = rng.choice(["plain", "html", "mbox-line", "groupwise", "notes", "attachment"])
    html = "".join(f"<p>{line}</p>" for line in body.split("\n"))
    html = f"<html><head><style>p{{}}</style><script>x()</script></head><body>{html}</body>"
    if shape == "html":
        data = mail.make_html_only_eml(html, subject)
    elif shape == "mbox-line":
        data = mail.make_eml_with_mbox_line(subject=subject, body=body)
    elif shape == "groupwise":
        data = mail.make_groupwise_eml(body, subject)
    elif shape == "notes":
        data = mail.make_notes_eml(html, subject)
    elif shape == "attachment":
        note = sentence(rng)
        data = samples.make_eml(subject, body, [("note.txt", note.encode())])
        body += "\n" + note
    else:
        data = samples.make_eml(subject, body)
    return Case("Email (.eml: plain, HTML-only, mbox line, GroupWise, Notes)", "message.eml",
                data, subject + "\n" + body)


def mbox(rng: random.Random) -> Case:
    from tests import samples
    from tests import samples_mail as mail

    messages, source = [], []
    for _ in range(rng.randint(2, 6)):
        subject, body = sentence(rng, 2, 5)[:-1], "\n".join(paragraphs(rng, 2))
        if rng.random() < 0.3:
            body = "From the start of a line " + body  # quoted as >From in the mailbox
        messages.append(samples.make_eml(subject, body))
        source += [subject, body]
    return Case("Mailbox (.mbox, each message a document)", "export.mbox",
                mail.make_mbox(messages), "\n".join(source))


def msg(rng: random.Random) -> Case:
    from tests import samples
    from tests import samples_mail as mail

    subject, body = sentence(rng, 2, 5)[:-1], "\n".join(paragraphs(rng, rng.randint(1, 3)))
    attachments = []
    source = [subject, body]
    if rng.random() < 0.5:
        pages = paragraphs(rng, 1)
        attachments.append(("attached.pdf", samples.make_pdf(pages)))
        source += pages
    if rng.random() < 0.3:
        return Case("Outlook .msg (extract-msg)", "message.msg",
                    mail.make_msg(subject, html=f"<p>{body}</p>", attachments=attachments),
                    "\n".join(source))
    return Case("Outlook .msg (extract-msg)", "message.msg",
                mail.make_msg(subject, body, attachments=attachments), "\n".join(source))


KINDS: list[Callable[[random.Random], Case]] = [
    pdf_text, pdf_columns, pdf_form, pdf_annotated, docx_python_docx, docx_word_xml,
    word_flavours, eml, mbox, msg,
]


def build(files: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    kinds = [k for k in KINDS if k is not msg or importlib.util.find_spec("extract_msg")]
    return [kinds[n % len(kinds)](rng) for n in range(files)]


# --- reading -----------------------------------------------------------------------------


def _read_all(paths: list[tuple[str, str]], limits: dict) -> list[extract.Extracted | Exception]:
    out: list[extract.Extracted | Exception] = []
    for start in range(0, len(paths), 16):  # as ingest batches them
        out += extract.extract_many(paths[start:start + 16], **limits)
    return out


def read_corpus(cases: list[Case], work: Path, limits: dict) -> dict[str, Figures]:
    figures: dict[str, Figures] = {}
    typed: list[tuple[int, str, str]] = []
    for index, case in enumerate(cases):
        figures.setdefault(case.kind, Figures()).files += 1
        path = work / f"{index:04d}-{case.name}"
        path.write_bytes(case.data)
        try:
            mime = extract.check_type(str(path), case.name)
        except extract.Rejected as refused:
            figures[case.kind].failures.append(f"{case.name}: refused: {refused.reason}")
            continue
        typed.append((index, str(path), mime))
    results = _read_all([(path, mime) for _, path, mime in typed], limits)
    for (index, _, _), result in zip(typed, results, strict=True):
        case, row = cases[index], figures[cases[index].kind]
        if isinstance(result, Exception):
            row.failures.append(f"{case.name}: {result}")
            continue
        row.read += 1
        text = "\n".join(t for _, t in result.pages) + _children(result, work, index, limits)
        row.recalls.append(recall(case.source, text))
    return figures


def _children(result: extract.Extracted, work: Path, index: int, limits: dict,
              depth: int = 0) -> str:
    """The text of the attachments (and a mailbox's messages), read as ingest reads them."""
    if not result.attachments or depth > 2:
        return ""
    typed = []
    for number, attachment in enumerate(result.attachments):
        path = work / f"{index:04d}-{depth}-{number}-{Path(attachment.filename).name}"
        path.write_bytes(attachment.data)
        try:
            typed.append((str(path), extract.check_type(str(path), attachment.filename)))
        except extract.Rejected:
            continue
    text = []
    for child in _read_all(typed, limits):
        if isinstance(child, extract.Extracted):
            text += [t for _, t in child.pages]
            text.append(_children(child, work, index, limits, depth + 1))
    return "\n" + "\n".join(text)


# --- the report --------------------------------------------------------------------------


def render(args: argparse.Namespace, figures: dict[str, Figures], built: float,
           seconds: float) -> str:
    from report import machine

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    total = sum(f.files for f in figures.values())
    read = sum(f.read for f in figures.values())
    recalls = [r for f in figures.values() for r in f.recalls]
    lines = [
        f"## Extraction fidelity, {stamp}", "",
        "- Machine: " + machine(("pypdfium2", "pypdf", "lxml", "fpdf2", "reportlab",
                                 "python-docx", "extract-msg")),
        f"- Command: `python bench/fidelity.py --files {args.files} --seed {args.seed}`",
        f"- Corpus: {total:,} files of {len(figures)} kinds made by the test tools "
        f"(tests/samples*.py), generated in {built:.1f} s (not timed); read in the sandbox "
        f"by `extract.extract_many` ({args.cpu} CPU-s, {args.memory} MB a file, 16 files a "
        f"child), attachments and a mailbox's messages too, in {seconds:.1f} s",
        "- Recall: the share of the words put into a file (body, notes, comments, form "
        "values, annotations, subjects) found in what was read, counted with repeats",
        "", "| Kind | Files | Read | Word recall (mean) | Lowest |", "|---|--:|--:|--:|--:|",
    ]
    for kind, row in figures.items():
        lowest = min(row.recalls) if row.recalls else 0.0
        mean = statistics.fmean(row.recalls) if row.recalls else 0.0
        lines.append(f"| {kind} | {row.files} | {100 * row.read / row.files:.1f}% | "
                     f"{mean:.4f} | {lowest:.4f} |")
    mean_all = statistics.fmean(recalls) if recalls else 0.0
    lines.append(f"| **All** | {total} | {100 * read / total:.1f}% | {mean_all:.4f} | "
                 f"{min(recalls) if recalls else 0.0:.4f} |")
    met = all(f.read / f.files >= TARGET_READ and f.recalls
              and statistics.fmean(f.recalls) >= TARGET_RECALL for f in figures.values())
    lines += ["", f"Target: at least {TARGET_READ:.0%} of the files of each kind read and a "
              f"mean word recall of at least {TARGET_RECALL} for each: "
              f"{'met' if met else 'NOT met'}."]
    failures = [f for row in figures.values() for f in row.failures]
    if failures:
        lines += ["", "Not read:", ""] + [f"- {f}" for f in failures[:20]]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=330, help="files in the corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=60, help="CPU seconds per file")
    parser.add_argument("--memory", type=int, default=1024, help="MB of address space")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    cases = build(args.files, args.seed)
    built = time.monotonic() - started
    extract.warm_up()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="inquiry-fidelity-") as work:
        figures = read_corpus(cases, Path(work), {"cpu_seconds": args.cpu,
                                                  "memory_mb": args.memory})
    section = render(args, figures, built, time.monotonic() - started)
    print(section)
    if not args.no_write:
        from report import append

        append(args.out, section)
        print(f"Appended to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
