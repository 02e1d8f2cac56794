"""Redactions through the pages: boxes drawn (typed as percentages), words chosen on a page,
every hit of a search, approval by a second legal user, the queue, and what a reader of a
redacted release is shown. Real database, page images, word positions and queue."""

from __future__ import annotations

import io
import json

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.evidence import page_words
from inquiry_docs.models import AuditEvent, Document, Recommendation, Redaction
from inquiry_docs.review import redaction_search
from tests import samples
from tests.conftest import login, make_user, upload

STATEMENT = [
    "Statement of the deputy head teacher.\n"
    "I spoke to John Smith on 0161 496 0000 about the referral.\n"
    "His date of birth is 12/03/1985 and his NI number is AB 12 34 56 C.\n"
    "Write to j.smith@example.org or 1 High Street, Oldham OL1 1AA.",
    "Second page. John Smith signed the notebook.\n"
    "The council kept the file.",
]


@pytest.fixture
def world(app, admin_client, inquiry):
    """A two-page statement in OLD, two legal users, a reader and a researcher."""
    upload(admin_client, inquiry, [(samples.make_pdf(STATEMENT, title="Head teacher"),
                                    "statement.pdf")])
    document = db.session.execute(select(Document)).scalar_one()
    for email, role in (("legal1@example.org", "legal"), ("legal2@example.org", "legal"),
                        ("reader@example.org", "reader"),
                        ("researcher@example.org", "researcher")):
        make_user(email, role, inquiry)
    return document


def _client(app, email):
    client = app.test_client()
    login(client, email)
    return client


def _events(action):
    return [json.loads(e.details) for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).scalars()]


def _redactions(document_id):
    db.session.expire_all()
    return db.session.execute(select(Redaction).where(Redaction.document_id == document_id)
                              .order_by(Redaction.id)).scalars().all()


def _word(document, page, text):
    words = page_words.page(document, page)
    return next(w for w in words.words if w.text.strip(".,") == text)


def test_word_positions_follow_the_text_line_by_line(app, world):
    words = page_words.page(world, 1)
    assert words.source == "text" and 500 < words.width < 700
    texts = [w.text for w in words.words]
    assert texts[:6] == ["Statement", "of", "the", "deputy", "head", "teacher."]
    assert {w.line for w in words.words} == {0, 1, 2, 3}
    for word in words.words:
        assert 0 <= word.x0 < word.x1 <= 1 and 0 <= word.y0 < word.y1 <= 1
    john, smith = _word(world, 1, "John"), _word(world, 1, "Smith")
    assert john.line == smith.line and john.x1 < smith.x0
    # Kept beside the page images: a second read does not start a child.
    assert page_words._path(world, 1).exists()


def test_a_box_is_proposed_and_approved_only_by_another_legal_user(app, world):
    first, second = _client(app, "legal1@example.org"), _client(app, "legal2@example.org")
    response = first.post(f"/review/documents/{world.id}/redactions", data={
        "page": "1", "left": "10", "top": "20", "width": "30", "height": "5",
        "reason": "pii", "back": "viewer"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/documents/{world.id}?page=1#page-1")
    [box] = _redactions(world.id)
    assert (box.x0, box.y0, box.x1, box.y1) == (0.1, 0.2, 0.4, 0.25)
    assert (box.status, box.kind, box.reason, box.code) == ("proposed", "box", "pii", "PII")
    assert _events("redaction_proposed")[-1]["box"] == [0.1, 0.2, 0.4, 0.25]
    # The author may not approve their own redaction.
    assert first.post(f"/review/redactions/{box.id}/approve").status_code == 403
    assert _redactions(world.id)[0].status == "proposed"
    page = first.get(f"/review/documents/{world.id}/redactions").data.decode()
    assert "1 waiting for approval" in page and f"/review/redactions/{box.id}/approve" \
        not in page
    assert second.post(f"/review/redactions/{box.id}/approve").status_code == 303
    [box] = _redactions(world.id)
    assert box.status == "approved" and box.approved_by.email == "legal2@example.org"
    assert _events("redaction_approved")[-1]["author"] == "legal1@example.org"


def test_the_viewer_shows_boxes_and_forms_to_legal_users_only(app, world):
    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{world.id}/redactions", data={
        "page": "2", "left": "5", "top": "5", "width": "20", "height": "3", "reason": "victim"})
    html = legal.get(f"/documents/{world.id}").data.decode()
    assert 'class="app-redaction app-redaction--proposed" x="50.00" y="50.00" ' \
           'width="200.00" height="30.00"' in html
    assert 'id="left-1"' in html and 'id="left-2"' in html  # a form per page, ids apart
    assert "Redact part of page 2 (1 redaction)" in html
    for email in ("reader@example.org", "researcher@example.org"):
        other = _client(app, email).get(f"/documents/{world.id}").data.decode()
        assert "app-redaction" not in other and "Redact part of page" not in other


