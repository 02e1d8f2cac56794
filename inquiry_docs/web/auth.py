"""Sign in (password, then a second factor where needed), sign out, passwords, two-factor.

Until every factor is checked the browser holds only a short-lived "pending" note (user id,
expiry, where to go next) in the signed session cookie; the server-side session that
Flask-Login uses is created only at the end. Every failure is throttled server-side.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..access import signin as auth
from ..access import totp
from ..db import db
from ..models import User
from . import guard
from .security import client_ip, limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING = "signin_pending"
PENDING_SECONDS = 300
MAX_PASSWORD = 1000
# The accessibility statement and privacy notice stay open to everyone, whatever is pending.
PUBLIC_PAGES = frozenset({"about.accessibility", "about.privacy", "language.choose"})
# A user who must change their password may reach only these.
ALLOWED_WHILE_CHANGING = frozenset({"auth.change_password", "auth.logout", "static"}
                                   | PUBLIC_PAGES)
# An administrator without two-factor (a session from before it was required) only these.
ALLOWED_WHILE_ENROLLING = frozenset({"auth.two_factor_setup", "auth.logout", "static"}
                                    | PUBLIC_PAGES)

MESSAGES = {
    "no_email": "Enter your email address",
    "no_password": "Enter your password",
    "wrong_sign_in": "Enter a correct email address and password",
    "no_current": "Enter your current password",
    "wrong_current": "Your current password is not correct",
    "no_new": "Enter a new password",
    "too_short": f"Your new password must be {auth.MIN_PASSWORD_LENGTH} characters or more",
    "too_long": f"Your new password must be {MAX_PASSWORD:,} characters or fewer",
    "no_confirm": "Confirm your new password",
    "mismatch": "The passwords do not match",
    "reused": "Your new password must be different from your current password",
}


def _home() -> str:
    return url_for("search.search")


def _safe_next(target: str | None) -> str:
    """Only same-site paths (guard.safe_next), else the search page."""
    return guard.safe_next(target, _home())


# ---- throttling: keys and when a response counts as a failure ----


def _signin_limit() -> str:
    return current_app.config["SIGNIN_LIMIT"]


def _email_key() -> str:
    return "email:" + request.form.get("email", "").strip().lower()[:254]


def _user_key() -> str:
    """The account being signed in to (pending) or signed in; else the address."""
    if current_user.is_authenticated:
        return f"user:{current_user.user.id}"
    state = session.get(PENDING)
    if isinstance(state, dict) and state.get("user"):
        return f"user:{state['user']}"
    return client_ip()


def _not_redirect(response: Response) -> bool:
    return response.status_code != 302


def _flagged_failure(_response: Response) -> bool:
    return bool(g.get("auth_failed"))


def _failed() -> None:
    g.auth_failed = True


ip_limit = limiter.limit(
    _signin_limit,
    key_func=client_ip,
    methods=["POST"],
    deduct_when=_not_redirect,
    scope="signin-ip",
)
email_limit = limiter.limit(
    _signin_limit,
    key_func=_email_key,
    methods=["POST"],
    deduct_when=_not_redirect,
    scope="signin-email",
)
# Security codes and recovery codes share one count per account.
factor_limit = limiter.shared_limit(
    _signin_limit,
    "second-factor",
    key_func=_user_key,
    methods=["POST"],
    deduct_when=_flagged_failure,
)
# Pages that ask a signed-in user for their current password.
password_limit = limiter.shared_limit(
    _signin_limit,
    "current-password",
    key_func=_user_key,
    methods=["POST"],
    deduct_when=_flagged_failure,
)


# ---- sessions ----


@auth.login_manager.user_loader
def _load(session_id: str) -> auth.SignedIn | None:
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    signed_in, expired = auth.resume_session(session_id, idle=idle)
    if expired:
        g.signed_out_idle = True
    return signed_in


@bp.before_app_request
def _guard():
    # `g` outlives the request when an app context is reused (tests do this): start clean,
    # so the user is loaded, and checked for idleness, for this request's own cookie.
    for key in ("_login_user", "signed_out_idle", "auth_failed"):
        g.pop(key, None)
    if request.endpoint == "static" or request.blueprint == "api":
        return None  # the API authenticates each request by its bearer token
    if not current_user.is_authenticated:
        if "_user_id" in session:  # the cookie names a session that has ended
            for key in ("_user_id", "_fresh", "_id"):
                session.pop(key, None)
        if g.pop("signed_out_idle", False):
            minutes = current_app.config["SESSION_IDLE_MINUTES"]
            flash(f"You were signed out after {minutes} minutes without activity.", "info")
            here = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.login", next=here))
        return None
    if current_user.must_change_password and request.endpoint not in ALLOWED_WHILE_CHANGING:
        return redirect(url_for("auth.change_password"))
    if (
        current_user.is_admin
        and not current_user.totp_enabled
        and request.endpoint not in ALLOWED_WHILE_ENROLLING
    ):
        return redirect(url_for("auth.two_factor_setup"))
    return None


def _start_pending(user: User, next_url: str) -> None:
    session[PENDING] = {
        "user": user.id,
        "until": int(time.time()) + PENDING_SECONDS,
        "next": next_url,
    }


def _pending_user() -> User | None:
    state = session.get(PENDING)
    if not isinstance(state, dict):
        return None
    if state.get("until", 0) < time.time():
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, state.get("user"))
    return user if user is not None and user.active else None


def _pending_lost() -> Response:
    session.pop(PENDING, None)
    flash("Sign in again: the sign-in took too long or was not started.", "info")
    return redirect(url_for("auth.login"))


def _grant_session(user: User) -> str:
    """Start the real session in a fresh cookie; returns where to go next."""
    state = session.get(PENDING)
    next_url = _safe_next(state.get("next")) if isinstance(state, dict) else _home()
    session.clear()
    login_user(auth.start_session(user))
    if user.must_change_password:
        return url_for("auth.change_password")
    return next_url


# ---- sign in and out ----


@bp.route("/login", methods=["GET", "POST"])
@ip_limit
@email_limit
def login():
    if current_user.is_authenticated:
        return redirect(_home())
    errors: dict[str, str] = {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()[:254]
        password = request.form.get("password", "")[:MAX_PASSWORD]
        if not email:
            errors["email"] = MESSAGES["no_email"]
        if not password:
            errors["password"] = MESSAGES["no_password"]
        if not errors:
            user = auth.check_password(email, password)
            if user is None:
                auth.record_failed_sign_in(email)
                errors["email"] = MESSAGES["wrong_sign_in"]
            else:
                return _after_password(user, request.args.get("next"))
    return render_template("auth/login.html", errors=errors, email=email), (400 if errors else 200)


def _after_password(user: User, next_arg: str | None) -> Response:
    next_url = _safe_next(next_arg)
    # A new cookie from here on: nothing set before sign-in carries over.
    session.clear()
    if not auth.needs_second_factor(user):
        login_user(auth.start_session(user))
        return redirect(url_for("auth.change_password") if user.must_change_password else next_url)
    _start_pending(user, next_url)
    if not user.totp_enabled and user.must_change_password:
        # A new administrator's one-time password: a password of their own, then two-factor,
        # then the recovery codes, as one sequence (web/enrolment.py), before the session.
        session[PENDING] = {**session[PENDING], "first": True}
        return redirect(url_for("enrolment.new_password"))
    if not user.totp_enabled:
        auth.begin_totp_enrolment(user)
        return redirect(url_for("auth.two_factor_setup"))
    return redirect(url_for("auth.code"))


@bp.route("/code", methods=["GET", "POST"])
@factor_limit
def code():
    if current_user.is_authenticated:
        return redirect(_home())
    user = _pending_user()
    if user is None:
        return _pending_lost()
    if not user.totp_enabled:
        return redirect(url_for("auth.two_factor_setup"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        entered = request.form.get("code", "")[:20]
        if not entered.strip():
            errors["code"] = "Enter the 6-digit security code"
        elif not auth.check_totp(user, entered):
            _failed()
            errors["code"] = (
                "The security code is not correct or has already been used. "
                "Wait for the next code and try again"
            )
        else:
            return redirect(_grant_session(user))
    return render_template("auth/code.html", errors=errors), (400 if errors else 200)


@bp.route("/recovery-code", methods=["GET", "POST"])
@factor_limit
def recovery_code():
    if current_user.is_authenticated:
        return redirect(_home())
    user = _pending_user()
    if user is None:
        return _pending_lost()
    if not user.totp_enabled:
        return redirect(url_for("auth.two_factor_setup"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        entered = request.form.get("recovery_code", "")[:100]
        if not entered.strip():
            errors["recovery_code"] = "Enter one of your recovery codes"
        elif not auth.use_recovery_code(user, entered):
            _failed()
            errors["recovery_code"] = "The recovery code is not correct or has already been used"
        else:
            left = auth.recovery_codes_left(user)
            target = _grant_session(user)
            flash(
                f"You used a recovery code. You have {left} left. Each code works once; "
                "set up new codes from Two-factor authentication.",
                "info",
            )
            return redirect(target)
    return render_template("auth/recovery_code.html", errors=errors), (400 if errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    auth.end_session(current_user.session_id, current_user.user)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


# ---- passwords ----


def new_password_errors(new: str, confirm: str) -> dict[str, str]:
    """What is wrong with a new password and its confirmation, by field."""
    errors = {}
    if not new:
        errors["password"] = MESSAGES["no_new"]
    elif len(new) < auth.MIN_PASSWORD_LENGTH:
        errors["password"] = MESSAGES["too_short"]
    elif len(new) > MAX_PASSWORD:
        errors["password"] = MESSAGES["too_long"]
    if not confirm:
        errors["confirm_password"] = MESSAGES["no_confirm"]
    elif new and confirm != new:
        errors["confirm_password"] = MESSAGES["mismatch"]
    return errors


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
@password_limit
def change_password():
    user: User = current_user.user
    forced = bool(user.must_change_password)
    errors: dict[str, str] = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")[:MAX_PASSWORD]
        new = request.form.get("password", "")
        confirm = request.form.get("confirm_password", "")
        if not forced:
            if not current:
                errors["current_password"] = MESSAGES["no_current"]
            elif not auth.verify_password(user, current):
                _failed()
                errors["current_password"] = MESSAGES["wrong_current"]
        errors.update(new_password_errors(new, confirm))
        if not errors:
            try:
                signed_in = auth.change_password(
                    user, new, current_session_id=current_user.session_id
                )
            except auth.PasswordReused:
                errors["password"] = MESSAGES["reused"]
            else:
                session.clear()
                login_user(signed_in)
                flash(
                    "Your password has been changed. Any other browsers you were signed "
                    "in to have been signed out.",
                    "success",
                )
                return redirect(_home())
    return render_template("auth/change_password.html", errors=errors, forced=forced), (
        400 if errors else 200
    )


# ---- two-factor ----


@bp.route("/two-factor")
@login_required
def two_factor():
    user: User = current_user.user
    return render_template(
        "auth/two_factor.html", user=user, codes_left=auth.recovery_codes_left(user)
    )


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@factor_limit
def two_factor_setup():
    """Set up an authenticator app: at sign-in (administrators) or from the account page."""
    signing_in = not current_user.is_authenticated
    if signing_in:
        user = _pending_user()
        if user is None:
            return _pending_lost()
    else:
        user = current_user.user
    if user.totp_enabled:
        return redirect(url_for("auth.code") if signing_in else url_for("auth.two_factor"))
    if not user.has_totp_secret:
        auth.begin_totp_enrolment(user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        entered = request.form.get("code", "")[:20]
        codes = None
        if not entered.strip():
            errors["code"] = "Enter the 6-digit security code from your authenticator app"
        else:
            codes = auth.confirm_totp_enrolment(user, entered)
            if codes is None:
                _failed()
                errors["code"] = (
                    "The security code is not correct. Check the key you "
                    "entered in the app and try the newest code"
                )
        if codes is not None:
            first = signing_in and bool(session.get(PENDING, {}).get("first"))
            continue_url = _grant_session(user) if signing_in else url_for("auth.two_factor")
            return show_codes(codes, continue_url, new_setup=True, first=first)
    secret = user.totp_secret or ""
    return render_template(
        "auth/two_factor_setup.html",
        errors=errors,
        signing_in=signing_in,
        first=signing_in and bool(session.get(PENDING, {}).get("first")),
        secret=totp.grouped(secret),
        uri=totp.provisioning_uri(secret, user.email),
        required=bool(user.is_admin),
    ), (400 if errors else 200)


@bp.route("/two-factor/recovery-codes", methods=["GET", "POST"])
@login_required
@password_limit
def new_recovery_codes():
    user: User = current_user.user
    if not user.totp_enabled:
        return redirect(url_for("auth.two_factor"))
    errors = _check_current_password(user) if request.method == "POST" else {}
    if request.method == "POST" and not errors:
        codes = auth.new_recovery_codes(user)
        return show_codes(codes, url_for("auth.two_factor"), new_setup=False)
    return render_template(
        "auth/confirm_password.html",
        errors=errors,
        title="Get new recovery codes",
        lead="Your old recovery codes will stop working and you will see 10 new ones.",
        button="Get new recovery codes",
    ), (400 if errors else 200)


@bp.route("/two-factor/off", methods=["GET", "POST"])
@login_required
@password_limit
def two_factor_off():
    user: User = current_user.user
    if user.is_admin or not user.totp_enabled:
        return redirect(url_for("auth.two_factor"))
    errors = _check_current_password(user) if request.method == "POST" else {}
    if request.method == "POST" and not errors:
        auth.disable_totp(user)
        flash("Two-factor authentication is off.", "success")
        return redirect(url_for("auth.two_factor"))
    return render_template(
        "auth/confirm_password.html",
        errors=errors,
        title="Turn off two-factor authentication",
        lead="Signing in will then need only your password. Your recovery codes will stop working.",
        button="Turn off two-factor authentication",
        warning=True,
    ), (400 if errors else 200)


CODES_SHOWING = "codes_showing"


def show_codes(codes: list[str], continue_url: str, *, new_setup: bool,
               first: bool = False) -> Response:
    """Hold the new codes for this session and go to the page that shows them once (and
    prints them), rather than putting them in a response that has no address."""
    auth.hold_codes_for_showing(current_user.session_id, codes)
    session[CODES_SHOWING] = {"next": continue_url, "new": new_setup, "first": first}
    return redirect(url_for("enrolment.recovery_codes"))


def _check_current_password(user: User) -> dict[str, str]:
    password = request.form.get("current_password", "")[:MAX_PASSWORD]
    if not password:
        return {"current_password": MESSAGES["no_current"]}
    if not auth.verify_password(user, password):
        _failed()
        return {"current_password": MESSAGES["wrong_current"]}
    return {}
