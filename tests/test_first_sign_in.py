"""A new administrator's first sign-in as one sequence (the printed one-time password, a
password of their own, two-factor, recovery codes shown once), and the codes page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from inquiry_docs.access import signin as auth
from inquiry_docs.access import totp
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, User, UserSession, utcnow

NEW_PASSWORD = "a brand new passphrase here"
CODE = re.compile(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>")


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def _sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession))


def _to_codes(client, email: str, one_time: str, next_url: str | None = None) -> str:
    """Sign in with the one-time password, choose a password, set up two-factor; returns
    the two-factor secret."""
    response = client.post("/auth/login", data={"email": email, "password": one_time},
                           query_string={"next": next_url} if next_url else None)
    assert response.headers["Location"].endswith("/auth/new-password")
    response = client.post("/auth/new-password", data={
        "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = re.search(r"secret=([A-Z2-7]+)", page).group(1)
    response = client.post("/auth/two-factor/setup", data={"code": totp.code_at(secret)})
    assert response.headers["Location"].endswith("/auth/your-recovery-codes")
    return secret


def test_password_then_two_factor_then_codes_once_then_the_landing_page(app, client):
    user, one_time = auth.create_user("new-admin@example.org", role="admin")
    assert one_time and user.must_change_password

    response = client.post("/auth/login", data={"email": user.email, "password": one_time})
    assert response.headers["Location"].endswith("/auth/new-password")
    assert _sessions() == 0  # nothing is signed in until two-factor is done
    assert client.get("/").status_code == 302
    page = client.get("/auth/new-password").get_data(as_text=True)
    assert "step 1 of 3" in page and "Choose a new password" in page
    assert 'name="current_password"' not in page and 'autocomplete="new-password"' in page

    def choose(password, confirm):
        return client.post("/auth/new-password",
                           data={"password": password, "confirm_password": confirm})

    short = choose("x" * 11, "x" * 11)
    assert short.status_code == 400 and "12 characters or more" in short.get_data(as_text=True)
    same = choose(one_time, one_time)
    assert same.status_code == 400 and "must be different" in same.get_data(as_text=True)
    assert _user(user.email).must_change_password
    done = choose(NEW_PASSWORD, NEW_PASSWORD)
    assert done.headers["Location"].endswith("/auth/two-factor/setup")
    assert not _user(user.email).must_change_password
    assert _user(user.email).password_hash.startswith("$argon2id$")
    assert "password_changed" in _actions()
    assert _sessions() == 0

    setup = client.get("/auth/two-factor/setup").get_data(as_text=True)
    assert "step 2 of 3" in setup
    secret = re.search(r"secret=([A-Z2-7]+)", setup).group(1)
    assert client.post("/auth/two-factor/setup", data={"code": "000000"}).status_code == 400
    response = client.post("/auth/two-factor/setup", data={"code": totp.code_at(secret)})
    assert response.headers["Location"].endswith("/auth/your-recovery-codes")
    assert _sessions() == 1

    shown = client.get("/auth/your-recovery-codes")
    html = shown.get_data(as_text=True)
    codes = CODE.findall(html)
    assert len(set(codes)) == 10 and "step 3 of 3" in html
    assert 'href="/auth/your-recovery-codes/print"' in html and "Print these codes" in html
    assert "print.css" in html and "no-store" in shown.headers["Cache-Control"]
    printable = client.get("/auth/your-recovery-codes/print").get_data(as_text=True)
    assert CODE.findall(printable) == codes and user.email in printable
    assert 'class="govuk-header__navigation' not in printable
    # Held sealed, never in the clear, and the stored hashes are argon2 as before.
    held = db.session.execute(select(UserSession.sealed_codes)).scalar_one()
    assert held and not any(code in held for code in codes)
    assert all(h.startswith("$argon2id$") for h in json.loads(_user(user.email).recovery_codes))

    landing = client.post("/auth/your-recovery-codes")
    assert landing.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200  # no second password change waiting
    assert "Your account is set up" in home.get_data(as_text=True)
    assert "recovery_codes_saved" in _actions()
    assert db.session.execute(select(UserSession.sealed_codes)).scalar_one() is None

    again = client.get("/auth/your-recovery-codes").get_data(as_text=True)
    assert "cannot be shown again" in again and not CODE.findall(again)
    assert client.get("/auth/your-recovery-codes/print").headers["Location"].endswith(
        "/auth/your-recovery-codes")

    # The codes that were shown work, once each; the one-time password no longer does.
    client.post("/auth/logout")
    assert client.post("/auth/login", data={
        "email": user.email, "password": one_time}).status_code == 400
    client.post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert client.post("/auth/recovery-code",
                       data={"recovery_code": codes[0]}).status_code == 302


def test_where_the_admin_was_going_is_kept_through_the_sequence(app, client):
    user, one_time = auth.create_user("new-admin@example.org", role="admin")
    _to_codes(client, user.email, one_time, next_url="/documents/")
    assert client.post("/auth/your-recovery-codes").headers["Location"] == "/documents/"


def test_codes_show_only_in_the_session_that_made_them_and_not_for_long(app, client):
    user, one_time = auth.create_user("new-admin@example.org", role="admin")
    _to_codes(client, user.email, one_time)
    session_id = db.session.execute(select(UserSession.id)).scalar_one()
    assert len(auth.codes_to_show(session_id)) == 10
    other = UserSession(id="another-browser", user_id=user.id)
    db.session.add(other)
    db.session.commit()
    assert auth.codes_to_show("another-browser") is None
    later = utcnow() + auth.CODES_SHOWN_FOR + timedelta(seconds=1)
    assert auth.codes_to_show(session_id, now=later) is None
    assert not CODE.findall(client.get("/auth/your-recovery-codes").get_data(as_text=True))


def test_the_password_step_needs_the_one_time_password_first(app, client):
    assert client.get("/auth/new-password").headers["Location"].endswith("/auth/login")
    assert client.post("/auth/new-password", data={
        "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
    }).headers["Location"].endswith("/auth/login")
    # An administrator with a password of their own goes straight to two-factor.
    user, _ = auth.create_user("chosen@example.org", role="admin", password=NEW_PASSWORD)
    response = client.post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    assert client.get("/auth/new-password").headers["Location"].endswith(
        "/auth/two-factor/setup")