def test_words_chosen_on_a_page_become_boxes_over_exactly_those_words(app, world):
    legal = _client(app, "legal1@example.org")
    response = legal.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "1", "words": "john  SMITH", "occurrence": "", "reason": "pii"})
    assert response.status_code == 303
    [box] = _redactions(world.id)
    john, smith = _word(world, 1, "John"), _word(world, 1, "Smith")
    assert (box.x0, box.y0, box.x1, box.y1) == (john.x0, john.y0, smith.x1, smith.y1)
    assert (box.kind, box.text) == ("words", "John Smith")
    # The second time on page 2 only; an occurrence that is not there is a clear message.
    missing = legal.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "2", "words": "John Smith", "occurrence": "2", "reason": "pii"})
    assert missing.status_code == 400 and b"The words appear 1 time on the page" in \
        missing.data
    absent = legal.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "2", "words": "Jane Doe", "reason": "pii"})
    assert absent.status_code == 400 and b"Those words are not on page 2" in absent.data
    assert len(_redactions(world.id)) == 1


@pytest.mark.parametrize(("form", "message"), [
    ({"left": "abc"}, b"Enter the box&#39;s left as a percentage of the page"),
    ({"width": "0"}, b"Make the box wider and taller"),
    ({"left": "90", "width": "30"}, b"The box goes past the edge of the page"),
    ({"page": "9"}, b"Enter a page between 1 and 2"),
    ({"reason": ""}, b"Choose the reason for the redaction"),
    ({"reason": "restriction"}, b"Enter the restriction order the redaction applies"),
    ({"top": "nan"}, b"Enter the box&#39;s top between 0 and 100"),
])
def test_bad_boxes_get_a_clear_message_and_change_nothing(app, world, form, message):
    legal = _client(app, "legal1@example.org")
    data = {"page": "1", "left": "10", "top": "10", "width": "10", "height": "10",
            "reason": "pii", **form}
    response = legal.post(f"/review/documents/{world.id}/redactions", data=data)
    assert response.status_code == 400 and message in response.data
    assert b"There is a problem" in response.data and _redactions(world.id) == []


def test_a_change_sends_an_approved_redaction_back_and_removal_is_audited(app, world,
                                                                          admin_client):
    first, second = _client(app, "legal1@example.org"), _client(app, "legal2@example.org")
    first.post(f"/review/documents/{world.id}/redactions", data={
        "page": "1", "left": "10", "top": "20", "width": "30", "height": "5", "reason": "pii"})
    [box] = _redactions(world.id)
    second.post(f"/review/redactions/{box.id}/approve")
    assert b'value="10.00"' in second.get(f"/review/redactions/{box.id}/edit").data
    response = second.post(f"/review/redactions/{box.id}/edit", data={
        "left": "10", "top": "20", "width": "30", "height": "5", "reason": "restriction",
        "restriction_ref": "RO 2023/4"})
    assert response.status_code == 303
    [box] = _redactions(world.id)
    assert (box.status, box.code, box.approved_by_id) == ("proposed", "RO RO 2023/4", None)
    assert box.changed_by.email == "legal2@example.org"
    change = _events("redaction_changed")[-1]["changes"]
    assert change["reason"] == ["pii", "restriction"] and change["status"] == [
        "approved", "proposed"]
    # Neither the author nor the one who changed it may approve it now: a third person may.
    assert first.post(f"/review/redactions/{box.id}/approve").status_code == 403
    assert second.post(f"/review/redactions/{box.id}/approve").status_code == 403
    assert admin_client.post(f"/review/redactions/{box.id}/approve").status_code == 303
    assert _redactions(world.id)[0].status == "approved"
    assert first.post(f"/review/redactions/{box.id}/delete").status_code == 303
    assert _redactions(world.id) == []
    assert _events("redaction_removed")[-1]["reason"] == "restriction"


