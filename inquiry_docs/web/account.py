"""The account's API tokens page: make a token (shown once), see and revoke tokens."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..access import signin as auth
from ..access import tokens
from ..models import User
from . import guard
from .auth import MAX_PASSWORD, MESSAGES, password_limit

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(
    user: User,
    errors: dict[str, str] | None = None,
    secret: str | None = None,
    created=None,
    status: int = 200,
):
    rows = [(t, tokens.state(t)) for t in tokens.for_user(user)]
    return render_template(
        "auth/tokens.html",
        tokens=rows,
        errors=errors or {},
        secret=secret,
        created=created,
        form=request.form,
        max_name=tokens.MAX_NAME,
    ), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
@password_limit
def api_tokens():
    user: User = current_user.user
    if request.method == "GET":
        return _page(user)
    errors: dict[str, str] = {}
    name = tokens.clean_name(request.form.get("name", ""))
    if not name:
        errors["name"] = "Enter a name for the token, such as the script that will use it"
    password = request.form.get("current_password", "")[:MAX_PASSWORD]
    if not password:
        errors["current_password"] = MESSAGES["no_current"]
    elif not auth.verify_password(user, password):
        g.auth_failed = True  # counted by password_limit
        errors["current_password"] = MESSAGES["wrong_current"]
    if errors:
        return _page(user, errors, status=400)
    try:
        token, secret = tokens.create(user, name)
    except tokens.TokenError as error:
        return _page(user, {"name": str(error)}, status=400)
    # Shown in this response only: the page is not cached (Cache-Control: no-store).
    return _page(user, secret=secret, created=token)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    user: User = current_user.user
    token = guard.found(tokens.get_own(user, token_id))
    if tokens.revoke(token, by=user):
        flash(f"The token “{token.name}” has been revoked. It no longer works.", "success")
    return redirect(url_for("account.api_tokens"))
