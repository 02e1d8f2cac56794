"""The JSON API and personal API tokens: lifecycle, authentication, access, audit, errors,
and the curl examples of docs/api.md run against a live server."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_docs.access import signin as auth
from inquiry_docs.access import tokens
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import metadata
from inquiry_docs.models import ApiToken, AuditEvent, Document, Membership, User, utcnow
from inquiry_docs.web.server import make_server
from tests import samples
from tests.conftest import (
    PASSWORD,
    SEARCH_BACKEND_PARAMS,
    build_app,
    login,
    make_user,
    require,
    search_backend_config,
    upload,
)

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "api.md"
NOT_FOUND = {"error": "Not found"}


def _register(app: Flask) -> None:
    """The API, the tokens page and the CLI command, unless the app already has them."""
    from inquiry_docs.cli.tokens import create_token
    from inquiry_docs.web import account, api

    for module in (account, api):
        if module.bp.name not in app.blueprints:
            app.register_blueprint(module.bp)
    if "create-token" not in app.cli.commands:
        app.cli.add_command(create_token)


@pytest.fixture
def app(request, tmp_path: Path) -> Iterator[Flask]:
    """The stack's search backend, or the one a test names with @on_each_backend."""
    backend = getattr(request, "param", None)
    for overrides in search_backend_config(request, backend) if backend else [{}]:
        app = build_app(tmp_path, **overrides)
        _register(app)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


# The searching tests run on each search backend (each on its stack: conftest.BACKEND_STACK).
on_each_backend = pytest.mark.parametrize("app", SEARCH_BACKEND_PARAMS, indirect=True)


@pytest.fixture
def world(app: Flask, admin_client, inquiry) -> dict[str, Any]:
    """OLD000001 (two pages), OLD000002 (under a restriction order), ROT000001 in another
    inquiry, all mentioning safeguarding; a reader of OLD and a reader of ROT."""
    upload(
        admin_client,
        inquiry,
        [
            (
                samples.make_pdf(
                    [
                        "Statement of the designated safeguarding lead <b>&</b>",
                        "The safeguarding referral was not passed on.",
                    ]
                ),
                "statement.pdf",
            )
        ],
        doc_type="witness_statement",
        source="Oldham Council",
    )
    upload(
        admin_client,
        inquiry,
        [(samples.make_pdf(["Restricted safeguarding note naming a child"]), "restricted.pdf")],
    )
    other = create_inquiry("ROT", "Rotherham")
    upload(admin_client, other, [(samples.make_pdf(["Rotherham safeguarding review"]), "rot.pdf")])
    docs = {d.urn: d for d in db.session.execute(select(Document)).scalars()}
    assert set(docs) == {"OLD000001", "OLD000002", "ROT000001"}
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    metadata.set_marking(docs["OLD000002"], metadata.Marking("OFFICIAL", True, "RO-7", ""), admin)
    reader = make_user("reader@example.org", "reader", inquiry)
    outsider = make_user("outsider@example.org", "reader", other)
    return {
        "docs": docs,
        "reader": reader,
        "outsider": outsider,
        "admin": admin,
        "inquiry": inquiry,
        "other": other,
    }


def _token(user: User, name: str = "test") -> str:
    return tokens.create(user, name)[1]


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def _assert_401(response) -> None:
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"error"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---- token lifecycle ----


def test_create_token_on_the_command_line_prints_it_once(app, world):
    result = app.test_cli_runner().invoke(
        args=["create-token", "READER@example.org", "--name", "Chronology script"]
    )
    assert result.exit_code == 0, result.output
    secrets_shown = re.findall(r"idk_[A-Za-z0-9_-]{43}", result.output)
    assert len(secrets_shown) == 1
    secret = secrets_shown[0]
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert row.name == "Chronology script" and row.user_id == world["reader"].id
    # Only the hash is kept: the secret is in no column of the row.
    assert row.token_hash == tokens.digest(secret)
    assert all(secret not in str(getattr(row, c.key)) for c in ApiToken.__table__.columns)
    assert (
        app.test_client().get("/api/v1/documents/OLD000001", headers=_bearer(secret)).status_code
        == 200
    )
    event = _events("token_created")[-1]
    assert event.object_id == str(row.id) and '"channel": "cli"' in event.details
    assert secret not in event.details


def test_create_token_for_an_unknown_user_fails(app, world):
    result = app.test_cli_runner().invoke(args=["create-token", "nobody@example.org"])
    assert result.exit_code != 0 and "No user" in result.output
    assert db.session.execute(select(ApiToken)).first() is None


