"""The accessibility statement and the privacy notice, as UK public-sector services publish
them: open to everyone, signed in or not, linked from every page's footer. What only the
organisation running the service can say (its name, contact, lawful basis, retention) comes
from settings."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("about", __name__)


def _paragraphs(text: str) -> list[str]:
    """A setting's text as paragraphs: a blank line starts a new one."""
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _organisation() -> dict[str, str]:
    config = current_app.config
    contact = str(config.get("CONTACT_EMAIL") or "").strip()
    return {
        "name": str(config.get("ORGANISATION_NAME") or "").strip(),
        "contact": contact,
        "dpo": str(config.get("DPO_EMAIL") or "").strip() or contact,
    }


@bp.route("/accessibility")
def accessibility():
    return render_template(
        "about/accessibility.html", org=_organisation(),
        reviewed=str(current_app.config.get("ACCESSIBILITY_REVIEWED") or "").strip())


@bp.route("/privacy")
def privacy():
    config = current_app.config
    return render_template(
        "about/privacy.html", org=_organisation(),
        lawful_basis=_paragraphs(str(config.get("PRIVACY_LAWFUL_BASIS") or "")),
        retention=_paragraphs(str(config.get("PRIVACY_RETENTION") or "")),
        idle_minutes=config["SESSION_IDLE_MINUTES"])
