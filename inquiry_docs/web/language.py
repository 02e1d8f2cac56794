"""The interface language: English or Welsh (Cymraeg).

Chosen, in order, by the signed-in user's saved choice, by the choice a visitor made
before signing in (a cookie), and by the browser's Accept-Language. Only the interface
is translated: document text, tags, names and everything users typed stay as written.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, request
from flask_babel import Babel, get_locale, refresh

from ..access import audit
from ..db import db
from . import guard

bp = Blueprint("language", __name__)

# Each language is offered in its own name, never translated.
LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT = "en"
COOKIE = "language"
COOKIE_SECONDS = 365 * 24 * 3600


def choose_locale() -> str:
    """The language of this request's pages."""
    user = guard.user()
    if user is not None and user.language in LANGUAGES:
        return user.language
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT)


def html_lang() -> str:
    """The page's lang attribute: en-GB for English (the service's spelling), cy for Welsh."""
    code = str(get_locale() or DEFAULT)
    return "en-GB" if code == "en" else code


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=choose_locale, default_locale=DEFAULT,
          default_translation_directories="translations")
    # Babel keeps the chosen locale on `g`, which outlives a request when an app context
    # is reused (the tests do): choose afresh for each request.
    app.before_request(refresh)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks ignore line breaks
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, html_lang=html_lang,
                                 current_language=lambda: str(get_locale() or DEFAULT))


def _came_from() -> str | None:
    """The page the switch was pressed on, from the Referer when it is this site's.

    Pages carry no return field, so every page's HTML stays the same whatever its address
    (a refused address must look exactly like any other refusal)."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


@bp.route("/language", methods=["POST"])
def choose():
    """Keep the choice: on the user's account when signed in, in a cookie otherwise."""
    language = request.form.get("language", "")
    back = guard.safe_next(_came_from(), "/")
    if language not in LANGUAGES:
        return redirect(back)
    response = redirect(back)
    user = guard.user()
    if user is not None and user.language != language:
        audit.record("language_changed", user=user, object_type="user",
                     object_id=user.id, language=language)
        user.language = language
        db.session.commit()
    response.set_cookie(COOKIE, language, max_age=COOKIE_SECONDS, httponly=True,
                        samesite="Lax", secure=current_app.config.get(
                            "SESSION_COOKIE_SECURE", False))
    return response
