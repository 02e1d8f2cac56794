"""The inquiry-docs command line: set-up, users, ingest with a report, search, reindex, check."""

from __future__ import annotations

import json
import os

from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.evidence.storage import Store
from inquiry_docs.models import Document, User
from tests import samples


def invoke(runner, *args, input=None):
    result = runner.invoke(args=list(args), input=input)
    return result


def test_init_creates_admin_once_and_prints_password(runner):
    first = invoke(runner, "init")
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    password = first.output.split("password:")[1].split()[0]
    assert len(password) >= 12
    second = invoke(runner, "init")
    assert second.exit_code == 0 and "already exists" in second.output
    assert db.session.execute(select(User).where(User.is_admin)).scalars().all().__len__() == 1


def test_create_user_with_password_from_stdin_or_generated(runner, inquiry):
    made = invoke(runner, "create-user", "reader@example.org", "--role", "reader",
                  "--inquiry", "OLD", "--password-stdin", input="a long enough password\n")
    assert made.exit_code == 0, made.output
    assert "One-time password" not in made.output
    generated = invoke(runner, "create-user", "legal@example.org", "--role", "legal",
                       "--inquiry", "OLD")
    assert "One-time password:" in generated.output
    short = invoke(runner, "create-user", "x@example.org", "--role", "reader", "--inquiry",
                   "OLD", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "12 characters" in short.output
    no_inquiry = invoke(runner, "create-user", "y@example.org", "--role", "reader")
    assert no_inquiry.exit_code != 0


def test_create_inquiry_validates_the_code(runner):
    assert invoke(runner, "create-inquiry", "OLD", "Oldham local inquiry").exit_code == 0
    again = invoke(runner, "create-inquiry", "old", "Another")
    assert again.exit_code != 0 and "already exists" in again.output
    assert invoke(runner, "create-inquiry", "TOOLONG", "Bad").exit_code != 0


def _folder(tmp_path):
    folder = tmp_path / "submissions"
    (folder / "nested").mkdir(parents=True)
    samples.write(folder, "statement.pdf", samples.make_pdf(
        ["The mandatory reporting duty.", "Teacher evidence on page two."]))
    samples.write(folder / "nested", "letter.docx", samples.make_docx(["A school letter."]))
    samples.write(folder, "zz-copy-of-statement.pdf", (folder / "statement.pdf").read_bytes())
    samples.write(folder, "empty.pdf", b"")
    samples.write(folder, "locked.pdf", samples.make_encrypted_pdf())
    samples.write(folder, "scan.pdf", samples.make_image_only_pdf())
    return folder


def test_ingest_folder_with_report_and_summary(app, runner, inquiry, tmp_path):
    report = tmp_path / "report.json"
    result = invoke(runner, "ingest", str(_folder(tmp_path)), "--inquiry", "OLD",
                    "--report", str(report))
    assert result.exit_code == 0, result.output
    assert "2 indexed, 1 duplicate, 1 no text, 1 failed, 1 rejected" in result.output
    rows = {os.path.basename(r["path"]): r for r in json.loads(report.read_text())}
    assert set(rows) == {"statement.pdf", "letter.docx", "zz-copy-of-statement.pdf",
                         "empty.pdf", "locked.pdf", "scan.pdf"}
    assert rows["statement.pdf"]["outcome"] == "indexed"
    assert rows["statement.pdf"]["urn"].startswith("OLD")
    assert rows["zz-copy-of-statement.pdf"]["outcome"] == "duplicate"
    assert rows["zz-copy-of-statement.pdf"]["urn"] == rows["statement.pdf"]["urn"]
    assert rows["empty.pdf"] == {"path": rows["empty.pdf"]["path"], "outcome": "rejected",
                                 "reason": "The file is empty.", "urn": None,
                                 "sha256": rows["empty.pdf"]["sha256"]}
    assert rows["locked.pdf"]["outcome"] == "failed" and "encrypted" in rows["locked.pdf"][
        "reason"].lower()
    assert rows["scan.pdf"]["outcome"] == "no_text"
    assert all(len(r["sha256"]) == 64 for r in rows.values())


def test_search_json_gives_urn_page_score_snippet(app, runner, inquiry, tmp_path):
    invoke(runner, "ingest", str(_folder(tmp_path)), "--inquiry", "OLD")
    result = invoke(runner, "search", "teacher", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["documents"] == 1
    (hit,) = data["hits"]
    statement = db.session.execute(select(Document).where(
        Document.original_filename == "statement.pdf")).scalar_one()
    assert hit["page"] == 2 and hit["urn"] == statement.urn and hit["score"] > 0
    assert "<mark>Teacher</mark>" in hit["snippet"]
    plain = invoke(runner, "search", '"mandatory reporting"', "--inquiry", "OLD")
    assert f"{statement.urn}  p.1" in plain.output


def test_reindex_rebuilds_from_the_database(app, runner, inquiry, tmp_path):
    invoke(runner, "ingest", str(_folder(tmp_path)), "--inquiry", "OLD")
    app.extensions["search"].clear()
    assert json.loads(invoke(runner, "search", "teacher", "--json").output)["documents"] == 0
    result = invoke(runner, "reindex")
    assert result.exit_code == 0 and "Reindexed 2 documents" in result.output
    assert json.loads(invoke(runner, "search", "teacher", "--json").output)["documents"] == 1


def test_check_finds_and_repairs_disagreements(app, runner, inquiry, tmp_path):
    invoke(runner, "ingest", str(_folder(tmp_path)), "--inquiry", "OLD")
    assert invoke(runner, "check").exit_code == 0
    search = app.extensions["search"]
    first = db.session.execute(select(Document).where(
        Document.original_filename == "statement.pdf")).scalar_one()
    search.delete_documents([first.id])
    broken = invoke(runner, "check")
    assert broken.exit_code == 1 and "INDEX differs" in broken.output
    repaired = invoke(runner, "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert invoke(runner, "check").exit_code == 0
    assert search.indexed_page_counts()[first.id] == 2


def test_check_reports_a_flipped_byte_in_an_original(app, runner, inquiry, tmp_path):
    invoke(runner, "ingest", str(_folder(tmp_path)), "--inquiry", "OLD")
    first = db.session.execute(select(Document).order_by(Document.id)).scalars().first()
    path = Store(app.config["UPLOAD_DIR"]).path_for(first.sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    result = invoke(runner, "check", "--repair")
    assert result.exit_code == 1 and f"ALTERED original for {first.urn}" in result.output