def test_tokens_page_creates_a_token_shown_once_and_revokes_it(app, world):
    client = app.test_client()
    login(client, "reader@example.org")
    page = client.get("/account/tokens")
    assert page.status_code == 200 and b"You have no API tokens" in page.data
    refused = client.post("/account/tokens", data={"name": "Script", "current_password": "x"})
    assert refused.status_code == 400 and b"not correct" in refused.data
    assert (
        client.post("/account/tokens", data={"name": " ", "current_password": PASSWORD}).status_code
        == 400
    )
    created = client.post("/account/tokens", data={"name": "Script", "current_password": PASSWORD})
    assert created.status_code == 200
    assert "no-store" in created.headers["Cache-Control"]
    secret = re.search(rb"idk_[A-Za-z0-9_-]{43}", created.data).group().decode()
    api = app.test_client()
    assert api.get("/api/v1/search?q=safeguarding", headers=_bearer(secret)).status_code == 200
    listing = client.get("/account/tokens")
    assert secret.encode() not in listing.data  # shown once
    assert b"Script" in listing.data and secret[:8].encode() in listing.data
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert row.last_used_at is not None

    revoked = client.post(f"/account/tokens/{row.id}/revoke")
    assert revoked.status_code == 302
    _assert_401(api.get("/api/v1/search?q=safeguarding", headers=_bearer(secret)))
    assert b"Revoked" in client.get("/account/tokens").data
    event = _events("token_revoked")[-1]
    assert event.user_id == world["reader"].id and event.object_id == str(row.id)
    refused_event = _events("api_token_refused")[-1]
    assert '"reason": "revoked"' in refused_event.details and secret not in refused_event.details


def test_nobody_can_revoke_or_see_another_persons_token(app, world):
    secret = _token(world["outsider"], "Outsider's script")
    row = db.session.execute(select(ApiToken)).scalar_one()
    client = app.test_client()
    login(client, "reader@example.org")
    assert b"Outsider's script" not in client.get("/account/tokens").data
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None
    assert app.test_client().get("/api/v1/search?q=x", headers=_bearer(secret)).status_code == 200


# ---- authentication ----


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic cmVhZGVyOnBhc3N3b3Jk",
        "Bearer",
        "Bearer ",
        "Bearer idk_",
        "Bearer idk_" + "A" * 43,
        "Bearer not-a-token",
        "Token idk_" + "A" * 43,
        "Bearer idk_" + "é" * 43,
        "Bearer idk_" + "A" * 500,
    ],
)
def test_missing_or_invalid_tokens_get_401(app, world, header):
    headers = {"Authorization": header} if header is not None else {}
    for path in (
        "/api/v1/search?q=safeguarding",
        "/api/v1/documents/OLD000001",
        "/api/v1/documents/OLD000001/pages/1",
        "/api/v1/anything",
    ):
        _assert_401(app.test_client().get(path, headers=headers))


def test_a_signed_in_browser_without_a_token_gets_401(app, world):
    client = app.test_client()
    login(client, "reader@example.org")
    assert client.get("/documents/").status_code == 200  # the session itself works
    for path in (
        "/api/v1/search?q=safeguarding",
        "/api/v1/documents/OLD000001",
        "/api/v1/documents/OLD000001/pages/1",
    ):
        _assert_401(client.get(path))


def test_the_api_works_with_csrf_protection_on(tmp_path):
    app = build_app(tmp_path, WTF_CSRF_ENABLED=True)
    _register(app)
    with app.app_context():
        user = make_user("reader@example.org", "reader", create_inquiry("OLD", "Oldham"))
        secret = _token(user)
        response = app.test_client().get("/api/v1/search?q=anything", headers=_bearer(secret))
        assert response.status_code == 200 and response.get_json()["total_documents"] == 0
        db.session.remove()
        db.engine.dispose()


def test_deactivated_users_tokens_stop_working(app, world):
    secret = _token(world["reader"])
    world["reader"].active = False
    db.session.commit()
    _assert_401(app.test_client().get("/api/v1/search?q=x", headers=_bearer(secret)))


def test_a_password_change_or_reset_ends_every_token(app, world):
    reader = world["reader"]
    first, second = _token(reader, "one"), _token(reader, "two")
    auth.change_password(reader, "a brand new password 123")
    for secret in (first, second):
        _assert_401(app.test_client().get("/api/v1/search?q=x", headers=_bearer(secret)))
    third = _token(reader, "three")
    assert app.test_client().get("/api/v1/search?q=x", headers=_bearer(third)).status_code == 200
    auth.reset_password(reader, by=world["admin"])
    _assert_401(app.test_client().get("/api/v1/search?q=x", headers=_bearer(third)))
    client = app.test_client()
    login_response = client.post(
        "/auth/login", data={"email": reader.email, "password": "wrong password here"}
    )
    assert login_response.status_code != 302
    states = {t.name: tokens.state(t) for t in tokens.for_user(reader)}
    assert states == dict.fromkeys(("one", "two", "three"), "password_changed")


