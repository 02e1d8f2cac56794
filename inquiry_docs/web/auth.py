"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import auth

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce users elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlparse(target).netloc and "\\" not in target:
        return target
    return url_for("search.search")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("search.search"))
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        user = auth.check_password(email, request.form.get("password", "")[:1000])
        if user is None:
            error = "Enter a correct email address and password."
        else:
            login_user(auth.start_session(user))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=email), (400 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    auth.end_session(current_user.session_id, current_user.user)
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