def test_readers_and_outsiders_may_not_redact(app, world):
    from inquiry_docs.access.inquiries import create_inquiry

    other = create_inquiry("ROT", "Rotherham")
    make_user("outsider@example.org", "legal", other)
    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{world.id}/redactions", data={
        "page": "1", "left": "10", "top": "20", "width": "30", "height": "5", "reason": "pii"})
    [box] = _redactions(world.id)
    box_form = {"page": "1", "left": "1", "top": "1", "width": "5", "height": "5",
                "reason": "pii"}
    for email, status in (("reader@example.org", 403), ("researcher@example.org", 403),
                          ("outsider@example.org", 404)):
        client = _client(app, email)
        assert client.post(f"/review/documents/{world.id}/redactions",
                           data=box_form).status_code == status
        assert client.post(f"/review/redactions/{box.id}/approve").status_code == status
        assert client.post(f"/review/redactions/{box.id}/delete").status_code == status
        assert client.post(f"/review/documents/{world.id}/release",
                           data={"release": "redacted"}).status_code == status
    [box] = _redactions(world.id)
    assert box.status == "proposed"
    assert not db.session.get(Document, world.id).redacted_release


def test_search_hits_are_counted_first_then_redacted_once(app, world):
    legal = _client(app, "legal1@example.org")
    base = {"doc": world.id, "reason": "pii"}
    expected = {"words": ("John Smith", 2), "phone": ("", 1), "ni": ("", 1),
                "email": ("", 1), "postcode": ("", 1), "dates": ("", 1)}
    for kind, (words, hits) in expected.items():
        preview = legal.get("/review/redact", query_string={**base, "kind": kind,
                                                             "words": words})
        assert preview.status_code == 200, (kind, preview.data[-2000:])
        assert f"{hits} hit{'s' if hits != 1 else ''} on".encode() in preview.data, kind
    assert _redactions(world.id) == []  # a preview writes nothing
    response = legal.post("/review/redact", data={**base, "kind": "words",
                                                  "words": "John Smith"})
    assert response.status_code == 303
    made = _redactions(world.id)
    assert sorted(r.page for r in made) == [1, 2] and {r.kind for r in made} == {"search"}
    again = legal.get("/review/redact", query_string={**base, "kind": "words",
                                                       "words": "John Smith"})
    assert b"0 hits on" in again.data and b"2 hits are redacted already" in again.data
    phone = legal.post("/review/redact", data={**base, "kind": "phone"})
    assert phone.status_code == 303
    [number] = [r for r in _redactions(world.id) if r.text.startswith("0161")]
    assert number.text == "0161 496 0000"
    event = _events("redaction_search_applied")[-1]
    assert event["boxes"] == 1 and event["search"] == "phone: UK phone numbers"