def test_a_user_who_must_change_their_password_gets_403(app, world):
    reader = world["reader"]
    secret = _token(reader)
    reader.must_change_password = True
    db.session.commit()
    response = app.test_client().get("/api/v1/search?q=x", headers=_bearer(secret))
    assert response.status_code == 403 and "password" in response.get_json()["error"]
    with pytest.raises(tokens.TokenError):
        tokens.create(reader, "another")


def test_last_used_is_written_at_most_once_a_minute(app, world):
    secret = _token(world["reader"])
    now = utcnow()
    assert tokens.authenticate(secret, now=now).ok
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert row.last_used_at == now
    assert tokens.authenticate(secret, now=now + timedelta(seconds=30)).ok
    assert row.last_used_at == now
    later = now + timedelta(seconds=61)
    assert tokens.authenticate(secret, now=later).ok
    assert row.last_used_at == later


# ---- access ----


@on_each_backend
def test_a_reader_of_another_inquiry_finds_nothing_and_gets_404(app, world):
    outsider = app.test_client()
    headers = _bearer(_token(world["outsider"]))
    missing = outsider.get("/api/v1/documents/OLD999999", headers=headers)
    for path in (
        "/api/v1/documents/OLD000001",
        "/api/v1/documents/old000001",
        "/api/v1/documents/OLD000001/pages/1",
        "/api/v1/documents/OLD000002",
    ):
        response = outsider.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.data == missing.data and response.get_json() == NOT_FOUND
    body = outsider.get("/api/v1/search?q=safeguarding", headers=headers).get_json()
    assert [d["urn"] for d in body["documents"]] == ["ROT000001"]
    assert body["total_documents"] == 1 and body["total_pages"] == 1
    narrowed = outsider.get("/api/v1/search?q=safeguarding&inquiry=OLD", headers=headers)
    assert narrowed.get_json()["total_documents"] == 0
    assert narrowed.get_json()["documents"] == []
    unknown = outsider.get("/api/v1/search?q=safeguarding&inquiry=ZZZ", headers=headers)
    assert unknown.get_json()["total_documents"] == 0
    refused = _events("document_refused")
    assert len(refused) == 5 and all('"channel": "api"' in e.details for e in refused)


