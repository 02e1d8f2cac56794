"""Administration: users, memberships, the audit trail and who has seen a document.

Only administrators (permissions.can(user, "manage_users")) reach any page here. Each form
handler reads only the fields that form is meant to change; ids come from the path, and an
id in the body that disagrees with the path is refused.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ..access import accounts as users
from ..access import audit, audit_query
from ..access.signin import login_manager
from ..db import db, to_int, to_int_or_none
from ..models import MARKINGS, ROLES, AuditEvent, Inquiry, Membership, User, utcnow
from ..operations import anchoring
from . import guard

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Ids a form may carry; when present they must name what the path names.
BODY_IDS = ("id", "user_id", "membership_id", "inquiry_id")


@bp.before_request
def _administrators_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    guard.require("manage_users")
    return None


@bp.context_processor
def _choices() -> dict:
    return {
        "ROLES": ROLES,
        "ROLE_LABELS": users.ROLE_LABELS,
        "ROLE_HINTS": users.ROLE_HINTS,
        "MARKINGS": MARKINGS,
        "details_lines": audit_query.details_lines,
    }


def _page_number() -> int:
    try:
        return max(1, to_int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _pages(total: int, per_page: int = audit_query.PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def _body_ids_agree(**path_ids: int) -> None:
    """400 if the body names a different object than the path (or any unexpected id)."""
    for name in BODY_IDS:
        if name in request.form and request.form.get(name) != str(path_ids.get(name, "")):
            abort(400)


def _user_or_404(user_id: int) -> User:
    return guard.found(db.session.get(User, user_id))


def _membership_or_404(user: User, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user.id:
        abort(404)
    return membership


def _inquiry_from_form() -> Inquiry | None:
    raw = request.form.get("inquiry", "")
    number = to_int_or_none(raw) if raw.isdigit() else None
    return db.session.get(Inquiry, number) if number is not None else None


def _membership_fields(errors: dict[str, str]) -> users.MembershipFields:
    """Role, clearance and restricted access from the form, and nothing else."""
    role = request.form.get("role", "")
    clearance = request.form.get("clearance", "")
    restricted = request.form.get("restricted_access", "")
    errors.update(users.check_membership_fields(role, clearance, restricted))
    return users.MembershipFields(role, clearance, restricted == "yes")


# ---- overview and users ----


@bp.route("/")
def index():
    guard.require("manage_users")
    return render_template("admin/index.html")


@bp.route("/status")
def status():
    guard.require("manage_users")
    from ..operations import health

    return render_template("admin/status.html", status=health.status(guard.user()))


@bp.route("/users")
def user_list():
    guard.require("manage_users")
    return render_template("admin/users.html", users=users.all_users())


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    who = guard.require("manage_users")
    inquiries = db.session.execute(select(Inquiry).order_by(Inquiry.code)).scalars().all()
    form = {
        "email": "",
        "role": "",
        "inquiry": "",
        "clearance": "OFFICIAL",
        "restricted_access": "no",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        _body_ids_agree()
        form = {key: request.form.get(key, "").strip()[:254] for key in form}
        problem = users.check_email(form["email"])
        if problem:
            errors["email"] = problem
        inquiry = None
        if form["role"] == "admin":
            pass
        elif form["role"] not in ROLES:
            errors["role"] = "Choose a role"
        else:
            inquiry = _inquiry_from_form()
            if inquiry is None:
                errors["inquiry"] = "Choose the inquiry this person works on"
            errors.update(
                {
                    k: v
                    for k, v in users.check_membership_fields(
                        form["role"], form["clearance"], form["restricted_access"]
                    ).items()
                    if k != "role"
                }
            )
        if not errors:
            user, password = users.create_user(
                form["email"],
                role=form["role"],
                inquiry=inquiry,
                clearance=form["clearance"],
                restricted_access=form["restricted_access"] == "yes",
                by=who,
            )
            return _one_time_password(user, password, "created")
    return render_template("admin/user_new.html", form=form, errors=errors, inquiries=inquiries), (
        400 if errors else 200
    )


def _one_time_password(user: User, password: str, what: str):
    """Shown in the response to the POST only: never stored, never redirected to."""
    return render_template("admin/password.html", user=user, password=password, what=what)


@bp.route("/users/<int:user_id>")
def user_show(user_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    memberships = sorted(user.memberships, key=lambda m: m.inquiry.code)
    return render_template(
        "admin/user.html",
        user=user,
        memberships=memberships,
        is_self=user.id == who.id,
        can_add=not user.is_admin and _other_inquiries(user),
    )


def _other_inquiries(user: User) -> list[Inquiry]:
    taken = {m.inquiry_id for m in user.memberships}
    return [
        i
        for i in db.session.execute(select(Inquiry).order_by(Inquiry.code)).scalars()
        if i.id not in taken
    ]


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
def user_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def user_reactivate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    _body_ids_agree(id=user.id, user_id=user.id)
    try:
        if users.set_active(user, active, by=who):
            flash(
                f"{user.email} has been {'reactivated' if active else 'deactivated'}"
                f"{'' if active else ' and signed out everywhere'}.",
                "success",
            )
    except users.Refused as refusal:
        flash(str(refusal), "info")
    return redirect(url_for("admin.user_show", user_id=user.id))


@bp.route("/users/<int:user_id>/administrator", methods=["POST"])
def user_administrator(user_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    _body_ids_agree(id=user.id, user_id=user.id)
    answer = request.form.get("administrator", "")
    if answer not in ("yes", "no"):
        abort(400)
    try:
        if users.set_admin(user, answer == "yes", by=who):
            now = "is now" if answer == "yes" else "is no longer"
            flash(
                f"{user.email} {now} an administrator and has been signed out everywhere.",
                "success",
            )
    except users.Refused as refusal:
        flash(str(refusal), "info")
    return redirect(url_for("admin.user_show", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
def user_reset_password(user_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    _body_ids_agree(id=user.id, user_id=user.id)
    try:
        password = users.reset_password(user, by=who)
    except users.Refused as refusal:
        flash(str(refusal), "info")
        return redirect(url_for("admin.user_show", user_id=user.id))
    return _one_time_password(user, password, "reset")


@bp.route("/users/<int:user_id>/reset-two-factor", methods=["POST"])
def user_reset_two_factor(user_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    _body_ids_agree(id=user.id, user_id=user.id)
    try:
        if users.reset_two_factor(user, by=who):
            flash(
                f"Two-factor authentication for {user.email} has been reset and they have "
                "been signed out everywhere. They set it up again when they next sign in"
                + (" (administrators must)." if user.is_admin else ", if they choose to."),
                "success",
            )
    except users.Refused as refusal:
        flash(str(refusal), "info")
    return redirect(url_for("admin.user_show", user_id=user.id))


# ---- memberships ----


@bp.route("/users/<int:user_id>/memberships/new", methods=["GET", "POST"])
def membership_new(user_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    if user.is_admin:
        flash("Administrators already see every inquiry.", "info")
        return redirect(url_for("admin.user_show", user_id=user.id))
    inquiries = _other_inquiries(user)
    errors: dict[str, str] = {}
    form = {"inquiry": "", "role": "", "clearance": "OFFICIAL", "restricted_access": "no"}
    if request.method == "POST":
        _body_ids_agree(user_id=user.id)
        form = {key: request.form.get(key, "")[:40] for key in form}
        inquiry = _inquiry_from_form()
        if inquiry is None or inquiry not in inquiries:
            errors["inquiry"] = "Choose an inquiry they are not already a member of"
        fields = _membership_fields(errors)
        if not errors:
            assert inquiry is not None
            users.add_membership(user, inquiry, fields, by=who)
            flash(f"{user.email} added to {inquiry.code} and signed out everywhere.", "success")
            return redirect(url_for("admin.user_show", user_id=user.id))
    return render_template(
        "admin/membership.html",
        user=user,
        membership=None,
        inquiries=inquiries,
        form=form,
        errors=errors,
    ), (400 if errors else 200)


@bp.route("/users/<int:user_id>/memberships/<int:membership_id>", methods=["GET", "POST"])
def membership_edit(user_id: int, membership_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    membership = _membership_or_404(user, membership_id)
    errors: dict[str, str] = {}
    form = {
        "role": membership.role,
        "clearance": membership.clearance,
        "restricted_access": "yes" if membership.restricted_access else "no",
    }
    if request.method == "POST":
        _body_ids_agree(
            id=membership.id,
            membership_id=membership.id,
            user_id=user.id,
            inquiry_id=membership.inquiry_id,
        )
        form = {key: request.form.get(key, "")[:40] for key in form}
        fields = _membership_fields(errors)
        if not errors:
            if users.change_membership(membership, fields, by=who):
                flash(
                    f"{user.email}'s access to {membership.inquiry.code} has changed; they "
                    "have been signed out everywhere.",
                    "success",
                )
            else:
                flash("Nothing was changed.", "info")
            return redirect(url_for("admin.user_show", user_id=user.id))
    return render_template(
        "admin/membership.html",
        user=user,
        membership=membership,
        inquiries=[],
        form=form,
        errors=errors,
    ), (400 if errors else 200)


@bp.route("/users/<int:user_id>/memberships/<int:membership_id>/remove", methods=["POST"])
def membership_remove(user_id: int, membership_id: int):
    who = guard.require("manage_users")
    user = _user_or_404(user_id)
    membership = _membership_or_404(user, membership_id)
    _body_ids_agree(
        id=membership.id,
        membership_id=membership.id,
        user_id=user.id,
        inquiry_id=membership.inquiry_id,
    )
    code = membership.inquiry.code
    users.remove_membership(membership, by=who)
    flash(f"{user.email} removed from {code} and signed out everywhere.", "success")
    return redirect(url_for("admin.user_show", user_id=user.id))


# ---- audit trail ----


def _filters() -> tuple[audit_query.Filters, dict[str, str], list[str]]:
    known = audit_query.actions()
    filters, errors = audit_query.parse_filters(request.args, known)
    return filters, errors, known


@bp.route("/audit")
def audit_events():
    guard.require("manage_users")
    filters, errors, known = _filters()
    page = _page_number()
    events, total = ([], 0) if errors else audit_query.page_of_events(filters, page)
    return render_template(
        "admin/audit.html",
        events=events,
        total=total,
        page=page,
        pages=_pages(total),
        filters=filters,
        raw=request.args,
        errors=errors,
        actions=known,
        codes=audit_query.inquiry_codes(),
        anchor_sinks=anchoring.sinks(),
        last_anchor=audit_query.last_of(anchoring.OK_ACTION, anchoring.FAILED_ACTION),
    ), (400 if errors else 200)


@bp.route("/audit/anchor", methods=["POST"])
def audit_anchor():
    """Anchor the trail now, to every configured sink (the attempt is audited)."""
    who = guard.require("manage_users")
    outcome = anchoring.anchor(trigger="web", by=who)
    if outcome.ok:
        flash(f"Audit trail anchored at event #{outcome.head.event_id}: written to "
              f"{len(outcome.results)} place(s).", "success")
    elif outcome.problem:
        flash(f"The audit trail was not anchored: {outcome.problem}.", "error")
    else:
        failed = [sink for sink, result in outcome.results.items() if result != "ok"]
        flash(f"The anchor could not be written to {', '.join(failed)}; the others have it. "
              "The reasons are in the audit trail (audit_anchor_failed).", "error")
    return redirect(url_for("admin.audit_events"))


@bp.route("/audit.csv")
def audit_csv():
    who = guard.require("manage_users")
    filters, errors, _ = _filters()
    if errors:
        abort(400)
    up_to = audit_query.last_event_id()
    rows = audit_query.count(filters, up_to)
    audit_query.record_export(filters, by=who, rows=rows, up_to=up_to, channel="web")

    def body():
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        yield from audit_query.csv_lines(filters, up_to)

    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    response = Response(stream_with_context(body()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/audit/verify")
def audit_verify():
    guard.require("manage_users")
    verdict = audit.verify()
    broken = None
    if verdict.broken_at is not None:
        broken = db.session.execute(
            select(*AuditEvent.__table__.columns).where(AuditEvent.id == verdict.broken_at)
        ).first()
    return render_template(
        "admin/verify.html", verdict=verdict, broken=broken, codes=audit_query.inquiry_codes()
    )


# ---- who has seen a document ----


@bp.route("/documents/<int:document_id>/seen")
def document_seen(document_id: int):
    guard.require("manage_users")
    document = guard.document_or_404(document_id)
    page = _page_number()
    events, total = audit_query.views_of(document.id, page)
    return render_template(
        "admin/seen.html",
        document=document,
        seen_by=audit_query.seen_by(document.id),
        events=events,
        total=total,
        page=page,
        pages=_pages(total),
        details={e.id: audit_query.details_of(e) for e in events},
    )