def test_a_result_set_is_redacted_in_one_step_within_reach(app, world, admin_client,
                                                          inquiry):
    upload(admin_client, inquiry, [(samples.make_pdf(["John Smith again."]), "two.pdf")])
    from inquiry_docs.access.inquiries import create_inquiry

    rot = create_inquiry("ROT", "Rotherham")
    upload(admin_client, rot, [(samples.make_pdf(["John Smith in Rotherham."]), "r.pdf")])
    legal = _client(app, "legal1@example.org")
    preview = legal.get("/review/redact", query_string={
        "q": '"john smith"', "kind": "words", "words": "John Smith", "reason": "pii"})
    assert b"3 hits on 3 pages of 2 documents will be redacted" in preview.data
    legal.post("/review/redact", data={"q": '"john smith"', "kind": "words",
                                       "words": "John Smith", "reason": "pii"})
    rows = db.session.execute(select(Redaction.document_id)).scalars().all()
    rot_doc = db.session.execute(select(Document.id).where(Document.inquiry_id == rot.id)
                                 ).scalar_one()
    assert len(rows) == 3 and rot_doc not in rows
    # Only legal users and admins may redact by search at all.
    reader = _client(app, "reader@example.org")
    assert reader.get("/review/redact", query_string={"doc": world.id}).status_code == 403


def test_unknown_patterns_and_empty_words_are_refused_plainly(app, world):
    assert redaction_search.compile_pattern("regex", "")[1] == "Choose what to look for"
    legal = _client(app, "legal1@example.org")
    response = legal.get("/review/redact", query_string={"doc": world.id, "kind": "words",
                                                          "words": " ", "reason": "pii"})
    assert response.status_code == 400 and b"Enter the words or name to redact" in \
        response.data


def test_queue_lists_documents_with_redactions_to_approve(app, world):
    first, second = _client(app, "legal1@example.org"), _client(app, "legal2@example.org")
    first.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "1", "words": "John Smith", "reason": "pii"})
    page = second.get("/review/queue?name=redactions").data.decode()
    assert "Redactions to approve: 1 document" in page
    assert f"/review/documents/{world.id}/redactions" in page
    second.post(f"/review/documents/{world.id}/redactions/approve")
    assert "Redactions to approve: 0 documents" in \
        second.get("/review/queue?name=redactions").data.decode()


def _dark(png: bytes, box: tuple[float, float, float, float]) -> float:
    """The mean brightness (0 black, 255 white) inside a box of a page image."""
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
        area = image.convert("L").crop((int(box[0] * width) + 2, int(box[1] * height) + 2,
                                        int(box[2] * width) - 2, int(box[3] * height) - 2))
        histogram = area.histogram()
    return sum(value * count for value, count in enumerate(histogram)) / sum(histogram)


def test_a_redacted_release_shows_readers_only_the_redacted_version(app, world):
    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "1", "words": "John Smith", "reason": "pii"})
    legal.post(f"/review/documents/{world.id}/release", data={"release": "redacted"})
    assert _events("redacted_release_changed")[-1]["changes"] == {
        "redacted_release": [False, True]}
    box = _redactions(world.id)[0].box
    reader = _client(app, "reader@example.org")
    html = reader.get(f"/documents/{world.id}").data.decode()
    assert "John Smith on" not in html and "[REDACTED: PII] on 0161" in html
    assert "released redacted" in html and f"/documents/{world.id}/original" not in html
    # Page 2 has no redaction: its text is shown as it is.
    assert "John Smith signed the notebook" in html
    image = reader.get(f"/documents/{world.id}/pages/1/read.png")
    assert image.status_code == 200 and _dark(image.data, box) < 40
    assert _dark(legal.get(f"/documents/{world.id}/pages/1/read.png").data, box) > 150
    download = reader.get(f"/documents/{world.id}/original")
    assert download.status_code == 302 and download.headers["Location"].endswith(
        f"/documents/{world.id}/redacted.pdf")
    # Legal users still read the original text and download the original.
    assert "John Smith on 0161" in legal.get(f"/documents/{world.id}").data.decode()
    assert legal.get(f"/documents/{world.id}/original").status_code == 200


