"""A new administrator's first sign-in as one guided sequence, and new recovery codes.

With the one-time password printed by `inquiry-docs init` (or given by an administrator),
an administrator without two-factor goes: a password of their own (step 1), then an
authenticator app (step 2, web/auth.py two_factor_setup), then their recovery codes
(step 3), and lands where they were going. No session exists before step 2 is done.

New recovery codes, whether from that sequence, from turning two-factor on later or from
asking for new ones, are held sealed for this browser's session and shown on one page,
with a printable view, until the user says they have saved them; never again after that.
"""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ..access import signin as auth
from .auth import (
    CODES_SHOWING,
    MESSAGES,
    PENDING,
    PENDING_SECONDS,
    _pending_lost,
    _pending_user,
    _safe_next,
    new_password_errors,
)

bp = Blueprint("enrolment", __name__, url_prefix="/auth")


@bp.route("/new-password", methods=["GET", "POST"])
def new_password():
    """Step 1: replace the one-time password, before two-factor and before any session."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    user = _pending_user()
    if user is None:
        return _pending_lost()
    if user.totp_enabled:
        return redirect(url_for("auth.code"))
    if not user.must_change_password:
        return redirect(url_for("auth.two_factor_setup"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        new = request.form.get("password", "")
        errors = new_password_errors(new, request.form.get("confirm_password", ""))
        if not errors:
            try:
                auth.change_password(user, new)
            except auth.PasswordReused:
                errors["password"] = MESSAGES["reused"]
            else:
                # The next step gets its own few minutes, as if the password were just typed.
                session[PENDING] = {**session[PENDING],
                                    "until": int(time.time()) + PENDING_SECONDS}
                return redirect(url_for("auth.two_factor_setup"))
    return render_template("auth/change_password.html", errors=errors, forced=True,
                           step=1), (400 if errors else 200)


def _showing() -> dict:
    state = session.get(CODES_SHOWING)
    return state if isinstance(state, dict) else {}


@bp.route("/your-recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    """The new codes, until the user says they are saved (then never again)."""
    state = _showing()
    continue_url = _safe_next(state.get("next"))
    if request.method == "POST":
        auth.forget_codes(current_user.session_id, saved=True)
        session.pop(CODES_SHOWING, None)
        if state.get("first"):
            flash("Your account is set up: you have your own password, two-factor "
                  "authentication and your recovery codes.", "success")
        return redirect(continue_url)
    codes = auth.codes_to_show(current_user.session_id)
    if codes is None:
        session.pop(CODES_SHOWING, None)
    return render_template("auth/recovery_codes.html", codes=codes,
                           new_setup=state.get("new", False),
                           step=3 if state.get("first") and codes else None)


@bp.route("/your-recovery-codes/print")
@login_required
def recovery_codes_print():
    """The same codes on a page made for printing (a print stylesheet, no navigation)."""
    codes = auth.codes_to_show(current_user.session_id)
    if codes is None:
        return redirect(url_for("enrolment.recovery_codes"))
    return render_template("auth/recovery_codes_print.html", codes=codes,
                           email=current_user.email)