@on_each_backend
def test_a_restricted_document_is_invisible_without_restricted_access(app, world):
    client = app.test_client()
    headers = _bearer(_token(world["reader"]))
    for path in ("/api/v1/documents/OLD000002", "/api/v1/documents/OLD000002/pages/1"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.get_json() == NOT_FOUND
    body = client.get("/api/v1/search?q=safeguarding", headers=headers).get_json()
    assert [d["urn"] for d in body["documents"]] == ["OLD000001"]
    assert body["total_documents"] == 1 and body["total_pages"] == 2
    assert client.get("/api/v1/search?q=child", headers=headers).get_json() == {
        **client.get("/api/v1/search?q=child", headers=headers).get_json(),
        "total_documents": 0,
        "total_pages": 0,
        "documents": [],
    }

    membership = db.session.execute(
        select(Membership).where(Membership.user_id == world["reader"].id)
    ).scalar_one()
    membership.restricted_access = True
    db.session.commit()
    shown = client.get("/api/v1/documents/OLD000002", headers=headers).get_json()
    assert shown["restricted"] is True and shown["restriction_ref"] == "RO-7"
    body = client.get("/api/v1/search?q=safeguarding", headers=headers).get_json()
    assert sorted(d["urn"] for d in body["documents"]) == ["OLD000001", "OLD000002"]


def test_attachments_and_parents_are_named_only_when_visible(app, world):
    docs = world["docs"]
    docs["OLD000002"].parent_id = docs["OLD000001"].id
    db.session.commit()
    reader = app.test_client()
    headers = _bearer(_token(world["reader"]))
    assert reader.get("/api/v1/documents/OLD000001", headers=headers).get_json()["children"] == []
    admin_headers = _bearer(_token(world["admin"]))
    assert reader.get("/api/v1/documents/OLD000001", headers=admin_headers).get_json()[
        "children"
    ] == ["OLD000002"]
    assert (
        reader.get("/api/v1/documents/OLD000002", headers=admin_headers).get_json()["parent"]
        == "OLD000001"
    )


def test_parameters_that_disagree_with_the_path_are_refused(app, world):
    client = app.test_client()
    headers = _bearer(_token(world["reader"]))
    for path in (
        "/api/v1/documents/OLD000001?urn=ROT000001",
        "/api/v1/documents/OLD000001?id=3",
        "/api/v1/documents/OLD000001/pages/1?number=2",
        "/api/v1/search?q=safeguarding&inquiry_id=2",
        "/api/v1/search?q=safeguarding&user=1",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 400, path
        assert "Unknown parameter" in response.get_json()["error"]
    body = client.get(
        "/api/v1/documents/OLD000001", headers=headers, json={"urn": "ROT000001", "inquiry_id": 2}
    )
    assert body.status_code == 400 and "body" in body.get_json()["error"]


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Enter words"),
        ("q=", "Enter words"),
        ("q=%20%20", "Enter words"),
        ("q=x&page=0", "page"),
        ("q=x&page=two", "page"),
        ("q=x&per_page=101", "per_page"),
        ("q=x&per_page=0", "per_page"),
        ("q=" + "a" * 1001, "1000"),
        ("q=x&inquiry=OLDHAM", "inquiry"),
        ("q=x&inquiry=1", "inquiry"),
    ],
)
@on_each_backend
def test_bad_search_parameters_get_400(app, world, query, message):
    response = app.test_client().get(
        f"/api/v1/search?{query}", headers=_bearer(_token(world["reader"]))
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@on_each_backend
def test_search_pages_and_snippets(app, world):
    client = app.test_client()
    headers = _bearer(_token(world["admin"]))
    first = client.get("/api/v1/search?q=safeguarding&per_page=1", headers=headers).get_json()
    assert first["total_documents"] == 3 and len(first["documents"]) == 1
    second = client.get(
        "/api/v1/search?q=safeguarding&per_page=1&page=2", headers=headers
    ).get_json()
    assert second["page"] == 2 and second["documents"][0]["urn"] != first["documents"][0]["urn"]
    body = client.get("/api/v1/search?q=safeguarding&inquiry=old", headers=headers).get_json()
    assert body["inquiry"] == "OLD"
    statement = next(d for d in body["documents"] if d["urn"] == "OLD000001")
    assert statement["type"] == "witness_statement" and statement["source"] == "Oldham Council"
    assert statement["matching_pages"] == 2 and statement["more_pages"] == 0
    page_one = next(p for p in statement["pages"] if p["number"] == 1)
    # Escaped first, marked afterwards; the plain text has neither.
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in page_one["snippet_html"]
    assert "<mark>safeguarding</mark>" in page_one["snippet_html"]
    assert "<b>&</b>" in page_one["snippet_text"] and "<mark>" not in page_one["snippet_text"]


def test_document_and_page_bodies(app, world):
    client = app.test_client()
    headers = _bearer(_token(world["reader"]))
    body = client.get("/api/v1/documents/OLD000001", headers=headers).get_json()
    assert body["urn"] == "OLD000001" and body["inquiry"] == "OLD"
    assert body["page_count"] == 2 and body["restricted"] is False
    assert body["received"][0]["filename"] == "statement.pdf"
    assert body["received"][0]["by"] == "admin@example.org"
    page = client.get("/api/v1/documents/OLD000001/pages/2", headers=headers).get_json()
    assert page == {"urn": "OLD000001", "number": 2, "label": "Page 2", "text": page["text"]}
    assert "referral" in page["text"]
    for number in ("0", "3", "999999999999"):
        response = client.get(f"/api/v1/documents/OLD000001/pages/{number}", headers=headers)
        assert response.status_code == 404 and response.get_json() == NOT_FOUND


def test_reads_are_audited_with_the_api_channel(app, world):
    client = app.test_client()
    reader = world["reader"]
    headers = _bearer(_token(reader))
    client.get("/api/v1/search?q=safeguarding%20lead&inquiry=OLD", headers=headers)
    client.get("/api/v1/documents/OLD000001", headers=headers)
    client.get("/api/v1/documents/OLD000001/pages/2", headers=headers)
    document_id = str(world["docs"]["OLD000001"].id)
    search = _events("search")[-1]
    details = json.loads(search.details)
    assert search.user_id == reader.id and details["channel"] == "api"
    assert details["query"] == "safeguarding lead" and details["documents"] == 1
    viewed = _events("document_viewed")[-1]
    assert viewed.user_id == reader.id and viewed.object_id == document_id
    assert json.loads(viewed.details)["channel"] == "api"
    page = _events("page_viewed")[-1]
    assert page.user_id == reader.id and page.object_id == document_id
    assert json.loads(page.details)["page"] == 2
    from inquiry_docs.access import audit

    assert audit.verify().ok


# ---- errors are JSON ----


def test_errors_under_the_api_are_json(app, world, monkeypatch):
    client = app.test_client()
    headers = _bearer(_token(world["reader"]))
    not_allowed = client.post("/api/v1/search?q=x", headers=headers)
    assert not_allowed.status_code == 405 and not_allowed.get_json()["error"]
    assert "GET" in not_allowed.headers["Allow"]
    for method in ("put", "patch", "delete"):
        assert (
            getattr(client, method)("/api/v1/documents/OLD000001", headers=headers).status_code
            == 405
        )
    unknown = client.get("/api/v1/no-such-thing", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json() == NOT_FOUND
    assert client.get("/api/v1/", headers=headers).get_json() == NOT_FOUND

    from inquiry_docs.web import api

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "find", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failed = client.get("/api/v1/search?q=x", headers=headers)
    assert failed.status_code == 500
    assert failed.get_json() == {"error": "Internal server error"}


def test_too_many_requests_get_429_json(app, world):
    from inquiry_docs.web import api

    client = app.test_client()
    headers = _bearer(_token(world["reader"]))
    limit = int(api.RATE_LIMIT.split()[0])
    for _ in range(limit):
        assert client.get("/api/v1/nothing-here", headers=headers).status_code == 404
    response = client.get("/api/v1/documents/OLD000001", headers=headers)
    assert response.status_code == 429
    assert "error" in response.get_json() and response.headers.get("Retry-After")
    other = _bearer(_token(world["outsider"]))
    assert client.get("/api/v1/nothing-here", headers=other).status_code == 404


# ---- the documented examples, run with curl against a live server ----


def _blocks(markdown: str) -> list[tuple[str, str]]:
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^```(\w*)\n(.*?)^```", markdown, re.M | re.S)
    ]


def _examples() -> list[tuple[str, Any]]:
    """Each ```sh block running curl, with the JSON block that follows it."""
    blocks = _blocks(API_DOC.read_text(encoding="utf-8"))
    pairs = []
    for (kind, text), (next_kind, next_text) in itertools.pairwise(blocks):
        if kind == "sh" and text.lstrip().startswith("curl"):
            assert next_kind == "json", f"no JSON response documented after:\n{text}"
            pairs.append((text, json.loads(next_text)))
    return pairs


def _same_shape(documented: Any, actual: Any, where: str = "$") -> None:
    if documented is None or actual is None:
        return
    if isinstance(documented, dict):
        assert isinstance(actual, dict), where
        assert set(actual) == set(documented), f"{where}: {sorted(actual)} != {sorted(documented)}"
        for key, value in documented.items():
            _same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), where
        if documented and actual:
            _same_shape(documented[0], actual[0], f"{where}[0]")
    elif isinstance(documented, bool):
        assert isinstance(actual, bool), where
    elif isinstance(documented, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), where
    else:
        assert isinstance(actual, type(documented)), where