def test_the_api_gives_a_reader_of_a_redacted_release_the_redacted_text(app, world):
    from inquiry_docs.access import tokens

    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "1", "words": "0161 496 0000", "reason": "pii"})
    legal.post(f"/review/documents/{world.id}/release", data={"release": "redacted"})
    from inquiry_docs.models import User

    reader = db.session.execute(select(User).where(User.email == "reader@example.org")
                                ).scalar_one()
    token = tokens.create(reader, "test")[1]
    answer = app.test_client().get(f"/api/v1/documents/{world.urn}/pages/1",
                                   headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.data
    text = answer.get_json()["text"]
    assert "0161" not in text and "[REDACTED: PII]" in text and "John Smith" in text


def test_the_redacted_pdf_has_no_hidden_words_and_no_metadata(app, world):
    import shutil
    import subprocess

    import pypdf

    from tests.conftest import require

    legal = _client(app, "legal1@example.org")
    for words in ("John Smith", "j.smith@example.org"):
        legal.post(f"/review/documents/{world.id}/redactions/words", data={
            "page": "1", "words": words, "reason": "pii"})
    legal.post(f"/review/documents/{world.id}/redactions", data={
        "page": "2", "left": "0", "top": "0", "width": "100", "height": "0.5",
        "reason": "irrelevant"})  # a sliver: too thin for a code, still a box
    response = legal.get(f"/documents/{world.id}/redacted.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    data = response.data
    assert legal.get(f"/documents/{world.id}/redacted.pdf").data == data  # same bytes
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert set(reader.metadata or {}) <= {"/CreationDate"}
    assert b"Head teacher" not in data
    first = "\n".join(page.extract_text() for page in reader.pages)
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is missing")
    poppler = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data,
                             capture_output=True, check=True).stdout.decode()
    for text in (first, poppler):
        assert "Smith" not in text.split("Second page.")[0]
        assert "j.smith" not in text and "example.org" not in text
        for kept in ("deputy", "0161", "referral", "OL1", "notebook"):
            assert kept in text, kept
        assert f"{world.urn} p. 1" in text and "OFFICIAL" in text
    # The box is burned into the page's pixels, with its code.
    pdf = pdfium.PdfDocument(data)
    try:
        bitmap = pdf[0].render(scale=2).to_pil().convert("L")
    finally:
        pdf.close()
    box = _redactions(world.id)[0]
    out = io.BytesIO()
    bitmap.save(out, "PNG")
    height_ratio = 841.89 / (841.89 + 24)
    assert _dark(out.getvalue(), (box.x0, box.y0 * height_ratio, box.x1,
                                  box.y1 * height_ratio)) < 120
    assert _events("redacted_pdf_downloaded")[-1]["redactions"] == 3


def test_search_results_show_a_reader_of_a_redacted_release_only_redacted_text(app, world):
    import csv

    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "1", "words": "John Smith", "reason": "pii"})
    legal.post(f"/review/documents/{world.id}/release", data={"release": "redacted"})
    reader = _client(app, "reader@example.org")
    html = reader.get("/?q=referral").data.decode()
    assert "[REDACTED: PII] on 0161" in html and "John Smith" not in html
    assert "<mark>referral</mark>" in html
    exported = reader.get("/search/export.csv?q=referral").data.decode()
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[1][0] == world.urn and "John Smith" not in rows[1][6]
    assert "[REDACTED: PII]" in rows[1][6]
    # Legal users, who may see the original, get its text.
    assert "John Smith" in legal.get("/?q=referral").data.decode()


def test_the_history_lists_each_redaction_step(app, world):
    first, second = _client(app, "legal1@example.org"), _client(app, "legal2@example.org")
    first.post(f"/review/documents/{world.id}/redactions/words", data={
        "page": "1", "words": "John Smith", "reason": "victim"})
    [box] = _redactions(world.id)
    second.post(f"/review/redactions/{box.id}/approve")
    second.post(f"/review/documents/{world.id}/release", data={"release": "redacted"})
    first.post(f"/review/redactions/{box.id}/delete")
    html = _client(app, "reader@example.org").get(
        f"/review/documents/{world.id}/history").data.decode()
    for text in ("Redactions proposed", "1 (Identifies a victim or survivor), pages 1",
                 "Redaction approved", "Approved, page 1", "Release", "redacted release",
                 "Redaction removed", "Identifies a victim or survivor, page 1"):
        assert text in html, text


