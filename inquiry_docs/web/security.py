"""Request-wide protections: CSRF, security headers, no caching of evidence pages."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from .. import audit

csrf = CSRFProtect()
talisman = Talisman()

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
