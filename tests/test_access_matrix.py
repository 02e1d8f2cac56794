"""Every route, for every role, with another inquiry's ids: the permissions table holds.

The table must name every endpoint the app registers, so a new route cannot ship without
deciding who may use it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from inquiry_docs import recommendations
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.models import (
    Batch,
    BatchItem,
    Coding,
    Document,
    DocumentTag,
    Inquiry,
    Membership,
    User,
)
from inquiry_docs.recommendations import links
from inquiry_docs.review import bundles, notes, productions, redactions, tags
from inquiry_docs.search import batch as batch_search
from inquiry_docs.search import saved as saved_searches
from tests import samples
from tests.conftest import login, make_user, upload

ROLES = ("anonymous", "outsider", "reader", "researcher", "legal", "secretariat", "admin")
MEMBERS = ("reader", "researcher", "legal", "secretariat")
OK = {200}
REDIRECT = {302, 303}

# endpoint -> {role: expected GET statuses}; roles not named get DEFAULT_DENY.
SIGNED_IN = {r: OK for r in ROLES if r != "anonymous"}
ADMIN_ONLY = {"admin": OK}
DOC_READERS = {**dict.fromkeys(MEMBERS, OK), "admin": OK, "outsider": {404}}


def deny(extra: dict, members_status: int = 403) -> dict:
    table = {r: {members_status} for r in MEMBERS}
    table["outsider"] = {404}
    table.update(extra)
    return table


# Open to anyone, signed in or not: health says only ok/down per component; the
# accessibility statement and privacy notice are published pages.
PUBLIC = {"health.healthz", "about.accessibility", "about.privacy"}

GET_TABLE: dict[str, dict[str, set[int]]] = {
    "health.healthz": dict.fromkeys(ROLES, OK),
    "about.accessibility": dict.fromkeys(ROLES, OK),
    "about.privacy": dict.fromkeys(ROLES, OK),
    "search.search": SIGNED_IN,
    "search.help_page": SIGNED_IN,
    "search.export_csv": SIGNED_IN,
    "account.api_tokens": SIGNED_IN,
    "lists.index": SIGNED_IN,
    "lists.batch_form": SIGNED_IN,
    "lists.batch_show": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                         "admin": OK},
    "lists.batch_csv": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                        "admin": OK},
    "lists.run_saved": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                        "admin": REDIRECT},
    "documents.index": SIGNED_IN,
    "documents.attention": SIGNED_IN,
    "inquiries.index": SIGNED_IN,
    "documents.show": DOC_READERS,
    "documents.download": DOC_READERS,
    "documents.similar": DOC_READERS,
    "insight.compare": DOC_READERS,
    "insight.timeline_page": SIGNED_IN,
    "insight.timeline_csv": SIGNED_IN,
    "documents.page_image": DOC_READERS,
    "documents.edit": deny({"secretariat": OK, "admin": OK}),
    "documents.marking": deny({"legal": OK, "admin": OK}),
    "inquiries.create": {**{r: {403} for r in ROLES if r not in ("anonymous", "admin")},
                         "admin": OK},
    "upload.form": {"reader": {403}, "researcher": {403}, "legal": {403},
                    "secretariat": OK, "outsider": OK, "admin": OK},
    "upload.batch": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                     "admin": OK},
    # Recommendations: a set for all inquiries is read by everyone signed in; linking is for
    # researchers in the document's inquiry; import and edit are the admin's.
    "recommendations.index": SIGNED_IN,
    "recommendations.show": SIGNED_IN,
    "recommendations.matrix": SIGNED_IN,
    "recommendations.matrix_csv": SIGNED_IN,
    "recommendations.rec_dossier": SIGNED_IN,
    "recommendations.set_dossier": SIGNED_IN,
    "recommendations.for_document": DOC_READERS,
    "recommendations.edit_link": deny({"researcher": OK, "admin": OK}),
    "recommendation_sets.import_set": {**{r: {403} for r in ROLES if r not in ("anonymous",
                                                                           "admin")},
                                   "admin": OK},
    "recommendation_sets.edit_set": {**{r: {403} for r in ROLES if r not in ("anonymous",
                                                                         "admin")},
                                 "admin": OK},
    "recommendation_sets.edit": {**{r: {403} for r in ROLES if r not in ("anonymous", "admin")},
                             "admin": OK},
    "review.tags_page": SIGNED_IN,
    "review.tag_edit": deny({"legal": OK, "admin": OK}),
    "review.tag_merge": deny({"legal": OK, "admin": OK}),
    "review.coding_form": deny({"legal": OK, "admin": OK}),
    "review.history_page": DOC_READERS,
    # Only the author edits a note (the researcher wrote the one in `world`).
    "review.note_edit": deny({"researcher": OK, "admin": {403}}),
    "review.notes_page": SIGNED_IN,
    "review.queue_page": SIGNED_IN,
    "review.bulk": {**{r: {403} for r in ROLES if r != "anonymous"}, "legal": OK,
                    "admin": OK},
    "review.export_csv": {**{r: {403} for r in ROLES if r != "anonymous"}, "legal": OK,
                          "admin": OK},
    # A disclosure bundle is its requester's alone (the admin's in `world`).
    "review.bundle_show": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                           "admin": OK},
    "review.bundle_download": {**{r: {404} for r in ROLES
                                  if r not in ("anonymous", "admin")}, "admin": OK},
    # Redactions: legal users of the document's inquiry and admins; the redacted PDF is for
    # everyone who may see the document.
    "redactions.page": deny({"legal": OK, "admin": OK}),
    "redactions.edit": deny({"legal": OK, "admin": OK}),
    "redactions.search": {**{r: {403} for r in ROLES if r != "anonymous"}, "legal": OK,
                          "admin": OK},
    "redactions.redacted_pdf": DOC_READERS,
    # Productions: for those who may export; each production is its requester's alone
    # (the admin's in `world`).
    "productions.index": {**{r: {403} for r in ROLES if r != "anonymous"}, "legal": OK,
                          "admin": OK},
    "productions.new": {**{r: {403} for r in ROLES if r != "anonymous"}, "legal": OK,
                        "admin": OK},
    "productions.show": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                         "admin": OK},
    "productions.download": {**{r: {404} for r in ROLES if r not in ("anonymous", "admin")},
                             "admin": OK},
}
# Sign-in steps answer everyone with a page or a redirect, never an error.
AUTH_STEPS = dict.fromkeys(ROLES, OK | REDIRECT)
POST_ONLY = {"auth.logout", "documents.retry", "review.document_tags", "review.note_add",
             "redactions.words", "redactions.remove", "redactions.approve",
             "redactions.approve_all", "redactions.release", "productions.rebuild",
             "upload.details", "upload.bulk", "upload.dismiss"}


def expected(endpoint: str, role: str) -> set[int]:
    if endpoint.startswith("api."):
        return {401}  # the API takes bearer tokens only; a session cookie is not enough
    if endpoint.startswith(("auth.", "enrolment.")):  # the sign-in steps, first ones too
        return AUTH_STEPS[role]
    if endpoint in PUBLIC:
        return GET_TABLE[endpoint][role]
    if role == "anonymous":
        return REDIRECT
    if endpoint.startswith("admin."):
        return ADMIN_ONLY.get(role, {403})
    return GET_TABLE[endpoint].get(role, {403})


@pytest.fixture
def world(app, admin_client, inquiry):
    """Two inquiries, one document in OLD, a user per role, and their clients."""
    # One upload: a stored file, and an empty one that is refused (kept as a record only).
    upload(admin_client, inquiry, [(samples.make_pdf(["matrix text"]), "m.pdf"),
                                   (b"", "refused.pdf")])
    other = create_inquiry("ROT", "Rotherham")
    users = {"admin": db.session.execute(select(User).where(User.is_admin)).scalar_one()}
    for role in MEMBERS:
        users[role] = make_user(f"{role}@example.org", role, inquiry)
    users["outsider"] = make_user("outsider@example.org", "secretariat", other)
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            login(client, users[role].email)
        clients[role] = client
    document = db.session.execute(select(Document)).scalar_one()
    reader = users["reader"]
    rset = recommendations.ensure_default_set()
    rec = rset.recommendations[12]
    link = links.add(users["admin"], rec, document, links.LinkInput(1, "supports"), None)
    batch_run = batch_search.start(users["admin"], ["matrix"])
    saved = saved_searches.save(users["admin"], name="Matrix", query="matrix")
    tag = tags.create(users["admin"], document.inquiry_id, "Matrix")
    note = notes.add(users["researcher"], document, 1, "A note")
    bundle, _ = bundles.start(users["admin"], [document], "Matrix bundle")
    redaction = redactions.add(users["admin"], document, redactions.Box(1, 0.1, 0.1, 0.2, 0.2),
                               redactions.Reason("pii"))
    redactions.approve(users["legal"], redaction)
    production, _ = productions.start(users["admin"], [document], productions.Request(
        "Matrix production", "Core participants", "MAT", "1"))
    ids = {
        "search_id": batch_run.id,
        "saved_id": saved.id,
        "document_id": document.id,
        "batch_id": db.session.execute(select(Batch.id)).scalar_one(),
        "refused_id": db.session.execute(select(BatchItem.id).where(
            BatchItem.outcome == "rejected")).scalar_one(),
        "user_id": reader.id,
        "membership_id": db.session.execute(select(Membership.id).where(
            Membership.user_id == reader.id)).scalar_one(),
        "filename": "app.css",
        "urn": document.urn,
        "number": 1,
        "rest": "anything",
        "rec_id": rec.id,
        "set_id": rset.id,
        "link_id": link.id,
        "kind": "csv",
        "tag_id": tag.id,
        "note_id": note.id,
        "bundle_id": bundle.id,
        "redaction_id": redaction.id,
        "production_id": production.id,
        "size": "thumb",
    }
    return clients, ids, document


CODING = {"relevance": "relevant", "privilege": "none", "review_status": "done"}


def _url(rule: str, ids: dict) -> str:
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def test_every_route_for_every_role(app, world):
    clients, ids, _ = world
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        assert rule.endpoint.startswith(("auth.", "enrolment.", "admin.", "api.")) \
            or rule.endpoint in GET_TABLE, \
            f"{rule.endpoint} is missing from the permissions table"
        url = _url(rule.rule, ids)
        for role in ROLES:
            status = clients[role].get(url).status_code
            if status not in expected(rule.endpoint, role):
                failures.append(f"{role} GET {url} -> {status}, expected "
                                f"{sorted(expected(rule.endpoint, role))}")
    assert not failures, "\n".join(failures)


def test_post_routes_refuse_the_wrong_roles_and_change_nothing(app, world):
    clients, ids, document = world
    before = (document.title, document.marking, document.status, document.attempts)
    checks = [
        (f"/documents/{ids['document_id']}/edit", {"title": "hijacked", "doc_type": "other"},
         {"reader", "researcher", "legal"}, {403}),
        (f"/documents/{ids['document_id']}/marking", {"marking": "OFFICIAL-SENSITIVE"},
         {"reader", "researcher", "secretariat"}, {403}),
        (f"/documents/{ids['document_id']}/retry", {}, {"reader", "researcher", "legal"},
         {403}),
        (f"/documents/{ids['document_id']}/edit", {"title": "hijacked", "doc_type": "other"},
         {"outsider"}, {404}),
        (f"/documents/{ids['document_id']}/marking", {"marking": "OFFICIAL"}, {"outsider"},
         {404}),
        ("/inquiries/new", {"code": "NEW", "name": "x"}, set(MEMBERS) | {"outsider"}, {403}),
        (f"/recommendations/documents/{ids['document_id']}/links",
         {"recommendation": ids["rec_id"], "page": "1", "stance": "context"},
         {"reader", "legal", "secretariat"}, {403}),
        (f"/recommendations/documents/{ids['document_id']}/links",
         {"recommendation": ids["rec_id"], "page": "1", "stance": "context"}, {"outsider"},
         {404}),
        (f"/recommendations/{ids['rec_id']}/links",
         {"urn": ids["urn"], "page": "1", "stance": "context"},
         {"reader", "legal", "secretariat", "outsider"}, {403}),
        (f"/recommendations/links/{ids['link_id']}/delete", {},
         {"reader", "legal", "secretariat"}, {403}),
        (f"/recommendations/links/{ids['link_id']}/delete", {}, {"outsider"}, {404}),
        (f"/recommendations/{ids['rec_id']}/suggestions/reject",
         {"document_id": ids["document_id"], "page": "1"},
         {"reader", "legal", "secretariat", "outsider"}, {403}),
        (f"/recommendations/{ids['rec_id']}/status", {"response": "rejected", "rag": "red"},
         {"reader", "legal", "secretariat", "outsider"}, {403}),
        (f"/recommendations/{ids['rec_id']}/trail",
         {"day": "1", "month": "1", "year": "2024", "what": "x"},
         {"reader", "legal", "secretariat", "outsider"}, {403}),
        (f"/recommendations/{ids['rec_id']}/notes", {"note_text": "x"},
         {"reader", "secretariat", "outsider"}, {403}),
        (f"/recommendations/{ids['rec_id']}/keywords", {"keywords": "x"},
         {"reader", "legal", "secretariat", "outsider"}, {403}),
        (f"/recommendations/{ids['rec_id']}/edit", {"title": "x"}, set(MEMBERS) | {"outsider"},
         {403}),
        (f"/review/documents/{ids['document_id']}/coding", CODING,
         {"reader", "researcher", "secretariat"}, {403}),
        (f"/review/documents/{ids['document_id']}/coding", CODING, {"outsider"}, {404}),
        (f"/review/documents/{ids['document_id']}/tags", {"tag": ids["tag_id"]},
         {"reader", "researcher", "secretariat"}, {403}),
        (f"/review/documents/{ids['document_id']}/tags", {"tag": ids["tag_id"]},
         {"outsider"}, {404}),
        (f"/review/documents/{ids['document_id']}/notes", {"page": "1", "body": "x"},
         {"reader", "secretariat"}, {403}),
        (f"/review/documents/{ids['document_id']}/notes", {"page": "1", "body": "x"},
         {"outsider"}, {404}),
        (f"/review/notes/{ids['note_id']}/edit", {"body": "changed"},
         {"reader", "legal", "secretariat"}, {403}),
        (f"/review/tags/{ids['tag_id']}/edit", {"name": "x", "colour": "red"},
         {"reader", "researcher", "secretariat"}, {403}),
        (f"/review/tags/{ids['tag_id']}/merge", {"into": ids["tag_id"]},
         {"reader", "researcher", "secretariat"}, {403}),
        ("/review/tags", {"inquiry": str(document.inquiry_id), "name": "x", "colour": "red"},
         {"reader", "researcher", "secretariat", "outsider"}, {403}),
        ("/review/bulk", {"doc": ids["document_id"], "action": "tag_add",
                          "apply_tag": ids["tag_id"]},
         {"reader", "researcher", "secretariat", "outsider"}, {403}),
        ("/admin/audit/anchor", {}, set(MEMBERS) | {"outsider"}, {403}),
        # An upload's page is its sender's (the admin's here): others get a plain 404.
        (f"/upload/batches/{ids['batch_id']}/details",
         {f"doc-{ids['document_id']}-doc_type": "report",
          f"doc-{ids['document_id']}-was_doc_type": "other"}, set(MEMBERS) | {"outsider"},
         {404}),
        (f"/upload/batches/{ids['batch_id']}/bulk",
         {"file": ids["document_id"], "bulk-doc_type": "report", "bulk-source": "hijacked"},
         set(MEMBERS) | {"outsider"}, {404}),
        # A refused file is dismissed by those who may upload to its inquiry only.
        (f"/upload/refused/{ids['refused_id']}/dismiss", {},
         {"reader", "researcher", "legal", "outsider"}, {404}),
    ]
    box = {"page": "1", "left": "1", "top": "1", "width": "5", "height": "5", "reason": "pii"}
    doc, red = ids["document_id"], ids["redaction_id"]
    for url, data in ((f"/review/documents/{doc}/redactions", box),
                      (f"/review/documents/{doc}/redactions/words",
                       {"page": "1", "words": "matrix", "reason": "pii"}),
                      (f"/review/redactions/{red}/edit", {**box, "reason": "victim"}),
                      (f"/review/redactions/{red}/delete", {}),
                      (f"/review/redactions/{red}/approve", {}),
                      (f"/review/documents/{doc}/redactions/approve", {}),
                      (f"/review/documents/{doc}/release", {"release": "redacted"})):
        checks.append((url, data, {"reader", "researcher", "secretariat"}, {403}))
        checks.append((url, data, {"outsider"}, {404}))
    checks.append(("/review/redact", {"doc": doc, "kind": "words", "words": "matrix",
                                      "reason": "pii"},
                   {"reader", "researcher", "secretariat", "outsider"}, {403}))
    checks.append(("/review/productions/new", {"doc": doc, "name": "x", "recipient": "y",
                                               "prefix": "X", "start": "1"},
                   {"reader", "researcher", "secretariat", "outsider"}, {403}))
    checks.append((f"/review/productions/{ids['production_id']}/rebuild", {},
                   {"legal", "reader", "outsider"}, {404}))
    for url, data, roles, statuses in checks:
        for role in roles:
            status = clients[role].post(url, data=data).status_code
            assert status in statuses, f"{role} POST {url} -> {status}"
    for role in ("anonymous",):
        for url, data, _, _ in checks:
            assert clients[role].post(url, data=data).status_code in REDIRECT
    db.session.refresh(document)
    assert (document.title, document.marking, document.status, document.attempts) == before
    assert (document.doc_type, document.source) == ("other", "")
    assert db.session.get(BatchItem, ids["refused_id"]).dismissed_at is None
    from inquiry_docs.models import EvidenceLink, Recommendation

    assert db.session.execute(select(EvidenceLink.stance)).scalars().all() == ["supports"]
    rec = db.session.get(Recommendation, ids["rec_id"])
    assert (rec.response, rec.rag, rec.keywords) == ("not_yet_responded", "", "")
    assert db.session.execute(select(Coding)).first() is None
    assert db.session.execute(select(DocumentTag)).first() is None
    assert db.session.get(notes.Note, ids["note_id"]).body == "A note"
    assert [t.name for t in tags.for_inquiries([document.inquiry_id])] == ["Matrix"]
    from inquiry_docs.models import Production, Redaction

    assert [(r.status, r.reason) for r in db.session.execute(select(Redaction)).scalars()] \
        == [("approved", "pii")]
    assert not document.redacted_release
    assert len(db.session.execute(select(Production)).scalars().all()) == 1


def test_refused_files_are_listed_and_dismissed_only_where_the_user_may_upload(app, world):
    clients, ids, _ = world
    for role in ("reader", "researcher", "legal", "outsider"):
        page = clients[role].get("/documents/attention").get_data(as_text=True)
        assert "refused.pdf" not in page, role
    page = clients["secretariat"].get("/documents/attention").get_data(as_text=True)
    assert "refused.pdf" in page and "The file is empty." in page
    # Not the sender, so the upload's own page stays closed; the list is open.
    assert f"/upload/batches/{ids['batch_id']}" not in page
    response = clients["secretariat"].post(f"/upload/refused/{ids['refused_id']}/dismiss",
                                           data={"back": "batch"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/documents/attention")
    assert db.session.get(BatchItem, ids["refused_id"]).dismissed_at is not None
    assert "refused.pdf" not in clients["admin"].get("/documents/attention").get_data(
        as_text=True)


def test_upload_to_an_inquiry_outside_the_path_of_membership_is_refused(app, world):
    clients, _, _ = world
    rot = db.session.execute(select(Inquiry.id).where(Inquiry.code == "ROT")).scalar_one()
    response = upload(clients["secretariat"], rot, [(samples.make_pdf(["x"]), "x.pdf")])
    assert response.status_code == 400 and b"Choose an inquiry you can upload to" in \
        response.data


def test_mass_assigned_fields_are_ignored_on_edit(app, world):
    clients, ids, document = world
    before = (document.urn, document.inquiry_id, document.sha256, document.status,
              document.marking, document.restricted)
    response = clients["secretariat"].post(f"/documents/{ids['document_id']}/edit", data={
        "title": "New title", "doc_type": "report", "source": "", "urn": "OLD999999",
        "inquiry_id": "2", "sha256": "0" * 64, "status": "failed", "marking": "OFFICIAL",
        "restricted": "yes", "role": "admin", "is_admin": "1", "uploaded_by_id": "1"})
    assert response.status_code == 302
    db.session.refresh(document)
    assert document.title == "New title"
    assert (document.urn, document.inquiry_id, document.sha256, document.status,
            document.marking, document.restricted) == before
    assert not db.session.get(User, ids["user_id"]).is_admin


def test_the_timeline_and_its_csv_count_nothing_outside_reach(app, world):
    clients, ids, _ = world
    timeline = clients["outsider"].get("/timeline").get_data(as_text=True)
    assert "0 documents" in timeline and ids["urn"] not in timeline
    csv_text = clients["outsider"].get("/timeline.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1:] == []  # the header alone
    assert "1 document" in clients["reader"].get("/timeline").get_data(as_text=True)
    browse = clients["outsider"].get("/?type=other").get_data(as_text=True)
    assert "0 documents" in browse and ids["urn"] not in browse