@pytest.fixture
def live_url(app: Flask, world) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, name="api-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_documented_curl_examples_work(app, world, live_url):
    curl = shutil.which("curl")
    require(curl is not None, "curl is not installed")
    examples = _examples()
    assert len(examples) >= 4
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INQUIRY_DOCS_URL": live_url,
        "INQUIRY_DOCS_TOKEN": _token(world["reader"], "docs"),
    }
    paths = set()
    for command, documented in examples:
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        actual = json.loads(result.stdout)
        _same_shape(documented, actual)
        if "error" not in documented:
            assert "error" not in actual, actual
        paths.add(re.search(r"/api/v1/[\w/]+", command).group())
    assert paths >= {
        "/api/v1/search",
        "/api/v1/documents/OLD000001",
        "/api/v1/documents/OLD000001/pages/1",
    }
    search = _events("search")[-1]
    assert json.loads(search.details)["channel"] == "api"


def test_documented_create_token_command_works(app, world):
    blocks = [
        text
        for kind, text in _blocks(API_DOC.read_text(encoding="utf-8"))
        if kind == "sh" and "create-token" in text
    ]
    assert blocks
    args = shlex.split(blocks[0])
    assert args[:2] == ["inquiry-docs", "create-token"]
    args[2] = world["reader"].email
    result = app.test_cli_runner().invoke(args=args[1:])
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(ApiToken.name)).scalar_one() == "Chronology script"
