"""Request-wide protections: CSRF, security headers, sign-in throttling, session cookies,
no caching of evidence pages."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from .. import config as settings
from ..access import audit


def client_ip() -> str:
    return "ip:" + (request.remote_addr or "unknown")


csrf = CSRFProtect()
talisman = Talisman()
# Limits are declared on the sign-in views (web/auth.py); nothing is limited by default.
# Counts live in RATELIMIT_STORAGE_URL (or the queue's Redis, see config.ratelimit_storage);
# each app gets its own storage when initialised.
limiter = Limiter(key_func=client_ip)


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies are marked Secure whenever the request came over HTTPS.

    Behind a proxy that terminates TLS, the proxy must pass X-Forwarded-Proto and the app
    must trust it (werkzeug's ProxyFix) for `request.is_secure` to be true.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        secure_request = has_request_context() and request.is_secure
        return bool(secure_request or app.config.get("SESSION_COOKIE_SECURE"))


CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def init_security(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = SessionCookies()
    _init_limiter(app)
    talisman.init_app(
        app,
        content_security_policy=CSP,
        force_https=False,  # TLS is terminated in front of the app when deployed
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        strict_transport_security=False,
        referrer_policy="same-origin",
        frame_options="DENY",
    )

    @app.before_request
    def _remember_ip() -> None:
        audit.current_ip.set((request.remote_addr or "")[:45])

    @app.after_request
    def _no_store(response: Response) -> Response:
        # Evidence must not linger in shared or browser caches.
        if "Cache-Control" not in response.headers or response.mimetype == "text/html":
            response.headers["Cache-Control"] = "private, no-store"
        return response


def _init_limiter(app: Flask) -> None:
    """Throttling stays on under TESTING; each app instance starts with empty counts."""
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage(app.config)
    # The limiter object is shared by every app built in this process: set per app.
    limiter.enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
    app.config["RATELIMIT_ENABLED"] = limiter.enabled
    limiter.init_app(app)
