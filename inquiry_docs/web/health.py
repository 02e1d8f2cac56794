"""GET /healthz: is each part of the service up? For load balancers and monitoring.

Open without signing in, so it says only "ok" or "down" per part: no counts, names, paths
or error messages (those go to the server log and the admin status page).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..operations import health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    results = health.checks()
    ok = all(v == "ok" for v in results.values())
    response = jsonify({"status": "ok" if ok else "down", "checks": results})
    response.headers["Cache-Control"] = "no-store"
    return response, (200 if ok else 503)
