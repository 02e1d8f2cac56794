"""Sign-in: passwords, throttling, two-factor, forced password change, sessions, cookies."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from inquiry_docs.access import signin as auth
from inquiry_docs.access import totp
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, User, UserSession, utcnow
from tests.conftest import PASSWORD, PRODUCTION_HASHER, build_app, login, make_user, totp_code

NEW_PASSWORD = "a brand new passphrase here"
HOME = "/"


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one()


def _post_login(
    client: FlaskClient, email: str, password: str = PASSWORD, ip: str = "10.0.0.1", **kwargs
):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        **kwargs,
    )


def _signed_in(client: FlaskClient) -> bool:
    response = client.get(HOME)
    return response.status_code == 200


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def member(app: Flask, inquiry) -> User:
    return make_user("reader@example.org", "reader", inquiry)


# ---- 1. passwords ----


def test_the_app_hashes_passwords_with_argon2ids_full_default_cost():
    # The suite swaps in a light setting to save time (conftest); the app's own is this.
    assert PRODUCTION_HASHER.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_passwords_are_argon2_and_at_least_12_characters(app, inquiry):
    with pytest.raises(auth.PasswordTooShort):
        auth.hash_password("x" * 11)
    with pytest.raises(auth.PasswordTooShort):
        auth.create_user("short@example.org", role="reader", inquiry=inquiry, password="x" * 11)
    user = make_user("long@example.org", "reader", inquiry)
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(auth.PasswordTooShort):
        auth.change_password(user, "y" * 11)
    assert len(auth.reset_password(user, by=None)) >= 12


# ---- 2. throttling ----


def test_failed_sign_ins_are_throttled_per_account(client, member):
    for n in range(5):  # a different address each time: only the account limit applies
        response = _post_login(client, member.email, "wrong password!", ip=f"10.0.1.{n}")
        assert response.status_code == 400
        assert "Enter a correct email address and password" in _text(response)
    response = _post_login(client, member.email, PASSWORD, ip="10.0.1.99")
    assert response.status_code == 429
    assert "Too many attempts" in _text(response)
    assert "<html" in _text(response)
    # Case and spaces do not give a fresh count.
    assert _post_login(client, " READER@example.org ", ip="10.0.1.98").status_code == 429


def test_failed_sign_ins_are_throttled_per_address(client, member):
    for n in range(5):
        response = _post_login(client, f"nobody{n}@example.org", "wrong password!", ip="10.0.2.1")
        assert response.status_code == 400
    assert _post_login(client, member.email, ip="10.0.2.1").status_code == 429
    # Another address is not affected.
    assert _post_login(client, member.email, ip="10.0.2.2").status_code == 302


def test_unknown_and_known_addresses_get_the_same_answers(client, member):
    known = [
        _post_login(client, member.email, "wrong password!", ip=f"10.0.3.{n}") for n in range(6)
    ]
    unknown = [
        _post_login(client, "nobody@example.org", "wrong password!", ip=f"10.0.4.{n}")
        for n in range(6)
    ]
    assert [r.status_code for r in known] == [400] * 5 + [429]
    assert [r.status_code for r in unknown] == [400] * 5 + [429]

    def page(response, email):
        return _text(response).replace(email, "EMAIL")

    assert page(known[0], member.email) == page(unknown[0], "nobody@example.org")
    assert page(known[-1], member.email) == page(unknown[-1], "nobody@example.org")


def test_only_failed_sign_ins_count(client, member):
    for _ in range(7):
        assert _post_login(client, member.email).status_code == 302
        client.post("/auth/logout")


def test_each_app_starts_with_fresh_counts(tmp_path, client, member):
    codes = [_post_login(client, member.email, "wrong password!").status_code for _ in range(6)]
    assert codes[-1] == 429
    second = build_app(tmp_path / "second")
    with second.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        make_user(member.email, "reader", create_inquiry("OLD", "Oldham"))
        assert _post_login(second.test_client(), member.email).status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_sign_in_failures_are_audited_without_the_password(client, member):
    _post_login(client, member.email, "a secret guess 123")
    _post_login(client, "nobody@example.org", "another secret guess")
    events = _events("sign_in_failed")
    assert [json.loads(e.details)["email"] for e in events] == [member.email, "nobody@example.org"]
    for event in events:
        assert "secret guess" not in event.details
        assert event.ip == "10.0.0.1"


# ---- 3. two-factor ----


def test_totp_matches_rfc_6238_vectors():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp.code_at(secret, now=59, digits=8) == "94287082"
    assert totp.code_at(secret, now=59) == "287082"
    assert totp.code_at(secret, now=1111111109, digits=8) == "07081804"
    assert totp.code_at(secret, now=1234567890, digits=8) == "89005924"
    assert totp.code_at(secret, now=2000000000, digits=8) == "69279037"


def test_totp_window_and_reuse():
    secret = totp.generate_secret()
    assert len(secret) == 32
    now = 1_700_000_000.0
    step = totp.step_at(now)
    code = totp.code_at(secret, now)
    assert totp.verify(secret, code, now=now) == step
    assert totp.verify(secret, code[:3] + " " + code[3:], now=now) == step
    assert totp.verify(secret, code, now=now + 30) == step  # one step late: accepted
    assert totp.verify(secret, code, now=now - 30) == step  # one step early: accepted
    assert totp.verify(secret, code, now=now + 90) is None  # three steps late: refused
    assert totp.verify(secret, code, now=now, last_step=step) is None  # used already
    assert totp.verify(secret, "12345", now=now) is None
    assert totp.verify(secret, "abcdef", now=now) is None
    assert totp.grouped("ABCDEFGHIJKL") == "ABCD EFGH IJKL"
    uri = totp.provisioning_uri(secret, "a@example.org")
    assert uri.startswith("otpauth://totp/Inquiry%20Docs:a@example.org?secret=" + secret)
    assert "issuer=Inquiry%20Docs" in uri and "period=30" in uri and "digits=6" in uri


def test_admin_without_two_factor_must_set_it_up_before_the_session_starts(client, app):
    user, _ = auth.create_user("new-admin@example.org", role="admin", password=PASSWORD)
    response = _post_login(client, user.email, query_string={"next": "/documents/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert client.get(HOME).status_code == 302  # not signed in yet

    page = client.get("/auth/two-factor/setup")
    assert page.status_code == 200
    secret = _user(user.email).totp_secret
    assert totp.grouped(secret) in _text(page)
    assert re.search(
        r"otpauth://totp/Inquiry%20Docs:new-admin@example.org\?secret=" + secret, _text(page)
    )
    assert 'autocomplete="one-time-code"' in _text(page)
    assert 'inputmode="numeric"' in _text(page)
    # Reloading keeps the same key, so an app set up from the first view still works.
    client.get("/auth/two-factor/setup")
    assert _user(user.email).totp_secret == secret

    wrong = client.post("/auth/two-factor/setup", data={"code": "000000"})
    assert wrong.status_code == 400
    assert "govuk-error-summary" in _text(wrong)
    assert not _signed_in(client)

    done = client.post("/auth/two-factor/setup", data={"code": totp.code_at(secret)})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/auth/your-recovery-codes")
    shown = client.get("/auth/your-recovery-codes")
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", _text(shown))
    assert len(codes) == 10 and len(set(codes)) == 10
    saved = client.post("/auth/your-recovery-codes")
    assert saved.headers["Location"] == "/documents/"
    stored = json.loads(_user(user.email).recovery_codes)
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
    assert not any(code in _user(user.email).recovery_codes for code in codes)
    assert _user(user.email).totp_enabled
    assert _signed_in(client)
    assert _events("two_factor_enabled")


def test_admin_with_two_factor_is_asked_for_a_code(client, admin):
    response = _post_login(client, admin.email, query_string={"next": "/documents/"})
    assert response.headers["Location"].endswith("/auth/code")
    assert not _signed_in(client)
    page = client.get("/auth/code")
    assert 'autocomplete="one-time-code"' in _text(page)
    assert 'inputmode="numeric"' in _text(page)
    assert '<label class="govuk-label govuk-label--l" for="code">' in _text(page)

    wrong = client.post("/auth/code", data={"code": "not a code"})
    assert wrong.status_code == 400 and "security code is not correct" in _text(wrong)
    assert client.post("/auth/code", data={"code": ""}).status_code == 400
    assert not _signed_in(client)
    assert _events("two_factor_failed")

    code = totp_code(admin.email)
    response = client.post("/auth/code", data={"code": code})
    assert response.status_code == 302 and response.headers["Location"] == "/documents/"
    assert _signed_in(client)

    # The same code cannot sign in again, even from another browser.
    other = client.application.test_client()
    _post_login(other, admin.email, ip="10.0.0.2")
    assert other.post("/auth/code", data={"code": code}).status_code == 400
    assert not _signed_in(other)


def test_recovery_code_works_once_instead_of_a_code(client, app):
    user, _ = auth.create_user("ra@example.org", role="admin", password=PASSWORD)
    auth.begin_totp_enrolment(user)
    codes = auth.confirm_totp_enrolment(user, totp.code_at(user.totp_secret))
    assert codes is not None and len(codes) == 10

    _post_login(client, user.email)
    assert (
        client.post("/auth/recovery-code", data={"recovery_code": "zzzzz-zzzzz"}).status_code == 400
    )
    response = client.post("/auth/recovery-code", data={"recovery_code": codes[0].upper()})
    assert response.status_code == 302
    assert _signed_in(client)
    assert auth.recovery_codes_left(_user(user.email)) == 9
    assert _events("recovery_code_used")
    client.post("/auth/logout")

    _post_login(client, user.email)
    again = client.post("/auth/recovery-code", data={"recovery_code": codes[0]})
    assert again.status_code == 400 and "already been used" in _text(again)
    assert not _signed_in(client)
    assert client.post("/auth/recovery-code", data={"recovery_code": codes[1]}).status_code == 302


def test_second_factor_attempts_are_throttled(client, admin):
    _post_login(client, admin.email)
    for _ in range(5):
        assert client.post("/auth/code", data={"code": "000000"}).status_code == 400
    response = client.post("/auth/code", data={"code": totp_code(admin.email)})
    assert response.status_code == 429
    # Recovery codes share the count.
    assert client.post("/auth/recovery-code", data={"recovery_code": "x"}).status_code == 429
    assert not _signed_in(client)


def test_second_step_needs_a_recent_password_step(client, admin):
    assert client.get("/auth/code").status_code == 302  # nothing pending
    _post_login(client, admin.email)
    with client.session_transaction() as session:
        session["signin_pending"] = {**session["signin_pending"], "until": int(time.time()) - 1}
    response = client.post("/auth/code", data={"code": totp_code(admin.email)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    assert not _signed_in(client)


def test_members_may_turn_two_factor_on_and_off(client, member):
    login(client, member.email)
    page = client.get("/auth/two-factor")
    assert page.status_code == 200 and "Set up two-factor authentication" in _text(page)
    client.get("/auth/two-factor/setup")
    secret = _user(member.email).totp_secret
    done = client.post("/auth/two-factor/setup", data={"code": totp.code_at(secret)})
    assert done.status_code == 302
    assert "Save your recovery codes" in _text(client.get(done.headers["Location"]))
    assert client.post("/auth/your-recovery-codes").headers["Location"] == "/auth/two-factor"
    client.post("/auth/logout")

    response = _post_login(client, member.email)
    assert response.headers["Location"].endswith("/auth/code")
    login_code = totp.code_at(secret, time.time() + 30)  # the last code was this step's
    assert client.post("/auth/code", data={"code": login_code}).status_code == 302

    new_codes = client.post("/auth/two-factor/recovery-codes", data={"current_password": PASSWORD})
    assert new_codes.status_code == 302
    assert "Save your new recovery codes" in _text(client.get(new_codes.headers["Location"]))

    assert (
        client.post(
            "/auth/two-factor/off", data={"current_password": "wrong password!"}
        ).status_code
        == 400
    )
    assert _user(member.email).totp_enabled
    response = client.post("/auth/two-factor/off", data={"current_password": PASSWORD})
    assert response.status_code == 302
    assert not _user(member.email).totp_enabled
    assert _user(member.email).recovery_codes == "[]"
    client.post("/auth/logout")
    assert _post_login(client, member.email).headers["Location"] == HOME


def test_admins_cannot_turn_two_factor_off(client, admin):
    login(client, admin.email)
    assert "Turn off" not in _text(client.get("/auth/two-factor"))
    client.post("/auth/two-factor/off", data={"current_password": PASSWORD})
    assert _user(admin.email).totp_enabled
    with pytest.raises(ValueError):
        auth.disable_totp(_user(admin.email))


def test_reset_two_factor_ends_sessions_and_asks_for_setup_again(client, admin, app):
    login(client, admin.email)
    other_admin = make_user("second-admin@example.org", "admin")
    auth.reset_two_factor(_user(admin.email), by=other_admin)
    assert client.get(HOME).status_code == 302
    response = _post_login(client, admin.email)
    assert response.headers["Location"].endswith("/auth/two-factor/setup")


# ---- 4. password reset and change ----


def test_reset_password_forces_a_change_at_next_sign_in(app, member, admin):
    browser = app.test_client()
    login(browser, member.email)
    one_time = auth.reset_password(_user(member.email), by=admin)
    assert _user(member.email).must_change_password
    assert [json.loads(e.details)["email"] for e in _events("password_reset")] == [member.email]
    assert browser.get(HOME).status_code == 302  # signed out everywhere
    assert _post_login(browser, member.email).status_code == 400  # old password gone

    response = _post_login(browser, member.email, one_time)
    assert response.headers["Location"].endswith("/auth/change-password")
    for path in (HOME, "/documents/", "/auth/two-factor", "/nowhere"):
        blocked = browser.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers["Location"].endswith("/auth/change-password")
    assert browser.get("/static/app.css").status_code == 200
    page = browser.get("/auth/change-password")
    assert "Choose a new password" in _text(page)
    assert 'name="current_password"' not in _text(page)
    assert 'autocomplete="new-password"' in _text(page)
    assert 'href="/documents/"' not in _text(page)  # no links that lead nowhere yet

    def change(password, confirm):
        return browser.post(
            "/auth/change-password", data={"password": password, "confirm_password": confirm}
        )

    short = change("x" * 11, "x" * 11)
    assert short.status_code == 400 and "12 characters or more" in _text(short)
    same = change(one_time, one_time)
    assert same.status_code == 400 and "must be different" in _text(same)
    mismatch = change(NEW_PASSWORD, NEW_PASSWORD + "!")
    assert mismatch.status_code == 400 and "The passwords do not match" in _text(mismatch)
    assert 'href="#confirm_password"' in _text(mismatch)
    assert _user(member.email).must_change_password

    done = change(NEW_PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == HOME
    assert not _user(member.email).must_change_password
    assert _signed_in(browser)
    browser.post("/auth/logout")
    assert _post_login(browser, member.email, one_time).status_code == 400
    assert _post_login(browser, member.email, NEW_PASSWORD).status_code == 302


def test_sign_out_is_allowed_while_a_change_is_due(client, member):
    auth.reset_password(_user(member.email))
    one_time = auth.reset_password(_user(member.email))
    _post_login(client, member.email, one_time)
    response = client.post("/auth/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_change_password_ends_other_sessions_and_rotates_this_one(app, member):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, member.email)
    login(elsewhere, member.email)
    before = _session_cookie(here)

    wrong = here.post(
        "/auth/change-password",
        data={
            "current_password": "not my password",
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400 and "current password is not correct" in _text(wrong)

    response = here.post(
        "/auth/change-password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(elsewhere)
    sessions = db.session.execute(select(UserSession)).scalars().all()
    assert len(sessions) == 1

    replay = app.test_client()
    replay.set_cookie("session", before)
    response = replay.get(HOME)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert _events("password_changed")


# ---- 5. sessions and cookies ----


def test_sign_in_starts_a_fresh_session(client, member):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["_user_id"] = "guessed-session-id"
    _post_login(client, member.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        first = session["_user_id"]
    assert db.session.get(UserSession, first) is not None
    client.post("/auth/logout")
    _post_login(client, member.email)
    with client.session_transaction() as session:
        assert session["_user_id"] != first


def test_replayed_cookie_after_sign_out_gets_the_sign_in_page(client, member):
    login(client, member.email)
    stolen = _session_cookie(client)
    client.post("/auth/logout")
    replay = client.application.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get(HOME)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_idle_sessions_end(client, member, app):
    login(client, member.email)
    row = db.session.execute(select(UserSession)).scalar_one()
    row.last_seen = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()
    response = client.get("/documents/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/documents/?page%3D2"
    page = client.get(response.headers["Location"])
    assert "You were signed out after 30 minutes without activity." in _text(page)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert _events("session_expired")


def test_last_seen_is_written_at_most_once_a_minute(client, member):
    login(client, member.email)
    row = db.session.execute(select(UserSession)).scalar_one()
    recent = utcnow() - timedelta(seconds=30)
    row.last_seen = recent
    db.session.commit()
    client.get(HOME)
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen == recent
    older = utcnow() - timedelta(minutes=5)
    db.session.get(UserSession, row.id).last_seen = older
    db.session.commit()
    client.get(HOME)
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen > older + timedelta(minutes=4)


def test_session_cookie_is_secure_over_https_and_never_remembered(client, member):
    response = _post_login(client, member.email)
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("session=")
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]
    assert "Secure" not in cookies[0]
    client.post("/auth/logout")

    secure = client.application.test_client()
    response = _post_login(secure, member.email, base_url="https://localhost")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and "; Secure" in cookies[0] and "HttpOnly" in cookies[0]
    assert not any(c.startswith("remember_token") for c in cookies)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "///evil.example",
        "http:/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
    ],
)
def test_next_only_accepts_local_paths(client, member, target):
    response = _post_login(client, member.email, query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == HOME


def test_next_to_a_local_page_is_followed(client, member):
    response = _post_login(client, member.email, query_string={"next": "/documents/?page=2"})
    assert response.headers["Location"] == "/documents/?page=2"


# ---- 6. pages ----


def test_sign_in_pages_follow_the_patterns_and_escape_input(client, member):
    bad = _post_login(client, "<script>alert(1)</script>@x.org", "wrong password!")
    html = _text(bad)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "govuk-error-summary" in html and 'href="#email"' in html
    assert 'id="email-error"' in html and "govuk-input--error" in html
    assert "<title>Error: Sign in" in html
    empty = client.post("/auth/login", data={})
    assert "Enter your email address" in _text(empty) and "Enter your password" in _text(empty)

    login(client, member.email)
    pages = [
        client.get(p)
        for p in ("/auth/change-password", "/auth/two-factor", "/auth/two-factor/setup")
    ]
    for page in [bad, *pages]:
        assert page.status_code in (200, 400)
        html = _text(page)
        assert "{% extends" not in html and "govuk-template" in html
        assert "style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        for field in re.findall(r'<input class="govuk-input[^>]*id="([^"]+)"', html):
            assert f'for="{field}"' in html


def test_ending_all_sessions_on_a_role_change_signs_the_user_out(client, member):
    login(client, member.email)
    assert _signed_in(client)
    auth.end_all_sessions(_user(member.email))  # what the admin pages do on a role change
    db.session.commit()
    response = client.get(HOME)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_deactivated_users_get_the_usual_refusal(client, member):
    _user(member.email).active = False
    db.session.commit()
    response = _post_login(client, member.email)
    assert response.status_code == 400
    assert "Enter a correct email address and password" in _text(response)