def test_forms_start_from_the_codings_reason_and_restriction_order(app, world,
                                                                  admin_client):
    legal = admin_client  # the document becomes restricted: only those cleared see it
    response = legal.post(f"/review/documents/{world.id}/coding", data={
        "relevance": "relevant", "privilege": "none", "review_status": "in_progress",
        "redaction_needed": "yes", "redaction_pages": "1", "redaction_reason": "restriction",
        "marking": "OFFICIAL", "restricted": "yes", "restriction_ref": "RO 2023/4"})
    assert response.status_code == 303
    html = legal.get(f"/documents/{world.id}").data.decode()
    assert '<option value="restriction" selected>' in html and 'value="RO 2023/4"' in html
    page = legal.get(f"/review/redact?doc={world.id}").data.decode()
    assert '<option value="restriction" selected>' in page


def _release_redacted(app, document, words):
    legal = _client(app, "legal1@example.org")
    legal.post(f"/review/documents/{document.id}/redactions/words", data={
        "page": "1", "words": words, "reason": "pii"})
    legal.post(f"/review/documents/{document.id}/release", data={"release": "redacted"})
    return legal


def test_more_like_this_shows_a_reader_of_a_redacted_release_no_hidden_word(
        app, world, admin_client, inquiry):
    upload(admin_client, inquiry, [
        (samples.make_pdf(["harbour trawler skipper Zanzibar quayside netting"]), "a.pdf"),
        (samples.make_pdf(["harbour trawler skipper quayside herring"]), "b.pdf")])
    first, second = db.session.execute(select(Document).where(Document.id != world.id)
                                       .order_by(Document.id)).scalars()
    legal = _release_redacted(app, first, "Zanzibar")
    reader = _client(app, "reader@example.org")
    # Its own telling words come from the redacted text.
    html = reader.get(f"/documents/{first.id}/similar").data.decode()
    assert "Found through the words" in html and second.urn in html
    assert "zanzibar" not in html.lower()
    # Listed as like another document, its snippet is redacted.
    html = reader.get(f"/documents/{second.id}/similar").data.decode()
    assert first.urn in html and "[REDACTED: PII] <mark>quayside</mark>" in html
    assert "zanzibar" not in html.lower()
    # A legal user, who sees the original, is shown the word.
    assert "Zanzibar" in legal.get(f"/documents/{second.id}/similar").data.decode()
    assert "zanzibar" in legal.get(f"/documents/{first.id}/similar").data.decode().lower()


def test_a_recommendation_quotes_a_redacted_release_to_its_reader_redacted(app, world):
    from inquiry_docs.recommendations import ensure_default_set

    ensure_default_set()
    rec = db.session.execute(select(Recommendation).where(Recommendation.number == "13")
                             ).scalar_one()
    researcher = _client(app, "researcher@example.org")
    linked = researcher.post(f"/recommendations/documents/{world.id}/links", data={
        "recommendation": str(rec.id), "page": "1", "stance": "supports",
        "quote": "I spoke to John Smith on 0161 496 0000"})
    assert linked.status_code == 302, linked.data[:2000]
    legal = _release_redacted(app, world, "John Smith")
    for email in ("reader@example.org", "researcher@example.org"):
        html = _client(app, email).get(f"/recommendations/{rec.id}").data.decode()
        assert f"{world.urn} p. 1" in html
        assert "John Smith on" not in html and "[REDACTED: PII] on 0161" in html
    html = legal.get(f"/recommendations/{rec.id}").data.decode()
    assert "I spoke to John Smith on 0161 496 0000" in html


@pytest.mark.parametrize("query", ["re*", "referral " * 60])
def test_a_search_refused_as_too_broad_answers_plainly_with_a_redacted_release(
        app, world, query):
    _release_redacted(app, world, "John Smith")
    reader = _client(app, "reader@example.org")
    page = reader.get("/", query_string={"q": query})
    html = page.data.decode()
    assert page.status_code == 200 and "Your search is too broad" in html
    assert "John Smith" not in html
    assert reader.get("/search/export.csv", query_string={"q": query}).status_code == 400


