"""Two-factor secrets are encrypted in the database under a key kept outside it, old rows are
sealed by the migration, the key can be rotated, and a wrong key is a clear error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from inquiry_docs.access import audit, totp, vault
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, User
from tests import stack
from tests.conftest import PASSWORD, build_app, login, make_user


def _stored() -> list[str]:
    return list(db.session.execute(
        text("SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL")).scalars())


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _enrol_through_the_page(client, email: str) -> str:
    """A member turns two-factor on from their account page; returns the secret shown."""
    login(client, email)
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    shown = re.search(r"secret=([A-Z2-7]+)", page).group(1)
    done = client.post("/auth/two-factor/setup", data={"code": totp.code_at(shown)})
    assert done.status_code == 302
    return shown


def test_the_database_holds_no_plaintext_secret(app, client, admin, inquiry):
    make_user("member@example.org", "researcher", inquiry)
    shown = _enrol_through_the_page(client, "member@example.org")
    plain = {shown, _user(admin.email).totp_secret}
    assert _user("member@example.org").totp_enabled
    stored = _stored()
    assert len(stored) == 2
    for value in stored:
        assert value.startswith(vault.PREFIX)
        assert not any(secret in value for secret in plain)
    if not stack.is_postgres():  # nor anywhere in the database's files
        db.session.commit()
        path = Path(db.engine.url.database)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        for secret in plain:
            assert secret.encode() not in raw
    # The key is not in the database either, and its file is the owner's alone.
    key_file = Path(app.config["SECRETS_KEY_FILE"])
    assert key_file.stat().st_mode & 0o077 == 0
    key = vault.key_list(key_file.read_text())[0]
    dump = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM users")))
    dump += " ".join(str(row) for row in db.session.execute(text("SELECT * FROM audit_events")))
    assert key not in dump


def test_migration_seals_secrets_stored_before_it(app):
    db.session.remove()  # the schema changes wait for no open transaction (PostgreSQL)
    downgrade(revision="b6e8d0f2a4c7")  # the schema before secrets were sealed
    db.session.execute(text(
        "INSERT INTO users (email, password_hash, is_admin, active, must_change_password, "
        "totp_secret, totp_enabled, recovery_codes, created_at) VALUES ('old@example.org', "
        "'x', false, true, false, 'JBSWY3DPEHPK3PXP', true, '[]', CURRENT_TIMESTAMP)"))
    db.session.commit()
    assert _stored() == ["JBSWY3DPEHPK3PXP"]
    db.session.remove()
    upgrade()
    [sealed] = _stored()
    assert sealed.startswith(vault.PREFIX) and "JBSWY3DPEHPK3PXP" not in sealed
    assert _user("old@example.org").totp_secret == "JBSWY3DPEHPK3PXP"
    assert vault.census() == vault.Census(sealed=1)


def test_totp_sign_in_works_after_rotation(app, runner, admin):
    key_file = Path(app.config["SECRETS_KEY_FILE"])
    old_key = key_file.read_text().strip()
    secret = _user(admin.email).totp_secret
    [before] = _stored()

    result = runner.invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 two-factor secret(s) re-encrypted" in result.output
    new_keys = vault.key_list(key_file.read_text())
    assert len(new_keys) == 1 and new_keys[0] != old_key  # the old key is gone when done
    [after] = _stored()
    assert after != before and after.startswith(vault.PREFIX)
    with pytest.raises(InvalidToken):  # the old key no longer opens the row
        Fernet(vault.parse_keys(old_key)[0]).decrypt(after.removeprefix(vault.PREFIX).encode())
    assert _user(admin.email).totp_secret == secret  # the running app follows the new file

    client = app.test_client()
    login(client, admin.email)  # password, then a code from the same authenticator
    assert client.get("/admin/").status_code == 200
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "secrets_rotated")).scalar_one()
    assert event.object_id == vault.fingerprint(new_keys[0])
    assert vault.fingerprint(old_key) in event.details and old_key not in event.details
    assert audit.verify().ok
    assert runner.invoke(args=["secrets", "check"]).exit_code == 0


def test_rotation_with_keys_from_the_environment(tmp_path):
    old, new = vault.new_key(), vault.new_key()
    app = build_app(tmp_path, SECRETS_KEY=old)
    with app.app_context():
        make_user("admin@example.org", "admin")
        secret = _user("admin@example.org").totp_secret
        refused = app.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert refused.exit_code == 1 and "NEW,OLD" in refused.output
        db.session.remove()
    both = build_app(tmp_path, SECRETS_KEY=f"{new},{old}")
    with both.app_context():
        done = both.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert done.exit_code == 0, done.output
        db.session.remove()
    alone = build_app(tmp_path, SECRETS_KEY=new)
    with alone.app_context():
        assert _user("admin@example.org").totp_secret == secret
        client = alone.test_client()
        login(client, "admin@example.org")
        assert client.get("/admin/").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_a_wrong_key_gives_a_clear_error_not_a_500(tmp_path):
    good = build_app(tmp_path)
    with good.app_context():
        make_user("admin@example.org", "admin")
        [stored] = _stored()
        db.session.remove()
    wrong = build_app(tmp_path, SECRETS_KEY=vault.new_key())
    with wrong.app_context():
        client = wrong.test_client()
        response = client.post("/auth/login", data={"email": "admin@example.org",
                                                     "password": PASSWORD})
        assert response.headers["Location"].endswith("/auth/code")
        page = client.post("/auth/code", data={"code": "123456"})
        assert page.status_code == 503
        body = page.get_data(as_text=True)
        assert "Two-factor sign-in is unavailable" in body
        assert "secrets check" in body
        runner = wrong.test_cli_runner()
        checked = runner.invoke(args=["secrets", "check"])
        assert checked.exit_code == 1 and "cannot be decrypted" in checked.output
        rotated = runner.invoke(args=["secrets", "rotate"])
        assert rotated.exit_code == 1 and rotated.output.startswith("Nothing rotated")
        assert _stored() == [stored]  # nothing was changed
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "secrets_rotated")) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_malformed_key_is_named(tmp_path):
    app = build_app(tmp_path, SECRETS_KEY="not-a-key")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["secrets", "check"])
        assert result.exit_code == 1
        assert "64 hexadecimal characters" in result.output
        db.session.remove()
        db.engine.dispose()


def test_a_backup_keeps_the_keys_and_a_restore_opens_the_secrets(tmp_path):
    live = build_app(tmp_path / "live")
    dest = tmp_path / "backup"
    with live.app_context():
        make_user("admin@example.org", "admin")
        secret = _user("admin@example.org").totp_secret
        result = live.test_cli_runner().invoke(args=["backup", str(dest)])
        assert result.exit_code == 0, result.output
        key = Path(live.config["SECRETS_KEY_FILE"]).read_text().strip()
        db.session.remove()
        db.engine.dispose()
    assert (dest / "keys" / "secrets_key").read_text().strip() == key
    assert (dest / "keys" / "anchor_key").is_file()
    fresh = build_app(tmp_path / "fresh")  # another machine: keys of its own
    with fresh.app_context():
        assert Path(fresh.config["SECRETS_KEY_FILE"]).read_text().strip() != key
        result = fresh.test_cli_runner().invoke(args=["restore", str(dest)])
        assert result.exit_code == 0, result.output
        assert Path(fresh.config["SECRETS_KEY_FILE"]).read_text().strip() == key
        assert _user("admin@example.org").totp_secret == secret
        client = fresh.test_client()
        login(client, "admin@example.org")
        assert client.get("/admin/").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_a_backup_without_the_new_keys_is_still_valid_if_made_before_them(app, runner,
                                                                          tmp_path):
    import json

    dest = tmp_path / "old"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    (dest / "keys" / "secrets_key").unlink()
    listed = dict(manifest, files={k: v for k, v in manifest["files"].items()
                                   if k != "keys/secrets_key"})
    (dest / "manifest.json").write_text(json.dumps(listed))
    result = runner.invoke(args=["verify", str(dest)])
    assert result.exit_code == 1 and "MISSING keys/secrets_key: without it two-factor" in \
        result.output
    for name in ("anchor_key", "secrets_key"):  # as an older version wrote it
        manifest["files"].pop(f"keys/{name}")
        (dest / "keys" / name).unlink(missing_ok=True)
    manifest["format"] = 1
    (dest / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(args=["verify", str(dest)])
    assert result.exit_code == 0, result.output