def _linked_and_released(app, world):
    """Recommendation 13 quotes page 1 of the statement, then John Smith is redacted and
    the statement released redacted."""
    from inquiry_docs.recommendations import ensure_default_set

    ensure_default_set()
    rec = db.session.execute(select(Recommendation).where(Recommendation.number == "13")
                             ).scalar_one()
    researcher = _client(app, "researcher@example.org")
    linked = researcher.post(f"/recommendations/documents/{world.id}/links", data={
        "recommendation": str(rec.id), "page": "1", "stance": "supports",
        "quote": "I spoke to John Smith on 0161 496 0000"})
    assert linked.status_code == 302, linked.data[:2000]
    return rec, _release_redacted(app, world, "John Smith")


def _docx_text(data: bytes) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def test_dossiers_give_a_reader_of_a_redacted_release_the_redacted_text(app, world):
    rec, legal = _linked_and_released(app, world)
    for email in ("reader@example.org", "researcher@example.org"):
        client = _client(app, email)
        for url in (f"/recommendations/{rec.id}/dossier",
                    f"/recommendations/sets/{rec.set_id}/dossier"):
            text = _docx_text(client.get(f"{url}.docx").data)
            assert f"{world.urn} p. 1" in text
            assert "John Smith" not in text and "Smith" not in text
            assert "[REDACTED: PII] on 0161" in text
            assert "Shown: the start of the page's redacted text." in text
            csv_text = client.get(f"{url}.csv").data.decode()
            assert world.urn in csv_text and "Smith" not in csv_text
            assert "The start of the page's redacted text: " in csv_text
            assert "[REDACTED: PII] on 0161" in csv_text
    # A legal user, who sees the original, gets the quote as it was chosen.
    text = _docx_text(legal.get(f"/recommendations/{rec.id}/dossier.docx").data)
    assert "I spoke to John Smith on 0161 496 0000" in text and "Shown:" not in text
    csv_text = legal.get(f"/recommendations/{rec.id}/dossier.csv").data.decode()
    assert "I spoke to John Smith on 0161 496 0000" in csv_text
    assert "redacted text" not in csv_text


def test_a_documents_links_show_a_reader_of_a_redacted_release_no_hidden_word(app, world):
    rec, legal = _linked_and_released(app, world)
    for email in ("reader@example.org", "researcher@example.org"):
        client = _client(app, email)
        for url in (f"/recommendations/documents/{world.id}", f"/documents/{world.id}"):
            html = client.get(url).data.decode()
            table = html.split('id="document-links"')[1].split("</table>")[0]
            assert "Smith" not in table and "[REDACTED: PII] on 0161" in table
            assert "the start of its redacted text" in table
        html = client.get(f"/recommendations/{rec.id}").data.decode()
        assert "(shown: the start of the page&#39;s redacted text)" in html
    html = legal.get(f"/recommendations/documents/{world.id}").data.decode()
    assert "<q>I spoke to John Smith on 0161 496 0000</q>" in html
    assert "redacted text" not in legal.get(f"/recommendations/{rec.id}").data.decode()


def test_the_link_form_keeps_a_quote_its_redacted_release_reader_may_not_see(app, world):
    _linked_and_released(app, world)
    researcher = _client(app, "researcher@example.org")
    from inquiry_docs.models import EvidenceLink

    link = db.session.execute(select(EvidenceLink)).scalar_one()
    form = researcher.get(f"/recommendations/links/{link.id}/edit").data.decode()
    assert "Smith" not in form and "[REDACTED: PII] on 0161" in form
    assert 'name="quote"' not in form
    saved = researcher.post(f"/recommendations/links/{link.id}/edit", data={
        "page": "1", "stance": "context", "note": "Seen redacted", "quote": ""})
    assert saved.status_code == 302, saved.data[:2000]
    db.session.expire_all()
    link = db.session.get(EvidenceLink, link.id)
    assert (link.stance, link.note) == ("context", "Seen redacted")
    assert link.quote == "I spoke to John Smith on 0161 496 0000"
